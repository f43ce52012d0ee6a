"""Load and validate a BEIR-format dataset (Thakur et al., 2021, "BEIR: A Heterogeneous Benchmark").

Layout: ``corpus.jsonl`` rows ``{"_id", "title"?, "text"}``, ``queries.jsonl`` rows ``{"_id", "text"}``
and ``qrels/<split>.tsv`` with the header ``query-id<TAB>corpus-id<TAB>score``. Everything is checked
before a :class:`Dataset` is returned; each problem raises InputError naming file, 1-based line and field.

Judgments of documents missing from the corpus are errors by default; ``unknown_qrels="skip"`` drops
them instead (see :func:`resolve_unknown_docs`). Unknown query ids are always errors.

Decisions: a document's text is ``title + " " + text`` (both stripped) when the title is non-empty, else
the text; ids may be JSON strings or integers (integers become their decimal string); texts are stored
stripped. Files are streamed line by line: memory holds the ids and texts, not the parsed rows.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import re
import shlex
from array import array
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from negmine.config import check_unknown_qrels
from negmine.config_path import has_field, path_option, path_setting
from negmine.errors import InputError, closest_name
from negmine.io.files import (
    BYTE_ORDER_MARK, hashed_identity, head_repr, invisible_note, is_blank, iter_lines, require_file, utf8_problem,
)
from negmine.io.jsonl import iter_jsonl, typed_value
from negmine.io.records import Corpus, Dataset, Qrels, Queries, TextTable
from negmine.io.text_column import TextColumnBuilder

CORPUS_FILE = "corpus.jsonl"
QUERIES_FILE = "queries.jsonl"
QRELS_DIR = "qrels"
QRELS_HEADER = ("query-id", "corpus-id", "score")
_HEADER_TEXT = "<TAB>".join(QRELS_HEADER)

TextGetter = Callable[[Path, int, dict], str]


def row_id(path: Path, line: int, row: dict, field: str = "_id") -> str:
    """The row's id as a string: JSON strings as is, integers converted; anything else is an error."""
    if field not in row:
        near = [key for key in ("id", "doc_id", "docid", "query_id", "qid") if key in row]
        hint = f" (the row has {near[0]!r}; BEIR names the id field {field!r})" if near else ""
        fix = f"rename its {near[0]!r} to {field!r}" if near else f"give each line an {field!r} (unique in the file)"
        raise InputError(path, line, field, f"missing{hint}; a BEIR line is {{\"{field}\": ..., \"text\": ...}}: "
                                            f"{fix}, in every line of the file")
    value = row[field]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(path, line, field, _id_type_problem(field, value))
    return exact_id(path, line, field, str(value))


def _id_type_problem(field: str, value: object) -> str:
    """The problem of a JSON id that is neither a string nor an integer: the value as the line holds it and the
    fix. It read "must be a string (or an integer), got number" alone, so a float id (``7.5``) or a null was not
    shown, nor what to write instead."""
    example = json.dumps(str(value) if isinstance(value, float) else "d1")
    return (f"must be a string (or an integer), got {typed_value(value)}; write the id as a JSON string, "
            f"e.g. \"{field}\": {example}, and use the same id in the qrels")


def exact_id(path: Path, line: int, field: str, value: str) -> str:
    """``value`` unless it is empty, cannot be stored as UTF-8, or has a problem :func:`id_problem` names."""
    if not value.strip():
        blank = " (only whitespace)" if value else ""
        raise InputError(path, line, field, f"is empty{blank}; give line {line} its {field}, or delete the line")
    _check_utf8(path, line, field, value)
    problem = id_problem(value)
    if problem is not None:
        raise InputError(path, line, field, problem)
    return value


def id_problem(value: str) -> str | None:
    """Why the id ``value`` cannot be matched exactly, or None: whitespace at either end (ids are matched exactly
    between files, so 'd1 ' would silently miss 'd1'), a tab or newline (:data:`_LINE_BREAKING`), a byte-order mark
    (:func:`_mark_problem`) or no visible character at all. Shared by the BEIR readers (corpus, queries, qrels), the
    table corpus readers (CSV/TSV/Parquet/JSONL ``id`` columns) and the mined-file reader, so all refuse the same ids
    with the same words.

    Other invisible format characters (Unicode category Cf) inside an id are kept: the zero-width joiners spell
    Persian and Indic words and emoji sequences, a soft hyphen or a bidi mark is part of a title copied from the
    web, and the tag characters end flag emoji, so refusing them would refuse ids that are right; unlike U+FEFF they
    are no sign of a broken file, and an id holding one still matches itself in every file (messages show it
    escaped, e.g. ``'d\\u200b1'``). An id made of them alone is refused: no message could show it, no one type it."""
    if not value.isascii():
        problem = _mark_problem(value) or _invisible_problem(value)
        if problem is not None:
            return problem
    if value != value.strip():
        return (f"id {value!r} has whitespace at its start or end; ids are matched exactly across the corpus, queries, "
                "qrels and mined files, so remove it")
    found = _LINE_BREAKING.search(value) if "\t" in value or "\n" in value else None  # most ids: two fast scans
    if found is not None:
        return (f"id {value!r} holds a {_CONTROL_NAMES[found.group()]} at character {found.start() + 1}, which a qrels "
                "TSV line cannot hold, so no judgment could name this id; remove it or replace it (e.g. with '-'), "
                "here and wherever the id is used")
    return None


def _mark_problem(value: str) -> str | None:
    """A byte-order mark U+FEFF anywhere in an id: its only use since Unicode 3.2 is to mark a file's start (the
    zero-width no-break space it also was is U+2060 now), so inside a JSON string or a qrels column it was left by
    joining files saved with one or by pasting from one. Invisible, it made 'q1' and '\\ufeffq1' two ids: a
    judgment or mined row naming 'q1' missed the query, and a run file could not hold it (a row starting with it
    is refused), so only writing the run refused it, after the encoding."""
    at = value.find(BYTE_ORDER_MARK)
    if at < 0:
        return None
    bare = value.replace(BYTE_ORDER_MARK, "")
    return (f"id {value!r} holds a byte-order mark (U+FEFF) at character {at + 1}, an invisible character that only the "
            "start of a file may hold (left by joining files saved with one, e.g. with cat, or by pasting from one); "
            f"ids are matched exactly across the corpus, queries, qrels and mined files, so {bare!r} would not match "
            "it: remove the mark (the bytes EF BB BF, or the JSON escape \\ufeff) from the id, here and wherever the "
            "id is used")


def _invisible_problem(value: str) -> str | None:
    """An id of whitespace and format characters only (e.g. U+200B): ``str.strip`` keeps the latter, so it was
    not "empty", yet no message can show it and no one can type it."""
    if value[:1].isalnum() or not is_blank(value):  # the first test spares most ids the slower second
        return None
    return (f"id {value!r} has no visible character (only whitespace{invisible_note(value)}); give the row a "
            "visible id")


_CONTROL_NAMES = {"\t": "tab", "\n": "newline"}
_LINE_BREAKING = re.compile("[\t\n]")
"""Characters an id of a corpus or queries file may not hold: a qrels TSV splits its lines at newlines and its
columns at tabs, so no judgment can name an id holding one (JSON escapes let the corpus and queries hold it)."""


_TEXT_KEYS = ("contents", "content", "body", "passage", "document", "query", "question", "sentence", "abstract")
"""Keys other layouts (Pyserini's ``contents``, a ``query`` or ``question`` column) hold a row's text under."""


def _missing_text(row: dict, field: str) -> str:
    """The problem of a BEIR row without its ``field``: the keys it has and the fix. It read "missing" alone, and a
    corpus in another layout (Pyserini's ``{"id", "contents"}``) left the user to find what BEIR names the text."""
    keys = ", ".join(repr(key) for key in list(row)[:8]) + (", ..." if len(row) > 8 else "")
    near = next((key for key in _TEXT_KEYS if key in row), None)
    fix = f"rename its {near!r} to {field!r}" if near else f"give each line a {field!r} holding its text"
    return (f"missing (the line has {keys or 'no key'}); a BEIR line is {{\"_id\": ..., \"{field}\": ...}} (a corpus "
            f"line may add \"title\"): {fix}, in every line of the file")


def row_string(path: Path, line: int, row: dict, field: str, required: bool = True) -> str:
    """A stripped string field. Optional fields may be absent or null (read as "")."""
    if field not in row:
        if required:
            raise InputError(path, line, field, _missing_text(row, field))
        return ""
    value = row[field]
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        optional = ", or null or no key for none" if not required else ""
        raise InputError(path, line, field, f"must be a string, got {typed_value(value)}; write the {field} as a "
                                            f"JSON string (\"{field}\": \"...\"{optional})")
    _check_utf8(path, line, field, value)
    return value.strip()


def _check_utf8(path: Path, line: int, field: str, value: str) -> None:
    """InputError when ``value`` cannot be stored as UTF-8 (see :func:`negmine.io.files.utf8_problem`)."""
    problem = utf8_problem(value)
    if problem is not None:
        raise InputError(path, line, field, problem)


def document_text(path: Path, line: int, row: dict) -> str:
    """``title + " " + text`` when both are non-empty, else whichever is non-empty (BEIR convention)."""
    title = row_string(path, line, row, "title", required=False)
    text = row_string(path, line, row, "text")
    joined = f"{title} {text}" if title and text else title or text
    if is_blank(joined):
        raise InputError(
            path, line, "text",
            f"empty text ('title' and 'text' are both empty after stripping whitespace{invisible_note(joined)}); "
            "give the document a text, or delete this line (and any qrels line naming its id)",
        )
    return joined


def query_text(path: Path, line: int, row: dict) -> str:
    """The query's stripped ``text``; empty is an error."""
    text = row_string(path, line, row, "text")
    if is_blank(text):
        raise InputError(path, line, "text", f"empty text (nothing left after stripping whitespace{invisible_note(text)}); "
                                             "give the query a text, or delete this line (and its qrels lines)")
    return text


def _read_rows(path: Path, text_of: TextGetter, kind: str, digest: Any = None) -> TextTable:
    """Stream ``path`` into parallel ids and texts; duplicate ids are rejected once the file is read
    (with both line numbers). ``digest`` is fed the file's bytes as they are read (:func:`iter_lines`)."""
    lines = array("q")
    with TextColumnBuilder() as ids, TextColumnBuilder() as texts:
        for line, row in iter_jsonl(path, digest):
            ids.append(row_id(path, line, row))
            texts.append(text_of(path, line, row))
            lines.append(line)
        if not lines:
            raise InputError(path, None, None, f"no {kind} in the file; expected one JSON object per line")
        table = TextTable(ids.finish(), texts.finish(), source=str(path))
    duplicate = table.index.first_duplicate()
    if duplicate is not None:
        first = lines[duplicate.first_row]
        raise InputError(path, lines[duplicate.row], "_id", f"duplicate id {duplicate.item_id!r} (first at line {first}); give each of the "
                                                         f"two lines its own id, or delete one of them")
    return table


def read_corpus(path: str | Path, digest: Any = None) -> Corpus:
    """Read and validate a BEIR ``corpus.jsonl`` (``digest``: fed its bytes as read, :func:`iter_lines`)."""
    path = require_file(path, "corpus file")
    return _read_rows(path, document_text, "documents", digest)


def read_queries(path: str | Path, digest: Any = None) -> Queries:
    """Read and validate a BEIR ``queries.jsonl`` (``digest``: fed its bytes as read, :func:`iter_lines`)."""
    path = require_file(path, "queries file")
    return _read_rows(path, query_text, "queries", digest)


def _check_header(path: Path, line: int, text: str) -> None:
    fields = tuple(part.strip() for part in text.split("\t"))
    if fields == QRELS_HEADER:
        return
    if len(fields) == 3 and _is_int(fields[2]):
        raise InputError(
            path, line, None, f"missing header: the first line must be '{_HEADER_TEXT}' but looks like a judgment: "
                              f"{text!r}; insert that header as a new first line"
        )
    if _is_trec_row(fields):
        raise InputError(path, line, None, f"missing header: the first line {text!r} {_TREC_HINT}")
    if len(fields) == 1 and len(text.split()) in (3, 4):
        _refuse_spaces(path, line, text)
    fix = _RENAME_HINT if len(fields) == 3 else ""
    raise InputError(path, line, None, f"wrong header {text!r}; expected '{_HEADER_TEXT}'{fix}")


def _refuse_spaces(path: Path, line: int, text: str) -> None:
    """A first line whose columns are separated by spaces (an editor that turns tabs into spaces, a file written
    with ``' '.join``): said so, with the fix. It read 'wrong header ...; expected ...<TAB>...', which left the
    reader to spot that the names were right and the separators were not."""
    spaced = tuple(text.split())
    tabs = "qrels files are tab-separated: put a tab between the columns, in every line"
    if spaced == QRELS_HEADER:
        raise InputError(path, line, None, f"the header {text!r} has spaces between its columns, and {tabs}")
    if _is_trec_row(spaced):
        raise InputError(path, line, None, f"missing header: the first line {text!r} looks like TREC qrels (query-id, "
                                           "iteration, corpus-id, score), separated by spaces; BEIR qrels are "
                                           f"'{_HEADER_TEXT}': convert the file, e.g. {_trec_awk(path)}")
    if len(spaced) == 3 and _is_int(spaced[2]):
        raise InputError(path, line, None, f"missing header: the first line {text!r} looks like a judgment with spaces "
                                           f"between its columns; {tabs}, and start the file with the header "
                                           f"'{_HEADER_TEXT}'")


def _trec_awk(path: Path) -> str:
    """A command that rewrites TREC qrels at ``path`` (whitespace-separated, 4 columns) as BEIR qrels in place."""
    return (f"awk 'BEGIN {{OFS=\"\\t\"; print \"query-id\", \"corpus-id\", \"score\"}} {{print $1, $3, $4}}' "
            f"{shlex.quote(str(path))} > qrels.tsv && mv qrels.tsv {shlex.quote(str(path))}")


_RENAME_HINT = (
    "; if the columns are the query id, the document id and the relevance score, in that order, replace the first "
    "line with that header (BEIR's loader skips it unread; negmine checks it, since columns in another order would "
    "pair the wrong ids)"
)


_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
MAX_SCORE = 2**63 - 1
"""Largest relevance score (in magnitude) a qrels file may hold: the metrics' library stores them as 64-bit
integers (a larger one ended the evaluation in an OverflowError traceback)."""


def _is_int(text: str) -> bool:
    """An integer in ASCII digits. ``int()`` also takes ``1_0`` (ten) and other scripts' digits (``\u0661``),
    which no qrels writer means as a relevance score."""
    return _INTEGER.fullmatch(text) is not None


def _score(path: Path, line: int, text: str) -> int:
    """The judgment's relevance score; InputError naming the line for a non-integer or one out of range."""
    if not _is_int(text):
        raise InputError(path, line, "score", f"must be an integer, got {head_repr(text)}; a relevance score is "
                         "written with the digits 0-9 (BEIR's: 0 not relevant, 1 or 2 relevant; a graded score rounded "
                         "to an integer): e.g. 1 for a relevant document")
    score = int(text)
    if abs(score) > MAX_SCORE:
        raise InputError(path, line, "score", f"{text.strip()} is out of range: relevance scores are small integers "
                         f"(BEIR's are 0, 1 and 2), at most {MAX_SCORE} in magnitude")
    return score


def iter_qrels(path: str | Path, digest: Any = None) -> Iterator[tuple[int, str, str, int]]:
    """Yield ``(line, query_id, corpus_id, score)`` from a BEIR qrels TSV after checking the header (``digest``: fed
    its bytes as read, :func:`iter_lines`)."""
    path = require_file(path, "qrels file")
    lines = iter_lines(path, "query-id", digest)
    first = next(lines, None)
    if first is None:
        raise InputError(path, None, None, f"empty file; expected the header '{_HEADER_TEXT}' then one judgment per line")
    _check_header(path, *first)
    for line, text in lines:
        parts = text.split("\t")
        if len(parts) != 3:
            raise InputError(
                path, line, None,
                f"expected 3 tab-separated columns (query-id, corpus-id, score), got {len(parts)}{_columns_hint(parts)}"
            )
        query_id, doc_id, score = parts
        value = _score(path, line, score)
        yield line, exact_id(path, line, "query-id", query_id), exact_id(path, line, "corpus-id", doc_id), value


_TREC_HINT = (
    "looks like TREC qrels (query-id, iteration, corpus-id, score): drop the second column and start the file with "
    f"the header '{_HEADER_TEXT}'"
)


def _is_trec_row(parts: Sequence[str]) -> bool:
    """A TREC qrels row: 4 columns, the last an integer relevance."""
    return len(parts) == 4 and _is_int(parts[3])


def _columns_hint(parts: list[str]) -> str:
    if len(parts) == 1:
        return "; columns must be separated by tabs"
    if _is_trec_row(parts):
        return f"; this {_TREC_HINT}"
    shown = head_repr("\t".join(parts))
    if len(parts) > 3:  # it stopped at the count: which columns to keep was left to guess
        return f" ({shown}); keep the three columns query-id, corpus-id, score (in that order) and drop the others"
    return f" ({shown}); give each line a query-id, a corpus-id and a score, separated by tabs, or delete the line"


def _first_line(path: Path, wanted: Callable[[str, str], bool]) -> int | None:
    """Re-scan a qrels file for the first judgment matching ``wanted`` (used on the error path only)."""
    return next((line for line, q, d, _ in iter_qrels(path) if wanted(q, d)), None)


def unknown_doc_error(path: Path, line: int | None, doc_id: str, corpus: Corpus,
                      query_id: str | None = None) -> InputError:
    """The default-policy error for a judgment whose document is not in ``corpus``, naming the opt-out; or, when
    the judgment's ``query_id`` is one of the corpus file's ids, that the file looks like the queries."""
    if query_id is not None and query_id in corpus.index:
        return InputError(path, line, "corpus-id", f"unknown corpus id {head_repr(doc_id)} (not in {corpus.source}); "
                          f"its query id {head_repr(query_id)} is an id of that file, which looks like the queries: {_swapped()}")
    return InputError(
        path, line, "corpus-id",
        f"unknown corpus id {head_repr(doc_id)} (not in {corpus.source}); if the dataset judges documents missing from "
        f"its corpus, set {path_setting('unknown_qrels', 'skip')} to drop such rows",
    )


def _swapped_hint(doc_id: str, queries: Queries) -> str:
    """For a judgment whose query id is not in ``queries``: when its corpus id is one of the queries file's ids,
    a hint that the file looks like the corpus (``--corpus`` and ``--queries`` swapped); "" otherwise. Cheap: the
    queries are in memory, and the (large) corpus file is not read for it."""
    if doc_id not in queries.index:
        return ""
    return f"; its corpus id {doc_id!r} is an id of that file, which looks like the corpus: {_swapped()}"


def _swapped() -> str:
    """The hint for corpus and queries files given the wrong way round, naming the fields at their path
    (``data.corpus`` while a MineConfig's data loads, :func:`negmine.config_path.path_option`). A config without
    such fields (a TrainConfig's dev split, an audited BEIR directory: the directory alone is given) is told the
    directory's files (it was told ``corpus (--corpus)``, a field and option neither has)."""
    if not has_field("corpus"):
        return (f"were the corpus and queries files swapped? the BEIR directory's {CORPUS_FILE} holds the documents, "
                f"its {QUERIES_FILE} the queries")
    return (f"were the corpus and queries files swapped? give the documents as {path_option('corpus')} and the "
            f"queries as {path_option('queries')}")


def read_qrels(path: str | Path, queries: Queries, corpus: Corpus | None = None, digest: Any = None) -> Qrels:
    """Read a qrels TSV; every query id must be in ``queries`` and (if given) every doc id in ``corpus``.

    Duplicate (query, doc) judgments are errors. Score <= 0 rows are kept (not relevant, no pairs). ``digest``: fed
    the file's bytes as read (:func:`iter_lines`).
    """
    path = require_file(path, "qrels file")
    judgments: dict[str, dict[str, int]] = {}
    for line, query_id, doc_id, score in iter_qrels(path, digest):
        if query_id not in queries.index:
            raise InputError(path, line, "query-id", f"unknown query id {head_repr(query_id)} (not in {queries.source})"
                             + (_swapped_hint(doc_id, queries) or f"; add that query to {queries.source}, or delete "
                                                                   f"this line of {path.name}"))
        if corpus is not None and doc_id not in corpus.index:
            raise unknown_doc_error(path, line, doc_id, corpus, query_id)
        docs = judgments.setdefault(query_id, {})
        if doc_id in docs:
            first = _first_line(path, lambda q, d: q == query_id and d == doc_id)
            raise InputError(
                path, line, "corpus-id", f"duplicate judgment for query {head_repr(query_id)} and document "
                f"{head_repr(doc_id)} (first at line {first}); judge each (query, document) once: delete one of the two "
                "lines"
            )
        docs[doc_id] = score
    return Qrels(judgments, source=str(path))


def check_qrels_docs(qrels: Qrels, corpus: Corpus) -> None:
    """InputError at the first judgment (in file order) whose doc id is not in ``corpus``."""
    index = corpus.index
    if all(doc_id in index for docs in qrels.judgments.values() for doc_id in docs):
        return
    path = Path(qrels.source)
    if path.is_file():  # re-scan for the line number (error path only)
        for line, query_id, doc_id, _ in iter_qrels(path):
            if doc_id not in index:
                raise unknown_doc_error(path, line, doc_id, corpus, query_id)
    missing = next(d for docs in qrels.judgments.values() for d in docs if d not in index)
    raise unknown_doc_error(path, None, missing, corpus)


def skip_unknown_docs(qrels: Qrels, corpus: Corpus) -> Qrels:
    """``qrels`` without the judgments whose doc id is not in ``corpus`` (order kept; queries left with no
    judgment at all disappear). Returns ``qrels`` itself when every document is known."""
    index = corpus.index
    kept = {q: {d: s for d, s in docs.items() if d in index} for q, docs in qrels.judgments.items()}
    if sum(map(len, kept.values())) == len(qrels):
        return qrels
    return Qrels({q: docs for q, docs in kept.items() if docs}, source=qrels.source)


def resolve_unknown_docs(qrels: Qrels, corpus: Corpus, unknown_qrels: str = "error") -> tuple[Qrels, Qrels | None]:
    """Apply an ``unknown_qrels`` policy (:data:`negmine.config.UNKNOWN_QRELS`): ``(kept, all_qrels)``.

    ``error``: InputError at the first judgment (file order) of a document not in ``corpus``, else
    ``(qrels, None)``. ``skip``: ``(qrels without those judgments, qrels as read)``, or ``(qrels, None)`` when
    nothing was skipped; ``all_qrels`` becomes ``Dataset.all_qrels`` (see :meth:`Dataset.skipped_qrels`).
    """
    check_unknown_qrels(unknown_qrels)
    if unknown_qrels == "error":
        check_qrels_docs(qrels, corpus)
        return qrels, None
    kept = skip_unknown_docs(qrels, corpus)
    return kept, (qrels if kept is not qrels else None)


def qrels_path(data_dir: str | Path, split: str) -> Path:
    """``data_dir/qrels/<split>.tsv``; InputError listing the available splits when it is missing, with the fix
    for the setting that named it: ``split`` at its path, with the option of the command that sets it
    (:func:`negmine.config_path.path_setting`): ``data.split (--split)`` while a MineConfig's data loads,
    ``dev.split (--eval-split)`` for ``negmine train``'s dev evaluation (which read 'pick one with ... --split ...,
    e.g. --split test'). The setting is named once, in its example (``pick one, e.g. split='test' (--split test)``):
    'pick one with split (--split), e.g. split='test' (--split test)' named it twice in both forms."""
    folder = Path(data_dir) / QRELS_DIR
    path = folder / f"{split}.tsv"
    if path.is_file():
        return path
    if path.is_dir() or path.is_symlink():  # there, but no file: "split not found" sent the user to the splits
        require_file(path, "qrels file")
    if not folder.is_dir():
        given = given_as()
        raise InputError(folder, None, None, f"qrels directory not found{' in the directory' + given if given else ''}; "
                         f"a BEIR directory holds {QRELS_DIR}/<split>.tsv")
    available = sorted(p.stem for p in folder.glob("*.tsv") if p.is_file())
    listed = ", ".join(available) if available else f"none (no .tsv files in {folder})"
    name = Path(split).name.removesuffix(".tsv")  # --split train.tsv or qrels/train.tsv looked for train.tsv.tsv
    fix = ""
    close = closest_name(name, available)
    if name != split and name in available:
        fix = f"; give the split's name, {path_setting('split', name)}"
    elif close is not None:  # a typo (`--split trian`) was offered 'e.g. --split test', not the split it meant
        fix = f"; did you mean {path_setting('split', close)}?"
    elif available:
        example = "test" if "test" in available else available[0]
        fix = f"; pick one, e.g. {path_setting('split', example)}"  # the setting named once, as 'did you mean' does
    raise InputError(path, None, None, f"split {split!r} not found; available splits: {listed}{fix}")


def check_beir_dir(data_dir: str | Path, pairs_option: str | None = None) -> Path:
    """``data_dir`` as a Path; InputError when it is missing or not a directory. ``pairs_option`` (``pairs (--pairs
    FILE)``, for mining): a file that could be pairs is told to be given there (:func:`file_hint`)."""
    folder = Path(data_dir)
    if folder.is_file():
        raise InputError(folder, None, None, "expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/), found a "
                         f"file{given_as()}{file_hint(folder, pairs_option)}")
    if not folder.is_dir():
        raise InputError(folder, None, None, f"BEIR directory not found{given_as()}{missing_dir_fix(folder)}")
    return folder


_FIELD_NAMED_BY_CALLER: contextvars.ContextVar[bool] = contextvars.ContextVar("negmine_beir_field_named",
                                                                               default=False)


@contextlib.contextmanager
def field_named_by_caller() -> Iterator[None]:
    """Within it :func:`given_as` is "": the caller's message names the field that gave the BEIR directory (the
    refusal of a mining summary's recorded data, :func:`negmine.pipeline.recorded_config.check_recorded_layout`),
    which the loader's words repeated."""
    token = _FIELD_NAMED_BY_CALLER.set(True)
    try:
        yield
    finally:
        _FIELD_NAMED_BY_CALLER.reset(token)


def given_as() -> str:
    """``, given as dev.data_dir (--eval-data)``: the field that named the BEIR directory, at its path in the config
    the user built with the option that sets it (:func:`negmine.config_path.path_option`: ``data.data_dir (the
    DATA_DIR argument)`` for a MineConfig's data, ``data_dir`` for an EvalConfig's); "" outside any config's place
    (:func:`load_beir` of a path), where the config has no ``data_dir`` (an audit's is ``input``) and within
    :func:`field_named_by_caller`. The messages (not found, a file, no qrels folder in it) named no field, so a user
    who gave two folders did not know which was meant."""
    from negmine.config_path import here

    if _FIELD_NAMED_BY_CALLER.get() or here() is None or not has_field("data_dir"):
        return ""
    return f", given as {path_option('data_dir')}"


def missing_dir_fix(folder: Path) -> str:
    """The fix for a BEIR directory not found (the message gave none): a BEIR directory beside it with a close name
    (a typo: :func:`negmine.errors.closest_name`), and what to check: the path, read from the current folder when
    relative, and what a BEIR directory holds."""
    import itertools
    import os

    try:
        siblings = [p.name for p in itertools.islice(folder.parent.iterdir(), 10_000)
                    if (p / CORPUS_FILE).is_file()] if folder.parent.is_dir() else []
    except OSError:
        siblings = []
    holds = f"a BEIR directory holds {CORPUS_FILE}, {QUERIES_FILE} and {QRELS_DIR}/<split>.tsv"
    close = closest_name(folder.name, siblings)
    if close is not None:
        return f"; did you mean {str(folder.parent / close)!r}? ({holds})"
    where = "" if folder.is_absolute() else f" (a relative path is read from the current folder, {os.getcwd()})"
    return f"; check the path{where}: {holds}"


def file_hint(path: Path, pairs_option: str | None) -> str:
    """For a file given as a BEIR directory: the folder to give when it is one of a BEIR directory's files
    (``negmine mine DEMO/corpus.jsonl``), else, with ``pairs_option``, a table file to give as pairs (``negmine mine
    pairs.jsonl``); "" otherwise. The message said only 'found a file'."""
    from negmine.io.table import TABLE_FORMATS

    parent = path.parent
    if (parent / CORPUS_FILE).is_file() and (parent / QUERIES_FILE).is_file():
        return f"; {path.name} is a file of the BEIR directory {parent}: give the directory"
    if pairs_option is None or path.suffix.lower() not in TABLE_FORMATS:
        return ""
    return f"; a file of (query, positive) pairs is given as {pairs_option}: negmine mine --pairs {path}"


def load_beir(data_dir: str | Path, split: str = "train", unknown_qrels: str = "error") -> Dataset:
    """Load ``data_dir/{corpus.jsonl, queries.jsonl, qrels/<split>.tsv}`` as a validated Dataset."""
    folder = check_beir_dir(data_dir)
    qrels = qrels_path(folder, split)
    name = folder.resolve().name or "dataset"
    return load_beir_files(folder / CORPUS_FILE, folder / QUERIES_FILE, qrels, name=name, unknown_qrels=unknown_qrels)


def load_beir_files(
    corpus: str | Path, queries: str | Path, qrels: str | Path, name: str | None = None, unknown_qrels: str = "error"
) -> Dataset:
    """Load explicit BEIR-format files. Small files are checked first so mistakes surface before the corpus.

    ``name`` defaults to the corpus file's directory name. ``unknown_qrels`` (``error`` | ``skip``): see
    :func:`resolve_unknown_docs`.
    """
    check_unknown_qrels(unknown_qrels)
    paths = require_beir_files(corpus, queries, qrels)
    digests = {role: hashlib.sha256() for role in paths}
    query_table = read_queries(paths["queries"], digests["queries"])
    judged = read_qrels(paths["qrels"], query_table, digest=digests["qrels"])
    corpus_table = read_corpus(paths["corpus"], digests["corpus"])
    kept, all_qrels = resolve_unknown_docs(judged, corpus_table, unknown_qrels)
    label = name or paths["corpus"].resolve().parent.name or "dataset"
    return Dataset(corpus=corpus_table, queries=query_table, qrels=kept, name=label, all_qrels=all_qrels,
                   origin=beir_origin(paths, digests))


def require_beir_files(corpus: str | Path, queries: str | Path, qrels: str | Path) -> dict[str, Path]:
    """The three files as Paths by role (``corpus``, ``queries``, ``qrels``); InputError for the first that is
    missing or a directory (:func:`negmine.io.files.require_file`). Checked before any is read, by the load and by
    the check of a recorded mining run's data (:func:`negmine.io.load.check_beir_layout`)."""
    return {"corpus": require_file(corpus, "corpus file"), "queries": require_file(queries, "queries file"),
            "qrels": require_file(qrels, "qrels file")}


def beir_origin(paths: dict[str, Path], digests: dict[str, Any]) -> dict[str, Any]:
    """What identifies the BEIR files read, for the mining summary's ``beir_input``: per file (``corpus``,
    ``queries``, ``qrels``) its resolved path, size and sha256 (the file's own, as ``sha256sum`` prints it; fed by
    the reading pass). The recorded config names the folder or files only, which may hold other data by the time
    someone reruns it."""
    return {"kind": "beir", **{role: hashed_identity(path, digests[role]) for role, path in paths.items()}}
