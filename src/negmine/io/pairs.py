"""Load a (query, positive) pairs file (JSONL, CSV/TSV or Parquet) or Hugging Face dataset as a Dataset.

This is the layout of sentence-transformers training sets: one row per pair, a query column and a positive
column (auto-detected from :data:`QUERY_COLUMNS` / :data:`POSITIVE_COLUMNS` unless named). Ids are made up
deterministically from 1-based data rows (header not counted):

- queries: ``q<row>`` of the first row with that exact (stripped) text, so a query with several positives
  on several rows is one query with several judgments;
- without a corpus file, the corpus is the distinct positives, with ids ``d<row>`` of first occurrence;
- with a corpus file (BEIR ``corpus.jsonl`` or any table with a text column, see
  :mod:`negmine.io.corpus_file`), positives are matched to documents by exact text (BEIR documents read as
  ``title + " " + text``; with duplicate texts the first document wins). A positive not found is added to
  the corpus as ``p<row>`` and counted in :attr:`PairsLoad.added_positives` (and warned about by :func:`load_pairs`);
  the Dataset carries the counts (:attr:`negmine.io.records.Dataset.positives_added`) for the mining summary.

Repeated (query, positive) rows are kept once and counted in :attr:`PairsLoad.duplicate_rows`. A file whose
rows carry pair labels (a ``label``/``score`` column with more than one value) is refused
(:mod:`negmine.io.pair_labels`): its non-matching pairs would be mined as positives.
The pairs file is fully validated before the (possibly large) corpus file is read.

A Hugging Face ``datasets.Dataset`` (:func:`pairs_from_dataset`), the folder its ``save_to_disk`` wrote, or
``hf:NAME[:SPLIT]`` (:func:`pairs_source`) is read by the same code through a row source
(:mod:`negmine.io.row_source`): the same rows give the same Dataset, with messages naming the dataset, row and
column instead of the file and line.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Container, Protocol

from negmine.config_path import here, path_option, path_setting
from negmine.errors import ConfigError, InputError, NegmineWarning, caller_stacklevel, counted
from negmine.io.columns import POSITIVE_COLUMNS, QUERY_COLUMNS, find_column, pick_column
from negmine.io.corpus_file import read_corpus_file
from negmine.io.files import hashed_identity, require_file
from negmine.io.pair_labels import check_pair_labels
from negmine.io.records import Corpus, Dataset, Qrels, TextTable
from negmine.io.row_source import FileRows, RowSource
from negmine.io.text_column import TextColumn


@dataclass(frozen=True)
class PairsLoad:
    """A loaded pairs file with the counts a user should be told about."""

    dataset: Dataset
    rows: int
    distinct_positives: int
    duplicate_rows: int
    added_positives: int
    whitespace_matches: tuple[tuple[str, str], ...] = ()
    """(added id, corpus id) of each added positive that equals a corpus document but for whitespace
    (:func:`whitespace_matches`), in the order they were added."""


@dataclass
class _PairRows:
    """Pass 1 over the pairs file: distinct queries, distinct positives (text -> first row), row pairs."""

    query_ids: list[str] = field(default_factory=list)
    query_texts: list[str] = field(default_factory=list)
    positive_row: dict[str, int] = field(default_factory=dict)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    digest: Any = field(default_factory=hashlib.sha256)
    """sha256 over every row's (query, positive) texts as read, each text length-prefixed (:func:`_hashed`)."""


class ColumnOptions(Protocol):
    """How the caller of a pairs reader sets its column options (``query_column``, ``positive_column``), for the
    messages about the columns: :data:`OPTIONS` for the command line, a config and ``load_pairs``/
    ``pairs_from_dataset``; ``mine_dataset`` names its own keywords
    (:class:`negmine.pipeline.keyword_fields.KeywordColumns`)."""

    def setting(self, name: str, column: str) -> str:
        """Column option ``name`` set to ``column``, for a typo's hint (``did you mean ...?``)."""

    def fix(self, examples: dict[str, str | None]) -> str:
        """How to set the column options of ``examples`` (name -> a column it could name, None: none known), the
        start of a message's fix."""


class ConfigColumnOptions:
    """The :class:`ColumnOptions` of the command line, a config and the pairs readers' own keywords: while a config's
    data loads (``negmine mine --pairs``, ``mine(config)``) the config's field and its option, ``pass
    data.query_column (--query-column)``, else the keyword of the Python call (``load_pairs``,
    ``pairs_from_dataset``), ``pass query_column='zz'``. Both said ``pass query_column (--query-column)``: a field
    a MineConfig does not have and an option a Python caller cannot pass. A typo's hint by :func:`_column_setting`."""

    def setting(self, name: str, column: str) -> str:
        return _column_setting(name, column)

    def fix(self, examples: dict[str, str | None]) -> str:
        if here() is not None:
            return "pass " + " and ".join(path_option(name) for name in examples)
        return "pass " + ", ".join(f"{name}={'...' if example is None else repr(example)}"
                                   for name, example in examples.items())


OPTIONS = ConfigColumnOptions()


def pair_columns(source: RowSource, query_column: str | None, positive_column: str | None,
                 options: ColumnOptions = OPTIONS) -> tuple[str, str]:
    """The query and positive column names: as given, or auto-detected; InputError lists the columns, ConfigError
    when both name the same column; their fixes name the column options as ``options`` says the caller sets them."""
    available = source.columns()

    def fail(column: str | None, problem: str) -> InputError:
        return source.input_error(None, column, problem)

    other = positive_column or find_column(available, POSITIVE_COLUMNS)
    query = pick_column(None, available, query_column, QUERY_COLUMNS, "query",
                        options.fix({"query_column": _example(available, other)}), fail,
                        partial(options.setting, "query_column"))
    positive = pick_column(None, available, positive_column, POSITIVE_COLUMNS, "positive",
                           options.fix({"positive_column": _example(available, query)}), fail,
                           partial(options.setting, "positive_column"))
    if query == positive:
        raise _same_column_error(query, query_column is None, positive_column is None, options)
    source.check_types({query: "text", positive: "text"})
    check_pair_labels(source, available, (query, positive))
    return query, positive


def _example(available: list[str], taken: str | None) -> str | None:
    """The first of the ``available`` columns that is not ``taken`` (the other column's), for a fix's example."""
    return next((column for column in available if column != taken), None)


def _column_setting(name: str, column: str) -> str:
    """How the caller sets column option ``name`` to ``column``, for a typo's hint: a config's field and its option
    while a config's data loads (``negmine mine --positive-column answr``, ``mine(config)``: ``did you mean
    data.positive_column='answer' (--positive-column answer)?``), else the keyword of the Python call
    (``pairs_from_dataset(ds, positive_column='answr')``: ``did you mean positive_column='answer'?``). It said
    ``did you mean 'answer'?``, naming no option, for both."""
    return path_setting(name, column) if here() is not None else f"{name}={column!r}"


def _same_column_error(column: str, query_detected: bool, positive_detected: bool,
                       options: ColumnOptions = OPTIONS) -> ConfigError:
    """Error for a query column that is also the positive column (every pair would be a text and itself)."""
    detected = [name for name, auto in (("query_column", query_detected), ("positive_column", positive_detected)) if auto]
    how = f" ({' and '.join(detected)} auto-detected)" if detected else ""
    return ConfigError(
        f"query_column and positive_column are both {column!r}{how}; they must name two different columns: "
        f"{options.fix({'query_column': None, 'positive_column': None})} naming the query and the positive column"
    )


def _read_pair_rows(source: RowSource, query_column: str, positive_column: str) -> _PairRows:
    out = _PairRows()
    query_id_of: dict[str, str] = {}
    for where, (query_value, positive_value) in source.rows([query_column, positive_column]):
        query = source.text(where, query_column, query_value)
        positive = source.text(where, positive_column, positive_value)
        out.digest.update(_hashed(query) + _hashed(positive))
        query_id = query_id_of.get(query)
        if query_id is None:
            query_id = query_id_of[query] = f"q{where.row}"
            out.query_ids.append(query_id)
            out.query_texts.append(query)
        out.positive_row.setdefault(positive, where.row)
        out.pairs.append((query_id, positive))
    if not out.pairs:
        raise source.input_error(None, None, f"no pairs in the {source.unit}")
    return out


def _hashed(text: str) -> bytes:
    """``text`` as UTF-8 after its byte length, so no two rows' texts hash as one (``"ab", "c"`` vs ``"a", "bc"``)."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data).to_bytes(8, "little") + data


def _fresh_id(base: str, taken: Container[str]) -> str:
    """``base``, or ``base-1``, ``base-2``... whichever is not an existing corpus id."""
    candidate, n = base, 0
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _corpus_with_positives(rows: _PairRows, corpus: Corpus | None, source: str) -> tuple[Corpus, dict[str, str], int]:
    """The corpus (given, or the distinct positives), each positive's doc id, and how many were added."""
    if corpus is None:
        doc_of = {text: f"d{row}" for text, row in rows.positive_row.items()}
        return TextTable(list(doc_of.values()), list(doc_of), source=source), doc_of, 0
    wanted = set(rows.positive_row)
    by_text: dict[str, str] = {}
    for doc_id, text in zip(corpus.ids, corpus.texts):
        if text in wanted:
            by_text.setdefault(text, doc_id)
    extra_ids, extra = [], []
    doc_of: dict[str, str] = {}
    for text, row in rows.positive_row.items():
        doc_id = by_text.get(text)
        if doc_id is None:
            doc_id = _fresh_id(f"p{row}", corpus.index)  # p<row> ids cannot collide with each other
            extra_ids.append(doc_id)
            extra.append(text)
        doc_of[text] = doc_id
    ids, texts = _extended(corpus.ids, extra_ids), _extended(corpus.texts, extra)
    return TextTable(ids, texts, source=corpus.source), doc_of, len(extra)


def _extended(texts, extra: list[str]):
    """``texts`` (ids or texts) followed by ``extra``, sharing a TextColumn's arrays instead of copying them."""
    return texts.extended(extra) if isinstance(texts, TextColumn) else [*texts, *extra]


def pairs_source(pairs: str | Path) -> RowSource:
    """The table ``pairs`` names: ``hf:NAME[:SPLIT]`` or ``hf:NAME:CONFIG:SPLIT`` (``datasets.load_dataset``), a
    folder written by ``datasets``' ``save_to_disk``, or a pairs file (JSONL, CSV/TSV, Parquet)."""
    from negmine.io import hf_datasets

    if str(pairs).startswith(hf_datasets.HUB_PREFIX):
        return hf_datasets.hub_rows(str(pairs))
    if Path(pairs).is_dir():
        return hf_datasets.folder_rows(Path(pairs))
    return FileRows(require_file(pairs, "pairs file"))


@dataclass(frozen=True)
class CheckedPairs:
    """A pairs table read and checked by :func:`check_pairs` (its columns, then every row), which
    :func:`read_pairs` finishes (``checked=``) without reading it again: ``pairs``, ``query_column`` and
    ``positive_column`` as asked, the source read and the columns found. The rows are handed to the first load
    that takes them (:meth:`take_rows`), so they are not kept beside the Dataset built from them (200,000 rows:
    26 MB, for as long as the caller holds this, e.g. a whole training run); a later load reads the source again."""

    pairs: str
    query_column: str | None
    positive_column: str | None
    source: RowSource
    columns: tuple[str, str]
    rows: list[_PairRows] = field(repr=False, compare=False)
    """The rows read, until a load takes them: one, then none."""

    def matches(self, pairs: str | Path, query_column: str | None, positive_column: str | None) -> bool:
        """Whether these are the rows a load of ``pairs`` with these columns reads."""
        return (self.pairs, self.query_column, self.positive_column) == (str(pairs), query_column, positive_column)

    def take_rows(self) -> _PairRows | None:
        """The rows read, handed over once; None once taken."""
        return self.rows.pop() if self.rows else None


def check_pairs(path: str | Path, query_column: str | None = None, positive_column: str | None = None) -> CheckedPairs:
    """The errors :func:`read_pairs` gives for the pairs ``path`` names (its columns, then every row:
    ``file:line: field 'positive': missing``), without reading a corpus or building the Dataset: the check of the
    pairs a mining summary records, before a re-mining training run loads its model
    (:func:`negmine.pipeline.recorded_config.check_recorded_pairs`). The rows read, which re-mining's load takes
    (``read_pairs(..., checked=)``) rather than read the pairs a second time."""
    source = pairs_source(path)
    columns = pair_columns(source, query_column, positive_column)
    return CheckedPairs(str(path), query_column, positive_column, source, columns, [_read_pair_rows(source, *columns)])


def read_pairs(
    path: str | Path,
    corpus: str | Path | None = None,
    query_column: str | None = None,
    positive_column: str | None = None,
    checked: CheckedPairs | None = None,
) -> PairsLoad:
    """Load a pairs file, a ``save_to_disk`` folder or an ``hf:`` dataset (:func:`pairs_source`), and an optional
    corpus file, with counts of duplicate rows and added positives. ``checked``: what :func:`check_pairs` read of
    the same ``path`` and columns, whose rows are taken rather than read again (once: a later load with the same
    ``checked`` reads its source again; ConfigError for other pairs)."""
    if checked is None:
        return read_pairs_from(pairs_source(path), corpus, query_column, positive_column)
    if not checked.matches(path, query_column, positive_column):
        raise ConfigError(
            f"the checked pairs given hold the rows of {checked.pairs!r} (query_column {checked.query_column!r}, "
            f"positive_column {checked.positive_column!r}), not of {str(path)!r} (query_column {query_column!r}, "
            f"positive_column {positive_column!r}); pass the rows read with this config (read_mine_summary(...).pairs "
            "with its config, check_pairs(path, ...) with the same columns), or none (they are read again)")
    rows = checked.take_rows()
    if rows is None:  # taken by a load before this one
        return read_pairs_from(checked.source, corpus, query_column, positive_column)
    return _pairs_load(checked.source, rows, corpus)


def read_pairs_from(
    source: RowSource,
    corpus: str | Path | None = None,
    query_column: str | None = None,
    positive_column: str | None = None,
    options: ColumnOptions = OPTIONS,
) -> PairsLoad:
    """Load the pairs of any row source (a file, a Hugging Face dataset: :mod:`negmine.io.row_source`), fully
    validated before the corpus file is read. The Dataset's ``origin`` is the source's identity (path, fingerprint,
    revision: :meth:`~negmine.io.row_source.RowSource.identity`) with the rows read and their sha256: a fingerprint
    alone may not tell two versions apart (datasets gives a random one after a transform it cannot hash). With a
    ``corpus`` file, ``origin["corpus"]`` is its path, size and sha256 (hashed as it is read), as a BEIR folder's
    files are recorded: the positives are matched to its documents and the negatives drawn from it. ``options``:
    how the caller sets the column options, which the messages about the columns name (:class:`ColumnOptions`)."""
    query_col, positive_col = pair_columns(source, query_column, positive_column, options)
    return _pairs_load(source, _read_pair_rows(source, query_col, positive_col), corpus)


def _pairs_load(source: RowSource, rows: _PairRows, corpus: str | Path | None) -> PairsLoad:
    """The Dataset of the pairs ``rows`` read from ``source`` (:func:`read_pairs_from`), with ``corpus`` if given."""
    corpus_digest = hashlib.sha256()
    base = read_corpus_file(corpus, digest=corpus_digest) if corpus is not None else None
    docs, doc_of, added = _corpus_with_positives(rows, base, source.label)
    judgments: dict[str, dict[str, int]] = {}
    duplicates = 0
    for query_id, positive in rows.pairs:
        judged = judgments.setdefault(query_id, {})
        doc_id = doc_of[positive]
        duplicates += doc_id in judged
        judged[doc_id] = 1
    queries = TextTable(rows.query_ids, rows.query_texts, source=source.label)
    origin = {**source.identity(), "rows": len(rows.pairs), "rows_sha256": rows.digest.hexdigest(),
              **({"corpus": hashed_identity(corpus, corpus_digest)} if corpus is not None else {})}
    near = () if not added or base is None else whitespace_matches(
        base, {doc_id: text for text, doc_id in doc_of.items() if doc_id not in base.index})
    added_counts = None if base is None else {"added": added, "distinct_positives": len(rows.positive_row),
                                              "whitespace_only": len(near)}
    dataset = Dataset(docs, queries, Qrels(judgments, source=source.label), name=source.name, origin=origin,
                      positives_added=added_counts)
    return PairsLoad(dataset, len(rows.pairs), len(rows.positive_row), duplicates, added, near)


def whitespace_matches(corpus: Corpus, added: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """(added id, corpus id) of each ``added`` positive (id -> text) equal to a document of ``corpus`` once runs of
    whitespace are one space (its first such document): a positive written ``title + "  " + text`` from a title
    ending in a space, which the corpus reads stripped, matches no document exactly."""
    wanted = {" ".join(text.split()): doc_id for doc_id, text in added.items()}
    found: dict[str, str] = {}
    for doc_id, text in zip(corpus.ids, corpus.texts):
        added_id = wanted.get(" ".join(text.split()))
        if added_id is not None:
            found.setdefault(added_id, doc_id)
    return tuple((added_id, found[added_id]) for added_id in added if added_id in found)


def load_pairs(
    path: str | Path,
    corpus: str | Path | None = None,
    query_column: str | None = None,
    positive_column: str | None = None,
    checked: CheckedPairs | None = None,
) -> Dataset:
    """Load a pairs file (or a ``save_to_disk`` folder, or ``hf:NAME...``: :func:`pairs_source`) as a Dataset (see
    module docstring); a NegmineWarning when positives were added or rows repeat. ``checked``: the rows
    :func:`check_pairs` read of them, not read again (:func:`read_pairs`).

    Use :func:`read_pairs` to get the counts (added positives, duplicate rows) as values.
    """
    return warned(read_pairs(path, corpus, query_column, positive_column, checked), corpus)


def pairs_from_dataset(
    ds: Any,
    query_column: str | None = None,
    positive_column: str | None = None,
    corpus: str | Path | None = None,
    split: str | None = None,
    name: str | None = None,
) -> Dataset:
    """A Hugging Face ``datasets.Dataset`` of (query, positive) text columns (as sentence-transformers'
    ``mine_hard_negatives`` takes), one ``split`` of a ``DatasetDict``, or a ``pyarrow.Table``, as a Dataset for
    ``negmine.pipeline.mine.mine(config, dataset=...)``: read as a pairs file is (same column detection, ids,
    checks, corpus matching and warnings), so the same rows mine the same negatives. Messages name the dataset
    (``name``, else the dataset's own name), row and column. Counts as values:
    ``read_pairs_from(negmine.io.hf_datasets.dataset_rows(ds, split, name))``.
    """
    from negmine.io.hf_datasets import dataset_rows

    return warned(read_pairs_from(dataset_rows(ds, split, name), corpus, query_column, positive_column), corpus)


def _whitespace_note(matches: tuple[tuple[str, str], ...]) -> str:
    """The warning's note on added positives that equal a document but for whitespace, naming the first three."""
    if not matches:
        return ""
    shown = ", ".join(f"{added_id} from {doc_id!r}" for added_id, doc_id in matches[:3])
    more = ", ..." if len(matches) > 3 else ""
    verb = "differs" if len(matches) == 1 else "differ"
    return (f"; {len(matches)} of them {verb} from a corpus document only in whitespace ({shown}{more}): the corpus "
            "reads a document's title and text each stripped and joins them with one space; write the positives "
            "so, or the corpus as they are written, for them to match")


def warned(result: PairsLoad, corpus: str | Path | None) -> Dataset:
    """``result``'s Dataset, with a NegmineWarning when positives were added to the corpus or rows repeat."""
    source = result.dataset.qrels.source
    if result.added_positives:
        warnings.warn(
            f"{source}: {result.added_positives} of {counted(result.distinct_positives, 'distinct positive')} "
            f"{'is' if result.added_positives == 1 else 'are'} not in the corpus {corpus} (exact text match; a document "
            f"with a title reads as title + ' ' + text) and {'was' if result.added_positives == 1 else 'were'} added "
            f"to it with ids p<row>{_whitespace_note(result.whitespace_matches)}", NegmineWarning,
            stacklevel=caller_stacklevel())
    if result.duplicate_rows:
        warnings.warn(f"{source}: {counted(result.duplicate_rows, 'repeated (query, positive) row')} kept once", NegmineWarning,
                      stacklevel=caller_stacklevel())
    return result.dataset
