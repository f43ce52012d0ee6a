"""A progress bar written to a log: one line per update, at most one every
:data:`~negmine.progress_interval.LOG_INTERVAL` seconds.

tqdm redraws a bar in place with a carriage return every 0.1 s. Where stderr is a file or a pipe (``nohup``, Slurm,
CI, ``2> run.log``) the carriage returns stay in it: ``negmine mine`` on SciFact (a 145 s encode) left 405 redraws,
32 KB, in a 5-line log, 29 KB of them one line, and an hour's job leaves megabytes that ``grep`` and ``less`` show as
one line. There
:func:`negmine.progress.progress_bar` opens a :class:`LogLines` bar instead: each update a line of its own ending in a
newline, with no carriage return and nothing cleared, the first when the bar opens, then at most one every
:data:`~negmine.progress_interval.LOG_INTERVAL` seconds (or ``TQDM_MININTERVAL``'s, if set:
:func:`~negmine.progress_interval.line_interval`), and the final count with
the stage's mean rate when it closes. A line's rate is that since the line before it.
"""

from __future__ import annotations

from tqdm.std import tqdm

from negmine.progress_interval import LOG_INTERVAL, line_interval  # noqa: F401  (read here before)


class LogLines(tqdm):
    """tqdm's bar as lines (see the module); opened by :func:`negmine.progress.progress_bar` with ``mininterval`` and
    ``maxinterval`` of :func:`~negmine.progress_interval.line_interval`. The interval is also kept here, as tqdm
    redraws a bar from other places than its updates (its monitor thread, ``tqdm.write``, ``set_postfix``); a redraw
    within it writes nothing.

    Each line's rate (and the ETA from it) is the rate since the previous line: tqdm's smoothed rate takes in the
    texts done only in an update that redraws, so a line written by another redraw (tqdm's monitor thread forces
    one on a bar whose updates stopped redrawing) showed the rate of the line before it, however the work had sped
    up or stalled since. With ``smoothing=0`` (``TQDM_SMOOTHING=0``: the mean rate) tqdm's own is kept."""

    _line_t: float | None = None  # when the last line was written (tqdm's clock); None: none yet
    _line_n: float | None = None  # the count it showed

    @staticmethod
    def status_printer(file):
        flush = getattr(file, "flush", lambda: None)

        def write_line(text: str) -> None:
            file.write(text + "\n")
            flush()

        return write_line

    def display(self, msg=None, pos=None) -> bool:
        """Write the bar's state as a line, unless one was written less than ``mininterval`` ago. tqdm's other
        messages (``''`` to clear the bar, ``... (more hidden) ...``) write nothing: a log cannot take a line back."""
        if msg is not None:
            return False
        now = self._time()
        if self._line_t is not None and now - self._line_t < self.mininterval:
            return False
        line = self.__str__() if self._line_t is None or not self.smoothing else self._line_since(now)
        self._line_t, self._line_n = now, self.n
        self.sp(line)
        return True

    def _line_since(self, now: float) -> str:
        """The bar's line with the rate since the last line (tqdm's, if the count went back: ``reset``)."""
        done, seconds = self.n - self._line_n, now - self._line_t
        if done < 0 or seconds <= 0:
            return self.__str__()
        return self.format_meter(**{**self.format_dict, "rate": done / seconds})

    def clear(self, nolock: bool = False) -> None:
        """Nothing to clear: the last line ended with a newline (``tqdm.write``'s lines start a line of their own)."""

    def moveto(self, n: int) -> None:
        """No cursor moves in a log."""

    def close(self) -> None:
        """Write the final state, whatever the interval and ``leave``, with the mean rate of the run (tqdm's own
        final redraw's), if the bar wrote a line at all and the last one showed another count (an iterated bar's
        last update often wrote the final count already); then close as tqdm does, which writes nothing more."""
        if not getattr(self, "disable", True) and self._line_t is not None and self._line_n != self.n:
            with self._lock:
                self._ema_dt = lambda: None  # tqdm's close does the same for its last redraw: the mean rate
                self._line_t = None
                self.display()
        self.leave = False
        super().close()
