"""negmine's warnings on the command line: one ``warning: <message>`` line each on stderr, as the CLI's own.

The library has one channel for what a user should know about a run that went on: ``warnings.warn`` with a
:class:`negmine.errors.NegmineWarning` category, so a library user silences, records or turns all of them into
errors one way (``warnings.filterwarnings(..., category=NegmineWarning)``). The ``negmine.*`` loggers carry
progress only (INFO and DEBUG), never a warning (tests/cli/test_warning_lines.py checks the source): two channels
made a user filter both, and a logged warning escaped a warnings filter. Left alone, a command line user would
see a warning in Python's format (``/path/file.py:222: UserWarning: message`` and the source line below it).
:func:`cli_warnings` prints it as the CLI prints its own warnings while a command runs; the root callback installs
it for the command's duration (``ctx.with_resource``) and it is undone after, so importing negmine or calling its
API changes nothing global.

- Each distinct line is printed once per command. Python's default filter shows a warning once per place, but
  every ``warnings.catch_warnings`` block (negmine has some) resets that record.
- Lines go through ``tqdm.write``, which clears a progress bar being drawn and redraws it below the line.
- Warning filters still apply (``PYTHONWARNINGS=ignore`` silences negmine's warnings too); logger levels are not
  touched, so INFO logs stay hidden, as they were.
- Other libraries' warnings keep Python's format: their file and line can matter, and they are not negmine's to
  reword.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from typing import Iterator

from negmine.errors import NegmineWarning


class WarningLines:
    """Writes each distinct ``<level>: <message>`` line once to stderr, above any progress bar."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def echo(self, message: str, level: str = "warning") -> None:
        line = f"{level}: {message}"
        if line in self.seen:
            return
        self.seen.add(line)
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)


@contextlib.contextmanager
def cli_warnings() -> Iterator[WarningLines]:
    """While open: negmine's warnings (:class:`NegmineWarning`) print as ``warning: <message>`` lines; the
    showwarning hook is removed on exit."""
    lines = WarningLines()
    with warnings.catch_warnings():  # restores warnings.showwarning (and the filters) on exit
        others = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            if issubclass(category, NegmineWarning):
                lines.echo(str(message))
            else:
                others(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield lines
