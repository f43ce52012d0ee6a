"""A retrieval run (``query_id -> {doc_id: score}``) and TREC run files.

TREC run format, one row per retrieved document, whitespace separated::

    query_id Q0 doc_id rank score tag

Rows are written per query in the run's query order, documents by score descending with ties broken
by doc id descending (trec_eval's order, which pytrec_eval and BEIR inherit, so a file with tied scores
scores the same here and there), ranks 1..n. Scores are written with ``repr`` so reading a file back gives the
exact same floats (byte-identical round trips).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from negmine.errors import InputError
from negmine.io.atomic import atomic_write
from negmine.io.beir import id_problem
from negmine.io.files import (
    BYTE_ORDER_MARK, hashed_identity, head_repr, iter_lines, require_file, unstorable_id, unstorable_id_problem,
)
from negmine.retrieve.candidates import Candidates

_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Run:
    """Scored documents per query. Each inner dict is ranked best first: score descending, ties by doc id
    descending (trec_eval's order).

    ``origin``: the file :func:`read_trec_run` read (resolved ``path``, ``bytes``, ``sha256``), which ``negmine
    eval``'s results JSON records as ``run_input``: ``source`` is the path as given, which may hold another file by
    the time the results are read. None for a run built in Python."""

    scores: dict[str, dict[str, float]]
    name: str = "run"
    source: str = "<memory>"
    origin: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", {q: _rank(docs.items()) for q, docs in self.scores.items()})

    def __len__(self) -> int:
        return len(self.scores)

    def query_ids(self) -> list[str]:
        return list(self.scores)

    def ranked(self, query_id: str) -> list[str]:
        """Doc ids of ``query_id`` best first (empty when the query retrieved nothing)."""
        return list(self.scores.get(query_id, {}))

    def without_identical_ids(self) -> "Run":
        """Drop documents whose id equals the query id (BEIR's ``ignore_identical_ids``)."""
        kept = {q: {d: s for d, s in docs.items() if d != q} for q, docs in self.scores.items()}
        return Run(kept, self.name, self.source, self.origin)

    def truncated(self, depth: int) -> "Run":
        """Keep the best ``depth`` documents per query."""
        kept = {q: dict(list(docs.items())[:depth]) for q, docs in self.scores.items()}
        return Run(kept, self.name, self.source, self.origin)

    def renamed(self, name: str) -> "Run":
        return Run(self.scores, name, self.source, self.origin)

    @classmethod
    def from_candidates(
        cls, candidates: Candidates, query_ids: Sequence[str], doc_ids: Sequence[str], name: str = "run"
    ) -> "Run":
        """Row ``i`` of ``candidates`` belongs to ``query_ids[i]``; corpus row ``j`` is ``doc_ids[j]``."""
        if len(query_ids) != candidates.indices.shape[0]:
            raise ValueError(f"{len(query_ids)} query ids for {candidates.indices.shape[0]} candidate rows")
        scores = {}
        for i, query_id in enumerate(query_ids):
            rows, values = candidates.row(i)
            scores[query_id] = {doc_ids[int(r)]: float(v) for r, v in zip(rows, values)}
        return cls(scores, name)


def _rank(items: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Score descending, ties by doc id descending (trec_eval sorts by score, then docno, both descending)."""
    return dict(sorted(items, key=lambda kv: (kv[1], kv[0]), reverse=True))


def trec_tag(name: str) -> str:
    """A run name made safe for the TREC tag column (no whitespace)."""
    return _WHITESPACE.sub("_", name.strip()) or "run"


def write_trec_run(path: str | Path, run: Run, tag: str | None = None) -> Path:
    """Write ``run`` as a TREC run file atomically. ``tag`` defaults to the run's name. An id a TREC row cannot
    hold and a score :func:`read_trec_run` refuses (NaN, infinite) are InputErrors naming the query and document,
    and no file is written: the run files negmine writes read back."""
    path = Path(path)
    tag = trec_tag(tag if tag is not None else run.name)
    _check_ids(path, run, tag)  # before the file is opened
    with atomic_write(path) as handle:
        for query_id, docs in run.scores.items():
            for rank, (doc_id, score) in enumerate(docs.items(), start=1):
                handle.write(f"{query_id} Q0 {doc_id} {rank} {_finite(path, query_id, doc_id, score)!r} {tag}\n")
    return path


def _finite(path: Path, query_id: str, doc_id: str, score: float) -> float:
    """``score`` as a float, or InputError when it is NaN or infinite. A dense run of ``negmine eval`` holds none
    (its vectors are checked finite, :func:`negmine.encode.embed.check_finite`), but a :class:`Run` built in Python
    can: its file was written, and then refused by the reader."""
    value = float(score)
    if math.isfinite(value):
        return value
    raise InputError(
        path, None, "score",
        f"query {query_id!r}, document {doc_id!r}: score {value!r} is not a finite number, which a TREC run file "
        "negmine reads (read_trec_run, negmine eval --run) refuses; give finite scores, e.g. clip them to a large "
        "finite value",
    )


def _check_ids(path: Path, run: Run, tag: str) -> None:
    """InputError for the first id (or the tag) a TREC row cannot hold or UTF-8 cannot store, before any file is
    created: an id holding a lone surrogate, which only a Run built in Python can (the reader refuses invalid UTF-8),
    raised a UnicodeEncodeError traceback at its row."""
    for query_id, docs in run.scores.items():
        _check_id(path, "query_id", query_id)
        for doc_id in docs:
            _check_id(path, "doc_id", doc_id)
    if unstorable_id([tag]) is not None:
        raise InputError(path, None, "tag", f"{tag!r} (the run's name, or the tag given) holds a lone UTF-16 "
                         "surrogate, which UTF-8 cannot store; give a name without it")


def _check_id(path: Path, field_name: str, value: str) -> None:
    if not value or _WHITESPACE.search(value):
        raise InputError(path, None, field_name, f"id {value!r} is empty or contains whitespace; TREC runs cannot hold it")
    if unstorable_id([value]) is not None:
        raise InputError(path, None, field_name, unstorable_id_problem(value))
    if field_name == "query_id" and value.startswith(BYTE_ORDER_MARK):
        raise InputError(path, None, field_name, MARKED_QUERY_ID.format(value=value))
    problem = None if value.isascii() else id_problem(value)  # what read_trec_run refuses (:func:`_check_row_ids`)
    if problem is not None:
        raise InputError(path, None, field_name, problem)


MARKED_QUERY_ID = (
    "id {value!r} starts with a byte-order mark (U+FEFF), which a TREC run row cannot start with: a reader drops it "
    "as the file's own mark on the first row and refuses it on any other (read_trec_run, negmine eval --run); remove "
    "the mark from the id"
)
"""A query id starts a TREC row, so one starting with U+FEFF would not read back
(:func:`negmine.io.files.iter_lines`)."""


RUN_FILE_FIX = ("; give the path of a TREC run file (lines 'query-id Q0 doc-id rank score tag'), such as negmine eval "
                "--runs-dir DIR writes")
"""The end of a missing run file's message, which said only ``run file not found``."""


def read_trec_run(path: str | Path, name: str | None = None) -> Run:
    """Read a TREC run file. The name defaults to the tag column (or the file stem for an empty tag).

    Raises :class:`InputError` naming the file, line and field for a missing file or a directory, invalid UTF-8,
    a malformed row, a rank not written with the digits 0-9 alone (``1_0``, ``+1``, ``-1``, ``１``: Python's ``int()``
    reads them), a score that is not a plain decimal number (``1_0``, ``１.５``: Python's ``float()`` reads them) or
    not a finite one (NaN, ``inf``, ``1e400``), or a document listed twice for the same query. A UTF-8 byte-order mark is dropped at the start of the file and refused at the
    start of any other row (:func:`negmine.io.files.iter_lines`), as in the other readers.

    The run's ``origin`` records the file read (:func:`negmine.io.files.hashed_identity`), hashed in this read.
    """
    path = require_file(path, "run file", RUN_FILE_FIX)
    scores: dict[str, dict[str, float]] = {}
    tag, digest = None, hashlib.sha256()
    for line_no, line in iter_lines(path, "query_id", digest):
        query_id, doc_id, score, row_tag = _parse_row(path, line_no, line)
        _check_row_ids(path, line_no, query_id, doc_id)
        docs = scores.setdefault(query_id, {})
        if doc_id in docs:
            raise InputError(path, line_no, "doc_id", f"document {head_repr(doc_id)} listed twice for query "
                             f"{head_repr(query_id)}; a run ranks each document once per query: delete one of the two "
                             "lines")
        docs[doc_id] = score
        tag = tag or row_tag
    if not scores:
        raise InputError(path, None, None, "no run rows; expected lines 'query_id Q0 doc_id rank score tag'")
    return Run(scores, name or tag or path.stem, str(path), hashed_identity(path, digest))  # read to its end


def _check_row_ids(path: Path, line_no: int, query_id: str, doc_id: str) -> None:
    """InputError for an id :func:`negmine.io.beir.id_problem` refuses, in its words, as the corpus, queries, qrels
    and mined-file readers do: a doc id holding U+FEFF (or made of invisible characters only) was read, and then
    reported as a document the corpus lacks, since the corpus reader refuses such an id. ``str.split`` left no
    whitespace in the ids, so an ASCII id, or one starting with a letter or digit and holding no mark, has nothing
    ``id_problem`` refuses and is not passed to it. Cost on a run of 1M rows (best of 5): 1.62 -> 1.68 s with ASCII
    ids, 3.14 -> 3.58 s with non-ASCII query and doc ids (0.3 us a row; 0.5-0.7 us passing every one to id_problem)."""
    if query_id.isascii() and doc_id.isascii():
        return
    for field_name, value in (("query_id", query_id), ("doc_id", doc_id)):
        if value.isascii() or (value[:1].isalnum() and BYTE_ORDER_MARK not in value):
            continue
        problem = id_problem(value)
        if problem is not None:
            raise InputError(path, line_no, field_name, problem)


def first_line_with(source: str, doc_ids: set[str]) -> tuple[int | None, str]:
    """``(line, doc_id)``: the first row of the run file ``source`` retrieving one of ``doc_ids`` (for error
    messages); ``(None, smallest id)`` for a run that did not come from a readable file."""
    if Path(source).is_file():
        for line_no, line in iter_lines(source):
            parts = line.split()
            if len(parts) == 6 and parts[2] in doc_ids:
                return line_no, parts[2]
    return None, min(doc_ids)


_head = head_repr


def _header_hint(line_no: int, parts: list[str]) -> str:
    """For a first line whose rank and score are both words (``qid Q0 docid rank score tag``, as pandas'
    ``to_csv`` writes): TREC run files have no header. The message said only that 'rank' is not an integer."""
    rank, score = parts[3], parts[4]
    if line_no != 1 or not rank.isalpha() or not score.isalpha():
        return ""
    return "; this looks like a header line, which TREC run files do not have: delete the first line"


def _columns_hint(line: str, parts: list[str]) -> str:
    """What a row without 6 columns probably is, and the fix. The message gave the expected columns alone: a BEIR
    qrels file given as --run (``query-id corpus-id score``), a row without its ``Q0`` or an id holding a space
    got no word on what to change."""
    if line.lstrip().startswith(("{", "[")):
        return " (a JSON line: is this a mined or JSONL file? --run takes a TREC run file)"
    header = [p.lower().replace("_", "-") for p in parts] == ["query-id", "corpus-id", "score"]
    if header or (len(parts) in (3, 4) and _RANK.fullmatch(parts[-1]) is not None):
        return ("; this looks like a qrels file (query-id, corpus-id, relevance), not a run: the evaluation reads the "
                "split's qrels from DATA_DIR/qrels/<split>.tsv, and --run takes a file of ranked documents, such as "
                "negmine eval --runs-dir DIR writes")
    if len(parts) == 5 and parts[1] != "Q0" and _RANK.fullmatch(parts[2]) is not None:
        return "; the second column, the literal Q0, is missing: write each row as 'query_id Q0 doc_id rank score tag'"
    if len(parts) > 6:
        return ("; columns are separated by whitespace, so an id or the tag holding a space splits into two: write "
                "ids and the tag without whitespace (e.g. '_' for a space)")
    return "; write each row as 6 whitespace-separated columns: query_id Q0 doc_id rank score tag"


def _parse_row(path: Path, line_no: int, line: str) -> tuple[str, str, float, str]:
    parts = line.split()
    if len(parts) != 6:
        raise InputError(
            path, line_no, None,
            f"expected 6 columns 'query_id Q0 doc_id rank score tag', got {len(parts)}: {_head(line.strip())}"
            + _columns_hint(line, parts),
        )
    query_id, _, doc_id, rank, score, tag = parts
    _check_rank(path, line_no, rank, parts)
    try:
        value = float(score)
    except ValueError:
        raise InputError(path, line_no, "score", f"not a number: {_head(score)}"
                         + (_header_hint(line_no, parts) or "; the fifth column is the document's score, a decimal "
                            "number such as 12.5 (higher ranks first)")) from None
    if _DECIMAL.fullmatch(score) is None:
        raise InputError(path, line_no, "score", _not_decimal(score, value))
    if not math.isfinite(value):
        raise InputError(path, line_no, "score", _not_finite(score, value))
    return query_id, doc_id, value, tag


def _check_rank(path: Path, line_no: int, rank: str, parts: list[str]) -> None:
    """InputError unless ``rank`` is written with the digits 0-9 alone (:data:`_RANK`). The rank is not used (trec_eval
    and negmine rank by score), but ``int()`` also took ``1_0``, ``+1``, ``-1`` and ``１``, which no TREC run writer
    writes: a file holding them was produced by something else, so it is refused like such a score."""
    if _RANK.fullmatch(rank) is not None:
        return
    try:
        int(rank)
    except ValueError:
        raise InputError(path, line_no, "rank", f"not an integer: {_head(rank)}"
                         + (_header_hint(line_no, parts) or "; the fourth column is the rank, written with the digits "
                            "0-9 (1 for a query's first document)")) from None
    raise InputError(path, line_no, "rank", _not_plain_rank(rank))


_RANK = re.compile(r"[0-9]+")
"""A rank as TREC run files write it: digits 0-9 only, no sign (a position: 1-based as negmine writes it, 0 in
trec_eval's own example row)."""


def _not_plain_rank(text: str) -> str:
    """Why a rank Python's ``int()`` reads is refused: an underscore, a sign or digits other than 0-9."""
    if "_" in text:
        why = f"holds an underscore, which Python reads as a digit separator (as {int(text)})"
    elif text.startswith(("+", "-")):
        why = f"has a sign ({text[0]!r}), which a rank, a position in the ranking, does not have"
    else:
        why = f"is not written with the digits 0-9 (Python reads it as {int(text)})"
    return f"rank {text!r} {why}; TREC run ranks are written with the digits 0-9 alone, e.g. 1 or 10"


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)",
                      re.IGNORECASE)
"""A score as TREC run files write it: a decimal number with the digits 0-9, an optional point and exponent (``0.5``,
``-1``, ``.5``, ``1e-3``); the words of NaN and infinity pass here and are refused with their own reason."""


def _not_decimal(text: str, value: float) -> str:
    """Why a score Python's ``float()`` reads is refused: an underscore (``1_0`` read as 10, ``1e1_0`` as 1e10) or
    digits other than 0-9 (``１.５``, ``٣``), which no TREC run file writes; such a run was read with those values."""
    if "_" in text:
        return (f"score {text!r} holds an underscore, which Python reads as a digit separator (as {value!r}) and a "
                "TREC run file does not have; write the number without it, e.g. 10 or 1.5e-3")
    return (f"score {text!r} is not a plain decimal number (Python reads it as {value!r}); TREC run scores are written "
            "with the digits 0-9, an optional point and exponent, e.g. 10 or 1.5e-3")


def _not_finite(text: str, value: float) -> str:
    """Why a NaN or infinite score is refused. An infinite one (``inf``, ``-Infinity``, or ``1e400``, beyond a float)
    was read: several tie, so the metrics ranked them by doc id rather than by the run, and a NaN sorts nowhere."""
    if math.isnan(value):
        return f"score is NaN ({text!r}); every score must be a finite number"
    literal = text.lstrip("+-").lower() in ("inf", "infinity")
    what = "infinite" if literal else "beyond the range of a float (it reads as infinite)"
    return (f"score {text!r} is {what}; every score must be a finite number (infinite scores tie, so the metrics "
            "would rank them by doc id, not by the run): write finite scores, e.g. clip them to a large finite value")
