"""One self-contained HTML document: inline CSS, inline sort script, figures as data: URIs. No network."""

from __future__ import annotations

import html
from typing import Mapping, Sequence

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212529;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dee2e6}
.meta{color:#868e96;font-size:13px} .cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dee2e6;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px} .card span{color:#868e96;font-size:12px}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}
.plots img{max-width:100%;height:auto;border:1px solid #f1f3f5}
.scroll{overflow:auto;max-width:100%;max-height:85vh} table{border-collapse:collapse;font-size:12px;width:100%}
th,td{border:1px solid #dee2e6;padding:4px 6px;vertical-align:top} td{overflow-wrap:break-word} td.text{overflow-wrap:anywhere} td.id{max-width:16em} td.nw{white-space:nowrap}
th{background:#f8f9fa;position:sticky;top:0;white-space:nowrap;z-index:1} table.sortable th{cursor:pointer}
th.asc::after{content:" \\25B2"} th.desc::after{content:" \\25BC"}
td details summary{cursor:pointer} td.text{min-width:220px;max-width:420px} tbody tr:nth-child(even){background:#fcfcfd}
.note{color:#868e96;font-size:12px} .kv td:first-child{color:#495057}
"""

SORT_JS = """
var collator = new Intl.Collator(undefined, {numeric: true});  // ids in number order: q2 before q10
document.querySelectorAll('table.sortable').forEach(function(table){
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function(th, col){
    th.addEventListener('click', function(){
      var asc = !th.classList.contains('asc');
      Array.prototype.forEach.call(heads, function(h){ h.classList.remove('asc', 'desc'); });
      th.classList.add(asc ? 'asc' : 'desc');
      var num = th.dataset.type === 'num', body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
        if (num) { x = x === '' ? -Infinity : parseFloat(x); y = y === '' ? -Infinity : parseFloat(y);
                   return x === y ? 0 : (asc ? x - y : y - x); }
        return asc ? collator.compare(x, y) : collator.compare(y, x);
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""


def cards(values: Mapping[str, object]) -> str:
    return '<div class="cards">' + "".join(
        f"<div class=\"card\"><b>{html.escape(str(v))}</b><span>{html.escape(k)}</span></div>" for k, v in values.items()
    ) + "</div>"


def _plain(value: object) -> str:
    """Dicts as ``key: value`` lists, everything else as str."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def key_value_table(values: Mapping[str, object]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_plain(v))}</td></tr>" for k, v in values.items())
    return f'<table class="kv" style="width:auto">{rows}</table>'


def figure(png_base64: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{png_base64}">'


def document(title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{html.escape(name)}</h2>\n{content}\n" for name, content in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1><div class=\"meta\">{html.escape(subtitle)}</div>\n{body}"
        f"<script>{SORT_JS}</script>\n</body></html>\n"
    )
