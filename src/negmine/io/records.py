"""Typed records every stage works on.

Documents and queries are kept as parallel id/text lists (cheap for millions of rows) with an
id -> row index map. Qrels keep the file order, which fixes the order of mined pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, NamedTuple


@dataclass(frozen=True)
class TextTable:
    """Ids and texts in file order. ``source`` is the file they came from (for error messages)."""

    ids: list[str]
    texts: list[str]
    source: str = "<memory>"
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.texts):
            raise ValueError(f"{self.source}: {len(self.ids)} ids but {len(self.texts)} texts")
        object.__setattr__(self, "index", {doc_id: i for i, doc_id in enumerate(self.ids)})

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, item_id: str) -> str:
        return self.texts[self.index[item_id]]


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

    def positives(self, query_id: str) -> list[str]:
        return [d for d, s in self.judgments.get(query_id, {}).items() if s > 0]

    def pairs(self) -> Iterator[Pair]:
        for query_id, docs in self.judgments.items():
            for doc_id, score in docs.items():
                if score > 0:
                    yield Pair(query_id, doc_id)

    def query_ids(self) -> list[str]:
        return [q for q in self.judgments if self.positives(q)]

    def __len__(self) -> int:
        return sum(len(d) for d in self.judgments.values())


@dataclass(frozen=True)
class Dataset:
    """A validated corpus, query set and qrels: every qrels id exists, every text is non-empty."""

    corpus: Corpus
    queries: Queries
    qrels: Qrels
    name: str = "dataset"

    def pairs(self) -> list[Pair]:
        return list(self.qrels.pairs())
