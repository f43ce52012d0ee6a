"""Shared helpers for the benchmarks: locating SciFact, printing ratio tables, writing JSON results."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = Path(os.environ.get("NEGMINE_SCIFACT", ROOT.parent / "shared" / "data" / "scifact"))
RESULTS = ROOT / "benchmarks" / "results"


def require_scifact() -> Path:
    if not (SCIFACT / "corpus.jsonl").exists():
        raise SystemExit(f"SciFact not found at {SCIFACT}; set NEGMINE_SCIFACT to a BEIR SciFact directory")
    return SCIFACT


def print_table(headers: list[str], rows: list[list]) -> str:
    """Aligned plain-text table (also returned, for the README)."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    text = "\n".join(lines)
    print(text)
    return text


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def write_result(name: str, payload: dict) -> Path:
    from negmine.io.atomic import atomic_write

    payload = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.processor()},
        **payload,
    }
    path = RESULTS / f"{name}.json"
    with atomic_write(path) as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
    print(f"wrote {path}")
    return path
