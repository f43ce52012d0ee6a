import json
import re
import shutil
from dataclasses import replace
from types import SimpleNamespace

import pytest
from sentence_transformers import SentenceTransformerTrainingArguments

from negmine.config import DevEvalConfig, TrainConfig
from negmine.train import SUMMARY_NAME
from negmine.train.api import resumed_arguments, train
from negmine.train.model_card_resume import (
    RunArgumentsOnCard, card_dev_metrics, card_log_entries, card_training_time,
)

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


def _card_without_times(output_dir) -> list[str]:
    """The saved model card's lines but its "Training Time" ones (seconds differ from run to run)."""
    card = (output_dir / "README.md").read_text(encoding="utf-8")
    return [line for line in card.splitlines() if not re.match(r"- \*\*(Training|Evaluation|Total)\*\*: ", line)]


def _killed_while_saving(output_dir) -> None:
    """A finished run's folder as a kill while it saved the final model leaves it: its checkpoints only."""
    for entry in list(output_dir.iterdir()):
        if entry.name != "checkpoints":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


@pytest.mark.parametrize("stop", ["after checkpoint-4", "while saving the final model"])
def test_a_resumed_runs_model_card_is_the_uninterrupted_runs_but_for_its_times(tmp_path, mined_file, tiny_model_path,
                                                                               dev_dir, stop):
    """7 steps, dev every 2, checkpoints every 2 (and at the end). The resumed run's card listed `eval_on_start:
    False` among its hyperparameters (the resume's own: it must not evaluate its first step again) where the run
    evaluated before its first step (True, a non-default one); and a run resumed from its last checkpoint, killed
    while saving the final model, evaluated nothing, so its card had no "Evaluation" section nor model-index
    metrics (the card takes them from its process's last evaluation)."""
    def config(name):
        return TrainConfig(train_file=mined_file, output_dir=tmp_path / name, model=str(tiny_model_path), max_steps=7,
                           batch_size=4, num_negatives=2, checkpoint_steps=2, logging_steps=1, show_progress=False,
                           precision="fp32", dev=DevEvalConfig(dev_dir, steps=2))

    straight = _card_without_times(train(config("straight")).output_dir)
    assert "## Evaluation" in straight and straight.count("- `eval_on_start`: True") == 2  # non-default and all
    # judged@10 among the dev metrics (its table row and model-index entry), and the queries scored, once
    assert any(line.startswith("| judged@10 ") for line in straight) and "    - type: judged@10" in straight
    assert '      "queries_evaluated": 6' in straight
    if stop == "while saving the final model":
        _killed_while_saving(train(config("resumed")).output_dir)
    else:
        with pytest.raises(KeyboardInterrupt):
            train(config("resumed"), callbacks=[InterruptAt(5)])
    resumed = train(replace(config("resumed"), resume=True))
    assert resumed.resumed_from.endswith("checkpoint-7" if stop == "while saving the final model" else "checkpoint-4")
    assert _card_without_times(resumed.output_dir) == straight


def test_the_card_takes_the_logs_last_dev_evaluation_as_the_evaluator_gave_it():
    log = [{"eval_dev_ndcg@10": 0.5, "eval_dev_mrr@10": 0.4, "eval_dev_recall@100": 1.0, "eval_dev_map": 0.4,
            "eval_runtime": 0.1, "step": 0}, {"loss": 2.0, "step": 1},
           {"eval_dev_ndcg@10": 0.6, "eval_dev_mrr@10": 0.5, "eval_dev_recall@100": 1.0, "eval_dev_map": 0.5,
            "eval_runtime": 0.1, "step": 2}, {"loss": 1.5, "step": 3}]
    assert card_dev_metrics(log) == {"dev_ndcg@10": 0.6, "dev_mrr@10": 0.5, "dev_recall@100": 1.0, "dev_map": 0.5}
    assert card_dev_metrics(log[1:2]) is None
    log.append({"eval_dev_ndcg@10": 0.7, "eval_dev_judged@10": 0.2, "eval_runtime": 0.1, "step": 4})
    assert card_dev_metrics(log) == {"dev_ndcg@10": 0.7, "dev_judged@10": 0.2}  # judged@10 comes back too


def test_a_resumed_runs_card_lists_the_arguments_the_run_started_with(tmp_path):
    """The resume's eval_on_start False is listed as the run's True, among the non-default ones in the card's
    order; a resume without a dev split sets nothing otherwise."""
    config = TrainConfig(output_dir=tmp_path / "o", dev=DevEvalConfig(tmp_path / "dev", steps=2), resume=True)
    assert resumed_arguments(config) == {"eval_on_start": True}
    assert resumed_arguments(replace(config, dev=None)) == {}
    args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path / "o"))
    card = SimpleNamespace(all_hyperparameters={"max_steps": 7, "eval_on_start": False, "seed": 42},
                           non_default_hyperparameters={"max_steps": 7, "seed": 42})
    RunArgumentsOnCard({"eval_on_start": True}).on_train_begin(args, None, None, model=SimpleNamespace(
        model_card_data=card))
    assert card.all_hyperparameters == {"max_steps": 7, "eval_on_start": True, "seed": 42}
    assert list(card.non_default_hyperparameters.items()) == [("max_steps", 7), ("eval_on_start", True), ("seed", 42)]
    RunArgumentsOnCard({"eval_on_start": False}).on_train_begin(args, None, None, model=SimpleNamespace(
        model_card_data=card))  # the default value: listed, not among the non-default ones
    assert card.all_hyperparameters["eval_on_start"] is False
    assert list(card.non_default_hyperparameters) == ["max_steps", "seed"]


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
