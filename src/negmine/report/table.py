"""The flagged-pairs table: one HTML row per flag record, sortable by clicking a column header.

Each cell carries a ``data-sort`` value (numbers for score columns) that the report's inline script
compares; long texts are shown as their first words with the full text in a ``<details>`` element (its
first ``FULL_TEXT_CHARS`` characters: 2,000 rows of 56 KB documents made a 227 MB page).
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping, Sequence

PREVIEW_CHARS = 140
FULL_TEXT_CHARS = 5000  # a text longer than this is cut when shown (models read ~512 tokens)
BASE_COLUMNS = ("kind", "action", "query_id", "query", "positive", "doc_id", "flagged document", "rank", "votes",
                "judges")


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


def _cell(content: str, sort: object, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<td{klass} data-sort="{html.escape(str(sort), quote=True)}">{content}</td>'


def _number(value) -> str:
    return "" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def table_row(record: Mapping, scores: Sequence[str]) -> str:
    cells = [
        _cell(html.escape(record.get("kind", "")), record.get("kind", ""), "nw"),
        _cell(html.escape(str(record.get("action", ""))), record.get("action", ""), "nw"),
        _cell(html.escape(str(record.get("query_id", ""))), record.get("query_id", ""), "id"),
        _cell(_text(record.get("query", "")), record.get("query", "")[:60], "text"),
        _cell(_text(record.get("positive", "")), record.get("positive", "")[:60], "text"),
        _cell(html.escape(str(record.get("doc_id", ""))), record.get("doc_id", ""), "id"),
        _cell(_text(record.get("doc", "")), record.get("doc", "")[:60], "text"),
        _cell(_number(record.get("rank")), "" if record.get("rank") is None else record["rank"], "nw"),
        _cell(_number(record.get("votes")), record.get("votes", 0), "nw"),
        _cell(html.escape(", ".join(record.get("judges") or [])), ", ".join(record.get("judges") or [])),
    ]
    values = record.get("scores") or {}
    cells += [_cell(_number(values.get(name)), "" if values.get(name) is None else values[name], "nw") for name in scores]
    reasons = "<br>".join(html.escape(r) for r in record.get("reasons") or [])
    cells.append(_cell(reasons, len(record.get("reasons") or []), "text"))
    return "<tr>" + "".join(cells) + "</tr>"


def render_table(records: Iterable[Mapping], total: int) -> str:
    rows = list(records)
    scores = score_columns(rows)
    header = "".join(
        f'<th data-type="{"num" if c in scores or c in ("rank", "votes") else "text"}">{html.escape(c)}</th>'
        for c in (*BASE_COLUMNS, *scores, "reasons")
    )
    body = "\n".join(table_row(r, scores) for r in rows)
    note = f"<p class=\"note\">Showing {len(rows)} of {total} flags (click a header to sort).</p>"
    if len(rows) < total:
        note = (f"<p class=\"note\">Showing {len(rows)} of {total} flags: the first {len(rows)} of the flags file "
                "(--max-table-rows shows more; the flags JSONL holds them all). Click a header to sort the rows "
                "shown.</p>")
    return (f'{note}<div class="scroll"><table id="flags" class="sortable"><thead><tr>{header}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table></div>")
