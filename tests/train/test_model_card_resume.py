import json
import re
from dataclasses import replace

import pytest

from negmine.config import DevEvalConfig, TrainConfig
from negmine.train import SUMMARY_NAME
from negmine.train.api import train
from negmine.train.model_card_resume import card_log_entries, card_training_time

from .conftest import InterruptAt


def _card_rows(output_dir) -> list[str]:
    """The rows of the saved model card's "Training Logs" table: ``| epoch | step | loss | dev score |``."""
    card = (output_dir / "README.md").read_text(encoding="utf-8")
    table = card.split("### Training Logs", 1)[1]
    return [line for line in table.splitlines() if re.match(r"\| [\d.]+ +\| \d+", line)]


def _card_time(output_dir) -> list[str]:
    """The lines of the saved model card's "Training Time" section."""
    card = (output_dir / "README.md").read_text(encoding="utf-8")
    return card.split("### Training Time\n", 1)[1].split("\n\n", 1)[0].strip().splitlines()


def test_a_resumed_runs_model_card_lists_the_whole_runs_training_logs(tmp_path, mined_file, tiny_model_path, dev_dir):
    """SciFact, --checkpoint-steps 5 --max-steps 30, stopped after checkpoint-10 and resumed: the same weights as
    the run without the stop, but the card's "Training Logs" table lost steps 1, 5 and 10 (the card collects its
    rows in the process that trains; the checkpoint keeps the trainer's log, not the card's)."""
    def config(name):
        return TrainConfig(train_file=mined_file, output_dir=tmp_path / name, model=str(tiny_model_path), max_steps=5,
                           batch_size=4, num_negatives=2, checkpoint_steps=2, logging_steps=1, show_progress=False,
                           precision="fp32", dev=DevEvalConfig(dev_dir, steps=2))

    straight = _card_rows(train(config("straight")).output_dir)
    with pytest.raises(KeyboardInterrupt):
        train(config("resumed"), callbacks=[InterruptAt(3)])  # after checkpoint-2
    resumed = _card_rows(train(replace(config("resumed"), resume=True)).output_dir)
    assert [row.split("|")[2].strip() for row in straight] == ["0", "1", "2", "3", "4", "5"]
    assert resumed == straight


def test_card_rows_join_a_steps_loss_and_dev_score_and_skip_other_entries():
    log = [{"eval_dev_ndcg@10": 0.5, "eval_dev_mrr@10": 0.4, "epoch": 0, "step": 0},
           {"loss": 2.0, "grad_norm": 1.0, "epoch": 0.5, "step": 1},
           {"loss": 1.5, "epoch": 1.0, "step": 2}, {"eval_dev_ndcg@10": 0.6, "epoch": 1.0, "step": 2},
           {"train_runtime": 3.0, "epoch": 1.0, "step": 2}]
    assert card_log_entries(log) == [
        {"Epoch": 0, "Step": 0, "dev_ndcg@10": 0.5},
        {"Epoch": 0.5, "Step": 1, "Training Loss": 2.0},
        {"Epoch": 1.0, "Step": 2, "Training Loss": 1.5, "dev_ndcg@10": 0.6},
    ]


def test_a_resumed_runs_model_card_shows_the_training_time_of_all_its_parts(tmp_path, mined_file, tiny_model_path,
                                                                           dev_dir):
    """The card's "Training Time" was the resumed part's alone (sentence-transformers times the process that
    trains): now the sum of the parts' seconds negmine_train.json records, said to be over 2 parts."""
    from sentence_transformers.base.model_card import format_duration

    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path), max_steps=5,
                         batch_size=4, num_negatives=2, checkpoint_steps=2, logging_steps=1, show_progress=False,
                         precision="fp32", dev=DevEvalConfig(dev_dir, steps=2))
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])  # after checkpoint-2
    resumed = train(replace(config, resume=True))
    first, last = resumed.timings_parts
    seconds = {stage: first["seconds"][stage] + last["seconds"][stage] for stage in ("train", "evaluate")}
    assert resumed.timings["train"] == pytest.approx(seconds["train"], abs=2e-3)
    assert resumed.timings["evaluate"] == pytest.approx(seconds["evaluate"], abs=2e-3)
    assert json.loads((resumed.output_dir / SUMMARY_NAME).read_text())["result"]["timings"] == resumed.timings
    train_s, evaluate_s = resumed.timings["train"], resumed.timings["evaluate"]
    assert _card_time(resumed.output_dir) == [
        f"- **Training**: {format_duration(train_s - evaluate_s)} over 2 parts (a resumed run; a part counted to the "
        "checkpoint the next one went on from)",
        f"- **Evaluation**: {format_duration(evaluate_s)}",
        f"- **Total**: {format_duration(train_s)}",
    ]
    straight = train(replace(config, output_dir=tmp_path / "straight"))
    assert "parts" not in _card_time(straight.output_dir)[0]  # a run never resumed: the card's own time
    assert straight.timings["evaluate"] > 0 and straight.timings_parts == []


def test_card_training_time_sums_the_parts_and_says_how_many_were_recorded():
    parts = [{"until_step": 10, "seconds": {"train": 90.0, "evaluate": 30.0, "total": 95.0}},
             {"until_step": 30, "seconds": {"train": 150.0, "evaluate": 30.0, "total": 160.0}}]
    note = " (a resumed run; a part counted to the checkpoint the next one went on from)"
    assert card_training_time(parts) == {"training_time": "3.0 minutes over 2 parts" + note,
                                         "evaluation_time": "1.0 minutes", "total_time": "4.0 minutes"}
    no_dev = [{"until_step": 10, "seconds": {"train": 40.0}}, {"until_step": 30, "seconds": {"train": 50.0}}]
    assert card_training_time(no_dev) == {"training_time": "1.5 minutes over 2 parts" + note,
                                          "evaluation_time": None, "total_time": None}
    recorded = card_training_time([None, *no_dev[1:]])["training_time"]
    assert recorded == "50.0 seconds over the 1 of 2 parts recorded" + note
