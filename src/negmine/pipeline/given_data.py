"""The one check of the API functions that mine data handed to them in memory (``mine(config, dataset=...)``,
``mine_dataset(data)``): the config's ``data`` may then name nothing to read, since those files would be left
unread without a word (a corpus meant for the pairs, a BEIR folder the caller thought was mined)."""

from __future__ import annotations

from negmine.config import DataConfig
from negmine.errors import ConfigError

NAMED_INPUTS = ("data_dir", "corpus", "queries", "qrels", "pairs")
"""The :class:`~negmine.config.DataConfig` fields that name data to read: mining a given dataset reads none."""


def named_inputs(data: DataConfig) -> list[str]:
    """The fields of :data:`NAMED_INPUTS` that ``data`` sets, each as ``name ('value')``, in that order."""
    return [f"{name} ({str(getattr(data, name))!r})" for name in NAMED_INPUTS if getattr(data, name) is not None]


def refuse_named_inputs(data: DataConfig, caller: str, fix: str) -> None:
    """ConfigError when ``data`` names files or a folder while ``caller`` mines the data it was given: the message
    names each such field with its value, and ends with ``fix``."""
    named = named_inputs(data)
    if named:
        listing = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        raise ConfigError(f"{caller} mines the data it is given, but the config's data also names {listing}, "
                          f"which it would not read; {fix}")
