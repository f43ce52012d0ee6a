"""Typed records every stage works on.

Documents and queries are kept as parallel id/text sequences with an id -> row index
(:class:`~negmine.io.id_index.IdIndex`, 24 bytes per id); the readers store ids and texts in
:class:`~negmine.io.text_column.TextColumn` s (Arrow strings, memory-mapped when large). Qrels keep the file order, which fixes the order of mined pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

from negmine.errors import InputError
from negmine.io.files import unstorable_id, unstorable_id_problem, unstorable_text, unstorable_text_problem
from negmine.io.id_index import IdIndex
from negmine.io.text_column import TextColumn


@dataclass(frozen=True)
class TextTable:
    """Ids and texts in file order. ``source`` is the file they came from (for error messages)."""

    ids: Sequence[str]
    texts: Sequence[str]
    source: str = "<memory>"
    index: IdIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.texts):
            raise ValueError(f"{self.source}: {len(self.ids)} ids but {len(self.texts)} texts")
        _check_storable(self.source, "_id", self.ids)
        object.__setattr__(self, "index", IdIndex(self.ids))

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, item_id: str) -> str:
        return self.texts[self.index[item_id]]


def _check_storable(source: str, field_name: str, ids: Iterable[object]) -> None:
    """InputError naming the first of ``ids`` UTF-8 cannot store: a table or qrels built in Python (the readers
    refuse such an id at its line) that would fail as a traceback when a file holding the id is written."""
    bad = unstorable_id(ids)
    if bad is not None:
        raise InputError(source, None, field_name, unstorable_id_problem(bad))


def _check_texts(table: TextTable, name: str) -> None:
    """InputError naming the first text of ``table`` UTF-8 cannot store: only a table built in Python holds one (the
    readers refuse it at its line; a TextColumn, Arrow's UTF-8, cannot hold one, so it is not read again). Checked as
    a Dataset is built, so ``mine(config, dataset=...)`` and ``evaluate(config, dataset)`` refuse it before any model
    loads, where hashing (duplicate exclusion) or the tokenizer failed with a traceback."""
    if isinstance(table.texts, TextColumn):
        return
    row = unstorable_text(table.texts)
    if row is not None:
        raise InputError(table.source, None, "text", unstorable_text_problem(name, table.ids[row], table.texts[row]))


Corpus = TextTable
Queries = TextTable


class Pair(NamedTuple):
    """One labelled (query, positive) pair, by id."""

    query_id: str
    positive_id: str


@dataclass(frozen=True)
class Qrels:
    """Relevance judgments ``query_id -> {doc_id: score}`` in file order. Score > 0 means relevant."""

    judgments: dict[str, dict[str, int]]
    source: str = "<memory>"

    def __post_init__(self) -> None:
        _check_storable(self.source, "query-id", self.judgments)
        _check_storable(self.source, "corpus-id", (d for docs in self.judgments.values() for d in docs))

    def positives(self, query_id: str) -> list[str]:
        return [d for d, s in self.judgments.get(query_id, {}).items() if s > 0]

    def pairs(self) -> Iterator[Pair]:
        for query_id, docs in self.judgments.items():
            for doc_id, score in docs.items():
                if score > 0:
                    yield Pair(query_id, doc_id)

    def query_ids(self) -> list[str]:
        return [q for q in self.judgments if self.positives(q)]

    def not_relevant(self) -> int:
        """Judgments with score <= 0 (graded qrels' 0 rows): no pair, so a qrels file's rows and the pairs mined
        from it differ by this count; such a document may be a negative of its query, like any unjudged one."""
        return sum(score <= 0 for docs in self.judgments.values() for score in docs.values())

    def __len__(self) -> int:
        return sum(len(d) for d in self.judgments.values())


@dataclass(frozen=True)
class Dataset:
    """A validated corpus, query set and qrels: every qrels id exists, every text is non-empty. That every text
    UTF-8 can store is checked here, as the dataset is built (:func:`_check_texts`): a Dataset built in Python skips
    the readers, which refuse a lone surrogate at its line.

    ``all_qrels`` is set only when judgments were skipped because their document is not in the corpus
    (``DataConfig.unknown_qrels="skip"``): it holds every judgment as read, ``qrels`` the ones kept.

    ``origin`` identifies the data a reader read, which the mining summary and ``eval``'s results JSON record
    (:meth:`input_record`): a pairs reader's (:func:`negmine.io.pairs.read_pairs_from`: the source's kind, path or
    name, a Hugging Face dataset's fingerprint, the rows' sha256, a ``--corpus`` file's path, size and sha256) as
    ``pairs_input``, the BEIR reader's (:func:`negmine.io.beir.load_beir_files`: kind ``beir``, each file's path,
    size and sha256) as ``beir_input``. The recorded config holds only the paths or
    ``--pairs`` as typed (``hf:NAME``, a folder), which name the data, not which version of it was mined. None for
    data built otherwise.
    """

    corpus: Corpus
    queries: Queries
    qrels: Qrels
    name: str = "dataset"
    all_qrels: Qrels | None = None
    origin: dict[str, Any] | None = field(default=None, compare=False)
    positives_added: dict[str, int] | None = field(default=None, compare=False)
    """Set by a pairs reader given a corpus file (:func:`negmine.io.pairs.read_pairs_from`): of the
    ``distinct_positives``, how many were not in the corpus by exact text and were ``added`` to it (ids ``p<row>``),
    ``whitespace_only`` of them equal to a document but for whitespace; the mining summary records it as
    ``pairs_positives_added_to_corpus`` (:meth:`added_record`). None without a corpus file (the corpus is the
    positives) and for data read otherwise."""

    def __post_init__(self) -> None:
        _check_texts(self.corpus, "corpus")
        _check_texts(self.queries, "queries")

    def pairs(self) -> list[Pair]:
        return list(self.qrels.pairs())

    def judged_qrels(self) -> Qrels:
        """Every judgment as read, skipped ones included (what BEIR scores against); else ``qrels``."""
        return self.all_qrels if self.all_qrels is not None else self.qrels

    def input_record(self) -> dict[str, Any]:
        """The summary's record of the data read (``origin``): ``beir_input`` for a BEIR folder's files,
        ``pairs_input`` for pairs; nothing for a Dataset built in Python from texts. Mining's summary and ``eval``'s
        results JSON both record it, so they describe the same files the same way."""
        if self.origin is None:
            return {}
        return {"beir_input" if self.origin.get("kind") == "beir" else "pairs_input": self.origin}

    def added_record(self) -> dict[str, Any]:
        """The summary's ``pairs_positives_added_to_corpus`` (:attr:`positives_added`); nothing when it is None."""
        return {} if self.positives_added is None else {"pairs_positives_added_to_corpus": dict(self.positives_added)}

    def skipped_qrels(self, examples: int = 5) -> dict[str, Any]:
        """Counts of the judgments skipped for a document missing from the corpus, with a few example ids.

        ``skipped``: rows dropped; ``relevant_skipped``: those with score > 0; ``example_ids``: the first
        distinct missing document ids; ``queries_without_positive``: queries that had a relevant judgment
        but none left (they give no training pair), with ``example_queries``.
        """
        judged = self.judged_qrels()
        kept = self.qrels.judgments
        dropped = [
            (q, d, s) for q, docs in judged.judgments.items() for d, s in docs.items() if d not in kept.get(q, {})
        ]
        emptied = [q for q in judged.query_ids() if not self.qrels.positives(q)]
        return {
            "skipped": len(dropped),
            "relevant_skipped": sum(s > 0 for _, _, s in dropped),
            "example_ids": list(dict.fromkeys(d for _, d, _ in dropped))[:examples],
            "queries_without_positive": len(emptied),
            "example_queries": emptied[:examples],
        }
