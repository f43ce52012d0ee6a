"""One self-contained HTML document: inline CSS, inline table script (sort, filter, pages), figures as data: URIs.

No network."""

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
th{background:#f8f9fa;position:sticky;top:0;white-space:nowrap;z-index:1} table.sortable th{cursor:pointer} table.sortable th:focus-visible{outline:2px solid #1a73e8;outline-offset:-2px}
table.sortable{table-layout:fixed} table.sortable th{white-space:normal;overflow-wrap:break-word;word-break:normal;hyphens:manual}
table.wrap,table.wrap>thead,table.wrap>tbody{display:block} table.wrap tr{display:flex;flex-wrap:wrap;border-left:1px solid #dee2e6}
table.wrap th,table.wrap td{flex:0 0 auto;box-sizing:border-box;border-width:0 1px 1px 0} table.wrap .text{flex:1 0 220px;max-width:none}
table.wrap>thead{position:sticky;top:0;z-index:2;border-top:1px solid #dee2e6} table.wrap th{position:static}
table.wrap tbody tr{border-bottom:1px solid #adb5bd}
.pager{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin:6px 0;font-size:13px} .pager[hidden]{display:none}
.pager .filter{min-width:260px;padding:3px 6px} .pager button{min-width:2.2em} .pager .status{color:#495057;min-width:16em;text-align:center}
th.asc::after{content:" \\25B2"} th.desc::after{content:" \\25BC"}
td details summary{cursor:pointer} td.text{min-width:220px;max-width:420px} tbody tr:nth-child(even){background:#fcfcfd}
.hbar{overflow-x:auto;overflow-y:hidden} .hbar[hidden]{display:none} .hbar div{height:1px}
#flags{border-collapse:separate;border-spacing:0} #flags th,#flags td{border-width:0 1px 1px 0}
#flags tr>:first-child{border-left-width:1px} #flags thead th{border-top-width:1px}
#flags th{z-index:2} #flags td:nth-child(-n+3),#flags th:nth-child(-n+3){position:sticky;left:0}
#flags td:nth-child(-n+3){background:#fff;z-index:1} #flags tbody tr:nth-child(even) td:nth-child(-n+3){background:#fcfcfd}
#flags th:nth-child(-n+3){z-index:3} #flags tr>:nth-child(2){left:var(--left2,0)}
#flags tr>:nth-child(3){left:var(--left3,0);box-shadow:inset -2px 0 0 #ced4da}
.note{color:#868e96;font-size:12px} .kv td:first-child{color:#495057;white-space:nowrap} .kv td,.meta{overflow-wrap:anywhere}
"""

SORT_JS = """
// A sortable table's rows are JSON (see negmine.report.table): sorted, filtered and shown a page at a time.
var collator = new Intl.Collator(undefined, {numeric: true});  // ids in number order: q2 before q10
document.querySelectorAll('table.sortable[data-rows]').forEach(function(table){
  var pager = document.querySelector('.pager[data-for="' + table.id + '"]'), heads = table.tHead.rows[0].cells;
  var body = table.tBodies[0], status = pager.querySelector('.status'), filter = pager.querySelector('.filter');
  var size = +table.dataset.page, page = 0, data = null, order, shown, ranks = {}, hay = null, wait = null;
  var entity = {amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'"};
  function load(){  // on the first click or key: the page opens without reading the rows
    if (data) return;
    data = JSON.parse(document.getElementById(table.dataset.rows).textContent);
    order = data.rows.map(function(row, i){ return i; }); shown = order;
  }
  function content(v){ return typeof v === 'number' ? data.texts[v][1] : typeof v === 'string' ? v : v[0]; }
  function key(v){ return typeof v === 'number' ? data.texts[v][0] : typeof v === 'string' ? v : v[1]; }
  function rankOf(col){  // each row's place in the column's ascending order (ties share it), computed once
    if (ranks[col]) return ranks[col];
    var keys = data.rows.map(function(row){ return key(row[col]); });
    if (heads[col].dataset.type === 'num')
      return ranks[col] = keys.map(function(x){ return x === null ? -Infinity : x; });
    var unique = Array.from(new Set(keys.map(String))).sort(collator.compare), place = new Map(), r = 0;
    unique.forEach(function(u, i){ if (i && collator.compare(unique[i - 1], u) !== 0) r = i; place.set(u, r); });
    return ranks[col] = keys.map(function(x){ return place.get(String(x)); });
  }
  function plain(h){
    return h.replace(/<[^>]*>/g, ' ').replace(/&(amp|lt|gt|quot|#x27);/g, function(m, e){ return entity[e]; }).toLowerCase();
  }
  function match(){  // the rows containing the filter text in any cell, in the sorted order
    var needle = filter.value.trim().toLowerCase();
    if (!needle) { shown = order; return; }
    if (!hay) hay = {rows: data.rows.map(function(row){
                       return row.map(function(v){ return typeof v === 'number' ? '' : plain(content(v)); }).join('\\n'); }),
                     texts: data.texts.map(function(t){ return plain(t[1]); })};
    var hit = hay.texts.map(function(t){ return t.indexOf(needle) >= 0; });
    shown = order.filter(function(i){
      return hay.rows[i].indexOf(needle) >= 0 || data.rows[i].some(function(v){ return typeof v === 'number' && hit[v]; });
    });
  }
  function number(n){ return n.toLocaleString('en-US'); }
  function render(){
    var n = shown.length, last = Math.max(0, Math.ceil(n / size) - 1);
    page = Math.min(Math.max(page, 0), last);
    var start = page * size, end = Math.min(n, start + size), rows = document.createDocumentFragment();
    for (var j = start; j < end; j++) {
      var tr = rows.appendChild(document.createElement('tr'));  // every text was escaped when the page was written:
      tr.innerHTML = data.rows[shown[j]].map(function(v, c){ return data.cells[c] + content(v) + '</td>'; }).join('');
    }
    body.replaceChildren(rows);
    status.textContent = n ? 'rows ' + number(start + 1) + '–' + number(end) + ' of ' + number(n) +
                             (n < order.length ? ' containing the filter text' : '') :
                         order.length ? 'no row contains the filter text' : 'no rows';
    pager.querySelector('[data-go="first"]').disabled = pager.querySelector('[data-go="prev"]').disabled = page === 0;
    pager.querySelector('[data-go="next"]').disabled = pager.querySelector('[data-go="last"]').disabled = page === last;
    table.parentNode.scrollTop = 0;
  }
  Array.prototype.forEach.call(heads, function(th, col){
    th.tabIndex = 0;  // sortable from the keyboard: Tab to a header, Enter or Space sorts
    th.addEventListener('keydown', function(event){
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); th.click(); }
    });
    th.addEventListener('click', function(){
      load();
      var asc = !th.classList.contains('asc'), rank = rankOf(col);
      Array.prototype.forEach.call(heads, function(h){ h.classList.remove('asc', 'desc'); h.removeAttribute('aria-sort'); });
      th.classList.add(asc ? 'asc' : 'desc'); th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      order.sort(function(a, b){ var x = rank[a], y = rank[b]; return x === y ? 0 : (x < y) === asc ? -1 : 1; });  // stable
      match(); page = 0; render();
    });
  });
  pager.addEventListener('click', function(event){
    var go = event.target.dataset && event.target.dataset.go;
    if (!go) return;
    load();
    page = go === 'first' ? 0 : go === 'prev' ? page - 1 : go === 'next' ? page + 1 : Infinity;
    render();
  });
  pager.querySelector('.size').addEventListener('change', function(event){
    load(); var first = page * size; size = +event.target.value; page = Math.floor(first / size); render();
  });
  filter.addEventListener('input', function(){
    clearTimeout(wait);
    wait = setTimeout(function(){ load(); match(); page = 0; render(); }, 150);
  });
  var box = table.parentNode, hbar = box.previousElementSibling;  // a scrollbar above the rows (the box's own is
  if (hbar && hbar.classList.contains('hbar')) {                    // at its foot, 85vh down: off screen)
    var fit = function(){
      hbar.style.width = box.clientWidth + 'px'; hbar.firstChild.style.width = box.scrollWidth + 'px';
      hbar.hidden = box.scrollWidth <= box.clientWidth;
    };
    hbar.addEventListener('scroll', function(){ if (box.scrollLeft !== hbar.scrollLeft) box.scrollLeft = hbar.scrollLeft; });
    box.addEventListener('scroll', function(){ if (hbar.scrollLeft !== box.scrollLeft) hbar.scrollLeft = box.scrollLeft; });
    fit(); window.addEventListener('resize', fit);
  }
  pager.hidden = false;
  pager.querySelector('[data-go="first"]').disabled = pager.querySelector('[data-go="prev"]').disabled = true;
  pager.querySelector('[data-go="next"]').disabled = pager.querySelector('[data-go="last"]').disabled = +table.dataset.total <= size;
});
"""


def cards(values: Mapping[str, object]) -> str:
    """A row of cards, one per ``label: value``; an int with thousands separators (14,459; it showed 14459)."""
    return '<div class="cards">' + "".join(
        f"<div class=\"card\"><b>{html.escape(_card_value(v))}</b><span>{html.escape(k)}</span></div>"
        for k, v in values.items()
    ) + "</div>"


def _card_value(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


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
