"""The note on how a run file's queries (and its depth) meet the evaluated split, in the words ``negmine eval`` prints and
``negmine report RESULTS.json`` shows: the results JSON's ``run_file_coverage`` record of one run
(:func:`negmine.evaluate.api.run_coverage`) as one line, or "" when the run covers the split exactly.

Kept apart from the evaluation so the report reads it without importing the encoders."""

from __future__ import annotations

from typing import Mapping, Sequence

from negmine.config import parse_metric


def coverage_note(name: str, coverage: Mapping) -> str:
    """One line when a run file lacks evaluated queries, names queries the split does not evaluate or rows retrieving
    their own query id, or ranks fewer documents than a metric looks at (``shallow_metrics``), or ""."""
    parts = []
    if coverage["missing"]:
        parts.append(f"{coverage['missing']} of the {coverage['evaluated_queries']} evaluated queries are missing "
                     f"(each scores 0; e.g. {', '.join(coverage['missing_examples'])})")
    if coverage["unknown"]:
        parts.append(f"{coverage['unknown']} query ids are not in the queries file and were ignored "
                     f"(e.g. {', '.join(coverage['unknown_examples'])})")
    if coverage["not_evaluated"]:
        parts.append(f"{coverage['not_evaluated']} queries are not evaluated in this split (another split's, or no "
                     f"relevant judgment) and were ignored (e.g. {', '.join(coverage['not_evaluated_examples'])})")
    if coverage["identical_ids"]:
        parts.append(f"{coverage['identical_ids']} rows retrieve their own query id and were dropped (as BEIR)")
    if coverage.get("shallow_metrics"):
        parts.append(_shallow_part(coverage["depth"], coverage["shallow_metrics"], coverage["deepest_other"]))
    return f"run {name} ({coverage['source']}): " + "; ".join(parts) if parts else ""


def _shallow_part(depth: int, shallow: Sequence[str], deepest_other: int) -> str:
    """The clause on the metrics that look deeper than the run ranks (:func:`shallow_metrics`)."""
    return (f"it ranks at most {depth} documents per query, another run {deepest_other}: {', '.join(shallow)} look "
            f"past rank {depth}, where its documents score as not retrieved, so they compare depths, not rankings; "
            f"compare runs of equal depth, or give --metrics whose cutoffs are at most {depth}")


def shallow_metrics(depth: int, metrics: Sequence[str], deepest_other: int) -> list[str]:
    """The metrics, in ``metrics``' order, that look past the ``depth`` documents a run file ranks at most per query
    when another run of the comparison ranks deeper (``deepest_other``): a cutoff above ``depth`` (``recall@100``
    of a run cut at 10 is its recall@10) or none, for a metric that reads the whole ranking (``map``; not
    ``r-precision``, whose cutoff is each query's number of relevant documents). Not ``judged@k``, the share of the
    (up to k) documents the run ranks that are judged. Empty when no other run ranks deeper (the runs compare at
    one depth), or for a run that ranks nothing (its queries are counted as missing)."""
    if not deepest_other > depth > 0:
        return []
    found = []
    for name in metrics:
        base, cutoff = parse_metric(name)
        if base == "judged" or (cutoff is None and base == "r-precision"):
            continue
        if cutoff is None or cutoff > depth:
            found.append(name)
    return found
