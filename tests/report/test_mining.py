from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from negmine.errors import ConfigError, InputError
from negmine.report.mining import MinedStats, mining_report, read_mine_summary
from negmine.report.sources import SOURCES, source_kind

from ..conftest import SCRIPT_QUERY


def table_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="hardest-data">(.*?)</script>', page).group(1))


def smallest_gaps(mined) -> list[tuple[float, int]]:
    """(gap, line) of every row, smallest first: its smallest s_pos - s_neg, computed here from the rows."""
    rows = [json.loads(line) for line in mined.read_text(encoding="utf-8").splitlines()]
    return sorted((min(round(r["positive_score"] - s, 6) for s in r["negative_scores"]), line)
                  for line, r in enumerate(rows, start=1))


@pytest.fixture
def mined(mined_demo, tmp_path):
    for path in (mined_demo, mined_demo.with_name("mined.summary.json")):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "mined.jsonl"


def test_the_page_holds_the_summary_settings_and_counts_as_recorded(mined):
    page = mining_report(str(mined)).read_text(encoding="utf-8")  # default: <stem>.mining-report.html beside it
    summary = json.loads(mined.with_name("mined.summary.json").read_text())
    assert mined.with_name("mined.mining-report.html").is_file()
    assert f"<b>{summary['pairs_in']}</b><span>pairs in</span>" in page
    assert f"<b>{summary['pairs_out']}</b><span>rows out</span>" in page
    assert f"<b>{sum(summary['pairs_skipped'].values())}</b><span>pairs skipped</span>" in page
    assert summary["pairs_skipped"], "the demo mined by the tiny model skips pairs"
    for reason, n in summary["pairs_skipped"].items():
        assert f"<tr><td>skipped: {html.escape(reason)}</td><td>{n}</td></tr>" in page
    removed = summary["candidates_removed_by_filter"]["sd_margin"]
    assert f"<tr><td>candidates removed by sd_margin</td><td>{removed}</td></tr>" in page
    assert "candidates removed by absolute_margin" not in page, "a filter the run did not set, which removed none"
    assert f"<td>model</td><td>{summary['config']['encoder']['model']}</td>" in page
    assert "<td>strategy</td><td>top, 5 negatives per pair</td>" in page
    assert "<td>filters</td><td>margin_from: pair, sd_margin: 0.5, near-duplicates of the positive" in page
    assert f"(split train)" in page
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)) == 5
    assert "http://" not in page and "https://" not in page, "self-contained"



def test_pairs_repeating_another_are_not_counted_as_left_out():
    """SciFact train's report listed "pairs repeating another pair: 3" under "Pairs and candidates left out", while
    those 3 pairs were mined (919 in = 830 out + 89 skipped): the warning says each is mined as a pair of its own.
    Neither they nor the short pairs selected from the fallback pool are among the counts left out: they are counted
    apart (:func:`negmine.pipeline.summary.pairs_mined_apart`), in the words stdout prints."""
    from negmine.pipeline.summary import pairs_mined_apart
    from negmine.report.mining import _counts

    summary = {"pairs_skipped": {"no candidate left after exclusions and filters": 84}, "pairs_repeating_another": 3,
               "pairs_tried_fallback": 2, "pairs_from_fallback": 1, "qrels_not_relevant": 5,
               "candidates_removed_by_filter": {}}
    assert _counts(summary) == {"skipped: no candidate left after exclusions and filters": 84,
                                "qrels rows not relevant (score <= 0): no pair": 5}
    assert pairs_mined_apart(summary) == {
        "short pairs selected from the fallback (hybrid) pool": "1 of 2 that tried it",
        "pairs repeating an earlier pair up to case, spacing or invisible characters, each mined as a pair of its "
        "own (so it counts twice)": 3,
    }
    assert pairs_mined_apart({**summary, "pairs_repeating_another": 0, "pairs_tried_fallback": 0}) == {}


def test_the_positives_added_to_the_corpus_are_counted_when_there_are_any():
    """A --pairs --corpus run's summary records the positives it added to the corpus; the report shows them (not as
    left out: not among the counts of "Pairs and candidates left out") when it added any, with those that differ
    from a document only in whitespace."""
    from negmine.report.mining import _added_positives, _counts

    summary = {"pairs_skipped": {}, "candidates_removed_by_filter": {},
               "pairs_positives_added_to_corpus": {"added": 2, "distinct_positives": 10, "whitespace_only": 0}}
    label = "positives not in the corpus file (exact text), added to it as documents p<row>"
    assert _added_positives(summary) == {label: "2 of 10 distinct positives"}
    assert _counts(summary) == {}
    summary["pairs_positives_added_to_corpus"]["whitespace_only"] = 1
    assert _added_positives(summary) == {
        label: "2 of 10 distinct positives (1 of them differing from a corpus document only in whitespace)"}
    for recorded in ({"added": 0, "distinct_positives": 10, "whitespace_only": 0}, None):
        assert _added_positives({**summary, "pairs_positives_added_to_corpus": recorded}) == {}
    assert _added_positives({"pairs_skipped": {}, "candidates_removed_by_filter": {}}) == {}


def sections(page: str) -> dict[str, str]:
    """The page's sections, heading -> the HTML up to the next heading."""
    parts = re.split(r"<h2>(.*?)</h2>", page)
    return {html.unescape(name): body for name, body in zip(parts[1::2], parts[2::2])}


def test_the_positives_added_to_the_corpus_have_a_section_of_their_own(mined, tmp_path):
    """Session 60 showed the positives a --pairs --corpus run added to its corpus under "Pairs and candidates left
    out", which they are not: they are part of the corpus the negatives were drawn from. They have a section of
    their own, shown when the run added any."""
    summary_path = mined.with_name("mined.summary.json")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    row = ("<tr><td>positives not in the corpus file (exact text), added to it as documents p&lt;row&gt;</td>"
           "<td>2 of 10 distinct positives (1 of them differing from a corpus document only in whitespace)</td></tr>")
    summary["pairs_positives_added_to_corpus"] = {"added": 2, "distinct_positives": 10, "whitespace_only": 1}
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    page = sections(mining_report(mined, out=tmp_path / "added.html").read_text(encoding="utf-8"))
    assert list(page) == ["Overview", "Pairs and candidates left out", "Positives added to the corpus", "Scores",
                          "Hardest rows"]
    assert row in page["Positives added to the corpus"]
    assert "positives not in the corpus file" not in page["Pairs and candidates left out"]
    summary["pairs_positives_added_to_corpus"]["added"] = 0
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    page = mining_report(mined, out=tmp_path / "none.html").read_text(encoding="utf-8")
    assert list(sections(page)) == ["Overview", "Pairs and candidates left out", "Scores", "Hardest rows"]
    assert "positives not in the corpus file" not in page


def test_the_pairs_mined_apart_have_a_section_of_their_own(mined, tmp_path):
    """The short pairs selected from the fallback pool and the pairs repeating another were rows of "Pairs and
    candidates left out", which they are not (the repeating pairs' own label said so): they are under "Among the
    pairs mined", shown when there are any, and the left-out section holds only what was left out."""
    summary_path = mined.with_name("mined.summary.json")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert not summary.get("pairs_tried_fallback") and not summary.get("pairs_repeating_another")
    summary.update(pairs_tried_fallback=2, pairs_from_fallback=1, pairs_repeating_another=3)
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    page = sections(mining_report(mined, out=tmp_path / "apart.html").read_text(encoding="utf-8"))
    assert list(page) == ["Overview", "Pairs and candidates left out", "Among the pairs mined", "Scores",
                          "Hardest rows"]
    assert ("<tr><td>short pairs selected from the fallback (hybrid) pool</td><td>1 of 2 that tried it</td></tr>"
            in page["Among the pairs mined"])
    assert ("<tr><td>pairs repeating an earlier pair up to case, spacing or invisible characters, each mined as a pair "
            "of its own (so it counts twice)</td><td>3</td></tr>") in page["Among the pairs mined"]
    left_out = page["Pairs and candidates left out"]
    assert "fallback" not in left_out and "repeating" not in left_out
    rows = re.findall(r"<tr><td>(.*?)</td>", left_out)
    assert rows and all(row.startswith(("skipped: ", "candidates removed by ")) for row in rows), rows
    summary.update(pairs_tried_fallback=0, pairs_from_fallback=0, pairs_repeating_another=0)
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    page = mining_report(mined, out=tmp_path / "none.html").read_text(encoding="utf-8")
    assert list(sections(page)) == ["Overview", "Pairs and candidates left out", "Scores", "Hardest rows"]


def test_the_table_holds_the_smallest_gap_rows_in_order(mined, tmp_path):
    page = mining_report(mined, out=tmp_path / "r.html", max_rows=7).read_text(encoding="utf-8")
    expected = smallest_gaps(mined)
    data = table_data(page)
    assert [row[0][1] for row in data["rows"]] == [line for _, line in expected[:7]] and len(expected) > 7
    assert [row[1][1] for row in data["rows"]] == [gap for gap, _ in expected[:7]]
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert re.findall(r'<tr><td class="nw">(\d+)</td>', body) == [str(line) for _, line in expected[:7]]
    assert f"The 7 of {len(expected)} rows with the smallest gap s_pos - s_neg (--max-table-rows shows more)" in page
    full = table_data(mining_report(mined, out=tmp_path / "all.html").read_text(encoding="utf-8"))
    assert [row[0][1] for row in full["rows"]] == [line for _, line in expected]


def test_texts_are_escaped_in_the_rows_and_their_data(mined, tmp_path):
    page = mining_report(mined, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert SCRIPT_QUERY not in page
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert html.escape(SCRIPT_QUERY) in body
    assert any(text[1].endswith(html.escape(SCRIPT_QUERY)) for text in table_data(page)["texts"])


def test_two_renders_are_byte_identical(mined, tmp_path):
    first = mining_report(mined, out=tmp_path / "a.html").read_bytes()
    assert mining_report(mined, out=tmp_path / "b.html").read_bytes() == first


def test_the_margin_rules_are_drawn_where_they_are_fixed(mined, tmp_path, monkeypatch):
    from negmine.report import plots

    legends = []
    monkeypatch.setattr(plots, "to_base64_png", lambda fig: legends.extend(
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()) or "iVBORw0KGgo=")
    mining_report(mined, out=tmp_path / "r.html")
    rows = len(mined.read_text().splitlines())
    # the audit's page calls them so too ("chosen negatives" and "negatives" until 2026-12-07)
    assert legends == ["positives (n=%d)" % rows, "kept negatives (n=%d)" % (5 * rows),
                       "kept negatives (n=%d)" % (5 * rows), "kept negatives (n=%d)" % (5 * rows), "--sd-margin 0.5"]
    summary_path = mined.with_name("mined.summary.json")
    summary = json.loads(summary_path.read_text())
    summary["config"]["filters"]["absolute_margin"] = 0.001
    summary_path.write_text(json.dumps(summary))
    legends.clear()
    mining_report(mined, out=tmp_path / "r.html")
    assert "--absolute-margin 0.001" in legends


def test_rows_without_candidate_score_sd_get_no_sd_plot_and_a_note(mined, tmp_path):
    rows = [json.loads(line) for line in mined.read_text().splitlines()]
    mined.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "candidate_score_sd"}) + "\n" for r in rows))
    page = mining_report(mined, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert len(re.findall(r'src="data:image/png', page)) == 4 and "gap (sd)" not in page
    assert "The rows record no candidate_score_sd, so the gap is not shown in sd units." in page


def test_a_file_changed_after_mining_is_said_to_differ_from_its_summary(mined, tmp_path):
    lines = mined.read_text().splitlines(keepends=True)
    mined.write_text("".join(lines[:3]))
    page = mining_report(mined, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<b>3</b><span>rows in the file</span>" in page and "the file was changed after mining" in page


def test_a_single_row_pair_and_negative_are_counted_in_the_singular(mined, tmp_path):
    """'1 rows mined from 1 pairs', 'top, 1 negatives per pair', 'The file holds 1 rows', '1 rows have
    candidate_score_sd 0' until 2026-12-07."""
    first = json.loads(mined.read_text().splitlines()[0])
    mined.write_text(json.dumps({**first, "candidate_score_sd": 0.0}) + "\n")
    summary_path = mined.with_name("mined.summary.json")
    summary = json.loads(summary_path.read_text())
    summary["config"]["select"]["num_negatives"] = 1
    summary_path.write_text(json.dumps({**summary, "pairs_in": 1, "pairs_out": 1}))
    page = mining_report(mined, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert "1 row mined from 1 pair: " in page and "<td>strategy</td><td>top, 1 negative per pair</td>" in page
    assert "1 row has candidate_score_sd 0 and is left out of the sd plot." in page
    assert "The 1 of 1 row with the smallest gap" in page
    summary_path.write_text(json.dumps({**summary, "pairs_in": 1, "pairs_out": 2}))
    page = mining_report(mined, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert "2 rows mined from 1 pair: " in page and "The file holds 1 row, the summary records 2 written" in page


def row(line: int, positive: float, negatives: list[float], flags=None) -> dict:
    ids = [f"d{line}-{i}" for i in range(len(negatives))]
    extra = {} if flags is None else {"negative_flags": flags}
    return {"query_id": f"q{line}", "query": "q", "positive_id": f"p{line}", "positive": "p", "positive_score": positive,
            "negative_ids": ids, "negatives": ids, "negative_scores": negatives,
            "negative_ranks": list(range(1, len(negatives) + 1)), "candidate_score_sd": 0.1, **extra}


def test_the_heap_keeps_the_smallest_gaps_earlier_lines_first_on_ties():
    stats = MinedStats(keep=3)
    for line, (positive, negatives) in enumerate([(0.9, [0.5, 0.6]), (0.9, [0.8]), (0.9, [0.85, 0.1]),
                                                  (0.9, [0.8]), (0.9, [0.89]), (0.9, [0.3])], start=1):
        stats.add(line, row(line, positive, negatives))
    assert [(r.line, r.gap, r.doc_id) for r in stats.hardest()] == [(5, 0.01, "d5-0"), (3, 0.05, "d3-0"),
                                                                     (2, 0.1, "d2-0")]
    assert stats.counts["rows"] == 6 and stats.counts["negatives"] == 8 and stats.widths == {1: 4, 2: 2}


def test_negatives_an_audit_marked_are_left_out_and_counted():
    stats = MinedStats(keep=3)
    stats.add(1, row(1, 0.9, [0.89, 0.5], flags=["false_negative", None]))
    assert [(r.gap, r.doc_id, r.negatives) for r in stats.hardest()] == [(0.4, "d1-1", 1)]
    assert stats.counts["flagged"] == 1 and stats.samples["negative"].values == [0.5]


def test_the_four_sources_are_told_apart_and_a_foreign_row_is_refused(mined, tmp_path, flags_and_summary):
    flags, _ = flags_and_summary
    assert (source_kind(tmp_path), source_kind(flags), source_kind(mined)) == ("training", "audit", "mined")
    assert source_kind(tmp_path / "results.JSON") == "evaluation", "a *.json file is eval results (not read here)"
    (tmp_path / "run.json").mkdir()
    assert source_kind(tmp_path / "run.json") == "training"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert source_kind(empty) == "audit", "an audit that flagged nothing writes an empty flags file"
    shutil.copy(mined.with_name("mined.summary.json"), tmp_path / "empty.summary.json")
    assert source_kind(empty) == "mined", "a mined file whose every pair was skipped"
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('\n{"query": "q", "text": "t"}\n')
    with pytest.raises(InputError) as err:
        source_kind(foreign)
    assert str(err.value) == (f"{foreign}:2: field 'kind': missing, and the row has no 'negative_ids' either: neither a "
                              "flag of an audit (kind 'false_negative' or 'noisy_positive') nor a mined row; negmine "
                              f"report takes {SOURCES}")
    foreign.write_text('[1, 2]\n')
    with pytest.raises(InputError, match=r"foreign\.jsonl:1: expected a JSON object, got array; negmine report takes "
                                         r"the \*\.flags\.jsonl file negmine audit wrote, the native JSONL negmine mine "
                                         r"-o wrote \(with its <stem>\.summary\.json beside it\), the results JSON "
                                         r"negmine eval -o wrote \(named \*\.json\), or the output directory of a "
                                         r"negmine train run"):
        source_kind(foreign)
    export = tmp_path / "negatives.n-tuple.jsonl"
    export.write_text('{"anchor": "q", "positive": "p", "negative_1": "n"}\n')
    with pytest.raises(InputError, match=r"nor a mined row; this is a row of the n-tuple export, which holds texts "
                                         r"only: pass the native file it was exported from"):
        source_kind(export)
    summary = mined.with_name("mined.summary.json")
    one_line = tmp_path / "one.summary.txt"  # negmine mine indents its summary; its first line "{" is not JSON
    one_line.write_text(json.dumps(json.loads(summary.read_text())) + "\n")  # (named *.json: read as eval results)
    with pytest.raises(InputError, match=r"one\.summary\.txt:1: field 'kind': missing, .* nor a mined row; this file "
                                         r"is a negmine mine run's summary: give the mined file it describes, .*mined\.jsonl;"):
        source_kind(one_line)



def test_a_parquet_export_is_refused_naming_the_native_file_it_came_from(mined, tmp_path):
    """`negmine report out/negatives.n-tuple.parquet` said only "not valid UTF-8 (byte 8 of the line)"; train and
    audit name the native file the export was written from."""
    from negmine.export.registry import export_file

    parquet = tmp_path / "negatives.n-tuple.parquet"
    shutil.copy(mined, tmp_path / "negatives.jsonl")
    export_file(tmp_path / "negatives.jsonl", "n-tuple", parquet)
    with pytest.raises(InputError) as err:
        source_kind(parquet)
    assert str(err.value) == (f"{parquet}:1: a Parquet file, not JSON Lines: an --export-as parquet export is for "
                              f"other trainers; give the native file it was exported from, e.g. "
                              f"{tmp_path / 'negatives.jsonl'}; negmine report takes {SOURCES}")

def test_an_audits_cleaned_file_names_the_two_pages_there_are(mined, tmp_path, monkeypatch):
    """`negmine report mined.clean.jsonl` said to give its mining summary with --summary, or to mine the file again:
    no command writes one for an audit's cleaned file. It names the audit's page and the mined file's."""
    from typer.testing import CliRunner

    from negmine.cli import build_app

    monkeypatch.chdir(tmp_path)
    audit = CliRunner().invoke(build_app(), ["audit", "mined.jsonl", "--judge", "score", "--no-progress"])
    assert audit.exit_code == 0 and Path("mined.clean.jsonl").is_file(), audit.output
    result = CliRunner().invoke(build_app(), ["report", "mined.clean.jsonl"])
    assert result.exit_code == 2
    assert result.stderr == ("error: mined.clean.summary.json: mining summary not found: mined.clean.jsonl is the "
                             "cleaned output of a negmine audit (mined.audit-summary.json), which writes no mining "
                             "summary; its page is the audit's, negmine report mined.flags.jsonl; for the mined file it "
                             "cleaned: negmine report mined.jsonl\n")
    for command in ("report mined.flags.jsonl", "report mined.jsonl"):  # both pages render
        assert CliRunner().invoke(build_app(), command.split()).exit_code == 0


def test_a_missing_or_foreign_summary_and_a_bad_row_say_what_to_do(mined, tmp_path, flags_and_summary):
    mined.with_name("mined.summary.json").unlink()
    with pytest.raises(InputError) as err:
        mining_report(mined, out=tmp_path / "r.html")
    assert str(err.value) == (f"{mined.with_name('mined.summary.json')}: mining summary not found beside {mined}: "
                              "negmine mine writes it next to its output as <stem>.summary.json (--summary-json names "
                              "another path); give it with --summary, or mine the file again")
    _, audit_summary = flags_and_summary
    with pytest.raises(InputError, match=r"m\.audit-summary\.json: field 'pairs_in': missing; this is not a negmine "
                                         r"mine summary \(negmine mine writes it beside its output as "
                                         r"<stem>\.summary\.json\)"):
        mining_report(mined, audit_summary, tmp_path / "r.html")
    summary = tmp_path / "s.json"
    summary.write_text(json.dumps({"pairs_in": 3, "pairs_out": 2, "pairs_skipped": {"why": -1},
                                   "candidates_removed_by_filter": {}}))
    with pytest.raises(InputError, match=r"s\.json: field 'pairs_skipped\.why': must be an integer >= 0, got -1"):
        read_mine_summary(summary)
    summary.write_text(json.dumps({"pairs_in": 3, "pairs_out": 2, "pairs_skipped": {"why": 1},
                                   "candidates_removed_by_filter": {}}))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(row(1, 0.9, [0.5])) + "\n" + json.dumps({**row(2, 0.9, [0.5]), "negative_ranks": [0]}))
    with pytest.raises(InputError, match=r"bad\.jsonl:2: field 'negative_ranks': must be a list of integers from 1"):
        mining_report(bad, summary, tmp_path / "r.html")
    with pytest.raises(ConfigError, match=r"--max-table-rows\) must be a positive integer, got 0"):
        mining_report(mined, summary, tmp_path / "r.html", max_rows=0)


def test_the_page_script_sorts_and_pages_the_table(mined, tmp_path, browser):
    page = mining_report(mined, out=tmp_path / "r.html", max_rows=7).read_text(encoding="utf-8")
    shown = browser(page, """
        var th = document.querySelectorAll('#hardest th')[1]; th.click(); th.click();  // gap, descending
        var pager = document.querySelector('.pager[data-for="hardest"]');
        report({hidden: pager.hidden, status: pager.querySelector('.status').textContent, head: th.className,
                lines: Array.from(document.querySelectorAll('#hardest tbody tr')).map(function(tr){
                    return tr.cells[0].textContent; })});""")
    kept = smallest_gaps(mined)[:7]
    assert shown == {"hidden": False, "status": "rows 1–7 of 7", "head": "desc",
                     "lines": [str(line) for _, line in sorted(kept, key=lambda item: -item[0])]}


SUMMARY = {"pairs_in": 3, "pairs_out": 2, "pairs_skipped": {}, "candidates_removed_by_filter": {}, "note": "caf\u00e9"}


@pytest.mark.parametrize(("encoding", "problem"), [
    ("utf-16-le", ":1: UTF-16LE text without a byte-order mark (byte 2 is 0x00, as is every second byte of its ASCII "
                  "characters), not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16le -t utf-8 m.summary.json > "
                  "utf8-m.summary.json)"),
    ("utf-16-be", ":1: UTF-16BE text without a byte-order mark (byte 1 is 0x00, as is every second byte of its ASCII "
                  "characters), not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16be -t utf-8 m.summary.json > "
                  "utf8-m.summary.json)"),
    ("utf-16", ":1: not valid UTF-8 (byte 1 of the line); save the file as UTF-8 (e.g. iconv -f utf-16 -t utf-8 "
               "m.summary.json > utf8-m.summary.json)"),
    ("latin-1", ":6: not valid UTF-8 (byte 14 of the line); save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 "
                "m.summary.json > utf8-m.summary.json)"),
])
def test_a_mining_summary_in_another_encoding_gets_the_fix_for_that_encoding(tmp_path, encoding, problem):
    """UTF-16 without a mark got the Latin-1 fix, at the line of its first non-ASCII character."""
    path = tmp_path / "m.summary.json"
    path.write_bytes(json.dumps(SUMMARY, indent=1, ensure_ascii=False).encode(encoding))
    with pytest.raises(InputError) as info:
        read_mine_summary(path)
    assert str(info.value) == f"{path}{problem}"


@pytest.mark.parametrize(("content", "problem"), [
    ("t\u00edtulo\ttexto\nd1\tcaf\u00e9\n".encode("latin-1"), ":1: invalid JSON: Expecting value"),
    ("2026-12-06 d\u00e9marrage\n".encode("latin-1"), ":1: invalid JSON: a second JSON value starts at column 5"),
])
def test_a_latin1_text_that_is_no_json_given_for_a_mining_summary_gets_the_message_of_its_utf8_copy(
        tmp_path, content, problem):
    """A Latin-1 TSV or log got the iconv fix, after which it is still no JSON."""
    messages = []
    for name, data in (("utf8.summary.json", content.decode("latin-1").encode("utf-8")),
                       ("latin.summary.json", content)):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputError) as info:
            read_mine_summary(path)
        messages.append(str(info.value).removeprefix(str(path)))
    assert messages[0] == messages[1]
    assert messages[1].startswith(problem)


def test_a_gzip_or_binary_mining_summary_is_not_taken_for_utf16(tmp_path):
    import gzip
    import random

    path = tmp_path / "m.summary.json"
    path.write_bytes(gzip.compress(json.dumps(SUMMARY).encode("utf-16-le")))
    with pytest.raises(InputError) as info:
        read_mine_summary(path)
    assert str(info.value) == f"{path}: gzip-compressed; decompress it first, e.g. gunzip -k {path}"
    path.write_bytes(b"\x00\x01" + random.Random(0).randbytes(400))
    with pytest.raises(InputError) as info:
        read_mine_summary(path)
    assert str(info.value) == (f"{path}: a binary file, not text (byte 1 of the file is 0x00, which no UTF-8 text "
                               "file holds); check the path: a UTF-8 text file is read here")
