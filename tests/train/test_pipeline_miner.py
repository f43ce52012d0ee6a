from __future__ import annotations

import json

import pytest

from negmine.config import DataConfig, MineConfig, SelectConfig
from negmine.testing.beir import write_beir
from negmine.testing.hash_embedder import HashEmbedder
from negmine.train.pipeline_miner import pipeline_miner


def test_the_pipeline_miner_mines_with_the_embedder_it_is_given_to_the_path_it_is_given(tmp_path):
    words = "cell gene protein cancer risk study patients effect blood brain heart disease".split()
    corpus = {f"d{i}": " ".join(words[(i + j) % 12] for j in range(1 + i % 4)) for i in range(15)}
    beir = write_beir(tmp_path / "beir", corpus, {f"q{i}": " ".join(words[i: i + 2]) for i in range(4)},
                      [(f"q{i}", f"d{i}", 1) for i in range(4)])
    config = MineConfig(data=DataConfig(data_dir=beir), select=SelectConfig(num_negatives=2))
    miner = pipeline_miner(config)
    out = miner(HashEmbedder(32), tmp_path / "round" / "neg.jsonl")
    assert out == tmp_path / "round" / "neg.jsonl"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["query_id"] for r in rows] == ["q0", "q1", "q2", "q3"]
    assert all(len(r["negative_ids"]) == 2 for r in rows)


def test_a_missing_dataset_fails_when_the_miner_is_built_not_at_the_first_re_mining(tmp_path):
    from negmine.errors import NegmineError

    with pytest.raises(NegmineError, match="no-such-beir"):
        pipeline_miner(MineConfig(data=DataConfig(data_dir=tmp_path / "no-such-beir")))


def test_the_denoise_judges_are_checked_when_the_miner_is_built_not_at_the_first_re_mining(tmp_path,
                                                                                          tiny_cross_encoder_path,
                                                                                          not_a_bi_encoder):
    """A teacher recorded in the mining summary whose folder has since gone, or a cross-encoder given as a teacher,
    failed at the first re-mining step, after the steps before it had trained."""
    from negmine.config import DenoiseConfig, JudgeConfig
    from negmine.errors import ConfigError

    missing = tmp_path / "gone-teacher"
    for teacher, message in ((missing, f"teacher path '{missing}' does not exist; pass an existing folder or a hub "
                                       "model name"),
                             (tiny_cross_encoder_path, not_a_bi_encoder(
                                 "teacher", tiny_cross_encoder_path,
                                 "a sequence classifier (BertForSequenceClassification, transformers)"))):
        denoise = DenoiseConfig(True, JudgeConfig(teachers=(str(teacher),)))
        with pytest.raises(ConfigError) as info:
            pipeline_miner(MineConfig(data=DataConfig(data_dir=tmp_path / "no-such-beir"), denoise=denoise))
        assert str(info.value) == message, "the judges are checked before the dataset loads"


def test_a_judge_that_would_come_from_an_unreachable_hub_fails_when_the_miner_is_built(tmp_path, unreachable_hub):
    """A judge folder given by a bare name (``--cross-encoder my-ce``, recorded so in the mining summary) and since
    moved reads as a hub name, which the checks before loading leave to the load: re-mining without hub access
    failed only at its first round, after the steps before it had trained (demo, --remine-steps 3: after two
    steps and 46 s of hub retries for the cross-encoder)."""
    from negmine.config import DenoiseConfig, JudgeConfig, TrainConfig
    from negmine.config_path import within
    from negmine.errors import ConfigError

    address = unreachable_hub
    for what, judges, field in (
            ("cross-encoder", JudgeConfig(cross_encoder="gone-ce"), "cross_encoder (negmine mine --cross-encoder)"),
            ("teacher", JudgeConfig(teachers=("gone-teacher",)), "teachers (negmine mine --teacher)")):
        name = judges.cross_encoder or judges.teachers[0]
        mine = MineConfig(data=DataConfig(data_dir=tmp_path / "no-such-beir"), denoise=DenoiseConfig(True, judges))
        with pytest.raises(ConfigError) as info:  # train builds its miner within its config's mine
            with within(TrainConfig(train_file="mined.jsonl", remine_every_epoch=True, mine=mine), "mine"):
                pipeline_miner(mine)
        message = str(info.value)
        assert message.startswith(  # the field it is in (it said TrainConfig.mine, whatever the judge)
            f"{what} {name!r} in mine.denoise.judges.{field}, of the --denoise mining that re-mining repeats (negmine "
            f"train reads it from the mining summary), is neither a local folder nor in the Hugging Face cache, and "
            f"the hub ({address[0]}:{address[1]}) is unreachable (ConnectionRefusedError"), message
        assert message.endswith(
            "so re-mining would fail when it loads it, after the steps before it had trained; if it is a folder, "
            "restore it or run from the folder mining ran in (a relative path is read from the current folder), or "
            "give --mine-summary a summary that names where it is now; if it is a hub name, download it once with "
            "network"), message


def _toy_beir(tmp_path):
    words = "cell gene protein cancer risk study patients effect blood brain heart disease".split()
    corpus = {f"d{i}": " ".join(words[(i + j) % 12] for j in range(1 + i % 4)) for i in range(15)}
    return write_beir(tmp_path / "beir", corpus, {f"q{i}": " ".join(words[i: i + 2]) for i in range(4)},
                      [(f"q{i}", f"d{i}", 1) for i in range(4)])


def test_re_mining_with_denoise_and_a_cross_encoder_writes_the_judge_scores(tmp_path, tiny_cross_encoder_path,
                                                                            tiny_model_path):
    """Re-mining repeats a ``--denoise`` mining with its judges, now with the relevance judge's scoring after
    selection: with the model being trained (a TrainingModelEmbedder) and a cross-encoder, the re-mined rows carry
    a judge score for the positive and each negative, and those are the cross-encoder's scores of the pairs (the
    ones a one-pair-per-pass scoring gives: ``--cross-encoder-batch-size 1``)."""
    from sentence_transformers import CrossEncoder, SentenceTransformer

    from negmine.config import DenoiseConfig, EncoderConfig, JudgeConfig
    from negmine.train.remine import TrainingModelEmbedder

    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_batch_size=1)
    config = MineConfig(data=DataConfig(data_dir=_toy_beir(tmp_path)), select=SelectConfig(num_negatives=2),
                        encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                        denoise=DenoiseConfig(True, judges, depth=1))
    embedder = TrainingModelEmbedder(SentenceTransformer(str(tiny_model_path), device="cpu"), step=2)
    out = pipeline_miner(config)(embedder, tmp_path / "remine" / "step-0000002.jsonl")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(len(r["judge_negative_scores"]) == len(r["negative_ids"]) for r in rows)
    model = CrossEncoder(str(tiny_cross_encoder_path), device="cpu")
    for row in rows:
        texts = [row["positive"], *row["negatives"]]
        want = [round(float(model.predict([(row["query"], t)], show_progress_bar=False)[0]), 6) for t in texts]
        assert [row["judge_positive_score"], *row["judge_negative_scores"]] == want, "one pair per pass"
    summary = json.loads(out.with_name("step-0000002.summary.json").read_text())
    judge_scores = summary["denoise"]["judge_scores"]
    assert judge_scores["scorer"] == "cross-encoder"
    assert judge_scores["pairs_scored_after_selection"] > 0, "depth 1: the second negative is scored after selection"


def test_training_re_mines_with_denoise_and_swaps_in_the_judge_scored_rows(tmp_path, tiny_cross_encoder_path,
                                                                          tiny_model_path):
    """``negmine train --remine-steps`` with a ``--denoise`` mining config (a cross-encoder judge): the re-mining
    runs the judges and their scoring after selection with the model being trained, writes rows with judge scores,
    and training reads them (every row's negatives swapped)."""
    from negmine.config import DenoiseConfig, EncoderConfig, JudgeConfig, TrainConfig
    from negmine.train.api import train

    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path))
    config = MineConfig(data=DataConfig(data_dir=_toy_beir(tmp_path)), select=SelectConfig(num_negatives=2),
                        encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                        denoise=DenoiseConfig(True, judges, depth=1))
    mined = pipeline_miner(config)(HashEmbedder(32), tmp_path / "mined.jsonl")
    result = train(TrainConfig(train_file=mined, output_dir=tmp_path / "out", model=str(tiny_model_path),
                               max_steps=3, batch_size=2, num_negatives=2, checkpoint_steps=None,
                               show_progress=False, precision="fp32", remine_steps=2, mine=config))
    assert [(e["step"], e["rows_updated"], e["rows_total"]) for e in result.remine] == [(2, 4, 4)]
    rows = [json.loads(line) for line in (tmp_path / "out" / "remine" / "step-0000002.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(len(r["judge_negative_scores"]) == len(r["negative_ids"]) == 2 for r in rows)


class _Loaded(Exception):
    """Raised in place of loading the training file: the re-mining dataset has loaded by then."""


@pytest.mark.parametrize("show_progress", [False, True])
def test_re_mining_loads_its_pairs_with_the_training_runs_progress_setting(tmp_path, tiny_model_path, monkeypatch,
                                                                           capfd, show_progress):
    """``negmine train --no-progress`` with re-mining on ``--pairs`` read through datasets: the pipeline miner loaded
    them with progress on (the recorded mining config carries no progress setting), so datasets' 'Generating train
    split' bar went to stderr. The load now follows the training run's setting."""
    datasets = pytest.importorskip("datasets")
    import negmine.progress
    import negmine.train.api as train_api
    from negmine.config import TrainConfig

    was_off = datasets.are_progress_bars_disabled()
    datasets.enable_progress_bars()
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets-cache")
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "train.jsonl").write_text("".join(
        json.dumps({"anchor": f"cell protein query {i}", "positive": f"gene study document {i}"}) + "\n"
        for i in range(6)), encoding="utf-8")

    def loaded(*args, **kwargs):
        raise _Loaded

    monkeypatch.setattr(train_api, "load_train_data", loaded)
    # capfd's stderr is no terminal, where other libraries' bars are off whatever the setting (negmine.library_bars):
    # as if it were one, so the setting alone decides
    monkeypatch.setattr(negmine.progress, "_draws_in_place", lambda tqdm_class, stream: True)
    mine = MineConfig(data=DataConfig(pairs=f"hf:{tmp_path / 'pairs'}:train"))
    config = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "out", model=str(tiny_model_path),
                         show_progress=show_progress, remine_steps=2, mine=mine)
    (tmp_path / "m.jsonl").write_text("{}\n", encoding="utf-8")
    try:
        with pytest.raises(_Loaded):
            train_api.train(config)
    finally:
        if was_off:
            datasets.disable_progress_bars()
    assert ("Generating train split" in capfd.readouterr().err) is show_progress
    assert datasets.are_progress_bars_disabled() is was_off
