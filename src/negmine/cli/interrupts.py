"""Ctrl-C once: the command stops, says what it kept and how to go on, and exits 130; a second Ctrl-C while it
does so changes nothing.

Python turns each Ctrl-C into a KeyboardInterrupt. A second one while the command reported the first raised
another inside the report (a traceback, the hint of what to rerun lost), or reached the interpreter after it had
put the default SIGINT action back for its shutdown, which for ``negmine train`` takes about a second (torch's
teardown): the process was killed by the signal (exit code -2 to a script, not 130) although its checkpoints were
complete. So the process entry point (:func:`negmine.cli.main`, not the app tests invoke in-process) installs
:func:`interrupt_once`: the first Ctrl-C raises KeyboardInterrupt as Python's own handler does, and ignores SIGINT
from then on, so the stop runs to its end. A stop that hangs is ended with Ctrl-\\ (SIGQUIT) or ``kill``.
"""

from __future__ import annotations

import signal
import threading


def interrupt_once(signum: int, frame) -> None:
    """SIGINT handler: ignore every later SIGINT (``SIG_IGN``, which the interpreter keeps through its shutdown,
    unlike a Python handler), then raise KeyboardInterrupt as Python's default handler does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def install_interrupt_once() -> bool:
    """Make :func:`interrupt_once` the SIGINT handler when SIGINT has Python's default handler and this is the main
    thread; whether it did. A SIGINT ignored at start (``nohup``, a background job of a script) stays ignored, and
    a handler someone else installed stays theirs."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False
    signal.signal(signal.SIGINT, interrupt_once)
    return True
