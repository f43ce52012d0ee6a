"""Pairs that repeat an earlier pair up to case, spacing and NFKC (mining's text normalisation).

Exact repeats never reach mining: a pairs file keeps a repeated row once, a qrels file refuses a repeated
judgment. A pair whose query and positive equal an earlier pair's only after
:func:`negmine.select.exclude.normalize_text` (a query re-typed in capitals, a positive with other line breaks,
the same text under two document ids) is mined and trained as a pair of its own, which counts that pair twice.
Nothing leaks (mining keeps each one's texts out of the other's negatives, training masks them), so it is a
warning, with the first such pair, for the data to be fixed if the repeat is not meant.
"""

from __future__ import annotations

import warnings

from negmine.errors import caller_stacklevel
from negmine.io.records import Dataset, Pair


def variant_pairs(dataset: Dataset) -> list[tuple[Pair, Pair]]:
    """Each pair whose (query, positive) texts equal an earlier pair's after normalisation, with that pair."""
    from negmine.select.exclude import text_hash

    first: dict[tuple[int, int], Pair] = {}
    found = []
    for pair in dataset.pairs():
        key = (text_hash(dataset.queries.text(pair.query_id)), text_hash(dataset.corpus.text(pair.positive_id)))
        earlier = first.setdefault(key, pair)
        if earlier is not pair:
            found.append((pair, earlier))
    return found


def warn_variant_pairs(dataset: Dataset) -> int:
    """Warn (NegmineWarning) when some pairs repeat an earlier one up to normalisation; return how many do."""
    from negmine.errors import NegmineWarning

    found = variant_pairs(dataset)
    if found:
        pair, earlier = found[0]
        warnings.warn(
            f"{dataset.qrels.source}: {len(found)} (query, positive) pairs repeat an earlier pair up to case, spacing "
            f"or invisible characters, e.g. ({pair.query_id}, {pair.positive_id}) repeats ({earlier.query_id}, "
            f"{earlier.positive_id}); each is mined and trained as a pair of its own, so the pair counts twice: keep "
            "one of them unless that is meant", NegmineWarning, stacklevel=caller_stacklevel(),
        )
    return len(found)
