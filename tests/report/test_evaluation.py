"""The report of ``negmine eval``'s results JSON (negmine.report.evaluation), on the demo's test split evaluated with
two tiny local models and a run file."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from negmine.config import EncoderConfig, EvalConfig
from negmine.errors import InputError
from negmine.evaluate.compare import Comparison, format_table
from negmine.report.evaluation import eval_report, read_eval_results

SCRIPT_QUERY = "q001"
SCRIPT_TEXT = "Do afternoon naps <script>alert('nap')</script> ruin sleep & rest?"
RUN_TAG = "<i>oracle</i>&co"
QUERIES = 5
"""The queries table's index among the page's tables: after the settings and the comparison's means, p-values,
deltas and wins/ties/losses."""


def _demo_copy(folder: Path) -> Path:
    """The demo data with one test query's text holding markup (the report must show it as text)."""
    from negmine.demo import demo_path

    shutil.copytree(demo_path(), folder)
    queries = folder / "queries.jsonl"
    rows = [json.loads(line) for line in queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if row["_id"] == SCRIPT_QUERY:
            row["text"] = SCRIPT_TEXT
    queries.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return folder


def _oracle_run(data: Path, path: Path) -> Path:
    """A run retrieving each test query's relevant documents first, tagged with markup."""
    lines = (data / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    relevant = [line.split("\t") for line in lines if line.strip() and int(line.split("\t")[2]) > 0]
    path.write_text("".join(f"{q} Q0 {d} {i + 1} {10.0 - i} {RUN_TAG}\n" for i, (q, d, _) in enumerate(relevant)))
    return path


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory, tiny_model_path):
    """(results JSON path, the EvalReport): two tiny models (seeds 0 and 1) and the oracle run file."""
    from negmine.evaluate.api import evaluate
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    work = tmp_path_factory.mktemp("eval_report")
    data = _demo_copy(work / "data")
    base = shutil.copytree(tiny_model_path, work / "base")
    other = shutil.copytree(build_tiny_bi_encoder(work / "seed1", seed=1), work / "other")
    config = EvalConfig(data_dir=data, split="test", models=(str(base), str(other)),
                        run_files=(_oracle_run(data, work / "oracle.trec"),), output=work / "results.json",
                        encoder=EncoderConfig(cache_dir=work / "cache", show_progress=False))
    return work / "results.json", evaluate(config)


@pytest.fixture(scope="module")
def page(evaluation, tmp_path_factory) -> str:
    """The report of ``evaluation``'s results, all queries in the table."""
    return eval_report(evaluation[0], tmp_path_factory.mktemp("page") / "r.html").read_text(encoding="utf-8")


class _Tables(HTMLParser):
    """Each ``<table>``'s rows as lists of cell texts (entities decoded), and the figure captions."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.captions: list[str] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "figcaption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "figcaption":
            self.captions.append("".join(self._caption))
            self._caption = None

    def handle_data(self, data):
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)


def _parsed(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def _render(results: Path, out: Path, max_rows: int = 20_000) -> str:
    return eval_report(results, out, max_rows).read_text(encoding="utf-8")


def _p(value: float) -> str:
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def test_the_comparison_tables_hold_the_results_jsons_values(evaluation, page):
    results, report = evaluation
    saved = json.loads(results.read_text())["comparison"]
    tables = _parsed(page).tables
    base, metrics = saved["baseline"], saved["metrics"]
    means = [[f"{name} (baseline)" if name == base else name, str(saved["runs"][name]["n_queries"]),
              *(f"{saved['runs'][name]['mean'][m]:.4f}"
                + ("*" if name != base and saved["runs"][name]["vs_baseline"][m]["significant"] else "")
                for m in metrics)] for name in saved["order"]]
    others = [name for name in saved["order"] if name != base]
    tests = {name: saved["runs"][name]["vs_baseline"] for name in others}
    p_values = [[name, *(_p(tests[name][m]["p_value_adjusted"]) for m in metrics)] for name in others]
    deltas = [[name, *(f"{tests[name][m]['mean_delta']:+.4f} [{tests[name][m]['confidence_interval'][0]:+.4f}, "
                       f"{tests[name][m]['confidence_interval'][1]:+.4f}]" for m in metrics)] for name in others]
    assert tables[1] == [["run", "queries", *metrics], *means]  # tables[0]: the settings
    assert tables[2] == [["run", *metrics], *p_values]
    assert tables[3] == [["run", *metrics], *deltas]
    assert any(row[-1].endswith("*") for row in means), "the oracle run is significantly better: a marked cell"
    # the same cells negmine eval printed: the comparison read back from the JSON prints the same table
    assert format_table(Comparison.from_dict(saved)) == report.table()


def test_the_header_names_the_evaluations_settings(evaluation, page):
    results, _ = evaluation
    saved = json.loads(results.read_text())
    settings = dict(_parsed(page).tables[0])
    assert settings["split"] == "test" and settings["data folder"] == saved["data"]["data_dir"]
    assert settings["metrics"] == "ndcg@10, mrr@10, recall@100, map, judged@10"
    assert settings["stat test"] == "student (paired t-test, two-sided)" and settings["alpha"] == "0.05"
    assert settings["correction"] == "holm (p-values Holm-adjusted over the 2 runs compared, per metric)"
    assert settings["baseline"] == "base" and settings["run 1 (baseline)"] == f"base ({saved['config']['models'][0]})"
    assert settings["run 3"] == f"{RUN_TAG} ({saved['config']['run_files'][0]})"


def _table_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="queries-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def _expected_order(saved: dict, metric: str = "ndcg@10") -> list[tuple[str, float]]:
    base = saved["baseline"]
    tests = [entry["vs_baseline"][metric]["per_query_delta"] for name, entry in saved["runs"].items() if name != base]
    largest = {q: max(abs(t[q]) for t in tests) for q in tests[0]}
    return sorted(largest.items(), key=lambda item: (-item[1], item[0]))


def test_the_queries_table_shows_the_largest_deltas_first_capped_by_max_rows(evaluation, tmp_path):
    results, _ = evaluation
    saved = json.loads(results.read_text())["comparison"]
    page = _render(results, tmp_path / "r.html", max_rows=5)
    data = _table_data(page)
    expected = _expected_order(saved)[:5]
    assert [row[0] for row in data["rows"]] == [q for q, _ in expected]
    assert [row[2] for row in data["rows"]] == [[f"{d:.4f}", d] for _, d in expected]
    assert ("The 5 of 20 queries with the largest |delta| on ndcg@10 vs the baseline (over the compared runs), "
            "largest first (--max-table-rows shows more); click a header to sort.") in page
    header = _parsed(page).tables[QUERIES][0]
    assert header[:4] == ["query_id", "query", "largest |\u0394| ndcg@10", "base (baseline) ndcg@10"]
    for row in data["rows"]:  # each run's delta as the JSON records it, and judged@10 per run
        for name in ("other", RUN_TAG):
            delta = saved["runs"][name]["vs_baseline"]["ndcg@10"]["per_query_delta"][row[0]]
            assert row[header.index(f"\u0394 {name}")] == [f"{delta:+.4f}", delta]
        for name in ("base", "other", RUN_TAG):
            judged = saved["runs"][name]["per_query"]["judged@10"][row[0]]
            assert row[header.index(f"{name} judged@10")] == [f"{judged:.4f}", judged]
    assert [len(table) - 1 for table in _parsed(page).tables][QUERIES] == 5


def test_texts_and_names_are_escaped(page):
    assert "<script>alert" not in page and "<i>oracle" not in page
    assert "Do afternoon naps &lt;script&gt;alert(&#x27;nap&#x27;)&lt;/script&gt; ruin sleep &amp; rest?" in page
    parsed = _parsed(page)
    assert [row[0] for row in parsed.tables[1]][-1] == RUN_TAG  # shown as text
    row = next(row for row in parsed.tables[QUERIES] if row[0] == SCRIPT_QUERY)
    assert row[1] == SCRIPT_TEXT
    texts = _table_data(page)["texts"]  # the script's data holds escaped HTML only
    assert all("<script" not in html for _, html in texts) and "\\u003c" in page


def test_captions_count_wins_ties_and_losses_as_recorded(evaluation, page):
    results, _ = evaluation
    saved = json.loads(results.read_text())["comparison"]
    captions = _parsed(page).captions
    assert len(captions) == len(saved["metrics"])
    for metric, caption in zip(saved["metrics"], captions):
        assert caption.startswith(f"{metric} vs baseline base over 20 queries")
        for name in ("other", RUN_TAG):
            test = saved["runs"][name]["vs_baseline"][metric]
            counts = [f"{n} {word}{'' if n == 1 else plural}" for n, word, plural in
                      ((test["wins"], "win", "s"), (test["ties"], "tie", "s"), (test["losses"], "loss", "es"))]
            assert f"{name}: {', '.join(counts)}" in caption


def test_the_same_results_give_the_same_bytes(evaluation, page, tmp_path):
    results, _ = evaluation
    first = eval_report(results, tmp_path / "a.html").read_bytes()
    assert first == page.encode("utf-8")  # the module's page, rendered earlier to another file
    assert first.count(b"data:image/png;base64,") == 5  # a figure per metric


def test_query_texts_are_left_out_when_the_queries_file_changed(evaluation, tmp_path):
    results, _ = evaluation
    saved = json.loads(results.read_text())
    queries = Path(saved["beir_input"]["queries"]["path"])
    moved = tmp_path / "results.json"
    saved["beir_input"]["queries"]["sha256"] = "0" * 64  # as if the file were edited since
    moved.write_text(json.dumps(saved))
    page = _render(moved, tmp_path / "r.html")
    assert f"No query texts: {queries} changed since the evaluation read it" in page
    assert SCRIPT_QUERY in page and "afternoon naps" not in page
    assert _parsed(page).tables[QUERIES][0][:2] == ["query_id", "largest |\u0394| ndcg@10"]


def test_one_run_has_no_deltas_to_show(evaluation, tmp_path):
    results, _ = evaluation
    saved = json.loads(results.read_text())
    comparison = saved["comparison"]
    comparison["runs"] = {"base": comparison["runs"]["base"]}
    comparison["order"] = ["base"]
    alone = tmp_path / "alone.json"
    alone.write_text(json.dumps(saved))
    page = _render(alone, tmp_path / "r.html")
    assert page.count("One run, no baseline to compare with: no deltas.") == 2
    assert "data:image/png" not in page and len(_parsed(page).tables) == 2
    # it said "holm (one run compared: its raw p-values, nothing to adjust)" of the baseline alone, which has none
    assert dict(_parsed(page).tables[0])["correction"] == "holm (the baseline alone: no run compared, no p-values)"


@pytest.mark.parametrize(("edit", "field", "message"), [
    (lambda c: c.update(stat_test="wilcoxon"), "comparison.stat_test",
     "must be one of student, fisher, got 'wilcoxon'"),
    (lambda c: c["runs"]["other"]["per_query"]["ndcg@10"].pop("q001"), "comparison.runs.other.per_query.ndcg@10",
     "must be a JSON object of a finite score per evaluated query (the baseline's queries), got object"),
    (lambda c: c["runs"]["other"]["vs_baseline"]["map"].update(wins=-1), "comparison.runs.other.vs_baseline.map.wins",
     "must be an integer >= 0, got -1"),
    (lambda c: c["runs"]["other"]["vs_baseline"].pop("mrr@10"), "comparison.runs.other.vs_baseline.mrr@10.p_value",
     "must be a p-value or null, got nothing (missing)"),
    (lambda c: c["runs"]["other"]["first_relevant_rank"].update(q001=0), "comparison.runs.other.first_relevant_rank",
     "must be a JSON object of a rank >= 1 or null per evaluated query (the baseline's queries), got object"),
    (lambda c: c["runs"]["base"].pop("documents_ranked"), "comparison.runs.base.documents_ranked",
     "must be a JSON object of an integer >= 0 per evaluated query (the baseline's queries), got nothing (missing)"),
    (lambda c: c["relevant"].update(q001="d1"), "comparison.relevant",
     "must be a JSON object of a non-empty list of relevant document ids per evaluated query (the baseline's "
     "queries), got object"),
])
def test_an_edited_results_json_is_refused_naming_the_field(evaluation, tmp_path, edit, field, message):
    results, _ = evaluation
    saved = json.loads(results.read_text())
    edit(saved["comparison"])
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(saved))
    with pytest.raises(InputError) as caught:
        read_eval_results(edited)
    assert str(caught.value) == (f"{edited}: field '{field}': {message}; this results JSON was edited or written by "
                                 "another tool: write it again with negmine eval ... -o FILE")


@pytest.mark.parametrize(("name", "document", "hint"), [
    ("other.json", {"pairs_in": 3}, "field 'comparison': missing; this is not a negmine eval results JSON (the file "
     "negmine eval ... -o FILE.json writes, with 'comparison', 'data' and 'config'); negmine report takes the "
     "*.flags.jsonl file negmine audit wrote, the native JSONL negmine mine -o wrote (with its <stem>.summary.json "
     "beside it), the results JSON negmine eval -o wrote (named *.json), or the output directory of a negmine train "
     "run"),
    ("negmine_train.json", {"result": {}, "config": {}}, "this is a negmine train run's "
     "summary, not eval results: give its folder, negmine report {folder}"),
    ("m.audit-summary.json", {"counts": {}}, "this is an audit's summary, not eval "
     "results: give its flags file, negmine report {folder}/m.flags.jsonl"),
])
def test_another_json_is_refused_naming_what_to_give(tmp_path, name, document, hint):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    with pytest.raises(InputError) as caught:
        eval_report(path)
    assert str(caught.value) == f"{path}: {hint.format(folder=tmp_path)}"
    assert not (tmp_path / f"{path.stem}.report.html").exists()


def test_the_queries_table_sorts_in_a_browser(evaluation, page, browser):
    results, _ = evaluation
    out = browser(page, """
        var t = document.getElementById('queries'), heads = t.tHead.rows[0].cells, out = {};
        var pager = document.querySelector('.pager[data-for="queries"]');
        function column(i){
          return Array.prototype.map.call(t.tBodies[0].rows, function(r){ return r.cells[i].textContent; });
        }
        out.pager = !pager.hidden; out.status = pager.querySelector('.status').textContent;
        heads[2].click(); out.ascending = column(2);
        heads[0].click(); heads[0].click(); out.idsDesc = column(0);
        report(out);
    """)
    saved = json.loads(results.read_text())["comparison"]
    largest = [f"{d:.4f}" for _, d in _expected_order(saved)]
    assert out["pager"] and out["status"] == "rows 1–20 of 20"
    assert out["ascending"] == sorted(largest, key=float)
    assert out["idsDesc"] == sorted((q for q, _ in _expected_order(saved)), reverse=True)


LONG_TAGS = ("bm25_title_body_rm3", "splade_cocondenser_v2", "e5_base_finetuned_hard", "colbert_v2_plaid_rerank",
             "contriever_msmarco_distilled")

HEADER_BREAKS_IN_A_WORD = """
    // the headers of the queries table whose text breaks onto a new line inside a word (not after a space, : or _)
    var t = document.getElementById('queries'), box = t.parentNode, split = [];
    Array.prototype.forEach.call(t.tHead.rows[0].cells, function(th){
      var walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT), top = null, before = null;
      while (walker.nextNode()) {
        var node = walker.currentNode;
        for (var i = 0; i < node.length; i++) {
          var range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
          var rect = range.getClientRects()[0], ch = node.data[i];
          if (rect && top !== null && rect.top > top + 2 && !/[\\s_:]/.test(before) && !/\\s/.test(ch))
            split.push(th.textContent);
          if (rect) top = rect.top;
          before = ch;
        }
      }
    });
    report({scroll: box.scrollWidth, client: box.clientWidth, split: split, columns: t.tHead.rows[0].cells.length});
"""


def test_five_runs_fit_the_window_with_headers_broken_between_words(tmp_path, browser):
    """Five runs make 23 columns: at 7.5-8.5 em each the queries table was 2,272 px wide and scrolled sideways in a
    1,400 px window, and its headers broke inside run names (``splade_coc`` / ``ondenser_``, ``reran`` / ``k``).
    Its rows now wrap onto a second line, the header's as its cells', and a header breaks at a space, ':' or '_'."""
    from negmine.evaluate.api import evaluate

    data = _demo_copy(tmp_path / "data")
    runs = []
    for tag in LONG_TAGS:
        run = _oracle_run(data, tmp_path / f"{tag}.trec")
        run.write_text(run.read_text().replace(RUN_TAG, tag))
        runs.append(run)
    evaluate(EvalConfig(data_dir=data, split="test", run_files=tuple(runs), output=tmp_path / "r.json",
                        encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False)))
    out = browser(_render(tmp_path / "r.json", tmp_path / "r.html"), HEADER_BREAKS_IN_A_WORD)
    assert out["columns"] == 23
    assert out["scroll"] <= out["client"], out
    assert out["split"] == [], out


def test_without_ndcg_the_table_ranks_by_the_first_metric(evaluation, tmp_path):
    """An evaluation of other metrics (--metrics mrr@10,map) ranks its queries by the first; one compared run is
    marked by its raw p-values."""
    results, _ = evaluation
    saved = json.loads(results.read_text())
    comparison = saved["comparison"]
    comparison["metrics"] = ["mrr@10", "map"]
    comparison["order"] = ["base", "other"]
    comparison["runs"] = {name: comparison["runs"][name] for name in comparison["order"]}
    for entry in comparison["runs"].values():
        for key in ("mean", "per_query", "vs_baseline"):
            if key in entry:
                entry[key] = {m: entry[key][m] for m in comparison["metrics"]}
    narrowed = tmp_path / "mrr.json"
    narrowed.write_text(json.dumps(saved))
    page = _render(narrowed, tmp_path / "r.html")
    header = _parsed(page).tables[QUERIES][0]
    assert header == ["query_id", "query", "largest |\u0394| mrr@10", "base (baseline) mrr@10", "other mrr@10",
                      "\u0394 other", "relevant", "base first relevant rank",
                      "other first relevant rank"]  # no judged@10 recorded: no judged columns
    assert [row[0] for row in _table_data(page)["rows"]] == [q for q, _ in _expected_order(comparison, "mrr@10")]
    assert dict(_parsed(page).tables[0])["correction"] == "holm (one run compared: its raw p-values, nothing to adjust)"
    assert page.count("data:image/png;base64,") == 2


def test_run_file_coverage_shows_as_negmine_eval_prints_it(tmp_path):
    """A run file lacking an evaluated query (scored 0) or naming queries the split does not have: ``negmine eval``
    printed a line on each, the results JSON kept them under ``run_file_coverage``, and the page left them out, so
    a run file's lower scores looked like worse retrieval, not like queries it never ranked."""
    from negmine.demo import demo_path
    from negmine.evaluate.api import evaluate

    oracle = _oracle_run(demo_path(), tmp_path / "oracle.trec")
    partial = tmp_path / "partial.trec"
    partial.write_text("".join(line.replace(RUN_TAG, "partial") + "\n"
                               for line in oracle.read_text().splitlines() if not line.startswith("q001 "))
                       + "q999 Q0 d001 1 1.0 partial\n")
    results = tmp_path / "results.json"
    evaluate(EvalConfig(data_dir=demo_path(), split="test", models=(), run_files=(oracle, partial), output=results))
    page = _render(results, tmp_path / "r.html")
    note = (f"run partial ({partial}): 1 of the 20 evaluated queries is missing (it scores 0; q001); "
            "1 query id is not in the queries file and was ignored (q999)")
    assert f'<p class="note">{note}</p>' in page
    assert page.count("evaluated queries is missing") == 1  # the oracle run covers the split: no line for it
    assert _refused_with(results, ("run_file_coverage", "partial", "missing"), "1") == (f"{results}: field 'run_file_coverage.partial.missing': must be an integer >= 0, got "
                                 "'1'; this results JSON was edited or written by another tool: write it again with "
                                 "negmine eval ... -o FILE")


def _refused_with(results: Path, field: tuple[str, ...], value: object) -> str:
    """The refusal of ``results`` read back with ``field`` (a path of keys) set to ``value``, as an edit leaves it."""
    saved = json.loads(results.read_text())
    inner = saved
    for key in field[:-1]:
        inner = inner[key]
    inner[field[-1]] = value
    results.write_text(json.dumps(saved))
    with pytest.raises(InputError) as caught:
        read_eval_results(results)
    return str(caught.value)


def test_a_run_file_renamed_for_its_shared_tag_shows_as_negmine_eval_prints_it(tmp_path):
    """A run file whose tag another run shares is named by its file name: eval says so in a line, which the page shows
    from the results JSON's ``run_file_names``, each checked as it is read."""
    from negmine.demo import demo_path
    from negmine.evaluate.api import evaluate

    oracle = _oracle_run(demo_path(), tmp_path / "oracle.trec")
    copy = tmp_path / "copy.trec"
    copy.write_text(oracle.read_text())
    results = tmp_path / "results.json"
    evaluate(EvalConfig(data_dir=demo_path(), split="test", models=(), run_files=(oracle, copy),
                        run_names=("first", None), output=results))
    page = _render(results, tmp_path / "r.html")
    assert html.escape(f"run file {copy}: its tag {RUN_TAG!r} is shared") not in page  # 'first' shares it no more
    evaluate(EvalConfig(data_dir=demo_path(), split="test", models=(), run_files=(oracle, copy), output=results))
    page = _render(results, tmp_path / "r.html")
    for path, name in ((oracle, "oracle"), (copy, "copy")):
        note = f"run file {path}: its tag {RUN_TAG!r} is shared, named {name!r} (name it yourself: --run NAME={path})"
        assert f'<p class="note">{html.escape(note)}</p>' in page
    assert _refused_with(results, ("run_file_names", "copy", "named_by"), "file") == (f"{results}: field 'run_file_names.copy.named_by': must be one of given, tag, stem, "
                                 "parent/stem, path, got 'file'; this results JSON was edited or written by another "
                                 "tool: write it again with negmine eval ... -o FILE")


def _saved_relevant(results: Path) -> dict[str, list[str]]:
    """Each test query's relevant documents, read from the demo's qrels (highest grade first, then by id)."""
    saved = json.loads(results.read_text())
    rows = [line.split("\t") for line in Path(saved["data"]["qrels"]).read_text().splitlines()[1:] if line.strip()]
    relevant: dict[str, list[tuple[int, str]]] = {}
    for query, doc, grade in rows:
        if int(grade) > 0:
            relevant.setdefault(query, []).append((-int(grade), doc))
    return {q: [d for _, d in sorted(docs)] for q, docs in relevant.items()}


def test_the_queries_table_lists_the_relevant_documents_and_each_runs_rank_of_them(evaluation, page):
    """The table of the largest deltas showed scores only: nDCG@10 0.3869 against 0 does not say whether a model
    ranked the relevant document 2nd or past its depth, nor which document it was."""
    results, _ = evaluation
    saved = json.loads(results.read_text())["comparison"]
    relevant = _saved_relevant(results)
    assert saved["relevant"] == relevant
    header = _parsed(page).tables[QUERIES][0]
    names = ("base", "other", RUN_TAG)
    assert header[-7:] == ["relevant", *(f"{name} first relevant rank" for name in names),
                           *(f"{name} judged@10" for name in names)]
    shown = {"ranked": 0, "not found": 0}
    for row in _table_data(page)["rows"]:
        ids = relevant[row[0]]
        assert row[header.index("relevant")] in ([", ".join(ids[:3]) + (f" +{len(ids) - 3} more" if len(ids) > 3 else
                                                                        ""), ids[0]], ", ".join(ids))
        for name in names:
            rank = saved["runs"][name]["first_relevant_rank"][row[0]]
            depth = saved["runs"][name]["documents_ranked"][row[0]]
            cell = row[header.index(f"{name} first relevant rank")]
            if rank is None:
                assert cell == [f"not in top {depth}", max(saved["runs"][name]["documents_ranked"].values()) + 1]
                shown["not found"] += 1
            else:
                assert cell in ([str(rank), rank], str(rank)) and rank <= depth
                shown["ranked"] += 1
        assert saved["runs"][RUN_TAG]["first_relevant_rank"][row[0]] == 1  # the oracle ranks them first
    assert shown["ranked"] and shown["not found"], shown  # the tiny models miss some within 100
    assert html.escape("relevant: the query's relevant documents (highest grade first); first relevant rank: where "
                       "each run ranks the first of them (not in top N: none among the N documents it ranks).") in page


def test_results_written_before_ranks_were_recorded_show_no_rank_columns(evaluation, tmp_path):
    results, _ = evaluation
    saved = json.loads(results.read_text())
    saved["comparison"].pop("relevant")
    for entry in saved["comparison"]["runs"].values():
        entry.pop("first_relevant_rank"), entry.pop("documents_ranked")
    older = tmp_path / "older.json"
    older.write_text(json.dumps(saved))
    page = _render(older, tmp_path / "r.html")
    header = _parsed(page).tables[QUERIES][0]
    assert "relevant" not in header and not any(h.endswith("first relevant rank") for h in header)
    assert "first relevant rank:" not in page


def test_a_small_delta_shows_its_significant_digits_in_the_tables(evaluation, tmp_path):
    """A delta of -0.000031 showed as -0.0000 [-0.0000, +0.0000] beside p 0.6143: its size was hidden."""
    results, _ = evaluation
    saved = json.loads(results.read_text())
    comparison = saved["comparison"]
    base, other = comparison["runs"]["base"], comparison["runs"]["other"]
    shifts = {q: (-0.0002, 0.0001, -0.00004, 0.0)[i % 4] for i, q in enumerate(sorted(base["per_query"]["ndcg@10"]))}
    other["per_query"]["ndcg@10"] = {q: s + shifts[q] for q, s in base["per_query"]["ndcg@10"].items()}
    other["mean"]["ndcg@10"] = base["mean"]["ndcg@10"] - 0.000035
    other["vs_baseline"]["ndcg@10"]["confidence_interval"] = [-0.000112, 0.0000496]
    edited = tmp_path / "small.json"
    edited.write_text(json.dumps(saved))
    page = _render(edited, tmp_path / "r.html")
    assert float(np.mean(list(shifts.values()))) == pytest.approx(-0.000035)
    assert _parsed(page).tables[3][1][1] == "-0.000035 [-0.00011, +0.000050]"  # other's ndcg@10 delta
    header = _parsed(page).tables[QUERIES][0]
    rows = {row[0]: row for row in _table_data(page)["rows"]}
    small = next(q for q, shift in shifts.items() if shift == -0.00004 and q in rows)
    assert rows[small][header.index("\u0394 other")][0] == "-0.000040"


def test_the_interval_header_says_they_are_unadjusted_and_the_page_counts_wins(evaluation, page):
    results, _ = evaluation
    saved = json.loads(results.read_text())["comparison"]
    assert ('<p class="note">mean delta vs baseline [95% confidence interval, paired t; unadjusted, unlike the '
            'Holm-adjusted p-values above]:</p>') in page
    others = [name for name in saved["order"] if name != saved["baseline"]]
    counts = [[name, *(" / ".join(str(saved["runs"][name]["vs_baseline"][m][k]) for k in ("wins", "ties", "losses"))
                       for m in saved["metrics"])] for name in others]
    assert _parsed(page).tables[4] == [["run", *saved["metrics"]], *counts]


def test_the_page_says_what_a_low_judged_at_k_means(page):
    line = ("judged@10: the share of a run's top 10 that the qrels judge; with qrels that list only relevant documents "
            "(BEIR's) 0.02-0.11 is common and means the other metrics score most retrieved documents, unjudged, as "
            "not relevant (unlabelled positives too), not that the run is poor")
    assert f'<p class="note">{html.escape(line)}</p>' in page  # under the comparison tables, as eval prints it
    assert f"{html.escape(line)}.</p>" in page  # above the queries table's judged@10 columns


def test_coverage_lines_are_in_the_runs_order_as_eval_prints_them(tmp_path):
    """The results JSON is written with sorted keys: the page listed run files alphabetically, stdout in the order
    given."""
    from typer.testing import CliRunner

    from negmine.cli import build_app
    from negmine.demo import demo_path

    oracle = _oracle_run(demo_path(), tmp_path / "oracle.trec").read_text().splitlines()
    files = []
    for name, dropped in (("zeta", "q001 "), ("alpha", "q002 ")):
        files.append(tmp_path / f"{name}.trec")
        files[-1].write_text("".join(line.replace(RUN_TAG, name) + "\n" for line in oracle
                                     if not line.startswith(dropped)))
    results = tmp_path / "results.json"
    result = CliRunner().invoke(build_app(), ["eval", str(demo_path()), "--run", str(files[0]), "--run", str(files[1]),
                                              "--metrics", "ndcg@2", "-o", str(results)])
    assert result.exit_code == 0, result.output
    printed = [line for line in result.stdout.splitlines() if re.match(r"run \S+ \(", line)]
    assert [line.split()[1] for line in printed] == ["zeta", "alpha"]
    page = _render(results, tmp_path / "r.html")
    notes = [html.unescape(note) for note in re.findall(r'<p class="note">(run .*?)</p>', page)]
    assert notes == printed
