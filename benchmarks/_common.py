"""Shared helpers for the benchmarks: locating SciFact, printing ratio tables, writing JSON results."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = Path(os.environ.get("NEGMINE_SCIFACT", ROOT.parent / "shared" / "data" / "scifact"))
RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = "scratch"  # under RESULTS, git-ignored: results of runs whose arguments differ from the documented run


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


def per_second(amount: float, seconds: float, digits: int | None = 2) -> float | str:
    """``amount / seconds`` rounded to ``digits`` (None: a whole number), for a rate or an "x faster" column;
    ``"-"`` when the clock saw no time pass (a small run on a fast machine, or a clock that read the same value
    twice), where the division would raise ZeroDivisionError and end the run before its table."""
    return round(amount / seconds, digits) if seconds > 0 else "-"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def changed_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace, documented: Sequence[str] = (),
                      neutral: tuple[str, ...] = ()) -> list[str]:
    """``--docs 5000`` for each option of ``args`` whose value differs from the documented run's: the parser's
    defaults, or ``parser.parse_args(documented)`` for a variant documented with its own results name.

    ``neutral`` names the dests that only name outputs or work folders (``results_name``, ``work``): they change
    where files go, not the figures. Option names are rebuilt from the dest (``index_docs`` -> ``--index-docs``),
    the convention of every benchmark script."""
    expected = vars(parser.parse_args(list(documented)))
    return [_option(dest, value) for dest, value in vars(args).items()
            if dest not in neutral and value != expected.get(dest)]


def _option(dest: str, value) -> str:
    flag = "--" + dest.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else f"no {flag}"
    if isinstance(value, (list, tuple)):
        return f"{flag} {' '.join(map(str, value))}"
    return f"{flag} {value}"


def write_result(name: str, payload: dict, *, changed: list[str]) -> Path:
    """Write ``RESULTS/<name>.json``, the figures the README quotes, or ``RESULTS/scratch/<name>.json`` when
    ``changed`` (from ``changed_arguments``) is not empty: a scaled-down or otherwise different run used to
    overwrite the committed, documented figures without a word. The payload records the command line and the
    changed arguments, so a file says which run made it."""
    from negmine.io.atomic import atomic_write

    payload = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.processor()},
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "changed_arguments": changed,
        **payload,
    }
    path = (RESULTS / SCRATCH if changed else RESULTS) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
    if changed:
        print(f"arguments differ from the documented run ({', '.join(changed)}): wrote {path}; "
              "the committed results are untouched")
    else:
        print(f"wrote {path}")
    return path
