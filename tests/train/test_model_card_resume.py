import re
from dataclasses import replace

import pytest

from negmine.config import DevEvalConfig, TrainConfig
from negmine.train.api import train
from negmine.train.model_card_resume import card_log_entries

from .conftest import InterruptAt


def _card_rows(output_dir) -> list[str]:
    """The rows of the saved model card's "Training Logs" table: ``| epoch | step | loss | dev score |``."""
    card = (output_dir / "README.md").read_text(encoding="utf-8")
    table = card.split("### Training Logs", 1)[1]
    return [line for line in table.splitlines() if re.match(r"\| [\d.]+ +\| \d+", line)]




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
