"""The note on how a run file's queries meet the evaluated split, in the words ``negmine eval`` prints and
``negmine report RESULTS.json`` shows: the results JSON's ``run_file_coverage`` record of one run
(:func:`negmine.evaluate.api.run_coverage`) as one line, or "" when the run covers the split exactly.

Kept apart from the evaluation so the report reads it without importing the encoders."""

from __future__ import annotations

from typing import Mapping


def coverage_note(name: str, coverage: Mapping) -> str:
    """One line when a run file lacks evaluated queries, names queries the split does not evaluate or rows retrieving
    their own query id, or ""."""
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
    return f"run {name} ({coverage['source']}): " + "; ".join(parts) if parts else ""
