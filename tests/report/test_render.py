from __future__ import annotations

import json
import re

import pytest

from negmine.errors import ConfigError, InputError
from negmine.report.render import read_flags, read_summary, report_from_files


def test_report_embeds_four_images_and_one_row_per_flag(flags_and_summary, tmp_path):
    flags, summary = flags_and_summary
    out = report_from_files(str(flags), str(summary), str(tmp_path / "r.html"))  # str paths give a Path back too
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)) == 4
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 4
    assert "d0" in body and "noisy_positive" in body and "document 2" in body
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<details><summary>positive text" in body, "long texts are collapsible"
    data = json.loads(re.search(r'<script type="application/json" id="flags-data">(.*?)</script>', page).group(1))
    assert data["rows"][1][13] == ["0.9100", 0.91] and '<th data-type="num">cosine_<wbr>to_<wbr>positive</th>' in page
    assert "addEventListener('click'" in page, "inline sort script"
    assert "http://" not in page and "https://" not in page, "self-contained"


def test_max_rows_caps_the_table_and_says_so(flags_and_summary, tmp_path):
    flags, summary = flags_and_summary
    page = report_from_files(flags, summary, tmp_path / "r.html", max_rows=2).read_text()
    assert page.split("<tbody>")[1].count("<tr>") == 2
    assert "Showing 2 of 4 flags" in page


def test_a_single_pair_and_flag_are_counted_in_the_singular(flags_and_summary, tmp_path):
    """'1 pairs from ...', 'Showing 1 of 1 flags' until 2026-12-07."""
    flags, summary = flags_and_summary
    flags.write_text(flags.read_text().splitlines(keepends=True)[0])
    recorded = json.loads(summary.read_text())
    counts = {**recorded["counts"], "pairs": 1, "false_negatives": 1, "noisy_positives": 0}
    summary.write_text(json.dumps({**recorded, "counts": counts}))
    page = report_from_files(flags, summary, tmp_path / "r.html").read_text()
    assert '<div class="meta">1 pair from ' in page and "Showing 1 of 1 flag (click a header to sort)" in page


def test_bad_inputs_name_file_line_and_field(flags_and_summary, tmp_path):
    flags, summary = flags_and_summary
    bad = tmp_path / "bad.flags.jsonl"
    bad.write_text('{"kind": "false_negative"}\n{"kind": "other"}\n')
    with pytest.raises(InputError, match=r"bad.flags.jsonl:2: field 'kind': must be 'false_negative' or 'noisy_positive'"):
        list(read_flags(bad))
    not_summary = tmp_path / "s.json"
    not_summary.write_text(json.dumps({"counts": {}}))
    with pytest.raises(InputError, match=r"s.json: field 'judges': missing; this is not an audit summary"):
        read_summary(not_summary)
    with pytest.raises(InputError) as missing:
        read_summary(tmp_path / "nope.json")
    # it said only 'audit summary not found (negmine audit writes it next to the flags file)': no fix
    assert str(missing.value) == (f"{tmp_path / 'nope.json'}: audit summary not found: negmine audit writes it next "
                                  "to the flags file as <stem>.audit-summary.json; give it with --summary, or run "
                                  "negmine audit again")
    with pytest.raises(InputError, match="flags file not found"):
        report_from_files(tmp_path / "nope.jsonl", summary, tmp_path / "r.html")


def test_read_flags_accepts_a_bom_and_reports_invalid_utf8_with_its_line(tmp_path):
    path = tmp_path / "m.flags.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"kind": "false_negative"}\n{"kind": "noisy_positive", "q": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"m\.flags\.jsonl:2: not valid UTF-8"):
        list(read_flags(path))
    path.write_bytes(b'\xef\xbb\xbf{"kind": "false_negative"}\n')
    assert list(read_flags(path)) == [{"kind": "false_negative"}]


def test_read_flags_gives_a_latin1_line_that_is_no_json_the_message_of_its_utf8_copy(tmp_path):
    """A flags line saved as Latin-1 that is no JSON either (a TSV row) got the iconv fix; a JSON one keeps it."""
    path = tmp_path / "m.flags.jsonl"
    path.write_bytes(b'{"kind": "false_negative"}\nq1\tcaf\xe9\n')
    with pytest.raises(InputError) as info:
        list(read_flags(path))
    assert str(info.value) == f"{path}:2: invalid JSON: Expecting value (column 1)"
    path.write_bytes(b'{"kind": "false_negative"}\n{"kind": "noisy_positive", "q": "caf\xe9"}\n')
    with pytest.raises(InputError) as info:
        list(read_flags(path))
    assert str(info.value) == (f"{path}:2: not valid UTF-8 (byte 37 of the line); save the file as UTF-8 (e.g. iconv "
                               "-f latin1 -t utf-8 m.flags.jsonl > utf8-m.flags.jsonl)")


def test_histogram_legends_count_every_value_not_just_the_plotted_sample(flags_and_summary, tmp_path, monkeypatch):
    from negmine.report import plots

    from .conftest import summary as make_summary

    legends = []
    monkeypatch.setattr(plots, "to_base64_png", lambda fig: legends.extend(
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()) or "iVBORw0KGgo=")
    data = make_summary()
    data["counts"]["false_negatives"] = 55140
    data["samples"]["flagged_scores"]["seen"] = 55140  # the audit keeps a reservoir sample of 3 of them here
    data["samples"]["flagged_margins"]["seen"] = 55140
    flags, path = flags_and_summary
    path.write_text(json.dumps(data))
    report_from_files(flags, path, tmp_path / "r.html")
    assert "flagged negatives (n=55,140; a sample of 3 plotted)" in legends
    assert legends.count("flagged negatives (n=55,140; a sample of 3 plotted)") == 2, "both score and margin plots"
    assert "positives (n=3)" in legends and "kept negatives (n=9; a sample of 9 plotted)" not in legends


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_a_table_row_cap_below_one_is_an_error_naming_the_value(flags_and_summary, tmp_path, bad):
    flags, summary = flags_and_summary
    with pytest.raises(ConfigError, match=rf"max_table_rows \(--max-table-rows\) must be a positive integer, got {bad}; "
                                          r"use e\.g\. 20000"):
        report_from_files(flags, summary, tmp_path / "r.html", max_rows=bad)
    assert not (tmp_path / "r.html").exists()


def test_the_report_command_rejects_a_negative_table_row_cap_without_a_traceback(flags_and_summary):
    from typer.testing import CliRunner

    from negmine.cli import build_app

    flags, _ = flags_and_summary
    result = CliRunner().invoke(build_app(), ["report", str(flags), "--max-table-rows", "-1"])
    assert result.exit_code == 2, result.output
    assert "error: max_table_rows (--max-table-rows) must be a positive integer, got -1" in result.output


def test_flags_the_policies_treat_apart_get_their_own_cards_when_present(flags_and_summary, tmp_path):
    flags, summary = flags_and_summary
    page = report_from_files(flags, summary, tmp_path / "r.html").read_text()
    assert "no policy" not in page and "earlier audit" not in page
    data = json.loads(summary.read_text())
    data["counts"].update(false_negatives_of_noisy_positives=3, earlier_false_negatives=0, labelled_positives_removed=2)
    summary.write_text(json.dumps(data))
    page = report_from_files(flags, summary, tmp_path / "r2.html").read_text()
    assert "<b>3</b><span>of the false negatives: on noisy positives&#x27; rows (no policy)</span>" in page
    assert "<b>2</b><span>labelled positives removed from negatives</span>" in page
    assert "earlier audit" not in page and "another row of their query" not in page


def test_negatives_a_sibling_row_flagged_get_a_card(flags_and_summary, tmp_path):
    """The summary counted them (sibling_false_negatives), the page did not: on the demo its 101 drop rows stood for
    110 negatives the cleaned file lost."""
    flags, summary = flags_and_summary
    data = json.loads(summary.read_text())
    data["counts"].update(sibling_false_negatives=9)
    summary.write_text(json.dumps(data))
    page = report_from_files(flags, summary, tmp_path / "r.html").read_text()
    assert "<b>9</b><span>more negatives given the policy: flagged in another row of their query</span>" in page


def test_the_table_row_default_is_one_value_for_the_api_the_audit_and_the_report_commands():
    """Paged, 20,000 SciFact flags are a 6.3 MB page that opens in under a second: the default shows that many
    (it was 2,000, written out in four places)."""
    import inspect

    from typer.main import get_command

    from negmine.cli import build_app
    from negmine.config import TABLE_ROWS, AuditConfig
    from negmine.report.render import render_report

    assert TABLE_ROWS == 20_000
    assert AuditConfig.__dataclass_fields__["max_table_rows"].default == TABLE_ROWS
    assert inspect.signature(render_report).parameters["max_rows"].default == TABLE_ROWS
    assert inspect.signature(report_from_files).parameters["max_rows"].default == TABLE_ROWS
    commands = get_command(build_app()).commands
    for command in ("audit", "report"):
        (option,) = [p for p in commands[command].params if p.name == "max_table_rows"]
        assert option.default == TABLE_ROWS, command


def test_report_from_files_finds_the_summary_and_names_the_page_as_negmine_report_does(flags_and_summary, tmp_path):
    """`negmine report FLAGS` reads <stem>.audit-summary.json and writes <stem>.report.html; from Python both
    paths had to be given."""
    from typer.testing import CliRunner

    from negmine.cli import build_app

    flags, summary = flags_and_summary
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "mined.flags.jsonl").write_bytes(flags.read_bytes())
    (folder / "mined.audit-summary.json").write_bytes(summary.read_bytes())
    page = report_from_files(folder / "mined.flags.jsonl")
    assert page == folder / "mined.report.html"
    from_python = page.read_bytes()
    page.unlink()
    assert CliRunner().invoke(build_app(), ["report", str(folder / "mined.flags.jsonl")]).exit_code == 0
    assert page.read_bytes() == from_python


def test_a_mined_file_given_for_the_flags_is_named_as_such_before_any_summary_is_looked_for(tmp_path):
    """`negmine report m.clean.jsonl` (the cleaned file, not the flags) said 'm.clean.audit-summary.json: audit
    summary not found', as if the flags file were right and its summary missing."""
    mined = tmp_path / "m.clean.jsonl"
    mined.write_text(json.dumps({"query_id": "q1", "positive_id": "d1", "negative_ids": ["d2"]}) + "\n")
    with pytest.raises(InputError, match=r"m\.clean\.jsonl:1: field 'kind': must be 'false_negative' or 'noisy_positive' "
                                         r"\(an audit flags file\); this row is a mined pair \(a native row\): give the "
                                         r"\*\.flags\.jsonl file negmine audit wrote"):
        report_from_files(mined)


@pytest.mark.parametrize("name, document, hint", [
    ("eval.txt", {"comparison": {}, "data": {}},
     r"this file is negmine eval's results JSON, which negmine report reads from a file named \*\.json: rename it, "
     r"then negmine report .*model/eval\.json \(from Python: negmine\.report\.evaluation\.eval_report\)"),
    ("eval.json", {"comparison": {}, "data": {}},
     r"this file is negmine eval's results JSON, which negmine report reads from a file named \*\.json: negmine "
     r"report .*model/eval\.json \(from Python: negmine\.report\.evaluation\.eval_report\)"),
    ("negatives.summary.json", {"pairs_in": 3},
     r"this file is one JSON document, not JSON Lines; negmine report takes the \*\.flags\.jsonl file negmine "
     r"audit wrote, the native JSONL negmine mine -o wrote \(with its <stem>\.summary\.json beside it\), the "
     r"results JSON negmine eval -o wrote \(named \*\.json\), or the output directory of a negmine train run"),
    ("negatives.summary.json", {"pairs_in": 3, "pairs_out": 2, "output": "out/negatives.jsonl"},
     r"this file is a negmine mine run's summary: give the mined file it describes, negmine report "
     r"out/negatives\.jsonl"),
    ("negmine_train.json", {"result": {}, "config": {}},
     r"this file is a negmine train run's summary: give its folder, negmine report .*model"),
])
def test_a_json_document_given_for_the_flags_is_named_as_such(tmp_path, name, document, hint):
    """`negmine report out/eval.json` said only 'Expecting property name enclosed in double quotes (column 2)'."""
    path = tmp_path / "model" / name
    path.parent.mkdir()
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:1: invalid JSON: Expecting property name enclosed "
                                         rf"in double quotes \(column 2\); {hint}$"):
        report_from_files(path)


def test_broken_json_lines_get_no_document_hint(tmp_path):
    path = tmp_path / "broken.flags.jsonl"
    path.write_text('{"kind": "false_negative",\n')
    with pytest.raises(InputError, match=r"invalid JSON: Expecting property name enclosed in double quotes \(column "
                                         r"27\)$"):
        report_from_files(path)


def test_a_key_given_twice_in_a_flag_record_is_refused_naming_line_and_key(tmp_path):
    path = tmp_path / "m.flags.jsonl"
    path.write_text('{"kind": "false_negative"}\n{"kind": "noisy_positive", "kind": "false_negative"}\n')
    with pytest.raises(InputError, match=r"^" + re.escape(
            f"{path}:2: field 'kind': given twice in one JSON object (again at column 28); JSON readers keep only "
            "the last value, so the other would be dropped without a word: keep one of them") + "$"):
        list(read_flags(path))


def test_an_integer_beyond_pythons_digit_limit_in_the_flags_is_invalid_json_at_its_line(tmp_path):
    path = tmp_path / "m.flags.jsonl"
    path.write_text('{"kind": "false_negative"}\n{"kind": "false_negative", "rank": ' + "9" * 4301 + "}\n")
    with pytest.raises(InputError, match=r"m\.flags\.jsonl:2: invalid JSON: an integer of 4301 digits, longer than"):
        list(read_flags(path))


@pytest.mark.parametrize(("change", "field", "problem"), [
    ({"counts": "lots"}, "counts", "must be a JSON object, got string"),
    ({"samples": []}, "samples", "must be a JSON object, got array"),
    ({"judges": None}, "judges", "must be a JSON array, got null"),
    ({"judges": ["score", 3]}, r"judges\[1\]", "must be a string, got 3"),
    ({"counts": {"pairs": "38"}}, "counts.pairs", 'must be an integer >= 0, got "38"'),
    ({"flags_per_judge": {"score": -1}}, "flags_per_judge.score", "must be an integer >= 0, got -1"),
    ({"votes_per_candidate": {"one": 3}}, "votes_per_candidate.one", r'must be a vote count \(digits\), got "one"'),
    ({"samples": {"confidence": [1.0]}}, "samples.confidence", "must be a JSON object with 'values', got array"),
    ({"samples": {"confidence": {"seen": 1, "values": ["x"]}}}, "samples.confidence.values",
     r'must be a list of finite numbers, got \["x"\]'),
    ({"judges_recheck_mining": "yes"}, "judges_recheck_mining", 'must be true or false, got "yes"'),
])
def test_a_summary_value_the_report_cannot_draw_is_named_before_rendering(flags_and_summary, tmp_path, change, field,
                                                                          problem):
    """A hand-edited or foreign summary failed in the middle of rendering with a TypeError/AttributeError traceback."""
    flags, summary = flags_and_summary
    bad = tmp_path / "edited.audit-summary.json"
    bad.write_text(json.dumps({**json.loads(summary.read_text()), **change}))
    out = tmp_path / "r.html"
    with pytest.raises(InputError, match=rf"^{re.escape(str(bad))}: field '{field}': {problem}; this is not an audit "
                                         r"summary \(write it with negmine audit\)$"):
        report_from_files(flags, bad, out)
    assert not out.exists()


def test_the_report_is_never_written_over_its_flags_or_summary_nor_into_a_directory(flags_and_summary, tmp_path):
    """``negmine report FLAGS -o FLAGS`` replaced the flags file with the HTML page (exit 0), and ``-o DIR`` failed
    naming a temporary file (``.DIR.vm.<pid>...tmp: Is a directory``)."""
    flags, summary = flags_and_summary
    before = flags.read_bytes(), summary.read_bytes()
    for out in (flags, summary):
        with pytest.raises(ConfigError) as info:
            report_from_files(flags, summary, out)
        assert str(info.value) == (f"--output {out}: this is an input file of the run ({out}); writing there would "
                                   "destroy it; choose another output path")
    (tmp_path / "dir").mkdir()
    with pytest.raises(ConfigError) as info:
        report_from_files(flags, summary, tmp_path / "dir")
    assert str(info.value) == f"--output {tmp_path / 'dir'}: is a directory; give a file path, e.g. {tmp_path / 'dir' / 'report.html'}"
    assert (flags.read_bytes(), summary.read_bytes()) == before


@pytest.mark.parametrize("key, value, problem", [
    ("doc_id", "d1 ", "id 'd1 ' has whitespace at its start or end; ids are matched exactly across the corpus, "
                      "queries, qrels and mined files, so remove it"),
    ("positive_id", "p\t1", "id 'p\\t1' holds a tab at character 2, which a qrels TSV line cannot hold"),
    ("query_id", "q\ufeff1", "id 'q\\ufeff1' holds a byte-order mark (U+FEFF) at character 2, an invisible character "
                             "that only the start of a file may hold"),
    ("doc_id", "\u200b", "id '\\u200b' has no visible character (only whitespace and the invisible characters "
                         "U+200B); give the row a visible id"),
])
def test_a_flag_id_the_mined_file_reader_refuses_is_refused_in_its_words(tmp_path, key, value, problem):
    """negmine audit writes ids its readers checked: one like these was edited in, and the report showed 'd1 ' as d1."""
    from .conftest import flag

    path = tmp_path / "m.flags.jsonl"
    path.write_text(json.dumps(flag(0)) + "\n" + json.dumps({**flag(1), key: value}) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        list(read_flags(path))
    assert str(info.value).startswith(f"{path}:2: field '{key}': {problem}")
    path.write_text(json.dumps({**flag(1), "doc_id": "d\u200d1"}) + "\n", encoding="utf-8")  # a joiner is kept
    assert [r["doc_id"] for r in read_flags(path)] == ["d\u200d1"]
