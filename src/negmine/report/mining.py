"""``negmine report MINED.jsonl``: an HTML page of a ``negmine mine`` run, from its native file and summary.

The summary (``<stem>.summary.json``, :mod:`negmine.pipeline.summary`) gives the input, model, strategy, filter
settings and the counts (pairs in, rows out, pairs skipped by reason, candidates removed per filter); the rows give
the plots (positive vs negative scores, the gap s_pos - s_neg of each negative, in sd units too when rows record
``candidate_score_sd``, the negatives' candidate ranks, negatives per row) and the table of the rows with the
smallest gap, the ones to read for false negatives. One pass over the file in bounded memory: score samples
(:class:`negmine.audit.stats.Reservoir`, seeded), counts, and a heap of the hardest ``max_rows`` rows, their texts
cut to :data:`negmine.report.table.FULL_TEXT_CHARS`. Self-contained, deterministic, written atomically.
"""

from __future__ import annotations

import heapq
import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from negmine.config import TABLE_ROWS
from negmine.errors import ConfigError, InputError, counted
from negmine.io.atomic import atomic_write
from negmine.io.jsonl import read_json_object
from negmine.io.row_source import recorded_label
from negmine.report import plots, table
from negmine.report.html import cards, document, figure, key_value_table

REPORT_SUFFIX = ".mining-report.html"
"""``negatives.jsonl`` -> ``negatives.mining-report.html`` (``negatives.report.html`` is an audit's report of it)."""

SAMPLE_SIZE = 50_000
"""Values kept of each plotted score series (a uniform, seeded sample beyond that, as the audit keeps)."""

SUMMARY_KEYS = {"pairs_in": int, "pairs_out": int, "pairs_skipped": dict, "candidates_removed_by_filter": dict}
"""The mining summary's keys the report reads, with their JSON types."""

FOREIGN = "this is not a negmine mine summary (negmine mine writes it beside its output as <stem>.summary.json)"


def default_mine_summary(mined: Path) -> Path:
    """Where ``negmine mine -o FILE`` writes its summary by default (:func:`negmine.pipeline.mine.summary_path`)."""
    return Path(mined).with_name(f"{Path(mined).stem}.summary.json")


def audit_that_wrote(cleaned: Path) -> dict | None:
    """The summary of the negmine audit whose cleaned output is ``cleaned`` (an ``*.audit-summary.json`` beside it
    naming a file of that name as its ``output``), or None."""
    import json

    for path in sorted(Path(cleaned).parent.glob("*.audit-summary.json")):
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(found, dict) and isinstance(found.get("output"), str) and isinstance(found.get("flags"), str) \
                and Path(found["output"]).name == cleaned.name:
            return {**found, "summary_path": path}
    return None


def audited_file(cleaned: Path, audit: dict) -> str:
    """The mined file the audit cleaned: beside ``cleaned`` when it is there (where an audit writes by default),
    else the resolved path its summary recorded."""
    recorded = Path(str(audit.get("input", "")))
    if recorded.name and cleaned.with_name(recorded.name).is_file():
        return str(cleaned.with_name(recorded.name))
    input_file = audit.get("input_file")
    return str(input_file.get("path", recorded)) if isinstance(input_file, dict) else str(recorded)


def missing_summary(mined: Path | None) -> str:
    """What to do when the mining summary of ``mined`` is not found; for an audit's cleaned file, which has none,
    the two pages there are (``give it with --summary`` sent the reader looking for a file no command writes)."""
    audit = audit_that_wrote(Path(mined)) if mined is not None else None
    if audit is not None:
        flags = Path(mined).with_name(Path(audit["flags"]).name)
        return (f"mining summary not found: {mined} is the cleaned output of a negmine audit ({audit['summary_path']}), "
                f"which writes no mining summary; its page is the audit's, negmine report {flags}; for the mined file "
                f"it cleaned: negmine report {audited_file(Path(mined), audit)}")
    where = f" beside {mined}" if mined is not None else ""
    return (f"mining summary not found{where}: negmine mine writes it next to its output as <stem>.summary.json "
            "(--summary-json names another path); give it with --summary, or mine the file again")


def read_mine_summary(path: Path, mined: Path | None = None) -> dict:
    """The mining summary at ``path``, its counts checked; InputError naming the file and the fix otherwise."""
    missing = missing_summary(mined)
    summary = read_json_object(path, SUMMARY_KEYS, missing, FOREIGN)
    counts = [("pairs_in", summary["pairs_in"]), ("pairs_out", summary["pairs_out"])]
    for key in ("pairs_skipped", "candidates_removed_by_filter"):
        counts += [(f"{key}.{name}", value) for name, value in summary[key].items()]
    for field, value in counts:
        if type(value) is not int or value < 0:
            raise InputError(path, None, field, f"must be an integer >= 0, got {str(value)[:80]}; {FOREIGN}")
    if not isinstance(summary.get("config", {}), dict):
        raise InputError(path, None, "config", f"must be a JSON object; {FOREIGN}")
    return summary


@dataclass
class HardRow:
    """A row of the table: the row's negative with the smallest gap, its texts cut (with their lengths)."""

    gap: float
    line: int
    query_id: str
    doc_id: str
    texts: tuple[tuple[str, int], ...]  # (cut text, length) of the query, positive and negative
    positive_score: float
    negative_score: float
    rank: int
    negatives: int
    sd_gap: float | None


def _cut(text: str) -> tuple[str, int]:
    return text[:table.FULL_TEXT_CHARS], len(text)


class MinedStats:
    """One pass over a mined file's rows: samples for the plots, counts, and the ``keep`` smallest-gap rows."""

    def __init__(self, keep: int, sample_size: int = SAMPLE_SIZE, seed: int = 42) -> None:
        from negmine.audit.stats import Reservoir

        self.keep = keep
        names = ("positive", "negative", "gap", "sd_gap")
        self.samples = {name: Reservoir(sample_size, seed + i) for i, name in enumerate(names)}
        self.ranks: Counter = Counter()
        self.widths: Counter = Counter()
        self.counts: Counter = Counter()
        self._heap: list[tuple[float, int, HardRow]] = []

    def add(self, line: int, row: Mapping) -> None:
        """Count ``row`` (read at ``line``); negatives an audit marked as false negatives are counted apart."""
        flags = row.get("negative_flags") or [None] * len(row["negative_ids"])
        kept = [i for i, flag in enumerate(flags) if flag is None]
        self.counts["rows"] += 1
        self.counts["negatives"] += len(kept)
        self.counts["flagged"] += len(flags) - len(kept)
        self.widths[len(kept)] += 1
        positive, sd = row["positive_score"], row.get("candidate_score_sd")
        self.samples["positive"].extend([positive])
        scores = [row["negative_scores"][i] for i in kept]
        self.samples["negative"].extend(scores)
        gaps = [round(positive - score, 6) for score in scores]
        self.samples["gap"].extend(gaps)
        self.ranks.update(row["negative_ranks"][i] for i in kept)
        if sd is not None:
            self.counts["rows_with_sd"] += 1
            self.counts["rows_with_sd_0"] += sd == 0
            reference = row.get("margin_score", positive)  # the score the margins were measured from
            self.samples["sd_gap"].extend((reference - score) / sd for score in scores if sd > 0)
        self.counts["rows_with_margin_score"] += "margin_score" in row
        if kept:
            self._offer(line, row, kept, gaps, sd)

    def _offer(self, line: int, row: Mapping, kept: list[int], gaps: list[float], sd: float | None) -> None:
        """Keep the row in the heap of the ``keep`` smallest gaps (ties: the earlier line)."""
        j = min(range(len(kept)), key=lambda k: (gaps[k], k))
        key = (-gaps[j], -line)
        if len(self._heap) >= self.keep and key < self._heap[0][:2]:
            return
        i = kept[j]
        reference = row.get("margin_score", row["positive_score"])
        hard = HardRow(gaps[j], line, row["query_id"], row["negative_ids"][i],
                       (_cut(row["query"]), _cut(row["positive"]), _cut(row["negatives"][i])),
                       row["positive_score"], row["negative_scores"][i], row["negative_ranks"][i], len(kept),
                       None if not sd else round((reference - row["negative_scores"][i]) / sd, 6))
        heapq.heappush(self._heap, (*key, hard))
        if len(self._heap) > self.keep:
            heapq.heappop(self._heap)

    def hardest(self) -> list[HardRow]:
        """The kept rows, smallest gap first (ties in file order)."""
        return [hard for _, _, hard in sorted(self._heap, key=lambda item: (-item[0], -item[1]))]


def read_mined_stats(mined: Path, keep: int) -> MinedStats:
    """Stream the validated rows of ``mined`` (file, line and field on the first bad one) into :class:`MinedStats`."""
    from negmine.export.native import iter_native_lines

    stats = MinedStats(keep)
    for line, row in iter_native_lines(mined):
        stats.add(line, row)
    return stats


def _config(summary: Mapping, section: str) -> dict:
    value = (summary.get("config") or {}).get(section)
    return value if isinstance(value, dict) else {}


def _input(summary: Mapping) -> str:
    """The data mined, as the summary's config names it (a Python dataset: as the messages of its run named it,
    :func:`negmine.io.row_source.recorded_label`: it said ``a datasets.Dataset given in Python (12
    rows)``, where they said ``the datasets.Dataset of 12 rows``)."""
    data = _config(summary, "data")
    if data.get("data_dir"):
        return f"{data['data_dir']} (split {data.get('split')})"
    if data.get("pairs"):
        return f"pairs {data['pairs']}" + (f", corpus {data['corpus']}" if data.get("corpus") else "")
    if data.get("corpus"):
        return f"corpus {data['corpus']}, queries {data.get('queries')}, qrels {data.get('qrels')}"
    given = summary.get("pairs_input")
    if isinstance(given, dict):
        return f"{recorded_label(given)} given in Python"
    return "not recorded"


def _model(summary: Mapping) -> str:
    retrieve, encoder = _config(summary, "retrieve"), _config(summary, "encoder")
    method = retrieve.get("method")
    model = str(encoder.get("model", "not recorded"))
    if method == "bm25":
        return "none (BM25 retrieval)"
    return f"{model} + BM25 ({method}, fusion {retrieve.get('fusion')})" if method == "hybrid" else model


def _strategy(summary: Mapping) -> str:
    select = _config(summary, "select")
    if not select:
        return "not recorded"
    text = f"{select.get('strategy')}, {counted(select.get('num_negatives'), 'negative')} per pair"
    if select.get("rank_min") is not None or select.get("rank_max") is not None:
        text += f", ranks {select.get('rank_min') or 1} to {select.get('rank_max') or 'the depth'}"
    if select.get("strategy_params"):
        text += f", parameters {', '.join(map(str, select['strategy_params']))}"
    return text + (", short pairs kept (--keep-partial)" if select.get("keep_partial") else "")


def _filters(summary: Mapping) -> dict[str, object]:
    """The filter settings the run had (those left unset are not shown), and the near-duplicate exclusion."""
    filters = {name: value for name, value in sorted(_config(summary, "filters").items()) if value is not None}
    near_dup = _config(summary, "near_dup")
    cosine, overlap = near_dup.get("cosine"), near_dup.get("overlap")
    filters["near-duplicates of the positive"] = ("off" if cosine is None and overlap is None else
                                                  f"cosine >= {cosine}, overlap >= {overlap}")
    return filters


def _removed(summary: Mapping) -> dict[str, int]:
    """Candidates removed per filter: the filters the run set, and any that removed candidates (as it printed)."""
    from negmine.pipeline.summary import filter_set

    config = summary.get("config")
    return {f"candidates removed by {name}": n for name, n in summary["candidates_removed_by_filter"].items()
            if n or filter_set(config, name)}


def _counts(summary: Mapping) -> dict[str, object]:
    """The summary's counts of pairs and candidates left out, each under its reason, exactly as recorded. The counts
    of pairs mined that are not left out (the fallback's, the repeating pairs': :data:`MINED_SECTION`) and the
    positives a ``--pairs`` run added to its ``--corpus`` (:data:`ADDED_SECTION`) have sections of their own."""
    counts: dict[str, object] = {f"skipped: {reason}": n for reason, n in summary["pairs_skipped"].items()}
    if summary.get("qrels_not_relevant"):
        counts["qrels rows not relevant (score <= 0): no pair"] = summary["qrels_not_relevant"]
    unknown = summary.get("unknown_qrels")
    if isinstance(unknown, dict) and unknown.get("skipped"):
        counts["qrels rows skipped (document not in the corpus)"] = unknown["skipped"]
    return {**counts, **_removed(summary)}


MINED_SECTION = "Among the pairs mined"
"""The heading of the counts of pairs mined, not left out (:func:`negmine.pipeline.summary.pairs_mined_apart`, in
the words ``negmine mine`` prints): the short pairs selected from the fallback pool, of those that tried it (the
denominator counts the skipped ones too), and the rows repeating an earlier row's pair. Until 2026-12-07 they were
under "Pairs and candidates left out", which they are not; a summary written before then counted the repeating
pairs before selection, skipped ones included, and the report shows it as recorded."""

ADDED_SECTION = "Positives added to the corpus"


def _added_positives(summary: Mapping) -> dict[str, str]:
    """The positives a ``--pairs`` run added to its ``--corpus`` (``pairs_positives_added_to_corpus``), when it
    added any, in the words ``negmine mine`` prints (:func:`negmine.pipeline.summary.added_positives`): not left
    out, but part of the corpus the negatives were drawn from came from the pairs. The page shows them under
    :data:`ADDED_SECTION`: under "Pairs and candidates left out", where they were first shown (session 60), the
    heading said they were left out."""
    from negmine.pipeline.summary import ADDED_POSITIVES, added_positives

    text = added_positives(summary)
    return {} if text is None else {ADDED_POSITIVES: text}


def _overview(summary: Mapping, stats: MinedStats, mined: Path, summary_path: Path) -> str:
    skipped = sum(summary["pairs_skipped"].values())
    values: dict[str, object] = {"pairs in": summary["pairs_in"], "rows out": summary["pairs_out"],
                                 "pairs skipped": skipped, "negatives": stats.counts["negatives"]}
    if stats.counts["flagged"]:
        values["negatives marked as false negatives (left out below)"] = stats.counts["flagged"]
    note = ""
    if stats.counts["rows"] != summary["pairs_out"]:
        values["rows in the file"] = stats.counts["rows"]
        note = (f'<p class="note">The file holds {counted(stats.counts["rows"], "row", spec=",")}, the summary records '
                f'{summary["pairs_out"]:,} written: the file was changed after mining, or the summary is another '
                "run's (the plots and table are the file's).</p>")
    settings = {"mined file": mined, "summary": summary_path, "input": _input(summary), "model": _model(summary),
                "retrieval": _retrieval(summary), "strategy": _strategy(summary), "filters": _filters(summary)}
    return cards(values) + note + key_value_table(settings)


def _retrieval(summary: Mapping) -> str:
    retrieve = _config(summary, "retrieve")
    if not retrieve:
        return "not recorded"
    fallback = f", fallback {retrieve['fallback']} for short pairs" if retrieve.get("fallback") else ""
    return f"{retrieve.get('method')}, depth {retrieve.get('depth')}{fallback}"


def _score_plot(stats: MinedStats) -> str:
    fig = plots._figure()
    ax = fig.add_subplot()
    positive, negative = stats.samples["positive"], stats.samples["negative"]
    plots._histograms(ax, {"positives": (positive.values, plots.COLORS["positive"], positive.seen),
                           "kept negatives": (negative.values, plots.COLORS["kept"], negative.seen)},
                      "mining-model score")
    ax.set_title("Positive vs kept negative scores")
    return figure(plots.to_base64_png(fig), "positive and negative scores")


def _gap_plot(name: str, xlabel: str, title: str, rule: tuple[float, str] | None, stats: MinedStats) -> str:
    """A histogram of a gap sample, with the margin ``rule`` (value, legend label) drawn as a dashed line."""
    fig = plots._figure()
    ax = fig.add_subplot()
    sample = stats.samples[name]
    plots._histograms(ax, {"kept negatives": (sample.values, plots.COLORS["kept"], sample.seen)}, xlabel)
    if rule is not None:
        ax.axvline(rule[0], color=plots.COLORS["flagged"], linestyle="--", linewidth=1.2, label=rule[1])
        ax.legend(fontsize=8)
    ax.set_title(title)
    return figure(plots.to_base64_png(fig), title)


def _count_plot(counts: Counter, xlabel: str, ylabel: str, title: str) -> str:
    """Bars of ``counts`` (value -> how often); a histogram of 50 bins when the values span more than 100."""
    import numpy as np

    fig = plots._figure()
    ax = fig.add_subplot()
    keys = sorted(counts)
    if keys and keys[-1] - keys[0] > 100:
        ax.hist(keys, weights=[counts[k] for k in keys], bins=np.linspace(keys[0], keys[-1] + 1, 51),
                color=plots.COLORS["kept"])
    else:
        ax.bar(keys, [counts[k] for k in keys], width=0.8, color=plots.COLORS["kept"])
    if len(keys) <= 12:
        ax.set_xticks(keys)  # whole numbers only; one value (5 negatives a row) drew ticks 4.6 to 5.4
        ax.set_xlim(keys[0] - 1, keys[-1] + 1)
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return figure(plots.to_base64_png(fig), title)


def _figures(summary: Mapping, stats: MinedStats) -> str:
    if not stats.counts["rows"]:
        return '<p class="note">The file has no rows: nothing to plot.</p>'
    filters = _config(summary, "filters")
    absolute, sd = filters.get("absolute_margin"), filters.get("sd_margin")
    imgs = [_score_plot(stats),
            _gap_plot("gap", "gap s_pos - s_neg (mining score)", "Gap to the positive",
                      None if absolute is None else (absolute, f"--absolute-margin {absolute}"), stats)]
    if stats.counts["rows_with_sd"]:
        imgs.append(_gap_plot("sd_gap", "gap in units of the pair's candidate score sd", "Gap in sd units",
                              None if sd is None else (sd, f"--sd-margin {sd}"), stats))
    imgs.append(_count_plot(stats.ranks, "candidate rank (1 = the query's top candidate)", "negatives",
                            "Ranks of the kept negatives"))
    imgs.append(_count_plot(stats.widths, "negatives in the row", "rows", "Negatives per row"))
    return '<div class="plots">' + "".join(imgs) + "</div>" + _plot_notes(filters, stats)


def _plot_notes(filters: Mapping, stats: MinedStats) -> str:
    """What the gap plots do not draw: a relative margin (r·|s_pos|, a per-row value) and which score an sd gap is
    measured from."""
    notes = []
    if filters.get("relative_margin") is not None:
        notes.append(f"--relative-margin {filters['relative_margin']} keeps s_neg < s_pos - r·|s_pos|, a margin per "
                     "row, so no line is drawn for it.")
    if filters.get("sd_margin") is not None and not stats.counts["rows_with_sd"]:
        notes.append("The rows record no candidate_score_sd, so the gap is not shown in sd units.")
    if stats.counts["rows_with_sd_0"]:
        n = stats.counts['rows_with_sd_0']
        notes.append(f"{counted(n, 'row', spec=',')} {'has' if n == 1 else 'have'} candidate_score_sd 0 and "
                     f"{'is' if n == 1 else 'are'} left out of the sd plot.")
    if stats.counts["rows_with_margin_score"]:
        notes.append("The rows record margin_score (--margin-from lowest-positive): the sd plot measures from it, the "
                     "other gaps from the row's own positive.")
    return "".join(f'<p class="note">{html.escape(note)}</p>' for note in notes)


COLUMNS = (("line", "num", "nw", 5.1), ("gap", "num", "nw", 5.5), ("gap (sd)", "num", "nw", 4.6),
           ("query_id", "text", "id", 7.7), ("query", "text", "text", None), ("positive", "text", "text", None),
           ("s_pos", "num", "nw", 5.8), ("hardest negative", "text", "text", None), ("doc_id", "text", "id", 6.4),
           ("s_neg", "num", "nw", 5.8), ("rank", "num", "nw", 5.1), ("#neg", "num", "nw", 5.1))
"""The table's columns: name, sort type, cell class and width (em; None: a text column sharing the rest). A
name's width is its characters x 0.65 + 2.5 em (bold 12 px and the sort arrow, as the audit's table sizes them):
at 4 em ``#neg`` broke into ``#ne`` / ``g``."""

TEXT_MIN_PX = 190
"""The narrowest a text column gets: the table fits a 1,280 px window (51 em of fixed columns, 612 px, and three
text columns in the 1,202 px its box has beside the page's margins and scrollbar; at 200 px it scrolled sideways
by 11 px), and scrolls sideways in a narrower one."""


def _columns(rows: Sequence[HardRow]) -> list[tuple[str, str, str, float | None]]:
    """:data:`COLUMNS`, without the sd gap when no row records ``candidate_score_sd``."""
    return [c for c in COLUMNS if c[0] != "gap (sd)" or any(r.sd_gap is not None for r in rows)]


def text_html(value: str, length: int) -> str:
    """A long text's cell (:func:`negmine.report.table._text`); ``value`` is its first ``length``'s characters."""
    shown = table._text(value)
    if length <= len(value):
        return shown
    note = f' <span class="note">… {length - len(value):,} more characters (the mined file has the full text)</span>'
    return shown[:-len("</details>")] + note + "</details>"


def _cells(row: HardRow, columns: Sequence[tuple], text) -> list[tuple[object, object]]:
    """(content, sort key) of each column; ``text(value, length)`` gives a long text's content."""
    values = {"line": (str(row.line), row.line), "gap": (f"{row.gap:.6f}", row.gap),
              "gap (sd)": ("" if row.sd_gap is None else f"{row.sd_gap:.3f}", row.sd_gap),
              "query_id": (html.escape(row.query_id), row.query_id), "doc_id": (html.escape(row.doc_id), row.doc_id),
              "s_pos": (f"{row.positive_score:.6f}", row.positive_score),
              "s_neg": (f"{row.negative_score:.6f}", row.negative_score),
              "rank": (str(row.rank), row.rank), "#neg": (str(row.negatives), row.negatives)}
    for name, (value, length) in zip(("query", "positive", "hardest negative"), row.texts):
        values[name] = (text(value, length), value[:60])
    return [values[name] for name, *_ in columns]


def _td(css: str) -> str:
    return '<td class="text" dir="auto">' if css == "text" else f'<td class="{css}">'


def _table_data(rows: Sequence[HardRow], columns: Sequence[tuple]) -> dict:
    """The rows as :data:`negmine.report.html.SORT_JS` reads them (see :func:`negmine.report.table.table_data`)."""
    index: dict[str, int] = {}
    texts: list[list[str]] = []

    def ref(value: str, length: int) -> int:
        if value not in index:
            index[value] = len(texts)
            texts.append([value[:60], text_html(value, length)])
        return index[value]

    data = [[content if isinstance(content, int) or content == key else [content, key]
             for content, key in _cells(row, columns, ref)] for row in rows]
    return {"cells": [_td(css) for _, _, css, _ in columns], "texts": texts, "rows": data}


def _table(rows: Sequence[HardRow], file_rows: int) -> str:
    if not rows:
        return '<p class="note">No row has a negative: there is no table.</p>'
    columns = _columns(rows)
    head = "".join(f'<th data-type="{kind}">{html.escape(name)}</th>' for name, kind, _, _ in columns)
    cols = "".join(f'<col style="width:{width:g}em">' if width else "<col>" for *_, width in columns)
    fixed = sum(width for *_, width in columns if width)
    body = "\n".join("<tr>" + "".join(f"{_td(css)}{content}</td>" for (_, _, css, _), (content, _) in
                                      zip(columns, _cells(row, columns, text_html))) + "</tr>"
                     for row in rows[:table.PAGE_ROWS])
    more = (f" (--max-table-rows shows more)" if len(rows) < file_rows else "")
    note = (f'<p class="note">The {len(rows):,} of {counted(file_rows, "row", spec=",")} with the smallest gap s_pos - s_neg{more}, '
            "smallest first: the rows to read for false negatives. Each shows its hardest negative (the one with that "
            "gap; the first for --strategy top); #neg: the row's negatives; line: the row's line in the file. Click a "
            "header to sort.</p>")
    if len(rows) > table.PAGE_ROWS:
        note += (f'<noscript><p class="note">Without JavaScript only rows 1–{table.PAGE_ROWS} are shown (paging, '
                 "sorting and filtering need it).</p></noscript>")
    return (f'{note}{table._pager(len(rows), "hardest")}<div class="scroll"><table id="hardest" class="sortable" '
            f'data-rows="hardest-data" data-total="{len(rows)}" data-page="{table.PAGE_ROWS}" style="min-width:calc('
            f'{fixed:g}em + {3 * TEXT_MIN_PX}px)"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table></div>{table.json_script('hardest-data', _table_data(rows, columns))}")


def check_max_rows(max_rows: object) -> None:
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ConfigError(f"max_table_rows (--max-table-rows) must be a positive integer, got {max_rows!r}; use e.g. "
                          f"{TABLE_ROWS} (the rows with the smallest gap the table shows)")


def render_mining_report(summary: Mapping, stats: MinedStats, out: Path, mined: Path, summary_path: Path) -> Path:
    """Write the page to ``out`` (atomically) and return the path."""
    from negmine.pipeline.summary import pairs_mined_apart

    added, apart = _added_positives(summary), pairs_mined_apart(summary)
    sections = [("Overview", _overview(summary, stats, mined, summary_path)),
                ("Pairs and candidates left out", key_value_table(_counts(summary))),
                *([(MINED_SECTION, key_value_table(apart))] if apart else []),
                *([(ADDED_SECTION, key_value_table(added))] if added else []),
                ("Scores", _figures(summary, stats)),
                ("Hardest rows", _table(stats.hardest(), stats.counts["rows"]))]
    subtitle = (f"{counted(summary['pairs_out'], 'row', spec=',')} mined from {counted(summary['pairs_in'], 'pair', spec=',')}: "
                f"{mined}")
    with atomic_write(out) as handle:
        handle.write(document("negmine mine", subtitle, sections))
    return Path(out)


def mining_report(mined: Path, summary: Path | None = None, out: Path | None = None,
                  max_rows: int = TABLE_ROWS) -> Path:
    """Render the report of the mined (native) file ``mined``; ``summary`` defaults to ``<stem>.summary.json`` and
    ``out`` to ``<stem>.mining-report.html`` beside it, as ``negmine report MINED.jsonl``."""
    from negmine.report.render import check_report_output

    mined = Path(mined)
    check_max_rows(max_rows)
    if not mined.is_file():
        raise InputError(mined, None, None, "mined file not found (write it with negmine mine -o FILE)")
    summary = Path(summary) if summary is not None else default_mine_summary(mined)
    out = Path(out) if out is not None else mined.with_name(mined.stem + REPORT_SUFFIX)
    check_report_output(out, [mined, summary])
    loaded = read_mine_summary(summary, mined)
    return render_mining_report(loaded, read_mined_stats(mined, max_rows), out, mined, summary)
