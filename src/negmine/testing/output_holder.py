"""Another process holding the output locks of a run, for tests of runs that target the same outputs.

:func:`hold_in_other_process` starts a fresh interpreter that takes :func:`negmine.io.output_lock.hold_outputs`
on the given outputs (files and folders), says so on stdout and keeps them until its stdin closes (the context exits) or it is
killed (``proc.kill()``: the lock ends with the process, its lock file stays). No sleeps: the test waits for the
process's line, then its exit.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

SCRIPT = """
import json, sys
from negmine.io.output_lock import hold_outputs

with hold_outputs(json.loads(sys.argv[1]), json.loads(sys.argv[2])):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def hold_in_other_process(outputs: dict[str, str | Path], folders: dict[str, str | Path] | None = None
                          ) -> Iterator[subprocess.Popen]:
    """Yield the process once it holds the locks of ``outputs`` (files) and ``folders``; on exit it releases them
    and ends."""
    args = [json.dumps({option: str(path) for option, path in group.items()}) for group in (outputs, folders or {})]
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        if line.strip() != "held":
            raise AssertionError(f"the holder did not take the locks: {line}{proc.stderr.read()}")
        yield proc
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.wait(60)
        proc.stdout.close()
        proc.stderr.close()
