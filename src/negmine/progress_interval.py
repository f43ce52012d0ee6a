"""``TQDM_MININTERVAL``: the seconds between two lines of a progress bar in a log, read without importing tqdm, and
the check a run makes of it before any work (:func:`check_progress_interval`).

A value that is no number of seconds was refused only when the run's first bar opened, and that bar can come after
minutes of loading (a big corpus, a training file read row by row); one that is no number at all (``abc``) was no
refusal but a ValueError traceback from tqdm's import (tqdm reads every ``TQDM_*`` variable as it is imported, and
the libraries a run loads import it), wherever the first import came. :func:`check_progress_interval` refuses both
before the work starts: ``mine``, ``run_audit``, ``evaluate`` and ``train`` (and so every ``negmine`` command that
can draw a bar) call it once their config is validated, before they load data or a model.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

LOG_INTERVAL = 30.0
"""Seconds between two lines of a bar in a log. An update line is about 70 bytes: at 30 s an hour's stage writes
120 lines (8 KB), a day's 2,880 (200 KB), where tqdm's 0.1 s redraws wrote up to 36,000 an hour; and a job watched
with ``tail -f`` still shows its rate and ETA twice a minute, a stall within a minute, far inside CI's
no-output timeouts (10 minutes and more)."""


def line_interval() -> float:
    """Seconds between two lines of a bar in a log: ``TQDM_MININTERVAL`` if set (tqdm's own setting of the least
    time between two redraws, which the log bars' interval overrode), else :data:`LOG_INTERVAL`. A ConfigError for
    a value that is no number of seconds."""
    raw = os.environ.get("TQDM_MININTERVAL")
    if raw is None or not raw.strip():
        return LOG_INTERVAL
    value = _number(raw)
    if value is None or not value >= 0 or value == float("inf"):
        _refuse(raw)
    return value


def check_progress_interval(show: bool) -> None:
    """Refuse now a ``TQDM_MININTERVAL`` the run would fail on later (ConfigError, :func:`line_interval`'s
    message): with bars on (``show``) where they write lines to a log (stderr no terminal: the rule of
    :func:`negmine.progress.progress_bar`), any value that is no number of seconds; and, bars on or off, while tqdm
    is still to be imported, one that is no number at all, set empty included (tqdm's import fails on it with a
    ValueError). On a terminal, a number tqdm takes (``-1``) is left to tqdm, as it was."""
    raw = os.environ.get("TQDM_MININTERVAL")
    if raw is not None and "tqdm" not in sys.modules and _number(raw) is None:
        _refuse(raw)
    check_tqdm_environment()
    if raw is None or not show or not raw.strip():
        return
    from tqdm.auto import tqdm

    from negmine.progress import _draws_in_place

    if not _draws_in_place(tqdm, sys.stderr):
        line_interval()


def check_tqdm_environment() -> None:
    """Import tqdm now, where a run's checks are, and turn its import's failure on another ``TQDM_*`` variable
    (tqdm reads each ``TQDM_<option>`` as that option and casts it to the option's type: ``TQDM_NCOLS=abc`` is a
    ValueError from ``int``) into a ConfigError naming the variable; the libraries a run loads import tqdm, so it
    came as a traceback, wherever the first import was."""
    if "tqdm" in sys.modules:
        return
    try:
        import tqdm  # noqa: F401
    except ValueError as error:
        from negmine.errors import ConfigError

        named = [f"{k}={v!r}" for k, v in sorted(os.environ.items()) if k.startswith("TQDM_") and repr(v) in str(error)]
        raise ConfigError(f"tqdm cannot start: {', '.join(named) or 'a TQDM_* variable'} is not a value of that "
                          f"option ({error}); tqdm reads every TQDM_<option> environment variable as its option "
                          "(TQDM_NCOLS=80, TQDM_DISABLE=1): give it a value of the option's type, or unset it") from None


def _number(raw: str) -> float | None:
    """``raw`` as tqdm reads it (``float``); None for a text that is no number."""
    try:
        return float(raw)
    except ValueError:
        return None


def _refuse(raw: str) -> NoReturn:
    from negmine.errors import ConfigError

    raise ConfigError(f"TQDM_MININTERVAL={raw!r} is not a number of seconds: give one of 0 or more (the least "
                      f"time between two progress lines in a log; e.g. TQDM_MININTERVAL=60), or unset it "
                      f"(a line every {LOG_INTERVAL:g} s)")
