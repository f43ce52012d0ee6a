"""``negmine report RESULTS.json``: an HTML page of a ``negmine eval`` results JSON (``negmine eval ... -o FILE``).

The page holds the evaluation's settings (split, data folder, metrics, test, alpha, correction, baseline), the tables
``negmine eval`` printed (the same cells: :func:`negmine.evaluate.compare.table_blocks` of the comparison the JSON
holds) and its lines on run files renamed for a shared tag (``run_file_names``) and on each run file's coverage of the split (``run_file_coverage``), per metric the sorted per-query deltas of each run vs the baseline and their histogram, and a sortable table
of the queries whose delta is largest, with their texts when the queries file the evaluation read is still there
unchanged, their relevant documents and each run's rank of the first of them (results written since 2026-12-07). Self-contained, written atomically; the same JSON (and queries file) gives the same bytes.
"""

from __future__ import annotations

import hashlib
import html
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from negmine.config import CORRECTIONS, STAT_TESTS, TABLE_ROWS
from negmine.errors import ConfigError, InputError
from negmine.evaluate.compare import (
    STAT_TEST_LABELS, Comparison, format_delta, judged_note, table_blocks, table_notes,
)
from negmine.evaluate.coverage import coverage_note
from negmine.evaluate.names import NAMED_BY, name_note
from negmine.io.atomic import atomic_write
from negmine.io.jsonl import iter_jsonl, json_type, read_json_object
from negmine.report import plots
from negmine.report.html import cards, document, figure, key_value_table
from negmine.report.table import PAGE_ROWS, _header, _name_parts, _pager, _text, json_script

RESULTS_KEYS = {"comparison": dict, "data": dict, "config": dict}
"""The keys of ``negmine eval``'s results JSON the report reads, with their JSON types."""

PRIMARY_METRIC = "ndcg@10"
"""The metric the queries table ranks by (the first metric of the evaluation when it has no nDCG@10)."""

RUN_COLORS = ("#1c7ed6", "#e03131", "#2b8a3e", "#f08c00", "#7048e8", "#0c8599", "#c2255c", "#5c940d")
"""A color per compared run, in the order of the evaluation (then again from the first)."""

REWRITE = "write it again with negmine eval ... -o FILE"

MISSING = object()
"""A field the results JSON lacks (checked as the values are)."""


def _foreign(path: Path, document: object) -> str:
    """What to give instead of ``path``, a JSON file that is not eval results (named for the files negmine writes)."""
    from negmine.report.sources import SOURCES

    return _other_output(path, document) or (
        "this is not a negmine eval results JSON (the file negmine eval ... -o FILE.json writes, with "
        f"'comparison', 'data' and 'config'); negmine report takes {SOURCES}")


def _other_output(path: Path, document: object) -> str | None:
    """What to give instead of ``path`` when it is a JSON file another negmine command wrote (a summary, a file of a
    trained model's folder), else None."""
    from negmine.report.sources import mined_file_of
    from negmine.train import SUMMARY_NAME

    if path.name == SUMMARY_NAME:
        return f"this is a negmine train run's summary, not eval results: give its folder, negmine report {path.parent}"
    if path.name.endswith(".audit-summary.json"):
        flags = path.with_name(path.name[:-len(".audit-summary.json")] + ".flags.jsonl")
        return f"this is an audit's summary, not eval results: give its flags file, negmine report {flags}"
    if mined_file_of(document) is not None:
        return (f"this is a negmine mine run's summary, not eval results: give the mined file it describes, negmine "
                f"report {mined_file_of(document)}")
    if (path.parent / SUMMARY_NAME).is_file():  # its config.json, modules.json, ...: the folder is the source
        return f"this file is in a negmine train output, not eval results: give its folder, negmine report {path.parent}"
    return None


def read_eval_results(path: Path) -> dict:
    """The results JSON at ``path`` with what the report reads checked; InputError naming the file and the field.
    A JSON file another negmine command wrote (``x.audit-summary.json``) is named as what it is, without the
    results' first key it lacks: that said ``field 'comparison': missing; this is an audit's summary, ...``, as if
    it were damaged eval results."""
    path = Path(path)
    other: list[str | None] = []

    def foreign(document: object) -> str:
        other.append(_other_output(path, document) if isinstance(document, dict) else None)
        return _foreign(path, document)

    try:
        results = read_json_object(path, RESULTS_KEYS, "not found: give the results JSON negmine eval -o wrote", foreign)
    except InputError as err:
        if other and other[0] is not None and err.field in RESULTS_KEYS and err.problem.startswith("missing;"):
            raise InputError(path, None, None, other[0]) from None
        raise
    checks = [(f"comparison.{field}", *rest) for field, *rest in _comparison_checks(results["comparison"])]
    checks += _coverage_checks(results.get("run_file_coverage", {})) + _names_checks(results.get("run_file_names", {}))
    for field, value, ok, wanted in checks:
        if not ok(value):
            shown = ("nothing (missing)" if value is MISSING else json_type(value) if isinstance(value, (dict, list))
                     else repr(value)[:80])
            raise InputError(path, None, field, f"must be {wanted}, got {shown}; this results JSON was "
                             f"edited or written by another tool: {REWRITE}")
    return results


def _coverage_checks(coverage: object) -> list[tuple[str, object, object, str]]:
    """(field, value, test, what it must be) of ``run_file_coverage``, each run file's record of how its queries
    meet the split (:func:`negmine.evaluate.api.run_coverage`), which the report shows as eval printed it."""
    field = "run_file_coverage"
    if not isinstance(coverage, dict) or not all(isinstance(c, dict) for c in coverage.values()):
        return [(field, coverage, lambda v: False, "a JSON object of a record per run file")]
    examples = (lambda v: isinstance(v, list) and all(isinstance(e, str) for e in v), "a list of query ids")
    checks = []
    for name, record in coverage.items():
        checks.append((f"{field}.{name}.source", record.get("source", MISSING), lambda v: isinstance(v, str),
                       "the run file's path"))
        for key in ("evaluated_queries", "missing", "unknown", "not_evaluated", "identical_ids"):
            checks.append((f"{field}.{name}.{key}", record.get(key, MISSING), _is_count, "an integer >= 0"))
        for key in ("missing_examples", "unknown_examples", "not_evaluated_examples"):
            checks.append((f"{field}.{name}.{key}", record.get(key, MISSING), *examples))
        if "shallow_metrics" in record:  # results written since 2026-12-07: the run's depth vs the metrics'
            checks += [(f"{field}.{name}.{key}", record.get(key, MISSING), _is_count, "an integer >= 0")
                       for key in ("depth", "deepest_other")]
            checks.append((f"{field}.{name}.shallow_metrics", record["shallow_metrics"],
                           lambda v: isinstance(v, list) and all(isinstance(m, str) for m in v), "a list of metric names"))
    return checks


def _names_checks(names: object) -> list[tuple[str, object, object, str]]:
    """(field, value, test, what it must be) of ``run_file_names``, how each run file got its name (results written
    since 2026-12-07), whose renamed files the report names as eval printed them (:func:`name_note`)."""
    field = "run_file_names"
    if not isinstance(names, dict) or not all(isinstance(r, dict) for r in names.values()):
        return [(field, names, lambda v: False, "a JSON object of a record per run file")]
    checks = []
    for name, record in names.items():
        checks += [(f"{field}.{name}.{key}", record.get(key, MISSING), lambda v: isinstance(v, str), wanted)
                   for key, wanted in (("source", "the run file's path"), ("tag", "the run file's TREC tag"))]
        checks.append((f"{field}.{name}.named_by", record.get("named_by", MISSING), lambda v: v in NAMED_BY,
                       f"one of {', '.join(NAMED_BY)}"))
    return checks


def _is_number(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def _comparison_checks(comparison: Mapping) -> list[tuple[str, object, object, str]]:
    """(field, value, test, what it must be) of the comparison's settings and runs, in reading order; a run's
    fields are listed only once its settings passed (a check reads the ones before it)."""
    def get(key: str) -> object:
        return comparison.get(key, MISSING)

    checks = [("stat_test", get("stat_test"), lambda v: v in STAT_TESTS, f"one of {', '.join(STAT_TESTS)}"),
              ("correction", get("correction"), lambda v: v in CORRECTIONS, f"one of {', '.join(CORRECTIONS)}"),
              ("alpha", get("alpha"), lambda v: _is_number(v) and 0 < v < 1, "a number between 0 and 1"),
              ("metrics", get("metrics"), lambda v: isinstance(v, list) and v and all(isinstance(m, str) for m in v),
               "a non-empty list of metric names"),
              ("runs", get("runs"), lambda v: isinstance(v, dict) and all(isinstance(r, dict) for r in v.values()),
               "a JSON object of runs"),
              ("order", get("order"), lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v)
               and sorted(v) == sorted(get("runs")), "the list of the names of 'runs'"),
              ("baseline", get("baseline"), lambda v: isinstance(v, str) and v in get("runs"),
               "the name of one of 'runs'")]
    if not all(ok(value) for _, value, ok, _ in checks):
        return checks
    base = comparison["runs"][comparison["baseline"]].get("per_query", {}).get(comparison["metrics"][0])
    queries = set(base) if isinstance(base, dict) and base else {None}
    for name in comparison["order"]:
        checks += _run_checks(name, comparison["runs"][name], comparison["metrics"], queries,
                              name != comparison["baseline"])
        checks += _rank_checks(name, comparison["runs"][name], queries)
    if "relevant" in comparison:  # results written since 2026-12-07: each query's relevant documents
        checks.append(("relevant", comparison["relevant"], lambda v: isinstance(v, dict) and set(v) == queries and all(
            isinstance(d, list) and d and all(isinstance(i, str) for i in d) for d in v.values()),
            "a JSON object of a non-empty list of relevant document ids per evaluated query (the baseline's queries)"))
    return checks


def _rank_checks(name: str, run: Mapping, queries: set) -> list:
    """A run's first relevant rank and depth per query (results written since 2026-12-07), both or neither."""
    if "first_relevant_rank" not in run and "documents_ranked" not in run:
        return []
    per_query = "a JSON object of {} per evaluated query (the baseline's queries)"
    return [(f"runs.{name}.first_relevant_rank", run.get("first_relevant_rank", MISSING),
             lambda v: isinstance(v, dict) and set(v) == queries and all(r is None or (_is_count(r) and r > 0)
                                                                         for r in v.values()),
             per_query.format("a rank >= 1 or null")),
            (f"runs.{name}.documents_ranked", run.get("documents_ranked", MISSING),
             lambda v: isinstance(v, dict) and set(v) == queries and all(map(_is_count, v.values())),
             per_query.format("an integer >= 0"))]


def _field(value: object, *keys: str) -> object:
    """``value[k1][k2]...``, or :data:`MISSING` where a key or an object on the way is missing."""
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def _run_checks(name: str, run: Mapping, metrics: Sequence[str], queries: set, compared: bool) -> list:
    """The checks of one run: a mean and per-query scores of the baseline's queries for every metric, and for a
    compared run its test against the baseline (p-values, interval, wins/ties/losses)."""
    scores = ("a JSON object of a finite score per evaluated query (the baseline's queries)",
              lambda v: isinstance(v, dict) and set(v) == queries and all(map(_is_number, v.values())))
    p_value = (lambda v: v is None or (_is_number(v) and 0 <= v <= 1), "a p-value or null")
    interval = (lambda v: v is None or (isinstance(v, list) and len(v) == 2 and all(map(_is_number, v))),
                "[low, high] or null")
    checks = []
    for m in metrics:
        checks += [(f"runs.{name}.mean.{m}", _field(run, "mean", m), _is_number, "a finite number"),
                   (f"runs.{name}.per_query.{m}", _field(run, "per_query", m), scores[1], scores[0])]
        if compared:
            field = f"runs.{name}.vs_baseline.{m}"
            wanted = {"p_value": p_value, "p_value_adjusted": p_value, "confidence_interval": interval,
                      **{k: (_is_count, "an integer >= 0") for k in ("wins", "ties", "losses")}}
            checks += [(f"{field}.{k}", _field(run, "vs_baseline", m, k), *rule) for k, rule in wanted.items()]
    return checks


def primary_metric(comparison: Comparison) -> str:
    return PRIMARY_METRIC if PRIMARY_METRIC in comparison.metrics else comparison.metrics[0]


def _compared(comparison: Comparison) -> list[str]:
    return [name for name in comparison.names if name != comparison.baseline]


def ranked_queries(comparison: Comparison, metric: str) -> list[tuple[str, float]]:
    """Every query with its largest |delta| vs the baseline on ``metric`` over the compared runs, largest first
    (ties by query id); empty when no run is compared."""
    others = _compared(comparison)
    if not others:
        return []
    biggest = np.max(np.abs(np.stack([comparison.deltas(name, metric) for name in others])), axis=0)
    ids = comparison.result(comparison.baseline).query_ids
    return sorted(((q, float(b)) for q, b in zip(ids, biggest)), key=lambda item: (-item[1], item[0]))


def query_texts(results: Mapping, wanted: set[str]) -> tuple[dict[str, str] | None, str]:
    """The texts of the ``wanted`` query ids in the queries file the evaluation read (``beir_input.queries``),
    streamed; (None, why) when it names none, is gone, is unreadable or changed since (its sha256 differs)."""
    record = _field(results, "beir_input", "queries")
    if not isinstance(record, dict) or not isinstance(record.get("path"), str):
        return None, "the results JSON names no queries file (beir_input.queries), so the table shows no query text"
    path, digest, texts = Path(record["path"]), hashlib.sha256(), {}
    if not path.is_file():
        return None, f"no query texts: {path}, the queries file the evaluation read, is not found"
    try:
        for _, row in iter_jsonl(path, digest):
            if str(row.get("_id")) in wanted and isinstance(row.get("text"), str):
                texts[str(row["_id"])] = row["text"]
    except InputError as err:
        return None, f"no query texts: {err}"
    if record.get("sha256") not in (None, digest.hexdigest()):
        return None, (f"no query texts: {path} changed since the evaluation read it (its sha256 is not the one "
                      "beir_input records)")
    return texts, ""


def _short(name: str, width: int = 36) -> str:
    """A run's name for a legend: its last ``width`` characters (a model path's end names it)."""
    return name if len(name) <= width else "\u2026" + name[-(width - 1):]


def _delta_bins(deltas: Sequence[np.ndarray], count: int = 41) -> np.ndarray:
    """``count`` (odd) equal bins symmetric about 0, one centred on it (ties), spanning the largest |delta|."""
    top = max((float(np.max(np.abs(d))) for d in deltas if len(d)), default=0.0) or 0.5
    return np.linspace(-top, top, count + 1)


DELTA_FIGURE_SIZE = (11.0, 3.8)
"""The per-metric delta figure's size (in, at 100 dpi): the report shows one a row, at its own size in a window of
1,280 px or more (its 10 pt text as 14 px), scaled down in a narrower one."""


def delta_figure(comparison: Comparison, metric: str) -> str:
    """Per compared run: its per-query deltas on ``metric`` sorted (left; a point per query, 0 dashed) and their
    histogram (right; bins symmetric about 0), as a base64 PNG; one legend above both."""
    from matplotlib.ticker import MaxNLocator

    fig = plots._figure(*DELTA_FIGURE_SIZE)
    left, right = fig.subplots(1, 2)
    others = _compared(comparison)
    deltas = [comparison.deltas(name, metric) for name in others]
    bins = _delta_bins(deltas)
    for i, (name, delta) in enumerate(zip(others, deltas)):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        ranks = np.arange(1, len(delta) + 1)
        left.plot(ranks, np.sort(delta), color=color, marker="." if len(delta) <= 200 else None, linewidth=1.2,
                  drawstyle="steps-mid", label=_short(name, 60))
        right.hist(delta, bins=bins, histtype="stepfilled", alpha=0.35, color=color, edgecolor=color, linewidth=1.2)
    left.axhline(0.0, color="#495057", linestyle="--", linewidth=1)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))  # query counts (1, 5, 10), not 2.5, 7.5
    right.axvline(0.0, color="#495057", linestyle="--", linewidth=1)
    left.set(xlabel="queries, sorted by delta", ylabel=f"{metric} delta", title="Per-query delta vs baseline, sorted")
    right.set(xlabel=f"{metric} delta vs baseline", ylabel="queries", title="Deltas (0: a tie)")
    fig.legend(loc="outside upper center", ncols=min(len(others), 3), fontsize=9, frameon=False)
    fig.suptitle(metric, fontsize=11, fontweight="bold", x=0.01, ha="left")
    return plots.to_base64_png(fig)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('s') else 's'}"


def delta_caption(results: Mapping, comparison: Comparison, metric: str) -> str:
    """Each compared run's wins, ties and losses vs the baseline on ``metric``, as the results JSON records them."""
    runs = results["comparison"]["runs"]
    parts = []
    for name in _compared(comparison):
        test = runs[name]["vs_baseline"][metric]
        parts.append(f"{name}: {_count(test['wins'], 'win')}, {_count(test['ties'], 'tie')}, "
                     f"{_count(test['losses'], 'loss')}")
    return (f"{metric} vs baseline {comparison.baseline} over {len(comparison.result(comparison.baseline).query_ids)} "
            f"queries (a win: the run scores higher on the query). " + "; ".join(parts) + ".")


def _delta_section(results: Mapping, comparison: Comparison) -> str:
    if not _compared(comparison):
        return '<p class="note">One run, no baseline to compare with: no deltas.</p>'
    figures = [f'<figure style="margin:0">{figure(delta_figure(comparison, m), f"{m} per-query deltas")}'
               f'<figcaption class="note">{html.escape(delta_caption(results, comparison, m))}</figcaption></figure>'
               for m in comparison.metrics]
    return '<div class="plots" style="grid-template-columns:1fr">' + "".join(figures) + "</div>"


def _blocks_html(comparison: Comparison, coverage: Mapping, names: Mapping) -> str:
    """The tables ``negmine eval`` printed, cell for cell (:func:`table_blocks`), as HTML tables, then its lines
    under them (:func:`table_notes`), on run files renamed because their tag is shared (``names``) and on run files
    that lack evaluated queries (each scored 0) or name queries the split does not evaluate, in the runs' order as
    eval printed them (the JSON holds them sorted by name)."""
    parts = []
    for heading, rows in table_blocks(comparison):
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
        body = "".join("<tr>" + "".join(f'<td class="nw">{html.escape(cell)}</td>' for cell in row) + "</tr>"
                       for row in rows[1:])
        parts.append((f'<p class="note">{html.escape(heading)}</p>' if heading else "")
                     + f'<div class="scroll"><table class="comparison" style="width:auto"><thead><tr>{head}</tr>'
                     f"</thead><tbody>{body}</tbody></table></div>")
    notes = table_notes(comparison) + [name_note(name, names[name]) for name in _in_run_order(comparison, names)]
    notes += [coverage_note(name, coverage[name]) for name in _in_run_order(comparison, coverage)]
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in notes if note]
    return "".join(parts)


def _in_run_order(comparison: Comparison, records: Mapping) -> list[str]:
    """The run names of ``records`` in the runs' order, then any other (sorted)."""
    return [n for n in comparison.names if n in records] + sorted(set(records) - set(comparison.names))


def _judged_metric(comparison: Comparison, metric: str) -> str | None:
    """The first judged@k the evaluation recorded (None: none, or it is the table's metric already)."""
    return next((m for m in comparison.metrics if m.startswith("judged@") and m != metric), None)


def _has_ranks(comparison: Comparison) -> bool:
    """Whether the results record each query's relevant documents and each run's rank of them (since 2026-12-07)."""
    return comparison.relevant is not None and all(r.first_relevant is not None for r in comparison.results)


def _query_columns(comparison: Comparison, metric: str, texts: bool) -> list[tuple[str, str]]:
    """(header, kind) of the queries table: ``id``, ``text``, ``num`` (a score or a delta) or ``rank``."""
    columns = [("query_id", "id"), *([("query", "text")] if texts else []), (f"largest |\u0394| {metric}", "num"),
               (f"{comparison.baseline} (baseline) {metric}", "num")]
    for name in _compared(comparison):
        columns += [(f"{name} {metric}", "num"), (f"\u0394 {name}", "num")]
    if _has_ranks(comparison):
        columns += [("relevant", "id"), *((f"{name} first relevant rank", "rank") for name in comparison.names)]
    judged = _judged_metric(comparison, metric)
    columns += [(f"{name} {judged}", "num") for name in comparison.names] if judged else []
    return columns


def _query_values(comparison: Comparison, metric: str) -> dict[str, dict[str, float]]:
    """Per table column key (``score:RUN:METRIC`` or ``delta:RUN``) each query's value, computed once."""
    judged = _judged_metric(comparison, metric)
    values = {}
    for res in comparison.results:
        for m in (metric, judged) if judged else (metric,):
            values[f"score:{res.name}:{m}"] = res.query_scores(m)
        if res.name != comparison.baseline:
            values[f"delta:{res.name}"] = dict(zip(res.query_ids, map(float, comparison.deltas(res.name, metric))))
    return values


RELEVANT_SHOWN = 3
"""Relevant document ids a row of the queries table lists (then how many more; TREC-COVID's have hundreds)."""


def relevant_cell(ids: Sequence[str]) -> list:
    """A query's relevant documents as the table shows them (the first :data:`RELEVANT_SHOWN`, then ``+N more``),
    sorted by the first."""
    more = len(ids) - RELEVANT_SHOWN
    shown = ", ".join(ids[:RELEVANT_SHOWN]) + (f" +{more} more" if more > 0 else "")
    return [html.escape(shown), ids[0] if ids else ""]


def rank_cells(result) -> dict[str, list]:
    """Per query, the run's rank of its first relevant document as the table shows it: the rank, ``not in top N``
    (none among the N documents it ranks) or ``nothing ranked``; sorted as a number, the ones not found after the
    run's deepest rank."""
    past = max(result.depths, default=0) + 1
    cells = {}
    for query, rank, depth in zip(result.query_ids, result.first_relevant, result.depths):
        shown = str(rank) if rank is not None else f"not in top {depth}" if depth else "nothing ranked"
        cells[query] = [shown, rank if rank is not None else past]
    return cells


def _query_cells(comparison: Comparison, metric: str, values: Mapping, query: str, biggest: float,
                 text: int | None, ranks: Mapping[str, Mapping[str, list]]) -> list:
    """One query's cells as the page's table data holds them: [HTML, sort key], or ``text`` (an index into the
    texts) for the query's text; scores to 4 decimals, deltas as ``negmine eval`` prints them (:func:`format_delta`),
    then its relevant documents and each run's rank of them (``ranks``: :func:`rank_cells` per run, when recorded)."""
    def score(name: str, m: str) -> list:
        value = values[f"score:{name}:{m}"][query]
        return [f"{value:.4f}", value]

    def delta(name: str) -> list:
        value = values[f"delta:{name}"][query]
        return [format_delta(value), value]

    cells = [[html.escape(query), query], *([text] if text is not None else []),
             [format_delta(biggest, sign=False), biggest], score(comparison.baseline, metric)]
    for name in _compared(comparison):
        cells += [score(name, metric), delta(name)]
    if ranks:
        cells += [relevant_cell(comparison.relevant[query]), *(ranks[name][query] for name in comparison.names)]
    judged = _judged_metric(comparison, metric)
    return cells + ([score(name, judged) for name in comparison.names] if judged else [])


COLUMN_EM = {"id": 6.0, "num": 5.6, "rank": 5.6}
"""The queries table's least column widths (em) by kind (``+0.1234`` in 12 px, the padding and the border), each
widened to its header's longest unbreakable part; the query text takes the rest of its line (``table.wrap`` in
:data:`negmine.report.html.CSS`). At 8-8.5 em a column, 5 runs made 23 columns, 2,272 px: the table scrolled
sideways in a 1,400 px window."""


def _column_em(name: str, kind: str) -> float | None:
    """A fixed column's width: its kind's, or its header's longest part between spaces and the breaks of
    :func:`negmine.report.table._header` (bold 12 px, the padding and the sort arrow, as the audit's table sizes
    them), at most 11 em (a longer part breaks inside)."""
    if kind == "text":
        return None
    longest = max(len(word) for part in _name_parts(name) for word in part.split())
    return round(min(max(COLUMN_EM[kind], longest * 0.65 + 2.5), 11.0), 1)


def _td(kind: str, width: float | None = None) -> str:
    basis = f' style="flex-basis:{width:g}em"' if width else ""
    return {"id": f'<td class="id"{basis}>', "text": '<td class="text" dir="auto">',
            "rank": f"<td{basis}>"}.get(kind, f'<td class="nw"{basis}>')


def _th(name: str, kind: str, width: float | None) -> str:
    """A header of the queries table: its width as its cells', breakable only at spaces, ``:`` and ``_``."""
    where = f' style="flex-basis:{width:g}em"' if width else ' class="text"'
    return f'<th data-type="{"num" if kind in ("num", "rank") else "text"}"{where}>{_header(name)}</th>'


def query_table(comparison: Comparison, texts: dict[str, str] | None, max_rows: int) -> str:
    """The sortable table of the ``max_rows`` queries with the largest |delta| on the primary metric, largest
    first: the rows as HTML for the first page and as JSON for the page's script (:mod:`negmine.report.table`)."""
    metric = primary_metric(comparison)
    ranked = ranked_queries(comparison, metric)
    columns = _query_columns(comparison, metric, texts is not None)
    shown = ranked[:max_rows]
    text_rows: list[list[str]] = []
    rows, values = [], _query_values(comparison, metric)
    ranks = {res.name: rank_cells(res) for res in comparison.results} if _has_ranks(comparison) else {}
    for query, biggest in shown:
        ref = None
        if texts is not None:
            ref = len(text_rows)
            text_rows.append([texts.get(query, "")[:60], _text(texts.get(query, ""))])
        rows.append(_query_cells(comparison, metric, values, query, biggest, ref, ranks))
    widths = [_column_em(name, kind) for name, kind in columns]
    tds = [_td(kind, width) for (_, kind), width in zip(columns, widths)]

    def content(cell) -> str:
        return text_rows[cell][1] if isinstance(cell, int) else cell[0]

    body = "\n".join("<tr>" + "".join(td + content(c) + "</td>" for td, c in zip(tds, row)) + "</tr>"
                     for row in rows[:PAGE_ROWS])
    head = "".join(_th(name, kind, w) for (name, kind), w in zip(columns, widths))
    data = {"cells": tds, "texts": text_rows,  # a cell whose HTML is its sort key as that text (table.table_data)
            "rows": [[c if isinstance(c, int) else c[0] if c[0] == c[1] else c for c in row] for row in rows]}
    return (f"{_pager(len(rows), 'queries')}<div class=\"hbar\" hidden><div></div></div><div class=\"scroll\">"
            f'<table id="queries" class="sortable wrap" data-rows="queries-data" data-total="{len(rows)}" '
            f'data-page="{PAGE_ROWS}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>'
            f"{json_script('queries-data', data)}")


def _run_sources(results: Mapping, comparison: Comparison) -> dict[str, str]:
    """Each run's row of the settings table: its name, and the model or run file it came from when that is not its
    name (models come first in the evaluation's order, then run files)."""
    config = results["config"]
    sources = [*(config.get("models") or []), *(config.get("run_files") or [])]
    if len(sources) != len(comparison.names):
        sources = comparison.names
    return {f"run {i}{' (baseline)' if name == comparison.baseline else ''}": name if str(source) == name
            else f"{name} ({source})" for i, (name, source) in enumerate(zip(comparison.names, sources), start=1)}


def _overview(results: Mapping, comparison: Comparison) -> str:
    data, config = results["data"], results["config"]
    unknown = data.get("unknown_qrels") if isinstance(data.get("unknown_qrels"), dict) else {}
    correction = comparison.correction
    if comparison.corrected:
        correction += f" (p-values Holm-adjusted over the {len(comparison.p_values)} runs compared, per metric)"
    elif correction != "none" and len(comparison.names) < 2:
        correction += " (the baseline alone: no run compared, no p-values)"
    elif correction != "none":
        correction += " (one run compared: its raw p-values, nothing to adjust)"
    settings = {
        "split": data.get("split", config.get("split")), "data folder": data.get("data_dir", config.get("data_dir")),
        "qrels": data.get("qrels", "-"), "metrics": ", ".join(comparison.metrics),
        "stat test": f"{comparison.stat_test} ({STAT_TEST_LABELS[comparison.stat_test]}, two-sided)",
        "alpha": f"{comparison.alpha:g}", "correction": correction, "baseline": comparison.baseline,
        **_run_sources(results, comparison),
        "unknown qrels": (f"{unknown.get('skipped', 0)} judgments of documents missing from the corpus skipped "
                          f"(--unknown-qrels {unknown.get('policy', '-')})"),
    }
    counts = {"queries evaluated": len(comparison.result(comparison.baseline).query_ids),
              "documents": data.get("documents", "-"), "runs": len(comparison.names)}
    return cards(counts) + key_value_table(settings)


def _columns_note(comparison: Comparison, metric: str) -> str:
    """What the queries table's relevant, rank and judged@k columns hold, when it has them ("" when none)."""
    notes = []
    if _has_ranks(comparison):
        notes.append("relevant: the query's relevant documents (highest grade first); first relevant rank: where each "
                     "run ranks the first of them (not in top N: none among the N documents it ranks).")
    judged = _judged_metric(comparison, metric)
    return " ".join(notes + ([f"{judged_note([judged])}."] if judged else []))


def render_eval_report(results: Mapping, out: Path, max_rows: int = TABLE_ROWS) -> Path:
    """Write the report of ``results`` (a checked results JSON, :func:`read_eval_results`) to ``out`` atomically and
    return the path (a Path, also for a str ``out``)."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ConfigError(f"max_table_rows (--max-table-rows) must be a positive integer, got {max_rows!r}; use e.g. "
                          f"{TABLE_ROWS} (the queries the table shows)")
    comparison = Comparison.from_dict(results["comparison"])
    metric = primary_metric(comparison)
    ranked = ranked_queries(comparison, metric)
    texts, why = query_texts(results, {q for q, _ in ranked[:max_rows]}) if ranked else (None, "")
    more = " (--max-table-rows shows more)" if len(ranked) > max_rows else ""
    note = (f"The {min(len(ranked), max_rows):,} of {len(ranked):,} queries with the largest |delta| on {metric} vs "
            f"the baseline (over the compared runs), largest first{more}; click a header to sort."
            f"{' ' + why[0].upper() + why[1:] + '.' if why else ''}")
    columns = _columns_note(comparison, metric)
    sections = [
        ("Evaluation", _overview(results, comparison)),
        ("Comparison", _blocks_html(comparison, results.get("run_file_coverage", {}),
                                    results.get("run_file_names", {}))),
        ("Per-query deltas", _delta_section(results, comparison)),
        ("Queries with the largest delta", f'<p class="note">{html.escape(note)}</p>'
         + (f'<p class="note">{html.escape(columns)}</p>' if columns else "")
         + query_table(comparison, texts, max_rows) if ranked else
         '<p class="note">One run, no baseline to compare with: no deltas.</p>'),
    ]
    data = results["data"]
    subtitle = (f"{len(comparison.result(comparison.baseline).query_ids)} queries of the {data.get('split')} split of "
                f"{data.get('data_dir')}; baseline {comparison.baseline}")
    with atomic_write(out) as handle:
        handle.write(document("negmine eval", subtitle, sections))
    return Path(out)


def eval_report(results: Path, out: Path | None = None, max_rows: int = TABLE_ROWS) -> Path:
    """Render the report of the results JSON ``results`` (``negmine report RESULTS.json``); ``out`` defaults to
    ``<stem>.report.html`` next to it."""
    from negmine.report.render import check_report_output

    results = Path(results)
    out = Path(out) if out is not None else results.with_name(f"{results.stem}.report.html")
    check_report_output(out, [results])
    return render_eval_report(read_eval_results(results), out, max_rows)
