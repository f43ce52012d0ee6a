"""Other libraries' progress bars, off for the length of one negmine call and put back as they were after.

A negmine command writes its own bars; the libraries it runs drew theirs too: transformers' ``Loading weights``
(each model load) and ``Writing model shards`` (a save), sentence-transformers' ``Computing widget examples`` (a
training run's model card), datasets' ``Generating train split`` (a ``--pairs`` folder or ``hf:`` dataset), the
hub's download bars. Written to a log file each left its lines among negmine's (the demo's quickstart, stderr to a
file, 2026-12-05: 7 such bars over its 5 commands). Each is a process-wide switch of its library, so it is turned
off for the block only and put back after: a notebook's own bars must survive a ``mine(config)``. A switch the user
set through the library's environment variable (``HF_DATASETS_DISABLE_PROGRESS_BARS``,
``HF_HUB_DISABLE_PROGRESS_BARS``) wins. Warnings go on as before, but for the hub's retry lines while a ``--pairs``
dataset loads with ``--no-progress`` (``hub_retries``: five over 23 s without network, each said again by the error
that follows).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import sys
import warnings
from typing import Iterator

WIDGET_MODULES = ("sentence_transformers.base.model_card", "sentence_transformers.model_card")
"""Where sentence-transformers' model card module lives (6.x, then earlier); its ``tqdm`` draws the widget bar."""


@contextlib.contextmanager
def library_bars(show: bool, hub_retries: bool = False) -> Iterator[None]:
    """Within the block the libraries' bars are drawn only where negmine's are shown and draw in place
    (:func:`negmine.progress.library_bars_shown`: progress on and stderr a terminal or a notebook); with
    ``hub_retries`` and progress off (``--no-progress``) the hub's warnings are dropped too. sentence-transformers' widget bar is off always: it
    says nothing of the run (a model card's sample sentences, under a second), and on a terminal it vanished
    again at once. Everything is put back on exit, whatever the block raised."""
    from negmine.progress import library_bars_shown

    restore: list = []
    try:
        if not library_bars_shown(show):
            # the hub's states first, put back last: transformers' switch writes them too
            restore += [_hub_off(), _transformers_off(), _datasets_off()]
        if hub_retries and not show:  # warnings, not bars: dropped with --no-progress only, as before
            restore.append(_logger_quiet("huggingface_hub"))
        restore.append(_widget_off())
        yield
    finally:
        for undo in reversed(restore):
            undo()


def _quietly(switch) -> None:
    """A library's switch without its warning that an environment variable overrides it (the variable wins)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        switch()


def _datasets_off():
    if "datasets" not in sys.modules and importlib.util.find_spec("datasets") is None:
        return lambda: None
    import datasets

    was_on = not datasets.are_progress_bars_disabled()
    if datasets.config.HF_DATASETS_DISABLE_PROGRESS_BARS is not None or not was_on:
        return lambda: None
    datasets.disable_progress_bars()
    return lambda: _quietly(datasets.enable_progress_bars)


def _transformers_off():
    from transformers.utils import logging as hf_logging

    if not hf_logging.is_progress_bar_enabled():
        return lambda: None
    _quietly(hf_logging.disable_progress_bar)
    return lambda: _quietly(hf_logging.enable_progress_bar)


def _hub_off():
    """The hub's bars by snapshot of its per-group states (transformers' switch writes them too)."""
    hub_bars = importlib.import_module("huggingface_hub.utils.tqdm")  # the module (the attribute is a class)
    states = dict(hub_bars.progress_bar_states)
    if importlib.import_module("huggingface_hub.constants").HF_HUB_DISABLE_PROGRESS_BARS is None:
        hub_bars.disable_progress_bars()

    def undo() -> None:
        hub_bars.progress_bar_states.clear()
        hub_bars.progress_bar_states.update(states)

    return undo


def _logger_quiet(name: str):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    return lambda: logger.setLevel(level)


def _widget_off():
    """sentence-transformers' ``Computing widget examples`` bar opened disabled (its module's ``tqdm`` swapped), if
    sentence-transformers is loaded: a run that never imports it draws no such bar."""
    if "sentence_transformers" not in sys.modules:
        return lambda: None
    for name in WIDGET_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        factory = getattr(module, "tqdm", None)
        if factory is None:
            continue
        module.tqdm = _Disabled(factory)

        def undo(module=module, factory=factory) -> None:
            module.tqdm = factory

        return undo
    return lambda: None


class _Disabled:
    """A tqdm factory whose bars are opened disabled; the rest (``write``, locks) goes to ``factory``."""

    def __init__(self, factory) -> None:
        self.factory = factory

    def __call__(self, *args, **kwargs):
        kwargs["disable"] = True
        return self.factory(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.factory, name)
