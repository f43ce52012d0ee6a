"""negmine's warnings on the command line: one ``warning: <message>`` line each on stderr, as the CLI's own.

The library reports through the standard channels, so library users filter them as usual: ``warnings.warn`` with
a :class:`negmine.errors.NegmineWarning` category, and ``logging`` on the ``negmine.*`` loggers. Left alone, a
command line user would see those in two other formats: Python's for a warning
(``/path/file.py:222: UserWarning: message`` and the source line below it) and the bare message of logging's
last-resort handler. :func:`cli_warnings` prints both as the CLI prints its own warnings while a command runs;
the root callback installs it for the command's duration (``ctx.with_resource``) and it is undone after, so
importing negmine or calling its API changes nothing global.

- Each distinct line is printed once per command. Python's default filter shows a warning once per place, but
  every ``warnings.catch_warnings`` block (negmine has some) resets that record, and a logged warning repeats on
  every call.
- Lines go through ``tqdm.write``, which clears a progress bar being drawn and redraws it below the line.
- Warning filters still apply (``PYTHONWARNINGS=ignore`` silences negmine's warnings too); logger levels are not
  touched: the handler takes WARNING and above, so INFO logs stay hidden, as they were.
- Other libraries' warnings keep Python's format: their file and line can matter, and they are not negmine's to
  reword.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from typing import Iterator

from negmine.errors import NegmineWarning

LOGGER = "negmine"
"""The parent of every negmine logger (``logging.getLogger(__name__)`` in each module)."""


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


class _LogLines(logging.Handler):
    """A logging handler that hands WARNING and above to :class:`WarningLines` (``warning:``, ``error:``)."""

    def __init__(self, lines: WarningLines) -> None:
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.echo(record.getMessage(), record.levelname.lower())
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def cli_warnings() -> Iterator[WarningLines]:
    """While open: negmine's warnings (:class:`NegmineWarning`, ``negmine.*`` logs at WARNING and above) print as
    ``warning: <message>`` lines; the showwarning hook and the handler are removed on exit."""
    lines = WarningLines()
    handler = _LogLines(lines)
    with warnings.catch_warnings():  # restores warnings.showwarning (and the filters) on exit
        others = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            if issubclass(category, NegmineWarning):
                lines.echo(str(message))
            else:
                others(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        logging.getLogger(LOGGER).addHandler(handler)
        try:
            yield lines
        finally:
            logging.getLogger(LOGGER).removeHandler(handler)
