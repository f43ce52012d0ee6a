"""Run a Python script in a fresh interpreter, as a user would: its own ``__main__``, so worker processes that
are spawned re-import it, and signals and exit codes are its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SPAWN_WORKERS = ("import types\n"
                 "import negmine.engine.processes as processes\n"
                 "processes.sys = types.SimpleNamespace(platform='darwin')  # workers are spawned, not forked\n")
"""Lines that make :func:`negmine.engine.processes.ordered_process_map` spawn its workers, as on macOS and
Windows (put them under the script's ``if __name__ == "__main__":``, indented)."""


def run_script(path: Path, source: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Write ``source`` to ``path``, run it with this interpreter and return the finished process (text
    stdout / stderr); raises ``AssertionError`` with its stderr if it exits with an error."""
    path.write_text(source)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError(f"{path.name} exited with {out.returncode}:\n{out.stderr}")
    return out


def indented(lines: str, prefix: str = "    ") -> str:
    """``lines`` with each line indented by ``prefix`` (to put :data:`SPAWN_WORKERS` under a main guard)."""
    return "".join(prefix + line + "\n" for line in lines.splitlines())
