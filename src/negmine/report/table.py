"""The flagged-pairs table: sortable by clicking a column header, filtered by a text, shown a page at a time.

The page carries the first ``PAGE_ROWS`` rows as plain HTML (read without JavaScript) and every row as JSON in a
``<script type="application/json">`` element: each cell's HTML (escaped here, never by the page's script) and its
sort key. The report's inline script (:data:`negmine.report.html.SORT_JS`) sorts and filters that data and renders
one page of rows: laying out 2,000 rows of texts took about 2 s in Chromium at every click, a page of 100 takes a
few milliseconds. Each distinct long text is stored once (a positive is repeated on each of its flags).
Long texts are shown as their first words with the text in a ``<details>`` element (its first
``FULL_TEXT_CHARS`` characters: 2,000 rows of 56 KB documents made a 227 MB page).
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Callable, Iterable, Mapping, Sequence

from negmine.errors import counted

PREVIEW_CHARS = 140
FULL_TEXT_CHARS = 5000  # a text longer than this is cut when shown (models read ~512 tokens)
PAGE_ROWS = 100  # rows on a page, and the rows readable without JavaScript
PAGE_SIZES = (50, 100, 250, 500)  # 1,000 rows took 1-2.8 s a sort again (2 busy cores)
BASE_COLUMNS = ("kind", "action", "query_id", "query", "positive", "doc_id", "flagged document", "reasons", "rank",
                "votes", "judges")  # then the score columns; the reasons came after them, off screen at 1,400 px
TEXT_COLUMNS = ("query", "positive", "flagged document", "reasons")  # share the width the others leave
CELL_CLASS = {"kind": "nw", "action": "nw", "query_id": "id", "query": "text", "positive": "text", "doc_id": "id",
              "flagged document": "text", "rank": "nw", "votes": "nw", "judges": "", "reasons": "text"}
WIDTH_EM = {"kind": 9.0, "action": 5.5, "query_id": 7.0, "doc_id": 7.0, "judges": 8.0}  # the least; or by name
TEXT_MIN_PX = 220  # the narrowest a text column gets (the table scrolls sideways below that)


def score_columns(records: Sequence[Mapping]) -> list[str]:
    """Score names present in any record, model scores first, then alphabetical."""
    names = {name for r in records for name in (r.get("scores") or {})}
    first = [n for n in ("model", "model:positive") if n in names]
    return first + sorted(names - set(first))


def _text(value: str) -> str:
    """The first words, and the text (up to ``FULL_TEXT_CHARS``, which bounds the page) when opened."""
    value = value or ""
    if len(value) <= PREVIEW_CHARS:
        return html.escape(value)
    preview = html.escape(value[:PREVIEW_CHARS].rsplit(" ", 1)[0]) + " …"
    more = len(value) - FULL_TEXT_CHARS
    cut = (f' <span class="note">… {more:,} more characters (the flags JSONL has the full text)</span>'
           if more > 0 else "")
    return f"<details><summary>{preview}</summary>{html.escape(value[:FULL_TEXT_CHARS])}{cut}</details>"


def _number(value) -> str:
    return "" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def number_key(value) -> int | float | None:
    """A numeric column's sort key: the number, or None (sorted below every number) when missing or not finite."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _str(value) -> str:
    return "" if value is None else str(value)


def cells(record: Mapping, scores: Sequence[str], text: Callable[[str], object] = _text) -> list[tuple[object, object]]:
    """(content, sort key) for each column; ``text(value)`` gives a long text's content (its HTML by default)."""
    judges = ", ".join(record.get("judges") or [])
    reasons = record.get("reasons") or []
    values = record.get("scores") or {}

    def plain(field: str) -> tuple[str, str]:
        return html.escape(_str(record.get(field, ""))), _str(record.get(field, ""))

    def long(field: str) -> tuple[object, str]:
        value = _str(record.get(field, ""))
        return text(value), value[:60]

    return [
        plain("kind"), plain("action"), plain("query_id"), long("query"), long("positive"), plain("doc_id"),
        long("doc"), ("<br>".join(html.escape(_str(r)) for r in reasons), len(reasons)),
        (_number(record.get("rank")), number_key(record.get("rank"))),
        (_number(record.get("votes")), number_key(record.get("votes", 0))), (html.escape(judges), judges),
        *((_number(values.get(name)), number_key(values.get(name))) for name in scores),
    ]


def _columns(scores: Sequence[str]) -> list[str]:
    return [*BASE_COLUMNS, *scores]


def _td(column: str) -> str:
    """A column's ``<td>``. Text cells get ``dir="auto"``: a Hebrew or Arabic text then runs right to left from the
    cell's right edge (in the page's left-to-right direction its final "?" or "." showed at its start)."""
    css = CELL_CLASS.get(column, "nw")
    if css == "text":
        return '<td class="text" dir="auto">'
    return f'<td class="{css}">' if css else "<td>"


def table_row(record: Mapping, scores: Sequence[str]) -> str:
    """One row as plain HTML (the rows the page shows before any script runs)."""
    tds = (_td(column) for column in _columns(scores))
    return "<tr>" + "".join(f"{td}{content}</td>" for td, (content, _) in zip(tds, cells(record, scores))) + "</tr>"


def table_data(records: Sequence[Mapping], scores: Sequence[str]) -> dict:
    """The rows the page's script sorts, filters and shows a page of.

    ``texts``: [sort key, HTML] of each distinct long text; ``rows``: per column an index into ``texts`` (long
    texts), the HTML when it equals the sort key, or [HTML, sort key]; ``cells``: each column's ``<td>``.
    """
    index: dict[str, int] = {}
    texts: list[list[str]] = []

    def ref(value: str) -> int:
        if value not in index:
            index[value] = len(texts)
            texts.append([value[:60], _text(value)])
        return index[value]

    rows = [[content if isinstance(content, int) or content == key else [content, key]
             for content, key in cells(record, scores, ref)] for record in records]
    return {"cells": [_td(column) for column in _columns(scores)], "texts": texts, "rows": rows}


def json_script(element_id: str, data: object) -> str:
    """``data`` as JSON in a script element no text can close: every ``<``, ``>`` and ``&`` written as ``\\uXXXX``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _name_parts(name: str) -> list[str]:
    """A column name cut after each ``:``, and a part of more than 10 characters after each ``_`` too
    (``cosine_``, ``to_``, ``positive``; ``query_id`` whole): where its header may break."""
    parts = [part for part in re.split(r"(?<=:)", name) if part]
    return [piece for part in parts for piece in (re.split(r"(?<=_)", part) if len(part) > 10 else [part]) if piece]


def _width_em(column: str) -> float | None:
    """A fixed column's width: its values', or its name's (on one line a part, after the sort arrow). Cut at
    ``_`` too: the audit's score columns (``overlap_with_positive``...) were 11 em, for numbers of 4 decimals."""
    if column in TEXT_COLUMNS:
        return None
    name = max(len(part) for part in _name_parts(column)) * 0.65 + 2.5  # bold 12px, padding, the arrow
    return round(min(max(WIDTH_EM.get(column, 5.5), name), 11.0), 1)


def _header(name: str) -> str:
    """The escaped name, breakable after each ``:`` and ``_`` (``model:<wbr>positive``, ``cosine_<wbr>to_<wbr>...``;
    it broke inside a word: ``cosine_to_positiv`` / ``e``)."""
    return "<wbr>".join(html.escape(part) for part in _name_parts(name))


def _colgroup(columns: Sequence[str]) -> tuple[str, str]:
    """The ``<colgroup>`` (fixed widths: a sort or a page does not move the columns) and the table's min-width."""
    widths = [_width_em(c) for c in columns]
    cols = "".join(f'<col style="width:{w:g}em">' if w else "<col>" for w in widths)
    fixed = sum(w for w in widths if w)
    return f"<colgroup>{cols}</colgroup>", f"min-width:calc({fixed:g}em + {TEXT_MIN_PX * len(TEXT_COLUMNS)}px)"


def _sticky_offsets(columns: Sequence[str]) -> str:
    """Where the 2nd and 3rd columns stick (the page's CSS keeps kind, action and query_id in view while the table
    scrolls sideways): the widths of the fixed columns before them. An audit's table is ~2,270 px wide in a
    1,400 px window, and scrolled to its scores it showed no column saying whose row it was."""
    first, second = (_width_em(c) or 0.0 for c in columns[:2])
    return f"--left2:{first:g}em;--left3:{round(first + second, 1):g}em"


def _pager(rows: int, table_id: str = "flags") -> str:
    """Filter box, page buttons, status and page size of the table ``table_id``: hidden until the script runs (they
    need it)."""
    sizes = "".join(f'<option{" selected" if n == PAGE_ROWS else ""}>{n}</option>' for n in PAGE_SIZES)
    status = f"rows 1–{min(rows, PAGE_ROWS):,} of {rows:,}" if rows else "no rows"
    return (f'<div class="pager" data-for="{table_id}" hidden><input type="search" class="filter" '
            'placeholder="filter: rows containing…" aria-label="show only the rows containing this text">'
            '<button type="button" data-go="first" title="first page">«</button>'
            '<button type="button" data-go="prev" title="previous page">‹</button>'
            f'<span class="status" aria-live="polite">{status}</span>'
            '<button type="button" data-go="next" title="next page">›</button>'
            '<button type="button" data-go="last" title="last page">»</button>'
            f'<label><select class="size">{sizes}</select> rows a page</label></div>')


def render_table(records: Iterable[Mapping], total: int) -> str:
    rows = list(records)
    if not rows and not total:  # was a header row with no body and "Showing 0 of 0 flags (click a header to sort)"
        return '<p class="note">No flags: no false negative and no noisy positive was found, so there is no table.</p>'
    scores = score_columns(rows)
    columns = _columns(scores)
    header = "".join(
        f'<th data-type="{"num" if c in scores or c in ("rank", "votes") else "text"}">{_header(c)}</th>'
        for c in columns
    )
    body = "\n".join(table_row(r, scores) for r in rows[:PAGE_ROWS])
    note = f"<p class=\"note\">Showing {len(rows)} of {counted(total, 'flag')} (click a header to sort).</p>"
    if len(rows) < total:
        note = (f"<p class=\"note\">Showing {len(rows)} of {total} flags: the first {len(rows)} of the flags file "
                "(--max-table-rows shows more; the flags JSONL holds them all). Click a header to sort the rows "
                "shown.</p>")
    if len(rows) > PAGE_ROWS:
        note += (f'<noscript><p class="note">Without JavaScript only rows 1–{PAGE_ROWS} are shown, in file order '
                 "(paging, sorting and filtering need it).</p></noscript>")
    colgroup, min_width = _colgroup(columns)
    return (f'{note}{_pager(len(rows))}<div class="hbar" hidden><div></div></div>'
            f'<div class="scroll" style="{_sticky_offsets(columns)}"><table id="flags" class="sortable" data-rows="flags-data" '
            f'data-total="{len(rows)}" data-page="{PAGE_ROWS}" style="{min_width}">{colgroup}<thead><tr>{header}</tr>'
            f"</thead><tbody>\n{body}\n</tbody></table></div>{json_script('flags-data', table_data(rows, scores))}")
