"""Pairs that repeat an earlier pair up to case, spacing and NFKC (mining's text normalisation).

Exact repeats never reach mining: a pairs file keeps a repeated row once, a qrels file refuses a repeated
judgment. A pair whose query and positive equal an earlier pair's only after
:func:`negmine.select.exclude.normalize_text` (a query re-typed in capitals, a positive with other line breaks,
the same text under two document ids) is mined and trained as a pair of its own, which counts that pair twice.
Nothing leaks (mining keeps each one's texts out of the other's negatives, training masks them), so it is a
warning, with the first such pair, for the data to be fixed if the repeat is not meant. The warning counts the
pairs of the input, before selection; the summary's ``pairs_repeating_another`` counts those of the rows written
(:class:`MinedRepeats`), since selection can skip a pair of either side.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Iterator

from negmine.errors import caller_stacklevel
from negmine.io.records import Dataset, Pair


def pair_text_key(dataset: Dataset, pair: Pair) -> tuple[int, int]:
    """The pair's (query, positive) texts as :func:`negmine.select.exclude.text_hash` sees them: two pairs with
    one key repeat each other up to case, spacing and NFKC."""
    from negmine.select.exclude import text_hash

    return text_hash(dataset.queries.text(pair.query_id)), text_hash(dataset.corpus.text(pair.positive_id))


def variant_pairs(dataset: Dataset) -> list[tuple[Pair, Pair]]:
    """Each pair whose (query, positive) texts equal an earlier pair's after normalisation, with that pair."""
    first: dict[tuple[int, int], Pair] = {}
    found = []
    for pair in dataset.pairs():
        earlier = first.setdefault(pair_text_key(dataset, pair), pair)
        if earlier is not pair:
            found.append((pair, earlier))
    return found


def warn_variant_pairs(dataset: Dataset, found: list[tuple[Pair, Pair]] | None = None) -> int:
    """Warn (NegmineWarning) when some pairs repeat an earlier one up to normalisation; return how many do.
    ``found``: :func:`variant_pairs` of ``dataset``, when the caller has it."""
    from negmine.errors import NegmineWarning

    found = variant_pairs(dataset) if found is None else found
    if found:
        pair, earlier = found[0]
        warnings.warn(
            f"{dataset.qrels.source}: {len(found)} (query, positive) pairs repeat an earlier pair up to case, spacing "
            f"or invisible characters, e.g. ({pair.query_id}, {pair.positive_id}) repeats ({earlier.query_id}, "
            f"{earlier.positive_id}); each is mined and trained as a pair of its own, so the pair counts twice: keep "
            "one of them unless that is meant", NegmineWarning, stacklevel=caller_stacklevel(),
        )
    return len(found)


class MinedRepeats:
    """Counts the rows written whose pair repeats the pair of an earlier row written up to normalisation: the
    summary's ``pairs_repeating_another``, the pairs that count twice in the mined file. The count was
    :func:`warn_variant_pairs`' until 2026-12-07, made before selection, so a repeating pair that selection then
    skipped (too few candidates, or any reason of ``pairs_skipped``), or whose earlier pair it skipped, was counted
    "among the pairs mined" though no row repeated another. Rows come in the dataset's pair order, as
    :func:`variant_pairs` reads them: of a group of pairs with one key, every row written after the group's first
    is counted (3 pairs, 1 skipped: 1)."""

    def __init__(self, found: list[tuple[Pair, Pair]]):
        """``found``: :func:`variant_pairs` of the dataset mined. Only the pairs in it can repeat another, so only
        they are looked up as rows go by (no text is hashed again, and nothing is kept for the other rows)."""
        self._group: dict[tuple[str, str], tuple[str, str]] = {}
        for pair, earlier in found:  # a group's earlier pair is its first, the same for every pair of the group
            first = (earlier.query_id, earlier.positive_id)
            self._group[first] = first
            self._group[(pair.query_id, pair.positive_id)] = first
        self._seen: set[tuple[str, str]] = set()
        self.count = 0

    def written(self, rows: Iterable[dict]) -> Iterator[dict]:
        """``rows`` (native rows, as :func:`negmine.pipeline.select_pairs.select_pairs` yields them), counted as
        they are taken for writing."""
        for row in rows:
            group = self._group.get((row["query_id"], row["positive_id"])) if self._group else None
            if group is not None:
                self.count += group in self._seen
                self._seen.add(group)
            yield row
