"""The ids a Dataset built in Python gives a mined file, checked as the file readers check theirs.

The readers refuse an id :func:`negmine.io.beir.id_problem` names (whitespace at an end, a tab or newline, a
byte-order mark, nothing visible) at its line, but a Dataset built in Python skips them, and the mined-file reader
(``negmine train``, ``audit``, the exports) refuses such an id: the run mined a file no later step could read.
"""

from __future__ import annotations

from typing import Iterable

from negmine.errors import InputError
from negmine.io.beir import id_problem
from negmine.io.records import Dataset


def check_dataset_ids(dataset: Dataset) -> None:
    """InputError for the first id of ``dataset`` a mined row could hold (a judged query or document, or any
    corpus document as a negative) that the mined-file reader refuses, naming the table's source and field."""
    qrels = dataset.qrels
    _check(qrels.source, "query-id", qrels.judgments)
    _check(qrels.source, "corpus-id", (doc for docs in qrels.judgments.values() for doc in docs))
    _check(dataset.corpus.source, "_id", dataset.corpus.ids)


def _check(source: str, field_name: str, ids: Iterable[str]) -> None:
    for value in ids:
        problem = id_problem(value) if value else "is empty"
        if problem is not None:
            raise InputError(source, None, field_name, f"{problem}; a mined file cannot hold such an id (its reader, "
                             "e.g. negmine train, refuses it) and the file readers refuse it at its line, so this "
                             "dataset was built in Python: fix the id there")
