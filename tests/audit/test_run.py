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
