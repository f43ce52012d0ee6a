import json
import logging
import re
import shutil
from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer
from transformers import TrainerCallback

from negmine.config import DevEvalConfig, TrainConfig
from negmine.errors import ConfigError, NegmineWarning
from negmine.train import TRAINING_VERSION
from negmine.train.api import SUMMARY_NAME, train

from .conftest import InterruptAt, toy_row


def _config(tmp_path, mined, model, **overrides) -> TrainConfig:
    base = dict(train_file=mined, output_dir=tmp_path / "out", model=str(model), max_steps=2, batch_size=4,
                num_negatives=2, checkpoint_steps=None, logging_steps=1, show_progress=False, precision="fp32")
    base.update(overrides)
    return TrainConfig(**base)


def _weights(path) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in SentenceTransformer(str(path), device="cpu").state_dict().items()}


def test_trains_and_saves_a_loadable_model(tmp_path, mined_file, tiny_model_path):
    result = train(_config(tmp_path, mined_file, tiny_model_path))
    assert result.global_step == 2 and result.output_dir == tmp_path / "out"
    assert result.data["rows_kept"] == 12 and result.final_loss is not None and result.precision == "fp32"
    assert {"load_data", "setup", "train", "save", "total"} <= result.timings.keys()
    model = SentenceTransformer(str(result.output_dir), device="cpu")
    assert model.encode(["cell gene"]).shape == (1, 32)
    summary = json.loads((result.output_dir / SUMMARY_NAME).read_text())
    assert summary["result"]["global_step"] == 2 and summary["config"]["num_negatives"] == 2
    assert summary["training_version"] == TRAINING_VERSION
    assert [h["step"] for h in result.loss_history] == [1, 2]
    trained, start = _weights(result.output_dir), _weights(tiny_model_path)
    assert trained.keys() == start.keys() and not all(torch.equal(trained[k], start[k]) for k in start)


def test_loss_decreases_on_a_toy_overfit(tmp_path, write_mined, tiny_model_path):
    # every text has its own length, so the pairs are learnable whatever the tiny tokenizer keeps
    mined = write_mined(tmp_path / "toy.jsonl", [toy_row(i) for i in range(4)])
    config = _config(tmp_path, mined, tiny_model_path, max_steps=30, batch_size=4, num_negatives=1,
                     learning_rate=3e-3, warmup_ratio=0.0, fn_mask=False)
    history = [h["loss"] for h in train(config).loss_history]
    assert len(history) == 30
    assert sum(history[-5:]) / 5 < 0.5 * sum(history[:5]) / 5


def test_same_seed_gives_identical_weights(tmp_path, mined_file, tiny_model_path):
    a = train(_config(tmp_path / "a", mined_file, tiny_model_path, max_steps=3))
    b = train(_config(tmp_path / "b", mined_file, tiny_model_path, max_steps=3))
    c = train(_config(tmp_path / "c", mined_file, tiny_model_path, max_steps=3, seed=7))
    wa, wb, wc = _weights(a.output_dir), _weights(b.output_dir), _weights(c.output_dir)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, mined_file, tiny_model_path):
    straight = train(_config(tmp_path / "straight", mined_file, tiny_model_path, max_steps=4))
    config = _config(tmp_path / "resumed", mined_file, tiny_model_path, max_steps=4, checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    assert not (config.output_dir / SUMMARY_NAME).exists()
    with pytest.raises(ConfigError, match=r"already holds checkpoints .* set resume=True \(--resume\) to continue it, "
                                          r"or choose a new output_dir \(--output\) directory$"):
        train(config)
    from dataclasses import replace

    resumed = train(replace(config, resume=True))
    assert resumed.resumed_from.endswith("checkpoint-2") and resumed.global_step == 4
    ws, wr = _weights(straight.output_dir), _weights(resumed.output_dir)
    assert all(torch.equal(ws[k], wr[k]) for k in ws)


def test_resume_skips_a_checkpoint_that_was_not_saved_to_the_end(tmp_path, mined_file, tiny_model_path):
    import shutil
    from dataclasses import replace

    straight = train(_config(tmp_path / "straight", mined_file, tiny_model_path, max_steps=6))
    config = _config(tmp_path / "resumed", mined_file, tiny_model_path, max_steps=6, checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(5)])
    checkpoints = config.output_dir / "checkpoints"
    assert sorted(p.name for p in checkpoints.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    shutil.copytree(checkpoints / "checkpoint-4", checkpoints / "checkpoint-6")  # a save killed before its
    (checkpoints / "checkpoint-6" / "trainer_state.json").unlink()                # trainer state was written
    (checkpoints / "checkpoint-4" / "trainer_state.json").write_text('{"global_step": 4, "log_hi')  # cut short
    with pytest.warns(NegmineWarning) as caught:
        resumed = train(replace(config, resume=True))
    assert resumed.resumed_from.endswith("checkpoint-2") and resumed.global_step == 6
    shown = " | ".join(str(w.message) for w in caught if issubclass(w.category, NegmineWarning))
    assert "checkpoint-6 was not saved to the end" in shown and "checkpoint-4 was not saved" in shown
    ws, wr = _weights(straight.output_dir), _weights(resumed.output_dir)
    assert all(torch.equal(ws[k], wr[k]) for k in ws)


def test_a_resumed_runs_log_and_mean_loss_cover_every_step_as_the_straight_runs_do(tmp_path, mined_file,
                                                                                    tiny_model_path):
    # logging every 3 steps, checkpoints every 2, 5 steps: the log also takes the checkpoint steps and the last
    straight = train(_config(tmp_path / "straight", mined_file, tiny_model_path, max_steps=5, checkpoint_steps=2,
                             logging_steps=3))
    assert [h["step"] for h in straight.loss_history] == [1, 2, 3, 4, 5]
    config = _config(tmp_path / "resumed", mined_file, tiny_model_path, max_steps=5, checkpoint_steps=2,
                     logging_steps=3)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    from dataclasses import replace

    resumed = train(replace(config, resume=True))
    assert [h["step"] for h in resumed.loss_history] == [1, 2, 3, 4, 5]
    assert [h["loss"] for h in resumed.loss_history] == pytest.approx([h["loss"] for h in straight.loss_history])
    assert resumed.mean_loss == pytest.approx(straight.mean_loss)
    assert straight.mean_loss == pytest.approx(sum(h["loss"] for h in straight.loss_history) / 5)


def test_the_final_loss_is_the_mean_of_the_last_logged_window_and_names_its_steps(tmp_path, mined_file,
                                                                                  tiny_model_path):
    """``final_loss`` is the trainer's last log entry: the mean loss of the steps since the entry before, not the
    last step's loss; ``final_loss_steps`` names them (the summary and the CLI's JSON said neither)."""
    every = train(_config(tmp_path / "every", mined_file, tiny_model_path, max_steps=4, logging_steps=1))
    windows = train(_config(tmp_path / "windows", mined_file, tiny_model_path, max_steps=4, logging_steps=2))
    assert [h["step"] for h in windows.loss_history] == [1, 2, 4]
    assert windows.final_loss_steps == [3, 4] and windows.as_dict()["final_loss_steps"] == [3, 4]
    assert windows.final_loss == pytest.approx((every.loss_history[2]["loss"] + every.loss_history[3]["loss"]) / 2)
    assert (every.final_loss, every.final_loss_steps) == (every.loss_history[3]["loss"], [4, 4])


def test_a_resumed_run_reports_the_masked_fraction_of_the_whole_run(tmp_path, write_mined, make_row,
                                                                    tiny_model_path):
    # a third of the rows have a flagged negative, so the batches mask different shares of their candidates
    rows = [make_row(i, **({"negative_flags": ["false_negative", None]} if i % 3 == 0 else {})) for i in range(12)]
    mined = write_mined(tmp_path / "flagged.jsonl", rows)
    settings = dict(max_steps=5, checkpoint_steps=2, logging_steps=3, fn_margin=None)
    straight = train(_config(tmp_path / "straight", mined, tiny_model_path, **settings))
    config = _config(tmp_path / "resumed", mined, tiny_model_path, **settings)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    from dataclasses import replace

    resumed = train(replace(config, resume=True))
    assert resumed.resumed_from.endswith("checkpoint-2")
    assert 0 < straight.masked_fraction < 1 and resumed.masked_fraction == pytest.approx(straight.masked_fraction)


def test_a_resumed_runs_timings_cover_the_whole_run_part_by_part(tmp_path, mined_file, tiny_model_path):
    """A resumed run's ``timings`` (and its ``total``) covered only the resumed part: the seconds of the steps
    before the checkpoint were lost. The checkpoint's log now carries them: the summary lists each part and sums
    them."""
    from dataclasses import replace

    config = _config(tmp_path, mined_file, tiny_model_path, max_steps=5, checkpoint_steps=2, logging_steps=3)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])  # checkpoint-2
    resumed = train(replace(config, resume=True))
    first, last = resumed.timings_parts
    assert (first["until_step"], last["until_step"]) == (2, 5)
    assert set(first["seconds"]) == {"load_data", "setup", "train", "total"}
    assert {"load_data", "setup", "train", "save", "total"} == set(last["seconds"])
    assert first["seconds"]["total"] > 0 and first["seconds"]["train"] > 0
    for stage in ("load_data", "setup", "train", "total"):
        assert resumed.timings[stage] == pytest.approx(first["seconds"][stage] + last["seconds"][stage], abs=2e-3)
    assert resumed.timings["save"] == last["seconds"]["save"]
    summary = json.loads((resumed.output_dir / SUMMARY_NAME).read_text())
    assert summary["result"]["timings_parts"] == resumed.timings_parts
    assert summary["result"]["timings"] == resumed.timings
    assert all(set(h) <= {"step", "epoch", "loss", "learning_rate", "grad_norm"} for h in resumed.loss_history)
    straight = train(_config(tmp_path / "straight", mined_file, tiny_model_path))
    assert straight.timings_parts == [] and straight.timings["total"] > 0


def test_a_checkpoint_without_recorded_timings_gives_one_unrecorded_part():
    """A checkpoint saved by a negmine that did not record the seconds: its part is None, not counted as 0 s."""
    from types import SimpleNamespace

    from negmine.train.api import PartTimingsInLog, whole_run_timings

    log = PartTimingsInLog(lambda: {"train": 1.0, "total": 2.0}, resumed=True)
    log.on_train_begin(None, SimpleNamespace(log_history=[{"loss": 1.0, "step": 2}]), None)
    parts = log.parts(5, {"train": 1.0, "total": 2.0})
    assert parts == [None, {"until_step": 5, "seconds": {"train": 1.0, "total": 2.0}}]
    assert whole_run_timings(parts) == {"train": 1.0, "total": 2.0}
    recorded = [{"loss": 1.0, "step": 2, PartTimingsInLog.KEY: [{"until_step": 2, "seconds": {"total": 3.5}}]}]
    log.on_train_begin(None, SimpleNamespace(log_history=recorded), None)
    assert whole_run_timings(log.parts(5, {"total": 2.0})) == {"total": 5.5}


def test_mean_loss_weighs_each_logged_window_by_its_steps():
    from negmine.train.api import mean_loss

    assert mean_loss([{"step": 1, "loss": 4.0}, {"step": 4, "loss": 1.0}]) == pytest.approx((4.0 + 3 * 1.0) / 4)
    assert mean_loss([]) is None


def test_a_finished_run_is_neither_overwritten_nor_resumed(tmp_path, mined_file, tiny_model_path):
    config = _config(tmp_path, mined_file, tiny_model_path)
    train(config)
    from dataclasses import replace

    for again in (config, replace(config, seed=7), replace(config, resume=True), replace(config, max_steps=4)):
        with pytest.raises(ConfigError, match=r"out already holds a finished training run \(negmine_train.json, step 2\); "
                                              r"choose a new --output directory, or delete this one"):
            train(again)
    assert json.loads((tmp_path / "out" / SUMMARY_NAME).read_text())["config"]["seed"] == 42


def test_resume_with_other_settings_than_the_checkpoints_run_is_refused(tmp_path, write_mined, make_row,
                                                                        tiny_model_path):
    """``--resume`` with another learning rate, epoch count or training file went on from the checkpoint under
    the new settings (measured on minifacts: ``--lr 1e-3``, ``--batch-size 8``, ``--epochs 3`` and a 20-row
    training file were each resumed without a word and the summary recorded the new settings)."""
    from dataclasses import replace

    mined = write_mined(tmp_path / "mined.jsonl", [make_row(i) for i in range(12)])
    config = _config(tmp_path, mined, tiny_model_path, max_steps=4, checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    resume = replace(config, resume=True)
    for changed, message in [
        ({"learning_rate": 1e-3}, r"1 setting\(s\) differ .*\(recorded in negmine_run_settings.json; the checkpoint's "
                                  r"-> now\): learning_rate 2e-05 -> 0.001\. Resume with the run's own settings, or "
                                  r"choose a new --output directory"),
        ({"batch_size": 2, "max_steps": 5}, r"2 setting\(s\) differ .*: batch_size 4 -> 2; max_steps 4 -> 5\."),
        ({"dev": DevEvalConfig(data_dir=tmp_path)}, r"1 setting\(s\) differ .*: dev None -> \{'data_dir': '.*'split': 'dev'.*\}\."),
    ]:
        with pytest.raises(ConfigError, match=message):
            train(replace(resume, **changed))
    write_mined(mined, [make_row(i) for i in range(10)])  # re-mined to the same path
    with pytest.raises(ConfigError, match=re.escape("1 setting(s) differ") + ".*" + re.escape(
            f": train_file {mined.resolve()} is not the file the run started with: now 10 rows, ") + ".*; then 12 rows, "):
        train(resume)
    moved = write_mined(tmp_path / "moved.jsonl", [make_row(i) for i in range(12)])  # the same rows elsewhere
    mined.unlink()
    assert train(replace(resume, train_file=moved, show_progress=True)).global_step == 4


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class SavedAt(TrainerCallback):
    """Records the step of every checkpoint the trainer saves."""

    def __init__(self) -> None:
        self.steps: list[int] = []

    def on_save(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def test_a_resume_compares_the_precision_auto_resolved_to(tmp_path, mined_file, tiny_model_path, monkeypatch):
    """A run started with ``--precision auto`` (bf16 on a CPU with native bf16) was refused when resumed with
    ``--precision bf16``, the precision it trained in, as a settings mismatch ``precision 'auto' -> 'bf16'``. The
    recorded settings compare the precision each run computes in; a real change is still refused."""
    from dataclasses import replace

    import negmine.encode.precision as precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda *a, **k: True)  # auto -> bf16 on any CPU
    config = _config(tmp_path, mined_file, tiny_model_path, max_steps=4, checkpoint_steps=2, precision="auto")
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    resume = replace(config, resume=True)
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: precision 'bf16' -> 'fp32'\. "):
        train(replace(resume, precision="fp32"))
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda *a, **k: False)  # another CPU: auto -> fp32
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: precision 'bf16' -> 'fp32' \(--precision "
                                          r"auto resolves to fp32 on cpu here\)\. "):
        train(resume)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda *a, **k: True)
    result = train(replace(resume, precision="bf16"))
    assert (result.global_step, result.precision) == (4, "bf16")


def test_resume_may_change_the_checkpoint_and_logging_cadence_and_ends_with_the_same_weights(
        tmp_path, mined_file, tiny_model_path):
    """``--resume`` refused another --checkpoint-steps or --logging-steps, which change no weight (dropout is on in
    the tiny model: the random streams are those of the run without the change); allowed, the trainer still saved
    and logged at the checkpoint's cadence, which its restored state carries (measured: steps 6 and 7, log 6, 7)."""
    from dataclasses import replace

    straight = train(_config(tmp_path / "straight", mined_file, tiny_model_path, max_steps=7, checkpoint_steps=2,
                             logging_steps=3))
    config = _config(tmp_path / "resumed", mined_file, tiny_model_path, max_steps=7, checkpoint_steps=2,
                     logging_steps=3)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(5)])
    saved, warned = SavedAt(), Records()
    source = logging.getLogger("transformers.trainer_utils")  # transformers' loggers do not propagate to caplog's
    source.addHandler(warned)
    try:
        resumed = train(replace(config, resume=True, checkpoint_steps=5, logging_steps=1), callbacks=[saved])
    finally:
        source.removeHandler(warned)
    assert resumed.resumed_from.endswith("checkpoint-4") and resumed.global_step == 7
    assert resumed.resume_changes == ["checkpoint_steps 2 -> 5", "logging_steps 3 -> 1"]
    assert saved.steps == [5, 7]  # every 5 steps and at the end
    assert [h["step"] for h in straight.loss_history] == [1, 2, 3, 4, 6, 7]
    assert [h["step"] for h in resumed.loss_history] == [1, 2, 3, 4, 5, 6, 7]  # every 3 steps (and 2, 4), then each
    assert resumed.mean_loss == pytest.approx(straight.mean_loss)
    ws, wr = _weights(straight.output_dir), _weights(resumed.output_dir)
    assert ws.keys() == wr.keys() and all(torch.equal(ws[k], wr[k]) for k in ws)
    assert not [r for r in warned.records if "do not match" in r.getMessage()]  # applied: no warning they differ
    summary = json.loads((resumed.output_dir / SUMMARY_NAME).read_text())
    assert summary["result"]["resume_changes"] == resumed.resume_changes and summary["config"]["logging_steps"] == 1


def test_a_run_resumed_twice_at_other_cadences_names_every_value_in_order(tmp_path, mined_file, tiny_model_path):
    """Resumed with --logging-steps 2, then 1, the run recorded ``logging_steps 3 -> 1``: only its first value and
    the last resume's. A resume interrupted before it saved a checkpoint trained no step the run kept: not named."""
    from dataclasses import replace

    config = _config(tmp_path, mined_file, tiny_model_path, max_steps=6, checkpoint_steps=2, logging_steps=3)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])  # checkpoint-2
    with pytest.raises(KeyboardInterrupt):
        train(replace(config, resume=True, logging_steps=2), callbacks=[InterruptAt(5)])  # checkpoint-4
    with pytest.raises(KeyboardInterrupt):
        train(replace(config, resume=True, logging_steps=4), callbacks=[InterruptAt(5)])  # no checkpoint
    resumed = train(replace(config, resume=True, checkpoint_steps=5, logging_steps=1))
    assert resumed.resumed_from.endswith("checkpoint-4") and resumed.global_step == 6
    assert resumed.resume_changes == ["checkpoint_steps 2 -> 5", "logging_steps 3 -> 2 -> 1"]
    assert [h["step"] for h in resumed.loss_history] == [1, 2, 4, 5, 6]  # 4: every 2 steps (and the checkpoint)
    assert all(set(h) <= {"step", "epoch", "loss", "learning_rate", "grad_norm"} for h in resumed.loss_history)
    summary = json.loads((resumed.output_dir / SUMMARY_NAME).read_text())
    assert summary["result"]["resume_changes"] == resumed.resume_changes


def test_resume_without_checkpoint_is_a_config_error(tmp_path, mined_file, tiny_model_path):
    with pytest.raises(ConfigError, match=r"resume=True \(--resume\): no checkpoint found in .*checkpoints; run again "
                                          r"with resume=False"):
        train(_config(tmp_path, mined_file, tiny_model_path, resume=True))


@pytest.mark.parametrize("overrides, message", [
    ({"loss": "triplet"}, "unknown loss 'triplet'; allowed: mnrl, cached-mnrl"),
    ({"batching": "random"}, "unknown batching 'random'; allowed: no-duplicates, topic"),
    ({"num_negatives": -1}, "num_negatives must be an integer >= 0"),
    ({"learning_rate": 0.0}, "learning_rate must be > 0"),
    ({"fn_margin": 5.0}, r"fn_margin must be in \[-2, 2\]"),
    ({"hardness": "hard"}, "unknown hardness 'hard'; allowed: none, hard-negatives, in-batch, all"),
    ({"hardness_strength": -1.0}, r"hardness_strength must be in \[0, 100\].*; hardness_strength=5.0 \(--hardness-strength 5\) is "
                                   r"EmbeddingGemma's value"),
    ({"warmup_ratio": 1.5}, r"warmup_ratio must be in \[0, 1\)"),
    ({"max_steps": 1}, r"max_steps 1 with warmup_ratio 0.1: a linear warm-up starts at learning rate 0, so the only "
                       r"step would leave the model unchanged; use warmup_ratio=0 \(--warmup-ratio 0\) or more max_steps "
                       r"\(--max-steps\)$"),
    ({"directions": ("query_to_doc", "doc2query")}, "unknown direction 'doc2query'; allowed: query_to_doc, "
     "query_to_query, doc_to_query, doc_to_doc"),
    ({"directions": ("doc_to_query",)}, r"directions must hold query_to_doc once .* e.g. directions=\('query_to_doc', 'doc_to_query'\) "
                                          r"\(--direction query_to_doc --direction doc_to_query\)$"),
    ({"directions": ("query_to_doc", "query_to_doc")}, "directions must hold query_to_doc once"),
    ({"partition_mode": "split"}, "unknown partition_mode 'split'; allowed: joint, per_direction"),
    ({"directions": ("query_to_doc", "doc_to_doc"), "partition_mode": "per_direction"},
     r"per_direction needs the positive in every direction's softmax, but doc_to_doc .* "
     r"partition_mode='joint' \(--partition-mode joint\)"),
    ({"remine_steps": 10}, "re-mining .* needs the mining configuration"),
    ({"attention_dropout": 1.0}, r"attention_dropout must be auto, model, or a number in \[0, 1\), got 1.0; use "
                                  r"e.g. attention_dropout=0.0 \(--attention-dropout 0\)"),
    # NumPy's global generator (seeded by the trainer) takes 0..2**32-1: these ended in a ValueError traceback
    # from np.random.seed after the model had loaded
    ({"seed": -1}, r"^seed must be an integer from 0 to 2\*\*32 - 1 \(4294967295\), got -1; use e.g. seed=42 \(--seed 42\)$"),
    ({"seed": 2**32}, r"^seed must be an integer from 0 to 2\*\*32 - 1 \(4294967295\), got 4294967296; use e.g. seed=42 \(--seed 42\)$"),
    ({"matryoshka_dims": (64, 0)}, r"^matryoshka_dims must be positive integers, got \(64, 0\); e.g. matryoshka_dims="
                                   r"\(384, 256, 128, 64\) \(--matryoshka-dims 384,256,128,64\) \(largest first\), or "
                                   r"leave it unset$"),
    ({"matryoshka_dims": ()}, r"^matryoshka_dims must be positive integers, got \(\); "),
    ({"matryoshka_dims": (64, 128, 64)}, r"^matryoshka_dims must be strictly decreasing \(largest first, each once\), "
                                         r"got \(64, 128, 64\); give them sorted largest first: 128,64, and none above "
                                         r"the model's embedding dimension$"),
    ({"matryoshka_dims": (64, 32), "matryoshka_weights": (1.0,)},
     r"^matryoshka_weights must be one number > 0 per dimension of matryoshka_dims \(64, 32\), got \(1.0,\); "
     r"e.g. matryoshka_weights=\(1.0, 1.0\) \(--matryoshka-weights 1,1\), or leave it unset \(1 each\)$"),
    ({"matryoshka_dims": (64, 32), "matryoshka_weights": (1.0, 0.0)}, "matryoshka_weights must be one number > 0"),
    ({"matryoshka_weights": (1.0,)}, r"^TrainConfig matryoshka_weights=\(1.0,\) would be ignored: no --matryoshka-dims "
                                     r"are trained; set matryoshka_dims=\(384, 256, 128, 64\) "
                                     r"\(--matryoshka-dims 384,256,128,64\), or leave it at its default"),
    ({"matryoshka_dims": (64, 32, 16), "matryoshka_dims_per_step": 0},
     r"^matryoshka_dims_per_step must be -1 \(every dim at each step\) or 1 to 3 \(a random sample of that many of "
     r"the 3 matryoshka_dims \(64, 32, 16\) at each step\), got 0; e.g. matryoshka_dims_per_step=2 "
     r"\(--matryoshka-dims-per-step 2\), or leave it unset \(-1\)$"),
    ({"matryoshka_dims": (64, 32, 16), "matryoshka_dims_per_step": 4}, r"^matryoshka_dims_per_step must be -1 .*got 4;"),
    ({"matryoshka_dims": (64, 32, 16), "matryoshka_dims_per_step": -2}, r"^matryoshka_dims_per_step must be -1 .*got -2;"),
    ({"matryoshka_dims_per_step": 2}, r"^TrainConfig matryoshka_dims_per_step=2 would be ignored: no --matryoshka-dims "
                                      r"are trained; set matryoshka_dims=\(384, 256, 128, 64\) "
                                      r"\(--matryoshka-dims 384,256,128,64\), or leave it at its default"),
])
def test_bad_options_fail_before_any_work(tmp_path, mined_file, overrides, message):
    with pytest.raises(ConfigError, match=message):
        train(_config(tmp_path, mined_file, "no-such-model", **overrides))


def test_missing_training_file_and_too_many_negatives(tmp_path, mined_file, tiny_model_path):
    with pytest.raises(ConfigError, match="training file .*nope.jsonl not found"):
        train(_config(tmp_path, tmp_path / "nope.jsonl", tiny_model_path))
    with pytest.raises(ConfigError, match=r"no row has at least 5 negatives .* lower num_negatives \(--num-negatives\) to 2"):
        train(_config(tmp_path, mined_file, tiny_model_path, num_negatives=5))


def test_remining_from_python_runs_the_mining_pipeline_of_config_mine(tmp_path, tiny_model_path):
    """TrainConfig.mine is all re-mining needs, as for `negmine train --remine-steps`: train() used to refuse
    it ("re-mining needs a miner") unless the caller built the miner the CLI module wires."""
    from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig, SelectConfig
    from negmine.pipeline.mine import mine
    from negmine.testing.beir import write_beir

    words = "cell gene protein cancer risk study patients effect blood brain heart disease virus immune".split()
    corpus = {f"d{i}": " ".join(words[(i + j) % 14] for j in range(1 + i % 5)) for i in range(20)}
    beir = write_beir(tmp_path / "beir", corpus, {f"q{i}": " ".join(words[i: i + 2]) for i in range(6)},
                      [(f"q{i}", f"d{i}", 1) for i in range(6)])
    mine_config = MineConfig(
        data=DataConfig(data_dir=beir), select=SelectConfig(num_negatives=3),
        encoder=EncoderConfig(model=str(tiny_model_path), cache_dir=tmp_path / "cache", show_progress=False),
        output=OutputConfig(path=tmp_path / "neg.jsonl"),
    )
    mined = mine(mine_config).output
    result = train(_config(tmp_path, mined, tiny_model_path, max_steps=3, batch_size=2, remine_steps=1,
                           mine=mine_config))
    assert [e["step"] for e in result.remine] == [1, 2]
    assert all(e["rows_updated"] == 6 for e in result.remine)
    assert (tmp_path / "out" / "remine" / "step-0000001.jsonl").is_file()


def test_remining_with_a_mine_config_whose_data_is_missing_fails_before_training(tmp_path, mined_file,
                                                                                 tiny_model_path):
    from negmine.config import DataConfig, MineConfig
    from negmine.errors import InputError

    mine = MineConfig(data=DataConfig(data_dir=tmp_path / "no-such-beir"))
    with pytest.raises((ConfigError, InputError), match="no-such-beir"):
        train(_config(tmp_path, mined_file, tiny_model_path, remine_every_epoch=True, mine=mine))
    assert not (tmp_path / "out").exists()



def test_the_record_leaves_out_the_mined_files_progress_and_device(tmp_path, mined_file, tiny_model_path):
    """negmine_train.json copied the mining run's show_progress and device into its mine section: settings
    re-mining does not use (it draws no bar; it runs on the run's device), which made the records of runs on the
    same data differ (a file mined with and without --no-progress) and model reuse by record retrain."""
    import dataclasses

    from negmine.config import DataConfig, EncoderConfig, MineConfig

    def miner(embedder, output_path):
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_bytes(mined_file.read_bytes())
        return output_path

    mine = MineConfig(data=DataConfig(data_dir=tmp_path), encoder=EncoderConfig(model="mined-with", show_progress=True))
    config = _config(tmp_path, mined_file, tiny_model_path, max_steps=3, remine_steps=2, mine=mine)
    train(config, miner=miner)
    recorded = json.loads((config.output_dir / SUMMARY_NAME).read_text())["config"]
    assert recorded["mine"]["encoder"]["model"] == "mined-with" and recorded["device"] == "cpu"
    assert not {"show_progress", "device"} & recorded["mine"]["encoder"].keys()
    from negmine.train.api import recorded_config

    quiet = dataclasses.replace(mine, encoder=dataclasses.replace(mine.encoder, show_progress=False))
    assert recorded == recorded_config(dataclasses.replace(config, mine=quiet))


def test_the_record_is_the_same_whatever_the_mining_runs_workers_cache_work_folder_and_output_files(tmp_path):
    """Settings of the mining run that cannot change a mined row (RUN_ONLY_FIELDS) were copied into the record:
    the same data mined with --workers 2, another cache or work folder, or into another file gave another record.
    Another mining setting still gives another record."""
    import dataclasses

    from negmine.config import DataConfig, MineConfig
    from negmine.train.api import recorded_config

    mine = MineConfig(data=DataConfig(data_dir=tmp_path))
    config = TrainConfig(train_file=tmp_path / "m.jsonl", remine_steps=2, mine=mine)
    moved = dataclasses.replace(mine, engine=dataclasses.replace(mine.engine, workers=2, work_dir=tmp_path / "w",
                                                                 keep_work=True),
                                encoder=dataclasses.replace(mine.encoder, cache_dir=tmp_path / "c", use_cache=False),
                                output=dataclasses.replace(mine.output, path=tmp_path / "x.jsonl", formats=("triplet",)))
    recorded = recorded_config(config)
    assert recorded == recorded_config(dataclasses.replace(config, mine=moved))
    assert "output" not in recorded["mine"] and "cache_dir" not in recorded["mine"]["encoder"]
    other = dataclasses.replace(mine, engine=dataclasses.replace(mine.engine, encode_shard_size=7))
    assert recorded != recorded_config(dataclasses.replace(config, mine=other))


@pytest.mark.parametrize("overrides", [
    {"batching": "topic", "topic_clusters": 2},
    {"loss": "cached-mnrl", "mini_batch_size": 2},
    {"num_negatives": 0},
    {"precision": "bf16", "fn_margin": None},
    {"hardness": "all", "loss": "cached-mnrl", "mini_batch_size": 2},
])
def test_training_variants_run(tmp_path, mined_file, tiny_model_path, overrides):
    result = train(_config(tmp_path, mined_file, tiny_model_path, **overrides))
    assert result.global_step == 2 and result.final_loss == result.final_loss  # not NaN


@pytest.mark.parametrize("overrides", [{}, {"loss": "cached-mnrl", "mini_batch_size": 2}])
def test_matryoshka_training_runs_and_masks_at_every_dim(tmp_path, write_mined, make_row, tiny_model_path, overrides):
    """A third of the rows have a flagged negative: masked at each of the 3 dims, so the masked share of the
    candidates is the plain run's (the same batches; labels decide the mask)."""
    rows = [make_row(i, **({"negative_flags": ["false_negative", None]} if i % 3 == 0 else {})) for i in range(12)]
    mined = write_mined(tmp_path / "flagged.jsonl", rows)
    plain = train(_config(tmp_path / "plain", mined, tiny_model_path, **overrides))
    result = train(_config(tmp_path, mined, tiny_model_path, matryoshka_dims=(32, 16, 8),
                           matryoshka_weights=(1.0, 1.0, 0.5), **overrides))
    assert result.global_step == 2 and result.final_loss == result.final_loss and result.final_loss != plain.final_loss
    assert 0 < result.masked_fraction == pytest.approx(plain.masked_fraction)
    summary = json.loads((tmp_path / "out" / SUMMARY_NAME).read_text())
    assert summary["config"]["matryoshka_dims"] == [32, 16, 8]


@pytest.mark.parametrize("stated", [True, False])
def test_matryoshka_dims_beyond_the_model_fail_before_training(tmp_path, mined_file, tiny_model_path, monkeypatch,
                                                                stated):
    """A local folder states its dimension: refused before the model loads. A model whose files do not (a hub
    name, a custom module): refused once it has loaded, before any training work."""
    import negmine.encode.sentence_transformer as st_loader
    import negmine.train.preflight

    loaded, real = [], st_loader.load_sentence_transformer
    monkeypatch.setattr(st_loader, "load_sentence_transformer", lambda config: loaded.append(config) or real(config))
    if not stated:
        monkeypatch.setattr(negmine.train.preflight, "folder_dimension", lambda model: None)
    with pytest.raises(ConfigError, match=r"^matryoshka_dims \(48, 16\): 48 exceeds the embedding dimension 32 of the "
                                          r"model '.*'; use dims up to 32, e.g. --matryoshka-dims 32,16$"):
        train(_config(tmp_path, mined_file, tiny_model_path, matryoshka_dims=(48, 16)))
    assert len(loaded) == (0 if stated else 1)
    assert not (tmp_path / "out" / "checkpoints").exists()


@pytest.mark.parametrize("seed", [4, 5])
def test_one_epoch_trains_on_every_row_of_a_query_with_several_positives(tmp_path, write_mined, make_row,
                                                                          tiny_model_path, monkeypatch, seed):
    """Rows of one query cannot share a no-duplicates batch; sentence-transformers' sampler then made more batches
    than the epoch's length and the trainer never reached the last one (with these seeds one row was left out)."""
    from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss

    seen: list[int] = []
    original = MaskedMultipleNegativesRankingLoss.compute_loss_from_embeddings

    def spy(self, embeddings, labels):
        seen.extend(labels[:, 0].tolist())
        return original(self, embeddings, labels)

    monkeypatch.setattr(MaskedMultipleNegativesRankingLoss, "compute_loss_from_embeddings", spy)
    rows = [make_row(i, query="one query", query_id="q0") if i < 3 else make_row(i) for i in range(9)]
    mined = write_mined(tmp_path / "siblings.jsonl", rows)
    result = train(_config(tmp_path, mined, tiny_model_path, max_steps=None, epochs=1, batch_size=3, seed=seed))
    assert result.global_step == 3 and sorted(seen) == list(range(9))


def test_flagged_false_negatives_are_masked(tmp_path, write_mined, make_row, tiny_model_path):
    rows = [make_row(i, negative_flags=["false_negative", None]) for i in range(8)]
    mined = write_mined(tmp_path / "flagged.jsonl", rows)
    result = train(_config(tmp_path, mined, tiny_model_path, fn_margin=None))
    assert result.data["flagged_negatives_kept"] == 8
    # per row: 4 positives + 8 negatives in a batch of 4; exactly its own flagged negative is masked
    assert result.masked_fraction == pytest.approx(1 / 12)
    off = train(_config(tmp_path / "off", mined, tiny_model_path, fn_mask=False))
    assert off.masked_fraction is None


def test_missing_model_path_is_a_config_error(tmp_path, mined_file):
    with pytest.raises(ConfigError, match="model path .*no-such-dir.* does not exist"):
        train(_config(tmp_path, mined_file, tmp_path / "no-such-dir"))


def test_max_length_truncates_training_only(tmp_path, mined_file, tiny_model_path):
    result = train(_config(tmp_path, mined_file, tiny_model_path, max_length=8))
    assert SentenceTransformer(str(result.output_dir), device="cpu").max_seq_length == 64  # the tiny model's own


class RecordAttentionDropout(TrainerCallback):
    """Records every attention-probability dropout of the model being trained, at each step."""

    def __init__(self) -> None:
        self.seen: set[float] = set()

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        self.seen |= {m.p for n, m in model.named_modules() if n.endswith("attention.self.dropout")}


@pytest.mark.parametrize("attention_dropout, seen, resolved", [
    ("model", {0.1}, "model"), (0.0, {0.0}, 0.0), (0.05, {0.05}, 0.05),
    ("auto", {0.0}, 0.0),  # the default on a CPU, for a BERT model whose sites negmine recognises
])
def test_attention_dropout_applies_while_training_and_not_to_the_saved_config(
    tmp_path, mined_file, tiny_model_path, attention_dropout, seen, resolved
):
    record = RecordAttentionDropout()
    result = train(_config(tmp_path, mined_file, tiny_model_path, attention_dropout=attention_dropout),
                   callbacks=[record])
    assert record.seen == seen
    saved = SentenceTransformer(str(result.output_dir), device="cpu")
    assert saved[0].auto_model.config.attention_probs_dropout_prob == 0.1
    summary = json.loads((result.output_dir / SUMMARY_NAME).read_text())
    assert summary["config"]["attention_dropout"] == attention_dropout  # as given, as precision's
    assert result.attention_dropout == summary["result"]["attention_dropout"] == resolved  # what the run did


@pytest.mark.parametrize("started, resumed", [("auto", 0.0), ("model", 0.1)])
def test_a_resume_compares_the_attention_dropout_the_run_trained_with(tmp_path, mined_file, tiny_model_path,
                                                                      started, resumed):
    """A CPU run started with ``--attention-dropout auto`` was refused when resumed with ``0``, though both train with
    0 there (and one started with ``model`` when resumed with the tiny model's own 0.1). Resumed so, it ends with the
    uninterrupted run's weights; a setting that trains with another dropout is still refused."""
    from dataclasses import replace

    config = _config(tmp_path, mined_file, tiny_model_path, max_steps=4, checkpoint_steps=2, attention_dropout=started)
    straight = train(replace(config, output_dir=tmp_path / "straight"))
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    other = "model" if started == "auto" else 0.0
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: attention_dropout "):
        train(replace(config, resume=True, attention_dropout=other))
    record = RecordAttentionDropout()
    result = train(replace(config, resume=True, attention_dropout=resumed), callbacks=[record])
    assert (result.global_step, record.seen) == (4, {resumed})
    resumed_weights, straight_weights = _weights(result.output_dir), _weights(straight.output_dir)
    assert all(torch.equal(resumed_weights[k], straight_weights[k]) for k in straight_weights)


def test_warmup_ratio_is_a_share_of_the_steps(tmp_path, mined_file, tiny_model_path):
    # 8 steps, warm-up 0.5: the rate climbs for 4 steps (a share below 1 in warmup_steps; ST maps it for transformers 4)
    result = train(_config(tmp_path, mined_file, tiny_model_path, max_steps=8, warmup_ratio=0.5, learning_rate=1e-3))
    import transformers

    rates = [h["learning_rate"] for h in result.loss_history]
    # transformers 5 logs the rate each step used (0 first); 4.x (the floor is 4.47) the rate after the step's
    # scheduler update, one step ahead: the same schedule, the peak logged at step 5 or 4
    peak = 4 if int(transformers.__version__.split(".")[0]) >= 5 else 3
    assert len(rates) == 8 and max(rates) == pytest.approx(1e-3) and rates.index(max(rates)) == peak
    assert rates[peak - 3 : peak + 1] == pytest.approx([0.25e-3, 0.5e-3, 0.75e-3, 1e-3])
    assert rates[: peak + 1] == sorted(rates[: peak + 1])


def _global_rng_draws() -> tuple:
    import random

    import numpy as np

    return random.random(), float(np.random.random()), float(torch.rand(1))


def test_the_callers_global_random_generators_are_left_as_they_were(tmp_path, mined_file, tiny_model_path):
    # the run seeds Python's, NumPy's and torch's global generators (transformers' set_seed) for itself only
    import random

    import numpy as np

    random.seed(123), np.random.seed(123), torch.manual_seed(123)
    expected = _global_rng_draws()
    random.seed(123), np.random.seed(123), torch.manual_seed(123)
    train(_config(tmp_path, mined_file, tiny_model_path, max_steps=1, warmup_ratio=0.0))
    assert _global_rng_draws() == expected


def test_saving_removes_the_temp_folder_a_run_killed_while_saving_left(tmp_path, tiny_model_path):
    """``kill -9`` during :func:`save_model` leaves its ``.model-*`` temp folder (a copy of the weights) in the
    output folder; the resumed run's save removes it, so the finished folder holds no such leftover."""
    from negmine.train.api import save_model

    out = tmp_path / "model"
    left = out / ".model-k1lled0"
    (left / "1_Pooling").mkdir(parents=True)
    (left / "model.safetensors").write_bytes(b"weights of the killed save")
    save_model(SentenceTransformer(str(tiny_model_path), device="cpu"), out)
    assert not list(out.glob(".model-*")) and (out / "model.safetensors").is_file()
    SentenceTransformer(str(out), device="cpu")


@pytest.mark.parametrize("show", [True, False])
def test_the_starting_model_loads_with_the_runs_progress_setting(monkeypatch, tiny_model_path, show):
    import negmine.encode.sentence_transformer as st_loader
    from negmine.train.api import load_model

    seen = []
    real = st_loader.load_sentence_transformer
    monkeypatch.setattr(st_loader, "load_sentence_transformer", lambda config: seen.append(config) or real(config))
    load_model(TrainConfig(model=str(tiny_model_path), show_progress=show))
    assert [c.show_progress for c in seen] == [show], "--no-progress must hide transformers' loading bar too"


def test_no_progress_hides_transformers_own_bars_while_training_and_saving(tmp_path, mined_file, tiny_model_path,
                                                                           capfd):
    from transformers.utils import logging as hf_logging

    train(_config(tmp_path, mined_file, tiny_model_path, max_steps=1, warmup_ratio=0.0))
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "Writing model shards" not in err
    assert hf_logging.is_progress_bar_enabled(), "the library-wide switch is put back"


def test_no_progress_prints_no_loss_lines(tmp_path, mined_file, tiny_model_path, capfd):
    """With its bars off, transformers' trainer adds a PrinterCallback that prints every log entry
    (``{'loss': ..., 'grad_norm': ...}``, and the dev metrics) to stdout: a run asked to be quiet printed a line
    per logged step. The loss still reaches the summary's history."""
    result = train(_config(tmp_path, mined_file, tiny_model_path, max_steps=2, warmup_ratio=0.0))
    out, err = capfd.readouterr()
    assert "'loss'" not in out + err and "train_runtime" not in out + err
    assert [entry["step"] for entry in result.loss_history] == [1, 2]


def test_progress_on_still_shows_the_loss_lines(tmp_path, mined_file, tiny_model_path, capfd):
    train(_config(tmp_path, mined_file, tiny_model_path, max_steps=2, warmup_ratio=0.0, show_progress=True))
    out, err = capfd.readouterr()
    assert "'loss'" in out + err


def test_the_step_bar_in_a_log_writes_lines_not_carriage_returns(tmp_path, mined_file, tiny_model_path, capfd):
    """stderr a file (capfd: not a terminal): the trainer's step bar wrote a ``\r`` redraw per step into the log, one
    line for the whole run; it is a negmine bar now (:func:`negmine.progress.progress_bar`), whose lines end in
    newlines, the last with the full count, and the loss lines stay lines of their own."""
    train(_config(tmp_path, mined_file, tiny_model_path, max_steps=3, warmup_ratio=0.0, logging_steps=1,
                  show_progress=True))
    out, err = capfd.readouterr()
    assert "\r" not in err
    bar_lines = [line for line in err.splitlines() if "/3 [" in line]
    assert bar_lines and bar_lines[-1].startswith("100%") and "3/3" in bar_lines[-1]
    assert sum(line.startswith("{'loss'") for line in (out + err).splitlines()) == 3


@pytest.mark.parametrize("device, use_cpu", [("cpu", True), ("cuda", False), ("cuda:0", False), ("mps", False)])
def test_the_training_arguments_train_on_the_cpu_only_for_device_cpu(tmp_path, device, use_cpu):
    """Elsewhere the trainer picks the device itself (the first visible GPU, or mps): TrainConfig made it the one
    asked for. Not validated here: this machine has no GPU."""
    from negmine.train.api import training_arguments

    args = training_arguments(TrainConfig(output_dir=tmp_path, device=device), False, None)
    assert args.use_cpu is use_cpu


def test_a_trainer_that_set_itself_up_elsewhere_than_the_device_is_refused(tmp_path, monkeypatch):
    """E.g. ACCELERATE_USE_CPU=1 overrides use_cpu=False: the run would train on the CPU while --device says cuda."""
    from negmine.train.api import check_trainer_device, training_arguments

    monkeypatch.setenv("ACCELERATE_USE_CPU", "1")
    args = training_arguments(TrainConfig(output_dir=tmp_path, device="cuda"), False, None)
    with pytest.raises(ConfigError) as info:
        check_trainer_device(args, "cuda")
    assert str(info.value) == ("--device cuda: transformers' Trainer set itself up on cpu with 0 GPU(s) (check "
                               "ACCELERATE_USE_CPU and CUDA_VISIBLE_DEVICES); negmine train runs on one device: the "
                               "one --device names")
    check_trainer_device(args, "cpu")


def test_the_starting_model_loads_on_the_training_device(monkeypatch, tiny_model_path):
    """So the topic sampler's clustering encodes there too (it runs before the trainer moves the model)."""
    import negmine.encode.sentence_transformer as st_loader
    from negmine.train.api import load_model

    seen = []
    monkeypatch.setattr(st_loader, "load_sentence_transformer", lambda config: seen.append(config.device))
    load_model(TrainConfig(model=str(tiny_model_path), device="cuda:0"))
    assert seen == ["cuda:0"]


def test_the_run_resolves_its_precision_for_its_device(monkeypatch, tmp_path, mined_file, tiny_model_path):
    import negmine.encode.precision as precision

    seen = []
    real = precision.resolve_precision
    monkeypatch.setattr(precision, "resolve_precision", lambda p, device_type="cpu", *a: seen.append(device_type)
                        or real(p, "cpu", *a))
    monkeypatch.setattr("negmine.train.api.load_model", lambda config: SentenceTransformer(str(tiny_model_path),
                                                                                           device="cpu"))
    monkeypatch.setattr("negmine.train.api.check_trainer_device", lambda args, device: None)
    from negmine.train.api import _TrainRun
    from negmine.train.dataset import load_train_data

    config = _config(tmp_path, mined_file, tiny_model_path, device="cuda:0", precision="fp32")
    _TrainRun(config, load_train_data(mined_file, 2), None, {})
    assert seen[0] == "cuda"


def test_dev_evaluation_puts_back_the_training_gpus_random_generator_too():
    from negmine.train.dev_eval import rng_devices

    assert rng_devices(torch.device("cuda:0")) == [torch.device("cuda:0")]
    assert rng_devices(torch.device("cpu")) == [] == rng_devices(torch.device("mps"))


def test_a_save_stopped_midway_leaves_a_folder_that_does_not_load(tmp_path, tiny_model_path, monkeypatch):
    """Ctrl-C or ``kill -9`` while :func:`save_model` moves the saved files into place: the folder must not load
    as a model until every file is in. It moved entries in name order, so ``model.safetensors`` came before
    ``modules.json`` and the tokenizer files, and a folder stopped after it loaded without its tokenizer
    (measured: ``negmine eval`` of such a folder scored nDCG@10 0.018 against the finished model's 0.220)."""
    import os

    from negmine.train.api import save_model

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    entries = len(list(tiny_model_path.iterdir()))
    real_replace = os.replace
    for moved in range(1, entries):
        calls = []

        def replace(src, dst, moved=moved, calls=calls):
            if len(calls) == moved:
                raise KeyboardInterrupt
            calls.append(Path(dst).name)
            real_replace(src, dst)

        out = tmp_path / f"stopped-after-{moved}"
        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(KeyboardInterrupt):
            save_model(model, out)
        monkeypatch.setattr(os, "replace", real_replace)
        left = sorted(set(os.listdir(tiny_model_path)) - set(calls))
        assert not (out / "model.safetensors").exists(), f"the weights were moved in before {left}"
        with pytest.raises((OSError, ValueError)):
            SentenceTransformer(str(out), device="cpu")
    save_model(model, tmp_path / "whole")
    assert sorted(os.listdir(tmp_path / "whole")) == sorted(os.listdir(tiny_model_path))


def test_no_progress_hides_the_bar_sentence_transformers_draws_when_the_trainer_is_built(tmp_path, mined_file,
                                                                                       tiny_model_path, capfd,
                                                                                       monkeypatch):
    """sentence-transformers' model card draws "Computing widget examples" with a tqdm bar that has no switch:
    ``negmine train --no-progress`` printed it (measured on minifacts), the only bar of such a run. Since
    2026-12-05 it is not drawn with progress on either, even on a terminal (negmine.library_bars: a model card's
    sample sentences, nothing of the run)."""
    import inspect

    card = SentenceTransformer(str(tiny_model_path), device="cpu").model_card_data
    module = inspect.getmodule(type(card).set_widget_examples)
    bar = module.tqdm
    capfd.readouterr()
    train(_config(tmp_path, mined_file, tiny_model_path, max_steps=1, warmup_ratio=0.0))
    assert "Computing widget examples" not in capfd.readouterr().err
    assert module.tqdm is bar, "put back"
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    train(_config(tmp_path / "shown", mined_file, tiny_model_path, max_steps=1, warmup_ratio=0.0, show_progress=True))
    err = capfd.readouterr().err
    assert "Computing widget examples" not in err and "Loading weights" in err, "on a terminal the load's bar only"
    assert module.tqdm is bar, "put back"


def test_a_single_step_at_warm_up_learning_rate_0_is_refused(tmp_path, mined_file, tiny_model_path):
    # every row in one batch: one epoch was one step at learning rate 0, and the model was saved unchanged
    config = _config(tmp_path, mined_file, tiny_model_path, max_steps=None, batch_size=16)
    with pytest.raises(ConfigError, match=r"mined.jsonl: its 12 training rows fit in one batch \(batch_size 16\), "
                                          r"so epochs 1 is a single step, and with warmup_ratio 0.1 a linear warm-up "
                                          r"runs that step at learning rate 0: the model would be saved unchanged; use "
                                          r"a --batch-size below 12, --epochs 2 or more, or --warmup-ratio 0$"):
        train(config)
    assert not (tmp_path / "out").exists()
    from dataclasses import replace

    with pytest.warns(NegmineWarning) as caught:  # the one batch is short of --batch-size: said once, from Python too
        result = train(replace(config, warmup_ratio=0.0))
    assert [str(w.message) for w in caught if "fewer than" in str(w.message)] == [
        f"{config.train_file}: its 12 training rows are fewer than batch_size=16 (--batch-size 16), so each batch "
        "holds all 12: a query's in-batch negatives come from 11 other rows, not the 15 the batch size suggests, and "
        "an epoch is 1 step; for several batches an epoch, each with other in-batch negatives, use a --batch-size "
        "below 12 or train on more rows (mine more pairs), or set --batch-size 12 if one batch of every row is meant"]
    assert result.global_step == 1
    trained, start = _weights(result.output_dir), _weights(tiny_model_path)
    assert not all(torch.equal(trained[k], start[k]) for k in start)


def test_a_max_length_beyond_the_position_embeddings_is_refused_before_the_output_folder(
        tmp_path, mined_file, tiny_model_path):
    # it failed at the first long batch with a RuntimeError traceback, leaving checkpoints/ behind
    config = _config(tmp_path, mined_file, tiny_model_path, max_length=300)
    with pytest.raises(ConfigError, match=r"^max_length=300 \(--max-length 300\) is more than the model .* position "
                                          r"embeddings hold 128 tokens"):
        train(config)
    assert not (tmp_path / "out").exists()


def test_more_topic_clusters_than_distinct_queries_are_refused(tmp_path, mined_file, tiny_model_path):
    # k-means was cut to one cluster per query without a word
    config = _config(tmp_path, mined_file, tiny_model_path, batching="topic", topic_clusters=13)
    with pytest.raises(ConfigError, match=r"^topic_clusters=13 \(--topic-clusters 13\) is more than the 12 distinct "
                                          r"queries of .*mined.jsonl, and k-means makes at most one cluster per query; "
                                          r"use topic_clusters=12 \(--topic-clusters 12\) or fewer, or leave it unset \(here 1: about two batches of queries per "
                                          r"cluster\)$"):
        train(config)
    assert not (tmp_path / "out").exists()


def test_a_run_killed_after_its_last_checkpoint_resumes_to_the_same_steps_not_one_more(tmp_path, mined_file,
                                                                                      tiny_model_path):
    """Killed while saving the final model (its last checkpoint, at --max-steps, complete), a run resumed from that
    checkpoint. transformers' trainer checks the step limit only after a step, so with the checkpoint inside an
    epoch (12 rows, batch 4: step 4 is 1.33 epochs) it trained a step past --max-steps: global_step 5, a 5th loss
    in the log and another mean loss than the uninterrupted run's (measured on the demo with the CLI: 9 of 8)."""
    from dataclasses import replace

    straight = train(_config(tmp_path / "straight", mined_file, tiny_model_path, max_steps=4, checkpoint_steps=2))
    config = _config(tmp_path / "killed", mined_file, tiny_model_path, max_steps=4, checkpoint_steps=2)
    train(config)
    for entry in list(config.output_dir.iterdir()):  # as a kill during the final save leaves it: checkpoints only
        if entry.name != "checkpoints":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    resumed = train(replace(config, resume=True))
    assert resumed.resumed_from.endswith("checkpoint-4")
    assert resumed.global_step == 4 and [h["step"] for h in resumed.loss_history] == [1, 2, 3, 4]
    assert resumed.loss_history == straight.loss_history and resumed.mean_loss == straight.mean_loss
    ws, wr = _weights(straight.output_dir), _weights(resumed.output_dir)
    assert all(torch.equal(ws[k], wr[k]) for k in ws)


def _judged_file(tmp_path, write_mined, make_row, rows: int = 12) -> Path:
    """Rows with cross-encoder-like judge scores (the positive's high, each negative's own)."""
    judged = [make_row(i, judge_positive_score=6.0 - 0.25 * i, judge_negative_scores=[2.0 - 0.5 * (i % 4), -3.0 + i % 5])
              for i in range(rows)]
    return write_mined(tmp_path / "judged.jsonl", judged)


def _all_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("method", ["kl", "margin-mse"])
def test_distillation_changes_the_weights_deterministically_and_weight_0_trains_the_weights_of_off(
        tmp_path, write_mined, make_row, tiny_model_path, method):
    mined = _judged_file(tmp_path, write_mined, make_row)
    off = _weights(train(_config(tmp_path / "off", mined, tiny_model_path, max_steps=3)).output_dir)
    runs = {name: _weights(train(_config(tmp_path / name, mined, tiny_model_path, max_steps=3, distill=method,
                                         **settings)).output_dir)
            for name, settings in {"on": {}, "again": {}, "zero": {"distill_weight": 0.0},
                                   "mining": {"distill_from": "mining"}}.items()}
    assert not _all_equal(runs["on"], off) and _all_equal(runs["on"], runs["again"])  # same seed: byte-identical
    assert _all_equal(runs["zero"], off)
    assert not _all_equal(runs["mining"], runs["on"])  # other scores, other weights


@pytest.mark.parametrize("overrides", [
    {"loss": "cached-mnrl", "mini_batch_size": 2, "fn_margin": 0.1},
    {"matryoshka_dims": (32, 16)},
    {"matryoshka_dims": (32, 16), "loss": "cached-mnrl", "mini_batch_size": 2},
])
def test_distillation_trains_with_cached_mnrl_masking_and_matryoshka(tmp_path, write_mined, make_row, tiny_model_path,
                                                                     overrides):
    mined = _judged_file(tmp_path, write_mined, make_row)
    plain = train(_config(tmp_path / "plain", mined, tiny_model_path, **overrides))
    result = train(_config(tmp_path / "kl", mined, tiny_model_path, distill="kl", **overrides))
    assert result.global_step == 2 and result.final_loss == result.final_loss and result.final_loss != plain.final_loss
    config = json.loads((result.output_dir / SUMMARY_NAME).read_text())["config"]
    assert (config["distill"], config["distill_from"], config["distill_weight"]) == ("kl", "judge", 1.0)


@pytest.mark.parametrize("overrides", [{}, {"loss": "cached-mnrl", "mini_batch_size": 2}])
def test_a_distilling_run_logs_the_contrastive_loss_and_the_weighted_term_beside_the_loss(
        tmp_path, write_mined, make_row, tiny_model_path, overrides):
    mined = _judged_file(tmp_path, write_mined, make_row)
    plain = train(_config(tmp_path / "plain", mined, tiny_model_path, max_steps=4, **overrides))
    result = train(_config(tmp_path / "kl", mined, tiny_model_path, max_steps=4, distill="kl", distill_weight=0.5,
                           logging_steps=2, **overrides))
    assert [h["step"] for h in result.loss_history] == [1, 2, 4]  # the last averages steps 3 and 4
    for entry in result.loss_history:  # loss is their sum: one call per step, logged as its mean over the window
        assert entry["loss"] == pytest.approx(entry["contrastive_loss"] + entry["distill_loss"], rel=1e-5)
        assert entry["distill_loss"] > 0
    logged = json.loads((result.output_dir / SUMMARY_NAME).read_text())["result"]["loss_history"]
    assert [set(h) >= {"contrastive_loss", "distill_loss"} for h in logged] == [True] * 3  # what the report reads
    assert all(set(h) == {"step", "epoch", "loss", "learning_rate", "grad_norm"} for h in plain.loss_history)


def test_a_distilling_run_resumed_after_interruption_matches_an_uninterrupted_run(tmp_path, write_mined, make_row,
                                                                                 tiny_model_path):
    from dataclasses import replace

    mined = _judged_file(tmp_path, write_mined, make_row)
    settings = dict(max_steps=4, distill="margin-mse", distill_weight=0.1)
    straight = train(_config(tmp_path / "straight", mined, tiny_model_path, **settings))
    config = _config(tmp_path / "resumed", mined, tiny_model_path, checkpoint_steps=2, **settings)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    with pytest.raises(ConfigError, match=r"--resume: 1 setting\(s\) differ .*: distill_weight 0\.1 -> 0\.2\. "):
        train(replace(config, resume=True, distill_weight=0.2))
    resumed = train(replace(config, resume=True))
    assert resumed.resumed_from.endswith("checkpoint-2") and resumed.global_step == 4
    assert [h["loss"] for h in resumed.loss_history] == pytest.approx([h["loss"] for h in straight.loss_history])
    ws, wr = _weights(straight.output_dir), _weights(resumed.output_dir)
    assert all(torch.equal(ws[k], wr[k]) for k in ws)


def test_a_file_without_the_judges_scores_is_refused_before_the_model_loads(tmp_path, write_mined, make_row,
                                                                            tiny_model_path, monkeypatch):
    import negmine.train.api
    from negmine.errors import InputError

    rows = [make_row(i, judge_positive_score=5.0, judge_negative_scores=[1.0, 0.0]) for i in range(5)]
    mined = write_mined(tmp_path / "part.jsonl", [*rows, make_row(5)])
    monkeypatch.setattr(negmine.train.api, "load_model", lambda config: pytest.fail("model loaded"))
    with pytest.raises(InputError, match=rf"^{re.escape(str(mined))}:6: field 'judge_positive_score': row \(q5, d5\) "
                                         r"has no judge scores, and distill_from='judge' \(--distill-from judge\) "
                                         r"trains on them; mine the file with a relevance judge "):
        train(_config(tmp_path, mined, tiny_model_path, distill="kl"))
    assert not (tmp_path / "out").exists()
