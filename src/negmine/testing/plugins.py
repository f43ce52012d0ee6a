"""A strategy (with params, and without) and an export format of one's own, as docs/mining.md ("Your own strategy or
export format") shows them, :func:`registered` that makes them available for the length of a ``with`` block, and
:func:`write_distribution` that fakes an installed package declaring entry points (tests)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Iterator

import numpy as np


class EveryOtherStrategy:
    """Every other candidate in retrieval order (the 1st, 3rd, 5th...): hard negatives, thinned."""

    name: ClassVar[str] = "every-other"
    default_window: ClassVar[tuple[int | None, int | None]] = (None, None)
    best_first: ClassVar[bool] = False  # it skips candidates, so it does not take the first k

    @classmethod
    def from_config(cls, config) -> "EveryOtherStrategy":
        return cls()

    def select(self, pool, k: int, rng: np.random.Generator) -> np.ndarray:
        return np.argsort(pool.ranks, kind="stable")[::2][:k]


class EveryNthStrategy:
    """Every ``step``-th candidate in retrieval order (step 3: the 1st, 4th, 7th...): a strategy with a param."""

    name: ClassVar[str] = "every-nth"
    default_window: ClassVar[tuple[int | None, int | None]] = (None, None)
    best_first: ClassVar[bool] = False
    params: ClassVar[dict[str, type]] = {"step": int}
    param_defaults: ClassVar[dict[str, object]] = {"step": 2}

    def __init__(self, step: int) -> None:
        self.step = step

    @classmethod
    def from_config(cls, config) -> "EveryNthStrategy":
        from negmine.select.params import strategy_params

        return cls(**strategy_params(cls, config))

    def select(self, pool, k: int, rng: np.random.Generator) -> np.ndarray:
        return np.argsort(pool.ranks, kind="stable")[::self.step][:k]


class QueryNegativeExporter:
    """One ``{"query", "negative"}`` record per negative of each row (JSONL or Parquet)."""

    name: ClassVar[str] = "query-negative"
    needs_scan: ClassVar[bool] = False
    per_query: ClassVar[bool] = False
    takes_scores: ClassVar[bool] = False
    always_scores: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl", "parquet")

    def skip_reason(self, row, shape) -> str | None:
        return None if row["negatives"] else "row has no negatives"

    def arrow_schema(self, shape):
        from negmine.export.base import text_columns

        return text_columns("query", "negative")

    def convert(self, row, shape) -> list[dict]:
        return [{"query": row["query"], "negative": text} for text in row["negatives"]]


@contextmanager
def registered(*plugins: object) -> Iterator[None]:
    """Register each of ``plugins`` (a strategy class or an export format instance) for the block only."""
    from negmine.export.registry import REGISTRY as FORMATS, register_export_format
    from negmine.select.strategy import REGISTRY as STRATEGIES, register_strategy

    with STRATEGIES.restored(), FORMATS.restored():
        for plugin in plugins:
            (register_strategy if isinstance(plugin, type) else register_export_format)(plugin)
        yield


def write_distribution(site: Path, entry_points: str, modules: dict[str, str], name: str = "negmine-plugin-demo",
                       version: str = "1.2.3") -> Path:
    """An installed package ``name`` ``version`` in the folder ``site`` (put it on ``sys.path``, or PYTHONPATH for a
    subprocess, and importlib.metadata finds it as any other): its ``modules`` ({module name: source}), and a
    ``*.dist-info`` folder with METADATA, ``entry_points`` (the text of an entry_points.txt) and a RECORD listing the
    modules' files and its own, as pip writes it (``importlib.metadata.packages_distributions`` reads it)."""
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source, encoding="utf-8")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    files = [f"{module}.py" for module in modules] + [f"{info.name}/{part}" for part in ("METADATA", "entry_points.txt",
                                                                                      "RECORD")]
    (info / "RECORD").write_text("".join(f"{path},,\n" for path in files), encoding="utf-8")
    return site
