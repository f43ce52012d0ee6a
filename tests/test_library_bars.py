"""Other libraries' bars off for one negmine call and their process-wide switches put back after
(:mod:`negmine.library_bars`)."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

from negmine.library_bars import WIDGET_MODULES, library_bars


def _switches() -> tuple:
    import datasets
    from transformers.utils import logging as hf_logging

    widget = next((sys.modules[name].tqdm for name in WIDGET_MODULES if name in sys.modules), None)
    return (datasets.are_progress_bars_disabled(), hf_logging.is_progress_bar_enabled(),
            dict(importlib.import_module("huggingface_hub.utils.tqdm").progress_bar_states), widget)


def _draw_each_librarys_bar() -> None:
    """One bar of each library, opened as the library opens it."""
    from datasets.utils.tqdm import tqdm as datasets_tqdm
    from huggingface_hub.utils import tqdm as hub_tqdm
    from transformers.utils import logging as hf_logging

    widget = next(sys.modules[name] for name in WIDGET_MODULES if name in sys.modules)
    for bar in (datasets_tqdm(range(2), desc="Generating train split"), hub_tqdm(range(2), desc="Downloading"),
                hf_logging.tqdm(range(2), desc="Loading weights"), widget.tqdm(range(2), desc="Computing widget")):
        for _ in bar:
            pass


@pytest.fixture
def libraries():
    import sentence_transformers  # noqa: F401  (its model card module holds the widget bar)
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.enable_progress_bar()  # transformers' switch turns the hub's on as well
    import datasets

    datasets_were_off = datasets.are_progress_bars_disabled()
    datasets.enable_progress_bars()
    yield
    if not was:
        hf_logging.disable_progress_bar()
    if datasets_were_off:
        datasets.disable_progress_bars()


@pytest.mark.parametrize("show", [True, False])
def test_in_a_log_file_or_without_progress_no_librarys_bar_is_drawn(libraries, capfd, show):
    """stderr captured (no terminal): with progress on as with --no-progress, none of the four bars."""
    before = _switches()
    with library_bars(show):
        _draw_each_librarys_bar()
    assert capfd.readouterr().err == ""
    assert _switches() == before
    _draw_each_librarys_bar()
    err = capfd.readouterr().err
    assert "Generating train split" in err and "Loading weights" in err, "after the block they draw as before"


def test_on_a_terminal_with_progress_the_useful_bars_are_drawn(libraries, capfd, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    before = _switches()
    with library_bars(True):
        _draw_each_librarys_bar()
    err = capfd.readouterr().err
    assert all(label in err for label in ("Generating train split", "Downloading", "Loading weights")), err
    assert "Computing widget" not in err
    assert _switches() == before


def test_the_users_own_switches_survive_and_an_error_in_the_block_restores_them(libraries):
    """A user who turned some bars off keeps them off; one who left them on gets them back, even after an error."""
    import datasets
    from huggingface_hub.utils import disable_progress_bars

    datasets.disable_progress_bars()
    disable_progress_bars("huggingface_hub.http_get")
    before = _switches()
    with pytest.raises(KeyError), library_bars(False):
        raise KeyError("x")
    assert _switches() == before and before[0] and before[2]["huggingface_hub.http_get"] is False
    datasets.enable_progress_bars()


def test_warnings_inside_the_block_are_kept(libraries):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with library_bars(False):
            warnings.warn("a real warning", UserWarning)
    assert [str(w.message) for w in seen] == ["a real warning"]
