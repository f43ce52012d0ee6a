"""Ctrl-C: the first stops the command, which says what it kept and how to go on and exits 130; a second, while it
stops, says it is still stopping and how to quit at once; a third quits at once (exit 130).

Python turns each Ctrl-C into a KeyboardInterrupt. A second one while the command reported the first raised
another inside the report (a traceback, the hint of what to rerun lost), or reached the interpreter after it had
put the default SIGINT action back for its shutdown, which for ``negmine train`` takes about a second (torch's
teardown): the process was killed by the signal (exit code -2 to a script, not 130) although its checkpoints were
complete. Ignoring every Ctrl-C after the first (negmine until 2026-12-05) fixed both, but left a stop that hung
(workers, a Ray actor, a native library's teardown, a lock) with no Ctrl-C way out. So the process entry point
(:func:`negmine.cli.main`, not the app tests invoke in-process) installs :func:`on_ctrl_c`:

- the first Ctrl-C raises KeyboardInterrupt, as Python's own handler does;
- the second writes :data:`STILL_STOPPING` on stderr and raises nothing, so the stop and its report run on;
- the third quits at once: :data:`QUIT_NOW` on stderr and ``os._exit(130)``. Every output is written to a temp
  file and renamed into place, so a forced exit leaves no half file that looks complete (at worst a hidden temp
  file, which the next run on those outputs removes); the kernel ends its ``flock`` locks, and worker processes
  die with it (:func:`negmine.engine.processes.die_with_parent`). A Ray the run started here loses its actors
  within seconds and its agents within about a minute, as after ``kill -9`` (docs/inputs-and-messages.md).

Presses after the first are counted by a thread that reads the signal wake-up pipe (:func:`signal.set_wakeup_fd`),
written by the C-level handler whichever thread runs: Python calls its handlers only in the main thread between
bytecodes, so a stop that hangs inside C code (a join, a native library's lock) never ran them. And a command
stopped by Ctrl-C ends through :func:`end_stopped` instead of the interpreter's teardown, during which SIGINT has
its default action again (the exit -2 above): the same thread joins and exit functions, then ``os._exit``. So does a
command that ended on its own (:func:`end_process`): a Ctrl-C pressed as it finished killed it there (exit -2) or
raised in an exit function (a traceback); now it says the command is done (:data:`DONE_ENDING`), the next quits.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import NoReturn

STILL_STOPPING = "still stopping (ending workers, removing partial outputs); press Ctrl-C again to quit at once"
DONE_ENDING = "the command is done and its outputs are complete; still ending; press Ctrl-C again to quit at once"
INTERRUPTED = "interrupted; outputs already written are complete, partial ones were discarded"
"""What a command stopped by Ctrl-C says first (:func:`negmine.cli.common.user_errors`, then its hint)."""
LOADING_STOPPED = "interrupted while loading, before the command ran; nothing was written"
QUIT_NOW = ("quit at once; outputs already written are complete (a partial one may be left as a hidden temp file, "
            "which the next run on the same outputs removes)")
EXIT_CODE = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""


class _Presses:
    """The Ctrl-C presses seen since :func:`install_ctrl_c`, and whether the wake-up thread counts those after the
    first (else :func:`on_ctrl_c` does, in the main thread)."""

    count = 0
    watched = False
    done = False
    """Whether the command ended on its own (:func:`end_process` without a stop): a press then finds it ending."""


def on_ctrl_c(signum: int, frame) -> None:
    """SIGINT handler: KeyboardInterrupt the first time; later presses go to :func:`_later_press`, unless the
    wake-up thread counts them."""
    if _Presses.count == 0:
        _Presses.count = 1
        _Presses.watched = _watch_wakeups()
        raise KeyboardInterrupt
    if not _Presses.watched:
        _later_press()


def _later_press() -> None:
    """A press after the first (or the first once the command is done): say that the command is still stopping
    (or done and ending), then, at the next one, quit."""
    _Presses.count += 1
    if _Presses.count == 2:
        _write_stderr(DONE_ENDING if _Presses.done else STILL_STOPPING)
    else:
        quit_now()


def quit_now() -> NoReturn:
    """Flush stdout and stderr, write :data:`QUIT_NOW` and exit 130 at once, without the stop. The flush and the
    line run in a daemon thread given a second: one blocked on a pipe nobody reads (or on a stream's lock held by
    the main thread, stuck writing to it) must not hold the exit."""
    def flush_and_say() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - closed, reentrant: the exit goes on
                pass
        _write_stderr(QUIT_NOW)

    try:
        helper = threading.Thread(target=flush_and_say, name="negmine-quit", daemon=True)
        helper.start()
        helper.join(1.0)
    finally:
        os._exit(EXIT_CODE)


def _write_stderr(line: str) -> None:
    """``line`` on file descriptor 2 in one write: below Python's buffered stream, which a signal handler
    may have interrupted in the middle of a write (a reentrant call raises)."""
    try:
        os.write(2, (line + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def _watch_wakeups() -> bool:
    """In the main thread, at the first press: have the C-level SIGINT handler write to a pipe, read by a daemon
    thread that counts the later presses; whether it could. A wake-up fd set by someone else (an asyncio loop)
    stays theirs: :func:`on_ctrl_c` counts the presses then."""
    try:
        read, write = os.pipe()
    except OSError:
        return False
    os.set_blocking(write, False)
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:  # not the main thread
        previous = None
    if previous != -1:
        if previous is not None:
            signal.set_wakeup_fd(previous)
        os.close(read)
        os.close(write)
        return False
    threading.Thread(target=_count_wakeups, args=(read,), name="negmine-ctrl-c", daemon=True).start()
    return True


def _count_wakeups(read: int) -> None:
    """The wake-up thread: one byte per signal caught (its number); each SIGINT is a later press."""
    try:
        while data := os.read(read, 64):  # empty: the write end was closed
            for number in data:
                if number == signal.SIGINT:
                    _later_press()
    except OSError:
        pass
    finally:
        os.close(read)


def stopped() -> bool:
    """Whether a Ctrl-C stopped the command (:func:`on_ctrl_c` raised KeyboardInterrupt)."""
    return _Presses.count > 0


def typer_stopped(end: SystemExit) -> bool:
    """Whether typer ended the command for a Ctrl-C it caught itself (its ``Exit(130)`` raised from the
    KeyboardInterrupt, then ``sys.exit``), silently: a press outside the command's
    :func:`negmine.cli.common.user_errors` (option parsing, the root callback), which reports its own ``from None``."""
    context = end.__context__
    return stopped() and context is not None and isinstance(context.__cause__, KeyboardInterrupt)


def end_process(code) -> NoReturn:
    """End the process after its command, exit status from ``code`` (a SystemExit's), whether a Ctrl-C stopped it or
    it ended on its own: through :func:`end_stopped`, not the interpreter's teardown, which runs with SIGINT's
    default action, so that a Ctrl-C pressed as a command finishes (its last line out, about 1.5 s of exit
    functions and teardown left after ``negmine mine`` on the demo) killed the process (exit -2 to a script) or,
    during the exit functions, printed a KeyboardInterrupt traceback (measured 2026-12-07: of 5 presses 0 to 0.2 s
    after mine's last line, 3 killed it and 2 printed a traceback). A command that ended on its own counts as
    pressed once: a press now says it is done and ending (:data:`DONE_ENDING`, the exit status stays the
    command's), the next quits. Those presses are counted by :func:`on_ctrl_c` alone, not by the wake-up thread as
    well: started here, it counted a press that came as it started a second time (the wake-up byte and the
    handler both), so one press said :data:`DONE_ENDING`, then :data:`QUIT_NOW` and exit 130 (1 of 3 presses right
    after ``negmine audit``'s last line). A finished command whose exit functions hang in C code then takes
    Ctrl-\\ or ``kill``, as before."""
    if not stopped():
        _Presses.done, _Presses.count = True, 1  # first: a press from here on raises nothing
    end_stopped(code)


def end_stopped(code) -> NoReturn:
    """End a process whose command a Ctrl-C stopped, exit status from ``code`` (a SystemExit's): what the
    interpreter's exit does up to its teardown (join the non-daemon threads after their exit hooks, run the
    ``atexit`` functions, flush stdout and stderr), then ``os._exit``. The teardown that follows in the
    interpreter (about a second after ``negmine train``) runs with SIGINT back at its default action, where a
    press killed the process (exit -2) and the counting of presses stopped; it frees nothing the system does not."""
    if not (hasattr(threading, "_shutdown") and hasattr(atexit, "_run_exitfuncs")):  # not CPython as we know it
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # kept through the teardown, unlike a Python handler
        raise SystemExit(code)
    status = _exit_status(code)
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe: nothing left to say
            pass
    os._exit(status)


def _exit_status(code) -> int:
    """The exit status Python gives ``sys.exit(code)``: 0 for None, an int as it is, else 1 (the value printed on
    stderr, as Python does)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    _write_stderr(str(code))
    return 1


def install_ctrl_c() -> bool:
    """Make :func:`on_ctrl_c` the SIGINT handler when SIGINT has Python's default handler and this is the main
    thread; whether it did. A SIGINT ignored at start (``nohup``, a background job of a script) stays ignored, and
    a handler someone else installed stays theirs."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False
    _Presses.count, _Presses.watched, _Presses.done = 0, False, False
    signal.signal(signal.SIGINT, on_ctrl_c)
    return True
