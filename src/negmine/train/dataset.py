"""Native mined JSONL -> a ``datasets.Dataset`` for sentence-transformers' trainer.

Columns, in the order the ranking losses read them: ``anchor``, ``positive``, ``negative_1`` ..
``negative_N`` (N fixed by ``TrainConfig.num_negatives``) and ``label`` (masking information, see
:mod:`negmine.train.labels`). Rows with fewer than N negatives are dropped and counted. When a row
has more than N, negatives the audit did not flag come first (file order otherwise), so a flagged
false negative only takes a column when the row has no clean negative left for it. Each document the audit
promoted (``extra_positives``) adds a pair after its row: (query, promoted document, the row's negatives), once
per query, like the n-tuple export; it stays a known positive of the query for every other row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple, Sequence

from negmine.errors import ConfigError, caller_stacklevel, counted, field_option
from negmine.export.native import FALSE_NEGATIVE_FLAG
from negmine.train.labels import pack_label, pack_scores, text_key
from negmine.train.teacher_scores import teacher_scores

@dataclass
class TrainDataStats:
    """Counts reported in the training summary. ``rows_kept``: native rows trained on; ``promoted_pairs``: the
    pairs their promoted documents added (the dataset has ``rows_kept + promoted_pairs`` rows)."""

    rows_read: int = 0
    rows_kept: int = 0
    promoted_pairs: int = 0
    dropped_few_negatives: int = 0
    flagged_negatives_kept: int = 0
    known_positive_width: int = 0
    max_negatives_seen: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class TrainData:
    """The training dataset plus what re-mining needs to swap negatives row by row and to extend a query's
    known positive keys (``known_keys``, per query id) when a re-mined negative brings back a known id's text."""

    dataset: object  # datasets.Dataset
    stats: TrainDataStats
    num_negatives: int
    row_of_pair: dict[tuple[str, str], int] = field(default_factory=dict)
    known_keys: dict[str, list[int]] = field(default_factory=dict)
    known_ids: dict[str, set[str]] = field(default_factory=dict)
    row_queries: list[str] = field(default_factory=list)  # the query id of each dataset row
    same_text_queries: dict[str, list[str]] = field(default_factory=dict)
    """Per query id, the ids of the queries whose texts share its key (:func:`text_key`), itself included: they
    share their known positives (:func:`known_positive_ids`), also those re-mining adds."""
    distill_from: str | None = None
    """Whose teacher scores end each label (``judge``, ``mining``; None: none): a re-mined row's label takes the
    re-mined row's (:func:`negmine.train.remine.overlay_rows`)."""


def choose_negatives(flags: list[str | None], num_negatives: int) -> list[int]:
    """Indices of the ``num_negatives`` negatives to keep: unflagged ones first, each group in file order."""
    clean = [i for i, flag in enumerate(flags) if flag is None]
    flagged = [i for i, flag in enumerate(flags) if flag is not None]
    return (clean + flagged)[:num_negatives]


def known_positive_ids(rows: list[Mapping]) -> dict[str, set[str]]:
    """Per query id, the ids of every document known to be relevant to it: each row's positive,
    ``extra_positive_ids`` and ``false_negative_ids``, pooled over the query ids whose texts share a key
    (:func:`text_key`): mining pools the positives of such queries (a query asked twice under two ids, or in other
    case), so one query's positive in another's batch row is masked, not taken for an in-batch negative."""
    relevant: dict[int, set[str]] = defaultdict(set)
    query_key: dict[str, int] = {}
    for row in rows:
        key = query_key.setdefault(row["query_id"], text_key(row["query"]))
        relevant[key].add(row["positive_id"])
        relevant[key].update(row.get("extra_positive_ids") or ())
        relevant[key].update(row.get("false_negative_ids") or ())
    return {query_id: set(relevant[key]) for query_id, key in query_key.items()}


def same_text_queries(rows: list[Mapping]) -> dict[str, list[str]]:
    """Per query id, the sorted ids of the queries whose texts share its key (itself included); a query id's text
    is that of its first row, as in :func:`known_positive_ids`."""
    query_key: dict[str, int] = {}
    for row in rows:
        query_key.setdefault(row["query_id"], text_key(row["query"]))
    groups: dict[int, list[str]] = defaultdict(list)
    for query_id, key in query_key.items():
        groups[key].append(query_id)
    return {query_id: sorted(groups[key]) for query_id, key in query_key.items()}


def known_positive_keys(rows: list[Mapping]) -> dict[str, list[int]]:
    """Per query id, the sorted keys of every document known to be relevant to it (:func:`known_positive_ids`).

    Ids are resolved to texts anywhere in the file (a promoted document's text is in ``extra_positives``: the
    audit removed it from its query's negatives); an id whose text never appears cannot show up in a batch and is
    skipped (until re-mining brings it back: :mod:`negmine.train.remine` flags it by id).
    """
    id_text: dict[str, str] = {}
    for row in rows:
        id_text[row["positive_id"]] = row["positive"]
        id_text.update(zip(row["negative_ids"], row["negatives"]))
        id_text.update(zip(row.get("extra_positive_ids") or (), row.get("extra_positives") or ()))
    relevant = known_positive_ids(rows)
    return {
        query_id: sorted({text_key(id_text[d]) for d in doc_ids if d in id_text})
        for query_id, doc_ids in relevant.items()
    }


def row_flags(row: Mapping) -> list[str | None]:
    """``negative_flags`` normalised to ``"false_negative"`` or None per negative (absent -> all None)."""
    flags = row.get("negative_flags")
    if flags is None:
        return [None] * len(row["negatives"])
    return [FALSE_NEGATIVE_FLAG if flag == FALSE_NEGATIVE_FLAG else None for flag in flags]


def rows_to_train_data(rows: Iterable[Mapping], num_negatives: int, source: str = "<rows>",
                       distill_from: str | None = None) -> TrainData:
    """Build the training dataset from native rows (dicts as in the mined JSONL): each kept row, then its
    promoted documents' pairs. ``row_of_pair`` indexes the rows' own pairs (re-mining swaps those).
    ``distill_from`` (``judge``, ``mining``; None: none) appends each pair's teacher scores to its label
    (:func:`encode_row`), read from rows that hold them (:mod:`negmine.train.teacher_scores`)."""
    from datasets import Dataset

    rows = list(rows)
    stats = TrainDataStats(rows_read=len(rows))
    known, known_ids = known_positive_keys(rows), known_positive_ids(rows)
    # room for every known id's text: re-mining can bring back the text of one the file no longer has
    stats.known_positive_width = max((len(ids) for ids in known_ids.values()), default=1)
    columns: dict[str, list] = {"anchor": [], "positive": []}
    columns.update({f"negative_{k + 1}": [] for k in range(num_negatives)})
    columns["label"] = []
    row_of_pair: dict[tuple[str, str], int] = {}
    row_queries: list[str] = []
    promoted: set[tuple[str, str]] = set()
    for row in rows:
        stats.max_negatives_seen = max(stats.max_negatives_seen, len(row["negatives"]))
        if len(row["negatives"]) < num_negatives:
            stats.dropped_few_negatives += 1
            continue
        row_of_pair.setdefault((row["query_id"], row["positive_id"]), len(columns["anchor"]))
        stats.rows_kept += 1
        teacher = teacher_scores(row, distill_from) if distill_from is not None else None
        for which in [0, *(1 + i for i in new_promoted(row, promoted))]:
            positive = row["positive"] if which == 0 else row["extra_positives"][which - 1]
            scores = None if teacher is None else (teacher.positives[which], teacher.negatives)
            encoded = encode_row(row, len(columns["anchor"]), num_negatives, known, stats.known_positive_width,
                                 positive, scores)
            stats.flagged_negatives_kept += encoded.flagged
            _append(columns, row["query"], positive, encoded)
            row_queries.append(row["query_id"])
    stats.promoted_pairs = len(columns["anchor"]) - stats.rows_kept
    if stats.rows_kept == 0:
        raise ConfigError(nothing_kept(source, stats, num_negatives))
    if stats.dropped_few_negatives:
        _warn_short_rows(source, stats, num_negatives)
    return TrainData(Dataset.from_dict(columns), stats, num_negatives, row_of_pair, known, known_ids, row_queries,
                     same_text_queries(rows), distill_from)


class EncodedRow(NamedTuple):
    negatives: list[str]
    label: list[int]
    flagged: int


def encode_row(row: Mapping, index: int, num_negatives: int, known: dict[str, list[int]],
               known_width: int, positive: str | None = None,
               teacher: tuple[float, Sequence[float]] | None = None) -> EncodedRow:
    """The row's chosen negative texts, its packed label vector and how many chosen negatives are flagged;
    ``positive``: another positive text than the row's own (a promoted document's pair); ``teacher``: the
    positive's teacher score and one per negative of the row, appended to the label as the positive's and the
    chosen negatives' (:func:`negmine.train.labels.pack_scores`)."""
    flags = row_flags(row)
    chosen = choose_negatives(flags, num_negatives)
    negatives = [row["negatives"][i] for i in chosen]
    neg_flags = [int(flags[i] is not None) for i in chosen]
    positive = row["positive"] if positive is None else positive
    label = pack_label(
        index, text_key(positive), [text_key(t) for t in negatives], neg_flags, known.get(row["query_id"], []),
        known_width, query=text_key(row["query"]),
    )
    if teacher is not None:
        label += pack_scores([teacher[0], *(teacher[1][i] for i in chosen)])
    return EncodedRow(negatives, label, sum(neg_flags))


def new_promoted(row: Mapping, seen: set[tuple[str, str]]) -> list[int]:
    """Indices (in ``extra_positives``) of the row's promoted documents not yet paired with its query (added to
    ``seen``)."""
    new = []
    for i, (doc_id, _) in enumerate(zip(row.get("extra_positive_ids") or (), row.get("extra_positives") or ())):
        if (row["query_id"], doc_id) not in seen:
            seen.add((row["query_id"], doc_id))
            new.append(i)
    return new


class PairCount:
    """The number of dataset rows (pairs) :func:`rows_to_train_data` makes of the rows :meth:`add` is given in file
    order, without keeping them: each row with ``num_negatives`` negatives or more, and the pairs of its promoted
    documents not yet paired with its query; and the distinct query texts (the dataset's ``anchor`` column) of
    those rows. The preflight counts a run's steps and topic clusters' queries with it before the data loads
    (:func:`negmine.train.preflight.check_training_file`)."""

    def __init__(self, num_negatives: int) -> None:
        self.num_negatives = num_negatives
        self.pairs = 0
        self._promoted: set[tuple[str, str]] = set()
        self._queries: set[str] = set()

    def add(self, row: Mapping) -> None:
        if len(row["negatives"]) >= self.num_negatives:
            self.pairs += 1 + len(new_promoted(row, self._promoted))
            self._queries.add(row["query"])

    @property
    def queries(self) -> int:
        return len(self._queries)


def _append(columns: dict[str, list], anchor: str, positive: str, encoded: EncodedRow) -> None:
    columns["anchor"].append(anchor)
    columns["positive"].append(positive)
    for k, text in enumerate(encoded.negatives):
        columns[f"negative_{k + 1}"].append(text)
    columns["label"].append(encoded.label)


def _warn_short_rows(source: str, stats: TrainDataStats, num_negatives: int) -> None:
    """A NegmineWarning counting the rows left out for having fewer than ``num_negatives`` negatives: they were
    counted in the summary's ``dropped_few_negatives`` only, so a file whose rows an audit shortened (its ``drop``
    policy removes flagged negatives), or ``--num-negatives`` above what most rows hold, trained on a part of the
    file without a word."""
    import warnings

    from negmine.errors import NegmineWarning, counted

    one = stats.dropped_few_negatives == 1
    warnings.warn(
        f"{source}: {stats.dropped_few_negatives} of {counted(stats.rows_read, 'row')} {'has' if one else 'have'} "
        f"fewer than {counted(num_negatives, 'negative')} and {'is' if one else 'are'} left out of training "
        f"(dropped_few_negatives in the summary); lower {field_option('num_negatives')} "
        f"to keep {'it' if one else 'them'}",
        NegmineWarning, stacklevel=caller_stacklevel(),
    )


def nothing_kept(source: str, stats: TrainDataStats, num_negatives: int) -> str:
    if stats.rows_read == 0:
        return f"{source}: the mined file has no rows; mine negatives first (negmine mine ...)"
    return (
        f"{source}: no row has at least {counted(num_negatives, 'negative')} (the most any row has is "
        f"{stats.max_negatives_seen}); lower {field_option('num_negatives')} to {stats.max_negatives_seen} or mine more"
    )


def load_train_data(path: str | Path, num_negatives: int, distill_from: str | None = None) -> TrainData:
    """Read a native mined JSONL (validated by :func:`negmine.export.native.read_native`) into TrainData; with
    ``distill_from``, every row must hold that teacher's scores (an InputError naming the line otherwise)."""
    from negmine.export.native import read_native
    from negmine.train.teacher_scores import rows_with_teacher_scores

    rows = read_native(path) if distill_from is None else rows_with_teacher_scores(path, distill_from)
    return rows_to_train_data(rows, num_negatives, source=str(path), distill_from=distill_from)
