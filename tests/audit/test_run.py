from __future__ import annotations

import json

import pytest

from negmine.audit.judges import build_judges
from negmine.audit.resources import load_resources
from negmine.audit.run import audit_file, collect_positives, summary_path
from negmine.config import AuditConfig, EncoderConfig, JudgeConfig, NearDupConfig
from negmine.errors import InputError


def run(native_file, tmp_path, embedder, **kw):
    judges = JudgeConfig(near_dup=NearDupConfig(cosine=0.95, overlap=0.5))
    config = AuditConfig(input=native_file, judges=judges, encoder=EncoderConfig(use_cache=False),
                         output=tmp_path / "clean.jsonl", flags=tmp_path / "audit.flags.jsonl", **kw)
    config.validate()
    names = judges.resolved(config.DEFAULT_JUDGES)
    resources = load_resources(judges, names, config.encoder, None, embedder=embedder)
    return config, audit_file(config, build_judges(judges, names, resources), names)


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_audit_flags_near_copies_and_margin_breakers_and_cleans_rows(native_file, tmp_path, hash_embedder):
    config, summary = run(native_file, tmp_path, hash_embedder, batch_size=2)
    flags = read(config.flags)
    fn = {(f["query_id"], f["positive_id"], f["doc_id"]): f for f in flags if f["kind"] == "false_negative"}
    assert ("q1", "p1", "n-copy") in fn and "near-duplicate" in fn[("q1", "p1", "n-copy")]["judges"]
    assert ("q1", "p1", "n-sib") in fn, "near-copy of the sibling positive p2 of q1"
    assert ("q2", "p3", "n-a") in fn and fn[("q2", "p3", "n-a")]["judges"] == ["score"]
    assert not any(k[2] in ("n-coffee", "n-battery", "n-c") for k in fn)
    clean = read(config.output)
    assert [r["positive_id"] for r in clean] == ["p1", "p2"], "q2's positive scores below most negatives: dropped"
    assert clean[0]["negative_ids"] == ["n-coffee", "n-battery"]
    assert set(clean[0]["false_negative_ids"]) == {"n-copy", "n-sib"}
    noisy = [f for f in flags if f["kind"] == "noisy_positive"]
    assert [(f["positive_id"], f["action"]) for f in noisy] == [("p3", "drop")]
    assert summary["counts"]["pairs"] == 3 and summary["counts"]["rows_written"] == 2
    assert summary["counts"]["false_negatives"] == len(fn)
    assert json.loads(summary_path(config).read_text())["counts"] == summary["counts"]
    assert summary_path(config).name == "audit.audit-summary.json"


def test_same_input_gives_identical_files(native_file, tmp_path, hash_embedder):
    config, _ = run(native_file, tmp_path, hash_embedder)
    first = (config.flags.read_bytes(), config.output.read_bytes(), summary_path(config).read_bytes())
    run(native_file, tmp_path, hash_embedder, batch_size=1)
    assert first == (config.flags.read_bytes(), config.output.read_bytes(), summary_path(config).read_bytes())


def test_near_dup_signatures_in_worker_processes_give_identical_files(native_file, tmp_path, hash_embedder,
                                                                      monkeypatch):
    import negmine.audit.near_dup as near_dup
    import negmine.audit.run as audit_run

    config, _ = run(native_file, tmp_path, hash_embedder, workers=1)
    first = (config.flags.read_bytes(), config.output.read_bytes(), summary_path(config).read_bytes())
    calls = []
    real = near_dup.parallel_signatures
    monkeypatch.setattr(near_dup, "PARALLEL_MIN", 1)
    monkeypatch.setattr(audit_run, "PREFETCH_ROWS", 2)  # blocks of 2 rows, judged one row at a time
    monkeypatch.setattr(near_dup, "parallel_signatures", lambda *a, **k: calls.append(a) or real(*a, **k))
    run(native_file, tmp_path, hash_embedder, workers=2, batch_size=1)
    assert len(calls) == 2, "one prefetch per block of rows (3 rows: 2 blocks)"
    assert first == (config.flags.read_bytes(), config.output.read_bytes(), summary_path(config).read_bytes())


def test_depth_limits_judging_to_the_first_negatives(native_file, tmp_path, hash_embedder):
    config, summary = run(native_file, tmp_path, hash_embedder, depth=1, positive_policy="mark")
    assert summary["counts"]["candidates_judged"] == 3
    assert {f["doc_id"] for f in read(config.flags) if f["kind"] == "false_negative"} == {"n-copy", "n-a"}


def test_collect_positives_and_bad_rows(native_file, tmp_path):
    rows = read(native_file)
    assert collect_positives(native_file) == {
        "q1": (("p1", rows[0]["positive"]), ("p2", rows[1]["positive"])), "q2": (("p3", rows[2]["positive"]),)}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query_id": "q"}\n')
    with pytest.raises(InputError, match="bad.jsonl:1: field 'query':"):
        collect_positives(bad)


def _sibling_rows():
    """q1 has two positives; only p1's row flags d-close (0.78 within the sd margin of 0.80), p2's row (0.95)
    does not, and p2's row comes first. d-close is an ordinary negative of q2."""
    from .conftest import native_row

    close, far = ("d-close", "melatonin dose for sleep", 0.78), ("d-far", "battery cathode voltage", 0.20)
    return [
        native_row("q1", "melatonin and sleep", "p2", "melatonin helps adults sleep", 0.95, [close, far]),
        native_row("q2", "sleep aids", "p3", "sleep aids in adults", 0.90, [(close[0], close[1], 0.30), far]),
        native_row("q1", "melatonin and sleep", "p1", "melatonin improves sleep quality", 0.80, [close, far]),
    ]


@pytest.mark.parametrize("policy, negatives, extra", [
    ("promote", ["d-far"], {"extra_positive_ids": ["d-close"]}),
    ("drop", ["d-far"], {"false_negative_ids": ["d-close"]}),
    ("mark", ["d-close", "d-far"], {"false_negative_ids": ["d-close"], "negative_flags": ["false_negative", None]}),
])
def test_a_false_negative_gets_the_policy_in_every_row_of_its_query(tmp_path, policy, negatives, extra):
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in _sibling_rows()), encoding="utf-8")
    judges = JudgeConfig(judges=("score",))
    config = AuditConfig(input=mined, judges=judges, encoder=EncoderConfig(use_cache=False), formats=("triplet",),
                         output=tmp_path / "clean.jsonl", flags=tmp_path / "audit.flags.jsonl",
                         false_negative_policy=policy)
    resources = load_resources(judges, ("score",), config.encoder, None)
    summary = audit_file(config, build_judges(judges, ("score",), resources), ("score",))
    flagged = [(f["query_id"], f["positive_id"], f["doc_id"]) for f in read(config.flags)]
    assert flagged == [("q1", "p1", "d-close")], "only p1's row flags d-close"
    clean = {(r["query_id"], r["positive_id"]): r for r in read(config.output)}
    for positive in ("p1", "p2"):
        row = clean[("q1", positive)]
        assert row["negative_ids"] == negatives, positive
        assert {k: row.get(k) for k in extra} == extra, positive
    assert clean[("q2", "p3")]["negative_ids"] == ["d-close", "d-far"], "another query's negative stays one"
    assert summary["counts"]["false_negatives"] == 1 and summary["counts"]["sibling_false_negatives"] == 1
    if policy != "mark":
        triplets = read(tmp_path / "clean.triplet.jsonl")
        q1_negatives = {t["negative"] for t in triplets if t["anchor"] == "melatonin and sleep"}
        assert q1_negatives == {"battery cathode voltage"}, "d-close is no hard negative of q1 in the export"


@pytest.mark.parametrize("fn_policy", ["drop", "promote", "mark"])
@pytest.mark.parametrize("positive_policy", ["drop", "mark"])
def test_a_noisy_positive_s_flags_get_no_policy(tmp_path, positive_policy, fn_policy):
    """q1's second positive is a wrong label: every candidate outscores it, so its row flags them all. Those
    flags are measured against a positive the audit itself finds noisy; no policy may act on them (before: the
    row with q1's trusted positive came out with no negatives, or with all of them promoted)."""
    from .conftest import native_row

    shared = [("d-a", "doc a", 0.50), ("d-b", "doc b", 0.40), ("d-c", "doc c", 0.30)]
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in [
        native_row("q1", "melatonin and sleep", "p1", "melatonin improves sleep", 0.80, shared),
        native_row("q1", "melatonin and sleep", "p-wrong", "wind turbines on roofs", 0.00, shared),
    ]), encoding="utf-8")
    judges = JudgeConfig(judges=("score",))
    config = AuditConfig(input=mined, judges=judges, encoder=EncoderConfig(use_cache=False),
                         output=tmp_path / "clean.jsonl", flags=tmp_path / "audit.flags.jsonl",
                         positive_policy=positive_policy, false_negative_policy=fn_policy)
    resources = load_resources(judges, ("score",), config.encoder, None)
    summary = audit_file(config, build_judges(judges, ("score",), resources), ("score",))
    flags = read(config.flags)
    assert [(f["kind"], f["positive_id"], f["action"]) for f in flags] == [
        *[("false_negative", "p-wrong", "none")] * 3, ("noisy_positive", "p-wrong", positive_policy)]
    clean = read(config.output)
    assert [r["positive_id"] for r in clean] == (["p1"] if positive_policy == "drop" else ["p1", "p-wrong"])
    for row in clean:
        assert row["negative_ids"] == ["d-a", "d-b", "d-c"], row["positive_id"]
        assert not {"false_negative_ids", "extra_positive_ids"} & set(row), row["positive_id"]
        assert row.get("negative_flags", [None] * 3) == [None] * 3, row["positive_id"]
    counts = summary["counts"]
    assert (counts["false_negatives"], counts["false_negatives_of_noisy_positives"]) == (3, 3)
    assert counts["sibling_false_negatives"] == 0


def _score_audit(tmp_path, source, out, judges, policy, formats=()):
    config = AuditConfig(input=source, judges=judges, encoder=EncoderConfig(use_cache=False), formats=formats,
                         output=tmp_path / out, flags=tmp_path / f"{out}.flags.jsonl", false_negative_policy=policy)
    resources = load_resources(judges, ("score",), config.encoder, None)
    return audit_file(config, build_judges(judges, ("score",), resources), ("score",)), read(config.output)


@pytest.mark.parametrize("policy, negatives, flags, extra", [
    ("mark", ["d-a", "d-b", "d-c"], ["false_negative", "false_negative", None], None),
    ("drop", ["d-c"], None, None),
    ("promote", ["d-c"], None, ["d-a", "d-b"]),
])
def test_re_auditing_a_marked_file_keeps_the_earlier_marks(tmp_path, policy, negatives, flags, extra):
    """A first audit (absolute margin 0.1) marks d-a and d-b; a second one with the default sd margin (0.05 here)
    flags only d-a. d-b must not turn back into an ordinary hard negative (before: its mark was lost, the
    exports gave it as a negative of q1 and, with drop, the row listed it both as a negative and in
    false_negative_ids)."""
    from .conftest import native_row

    mined = tmp_path / "mined.jsonl"
    mined.write_text(json.dumps(native_row("q1", "melatonin and sleep", "p1", "melatonin improves sleep", 0.80, [
        ("d-a", "doc a", 0.78), ("d-b", "doc b", 0.74), ("d-c", "doc c", 0.30)])) + "\n", encoding="utf-8")
    first = JudgeConfig(judges=("score",), sd_margin=None, absolute_margin=0.1)
    _, marked = _score_audit(tmp_path, mined, "marked.jsonl", first, "mark")
    assert marked[0]["negative_flags"] == ["false_negative", "false_negative", None]
    summary, again = _score_audit(tmp_path, tmp_path / "marked.jsonl", "again.jsonl", JudgeConfig(judges=("score",)),
                                  policy, formats=("triplet",))
    row = again[0]
    assert (row["negative_ids"], row.get("negative_flags"), row.get("extra_positive_ids")) == (negatives, flags, extra)
    assert row["false_negative_ids"] == ["d-a", "d-b"]
    assert summary["counts"]["false_negatives"] == 1 and summary["counts"]["earlier_false_negatives"] == 1
    assert {t["negative"] for t in read(tmp_path / "again.triplet.jsonl")} == {"doc c"}


@pytest.mark.parametrize("policy", ["drop", "promote", "mark"])
def test_a_labelled_positive_among_the_negatives_is_removed_whatever_the_judges(tmp_path, policy):
    """A file not mined by negmine lists q1's positive p2 as a negative of q1's other row (a row's own positive
    among its negatives is refused on input). Before, a positive no judge flagged stayed a negative, so the
    exports gave a labelled positive of q1 as its hard negative; now it is removed whatever the policy, and the
    summary counts it."""
    from .conftest import native_row

    p2, other = ("p2", "melatonin helps adults sleep", 0.50), ("d-c", "battery cathode voltage", 0.30)
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in [
        native_row("q1", "melatonin and sleep", "p1", "melatonin improves sleep", 0.80, [p2, other]),
        native_row("q1", "melatonin and sleep", "p2", p2[1], 0.60, [other]),
        native_row("q2", "sleep aids", "p3", "sleep aids in adults", 0.90, [p2, other]),
    ]), encoding="utf-8")
    summary, clean = _score_audit(tmp_path, mined, "clean.jsonl", JudgeConfig(judges=("score",)), policy,
                                  formats=("triplet",))
    assert [r["negative_ids"] for r in clean] == [["d-c"], ["d-c"], ["p2", "d-c"]], "p2 is no positive of q2"
    assert not any(r.get("extra_positive_ids") or r.get("false_negative_ids") for r in clean)
    assert summary["counts"]["labelled_positives_removed"] == 1
    q1_negatives = {t["negative"] for t in read(tmp_path / "clean.triplet.jsonl") if t["anchor"] == "melatonin and sleep"}
    assert q1_negatives == {"battery cathode voltage"}


@pytest.mark.parametrize("output", ["clean.jsonl", None])
def test_a_stopped_audit_leaves_no_report_of_the_run_before(native_file, tmp_path, hash_embedder, monkeypatch,
                                                            output):
    """The HTML report is rendered after the summary: an audit stopped before that (here while judging) must
    not leave the earlier run's report next to its own files, as if it described them."""
    import negmine.audit.run as audit_run

    judges = JudgeConfig(judges=("score",))
    config = AuditConfig(input=native_file, judges=judges, encoder=EncoderConfig(use_cache=False),
                         output=tmp_path / output if output else None, flags=tmp_path / "audit.flags.jsonl",
                         report=tmp_path / "audit.report.html")
    resources = load_resources(judges, ("score",), config.encoder, None)
    audit_file(config, build_judges(judges, ("score",), resources), ("score",))
    config.report.write_text("<html>the earlier run's report</html>")

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(audit_run, "_audit_batch", stop)
    with pytest.raises(KeyboardInterrupt):
        audit_file(config, build_judges(judges, ("score",), resources), ("score",))
    assert not config.report.exists() and not summary_path(config).exists()


def test_query_ids_with_one_text_are_one_query_for_the_policies(tmp_path):
    """Mining pools the positives of query ids with the same normalised text (an own-data file held 'Long-term
    ...' beside 'LONG-TERM ...'); the audit kept them apart: a document flagged in one's row stayed a hard negative
    of the other, and the other's positive was not known as a labelled positive there."""
    from .conftest import native_row

    close, far = ("d-close", "melatonin dose for sleep", 0.78), ("d-far", "battery cathode voltage", 0.20)
    rows = [
        native_row("q1", "Melatonin and sleep", "p1", "melatonin improves sleep quality", 0.80, [close, far]),
        native_row("q9", "MELATONIN  and sleep.", "p9", "melatonin helps adults sleep", 0.95,
                   [close, ("p1", "melatonin improves sleep quality", 0.60), far]),
    ]
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert collect_positives(mined)["q9"] == (("p1", rows[0]["positive"]), ("p9", rows[1]["positive"]))
    judges = JudgeConfig(judges=("score",))
    config = AuditConfig(input=mined, judges=judges, encoder=EncoderConfig(use_cache=False),
                         output=tmp_path / "clean.jsonl", flags=tmp_path / "audit.flags.jsonl")
    resources = load_resources(judges, ("score",), config.encoder, None)
    summary = audit_file(config, build_judges(judges, ("score",), resources), ("score",))
    assert [(f["query_id"], f["doc_id"]) for f in read(config.flags)] == [("q1", "d-close")]
    clean = {r["query_id"]: r for r in read(config.output)}
    assert clean["q9"]["negative_ids"] == ["d-far"], "q1's false negative and q1's positive are no negatives of q9"
    assert summary["counts"]["sibling_false_negatives"] == 1 and summary["counts"]["labelled_positives_removed"] == 1


def test_an_audit_writes_a_registered_export_format_and_records_where_it_came_from(native_file, tmp_path,
                                                                                 hash_embedder):
    from importlib.metadata import version

    from negmine.testing.plugins import QueryNegativeExporter, registered

    with registered(QueryNegativeExporter()):
        config, summary = run(native_file, tmp_path, hash_embedder, formats=("query-negative",))
    records = read(tmp_path / "clean.query-negative.jsonl")
    assert records == [{"query": r["query"], "negative": text} for r in read(config.output) for text in r["negatives"]]
    assert summary["plugins"] == {"export_formats": {"query-negative": {
        "source": "register_export_format", "module": "negmine.testing.plugins", "qualname": "QueryNegativeExporter",
        "distribution": "negmine", "version": version("negmine")}}}
    _, plain = run(native_file, tmp_path, hash_embedder, formats=("triplet",))
    assert "plugins" not in plain and not (tmp_path / "clean.query-negative.jsonl").exists()


def test_a_sibling_positive_among_the_negatives_is_no_flag_and_keeps_its_row(tmp_path, hash_embedder):
    """The sibling positives p2 and p3 sit among p1's negatives, above it (a file not mined by negmine). The flags
    file named each a false negative (near-duplicate of a positive, and the score judge's margin) with action
    ``drop``, ``promote`` or ``mark`` though the policies remove it as a labelled positive, and p1's row, ranked below
    both, was dropped as a noisy positive."""
    from .conftest import native_row

    texts = {"p1": "Melatonin improves sleep quality in adults over eight weeks of nightly use in a trial.",
             "p2": "Caffeine at night delays sleep onset and shortens deep sleep in healthy volunteers.",
             "p3": "Blue light from screens before bed suppresses melatonin and delays sleep in teenagers."}
    other = ("n", "Lithium battery cathode voltage and charge cycles.", 0.1)
    rows = [native_row("q1", "sleep", "p1", texts["p1"], 0.5, [("p2", texts["p2"], 0.9), ("p3", texts["p3"], 0.8),
                                                                 other]),
            native_row("q1", "sleep", "p2", texts["p2"], 0.9, [other]),
            native_row("q1", "sleep", "p3", texts["p3"], 0.8, [other])]
    native_file = tmp_path / "mined.jsonl"
    native_file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for policy in ("drop", "promote", "mark"):
        config, summary = run(native_file, tmp_path, hash_embedder, false_negative_policy=policy)
        assert read(config.flags) == []
        assert [(r["positive_id"], r["negative_ids"]) for r in read(config.output)] == [
            ("p1", ["n"]), ("p2", ["n"]), ("p3", ["n"])]
        assert summary["counts"]["false_negatives"] == 0 and summary["counts"]["noisy_positives"] == 0
        assert summary["counts"]["labelled_positives_removed"] == 2
