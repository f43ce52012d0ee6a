"""negmine.progress_log: in a log (a stream that is no terminal) negmine's bars write lines, at most one per
LOG_INTERVAL seconds plus the last; on a terminal they are tqdm's bars as before."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
import tqdm.std as tqdm_std
from tqdm.auto import tqdm

import negmine
from negmine.progress import progress_bar
from negmine.progress_log import LOG_INTERVAL, LogLines


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    """tqdm's time source (``tqdm.std.time``, read by each bar as it opens), moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(tqdm_std, "time", fake)
    return fake


def _elapsed(line: str) -> int:
    minutes, seconds = re.search(r"\[(\d+):(\d+)", line).groups()
    return 60 * int(minutes) + int(seconds)


def test_a_bar_in_a_log_writes_a_line_per_interval_and_the_last(clock):
    """miniters=1: tqdm's monitor thread (it redraws a bar whose miniters grew) stays out of the exact lines."""
    log = io.StringIO()
    with progress_bar(total=100, desc="encode corpus", unit="text", show=True, file=log, miniters=1) as bar:
        for _ in range(100):
            clock.now += 1
            bar.update(1)
    text = log.getvalue()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    assert [re.search(r"(\d+)/100", line).group(1) for line in lines] == ["0", "30", "60", "90", "100"]
    assert [_elapsed(line) for line in lines] == [0, 30, 60, 90, 100]
    assert lines[-1].startswith("encode corpus: 100%") and "1.00text/s" in lines[-1]


def test_a_busy_bar_writes_at_most_one_line_per_interval(clock):
    """Many updates a second, redraws asked for between them (a warning's tqdm.write, set_postfix): a line at
    most every LOG_INTERVAL seconds of the bar's clock, then the last; a warning keeps a line of its own."""
    log = io.StringIO()
    with progress_bar(total=4800, desc="select", show=True, file=log) as bar:
        for i in range(4800):
            clock.now += 1 / 16
            bar.update(1)
            if i % 700 == 0:
                tqdm.write(f"warning: number {i}", file=log)
                bar.set_postfix(i=i)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert [line for line in lines if line.startswith("warning:")] == [f"warning: number {i}" for i in
                                                                        range(0, 4800, 700)]
    shown = [_elapsed(line) for line in lines if line.startswith("select:")]
    assert shown[0] == 0 and shown[-1] == 300 and "4800/4800" in lines[-1]
    assert all(b - a >= LOG_INTERVAL for a, b in zip(shown[:-2], shown[1:-1])), shown
    assert len(shown) <= 300 // LOG_INTERVAL + 2


def test_an_iterated_bar_and_a_bar_not_left_end_with_their_count_once(clock):
    log = io.StringIO()
    for _ in progress_bar(range(3), desc="dense search", show=True, file=log, miniters=1):
        clock.now += 40
    with progress_bar(total=2, desc="encode", show=True, file=log, leave=False) as bar:
        bar.update(2)  # within the interval: no line until the bar closes; not left: a log keeps it all the same
    assert [re.search(r"\d+/\d+", line).group() for line in log.getvalue().splitlines()] == [
        "0/3", "1/3", "2/3", "3/3", "0/2", "2/2"]


def test_the_factory_gives_a_log_its_interval_and_a_terminal_tqdms_defaults():
    log = progress_bar(total=3, show=True, file=io.StringIO(), leave=False)
    assert isinstance(log, LogLines) and (log.mininterval, log.maxinterval) == (LOG_INTERVAL, LOG_INTERVAL)
    log.close()
    terminal = _Terminal()
    with progress_bar(total=3, desc="encode", show=True, file=terminal, leave=False) as bar:
        assert type(bar) is tqdm and (bar.mininterval, bar.maxinterval, bar.leave) == (0.1, 10.0, False)
        bar.update(3)
    assert terminal.getvalue().startswith("\rencode:   0%")  # drawn in place, then cleared (leave=False)


def test_a_bar_not_shown_writes_nothing():
    for stream in (io.StringIO(), _Terminal()):
        with progress_bar(total=3, show=False, file=stream) as bar:
            assert bar.disable
            bar.update(3)
        assert stream.getvalue() == ""
    outer = io.StringIO()
    with progress_bar(total=1, show=True, file=outer):
        inner = io.StringIO()
        with progress_bar(total=3, show=True, file=inner) as bar:  # nested, in a log: negmine.progress's rule
            assert bar.disable
        assert inner.getvalue() == ""


def test_every_bar_of_negmine_opens_through_the_factory():
    """A tqdm(...) call elsewhere would draw carriage returns into a log again."""
    src = Path(negmine.__file__).parent
    calls = []
    for path in src.rglob("*.py"):
        if path.name in ("progress.py", "progress_log.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("tqdm", "trange"):
                calls.append(f"{path.relative_to(src)}:{node.lineno}")
    assert calls == []


def test_tqdm_mininterval_set_by_the_user_is_the_interval_between_lines(clock, monkeypatch):
    """TQDM_MININTERVAL is tqdm's own setting of the least time between two redraws; the log bars' 30 s overrode it."""
    monkeypatch.setenv("TQDM_MININTERVAL", "10")
    log = io.StringIO()
    with progress_bar(total=40, desc="encode corpus", unit="text", show=True, file=log, miniters=1) as bar:
        assert (bar.mininterval, bar.maxinterval) == (10.0, 10.0)
        for _ in range(40):
            clock.now += 1
            bar.update(1)
    assert [_elapsed(line) for line in log.getvalue().splitlines()] == [0, 10, 20, 30, 40]
    monkeypatch.setenv("TQDM_MININTERVAL", "")  # set empty: as unset
    with progress_bar(total=1, show=True, file=io.StringIO()) as bar:
        assert bar.mininterval == LOG_INTERVAL


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "ten"])
def test_a_tqdm_mininterval_that_is_no_number_of_seconds_is_refused_with_the_fix(monkeypatch, value):
    from negmine.errors import ConfigError

    monkeypatch.setenv("TQDM_MININTERVAL", value)
    with pytest.raises(ConfigError) as info:
        progress_bar(total=1, show=True, file=io.StringIO())
    assert str(info.value) == (
        f"TQDM_MININTERVAL={value!r} is not a number of seconds: give one of 0 or more (the least time between two "
        "progress lines in a log; e.g. TQDM_MININTERVAL=60), or unset it (a line every 30 s)")


def test_a_line_forced_by_tqdms_monitor_shows_the_rate_since_the_line_before(clock):
    """tqdm's monitor thread forces a redraw of a bar whose updates stopped redrawing (their count under
    ``miniters``) once ``maxinterval`` has passed: it sets ``miniters = 1`` and calls ``refresh`` (tqdm._monitor),
    which took in none of the texts done since the last redraw, so the line repeated the last line's rate."""
    log = io.StringIO()
    with progress_bar(total=1000, desc="encode corpus", unit="text", show=True, file=log, miniters=1) as bar:
        clock.now += 30
        bar.update(30)  # 1 text/s: a line
        bar.miniters = 500  # as dynamic miniters grows it: the next updates do not redraw
        for _ in range(30):
            clock.now += 1
            bar.update(3)  # 3 texts/s
        bar.miniters = 1  # what the monitor does, holding tqdm's lock
        bar.refresh(nolock=True)
        clock.now += 10
        bar.update(20)  # within the interval of the monitor's line: none
    lines = log.getvalue().splitlines()
    assert [re.search(r"(\d+)/1000", line).group(1) for line in lines] == ["0", "30", "120", "140"]
    assert "1.00text/s" in lines[1] and "3.00text/s" in lines[2], lines
    assert "04:53" in lines[2]  # ETA: 880 texts at 3 a second
    assert "2.00text/s" in lines[3]  # the last line: the mean rate, 140 texts in 70 s
