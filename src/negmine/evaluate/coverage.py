"""The note on how a run file's queries (and its depth) meet the evaluated split, in the words ``negmine eval`` prints and
``negmine report RESULTS.json`` shows: the results JSON's ``run_file_coverage`` record of one run
(:func:`negmine.evaluate.api.run_coverage`) as one line, or "" when the run covers the split exactly.

Kept apart from the evaluation so the report reads it without importing the encoders."""

from __future__ import annotations

from typing import Mapping, Sequence

from negmine.config import parse_metric
from negmine.errors import counted


def coverage_note(name: str, coverage: Mapping) -> str:
    """One line when a run file lacks evaluated queries, names queries the split does not evaluate or rows retrieving
    their own query id, or ranks fewer documents than a metric looks at (``shallow_metrics``), or ""."""
    parts = []
    if coverage["missing"]:
        parts.append(f"{_of(coverage['missing'], coverage['evaluated_queries'])} missing ("
                     f"{'it' if coverage['missing'] == 1 else 'each'} scores 0; {_examples(coverage, 'missing')})")
    if coverage["unknown"]:
        parts.append(f"{_count(coverage['unknown'], 'query id', 'query ids')} not in the queries file and "
                     f"{_were(coverage['unknown'])} ignored ({_examples(coverage, 'unknown')})")
    if coverage["not_evaluated"]:
        parts.append(f"{_count(coverage['not_evaluated'], 'query', 'queries')} not evaluated in this split (another "
                     f"split's, or no relevant judgment) and {_were(coverage['not_evaluated'])} ignored "
                     f"({_examples(coverage, 'not_evaluated')})")
    if coverage["identical_ids"]:
        rows = coverage["identical_ids"]
        parts.append(f"{rows} {'row retrieves its' if rows == 1 else 'rows retrieve their'} own query id and "
                     f"{_were(rows)} dropped (as BEIR)")
    if coverage.get("shallow_metrics"):
        parts.append(_shallow_part(coverage["depth"], coverage["shallow_metrics"], coverage["deepest_other"]))
    return f"run {name} ({coverage['source']}): " + "; ".join(parts) if parts else ""


def _count(count: int, one: str, many: str) -> str:
    """``1 query id is`` / ``2 query ids are``: the count, its noun and verb in number. The lines read '1 query ids
    are not in the queries file' and '1 of the 20 evaluated queries are missing'."""
    return f"{count} {one} is" if count == 1 else f"{count} {many} are"


def _of(count: int, total: int) -> str:
    return f"{count} of the {total} evaluated {'query' if total == 1 else 'queries'} {'is' if count == 1 else 'are'}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _examples(coverage: Mapping, key: str) -> str:
    """The example ids of count ``key``: ``e.g. a, b`` (``a`` alone, no 'e.g.', for a count of 1: the id itself)."""
    ids = ", ".join(coverage[f"{key}_examples"])
    return ids if coverage[key] == 1 else f"e.g. {ids}"


def _shallow_part(depth: int, shallow: Sequence[str], deepest_other: int) -> str:
    """The clause on the metrics that look deeper than the run ranks (:func:`shallow_metrics`)."""
    one = len(shallow) == 1
    return (f"it ranks at most {counted(depth, 'document')} per query, another run {deepest_other}: "
            f"{', '.join(shallow)} look{'s' if one else ''} past rank {depth}, where its documents score as not "
            f"retrieved, so {'it compares' if one else 'they compare'} depths, not rankings; compare runs of equal "
            f"depth, or give --metrics whose cutoffs are at most {depth}")


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
