import json
import re
from dataclasses import replace
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.config import TrainConfig
from negmine.train.api import train
from negmine.train.loss_log import loss_history, mean_loss, part_throughput, resumed_metrics_line

from .conftest import InterruptAt

CLOSING = {"train_runtime": 1.189, "train_samples_per_second": 13.46, "train_steps_per_second": 3.364,
           "train_loss": 6.1, "epoch": 2.0}
LOG = [{"loss": 5.6, "step": 1}, {"loss": 6.0, "step": 2}, {"loss": 6.2, "step": 4}, {"loss": 6.0, "step": 6},
       {"eval_dev_ndcg@10": 0.5, "step": 6}]


def test_a_resumed_runs_closing_line_says_its_steps_and_gives_the_whole_runs_mean_loss():
    line = resumed_metrics_line(CLOSING, 2, 6, LOG, max_steps=6)
    whole = (5.6 + 6.0 + 2 * 6.2 + 2 * 6.0) / 6
    assert line == {"train_runtime": "1.189 (steps 3-6)", "train_samples_per_second": "13.46 (steps 3-6)",
                    "train_steps_per_second": "3.364 (steps 3-6)",
                    "train_loss": "6.1 (steps 3-6 only: resumed from checkpoint-2)",
                    "mean_loss": f"{whole:.4g} (steps 1-6: the whole run)", "epoch": 2.0}
    assert mean_loss(loss_history(LOG)) == pytest.approx(whole)


def test_the_parts_train_loss_is_read_from_the_log_whatever_the_trainer_divided_by():
    """transformers 4 divided the part's summed loss by every step of the run (6.1 * 4 / 6 here): the line gives
    the mean of the part's steps, as transformers 5 does."""
    line = resumed_metrics_line({**CLOSING, "train_loss": 6.1 * 4 / 6}, 2, 6, LOG)
    assert line["train_loss"] == "6.1 (steps 3-6 only: resumed from checkpoint-2)"  # (2 * 6.2 + 2 * 6.0) / 4
    assert mean_loss(loss_history(LOG), after=2) == pytest.approx(6.1)
    assert mean_loss(loss_history(LOG), after=6) is None


def test_the_parts_throughput_is_of_its_steps_whatever_the_trainer_counted():
    """transformers 4 divided every step of the run (6) and its samples by the part's seconds: the line gives the
    part's 4 steps over them, as transformers 5 computes it (CLOSING's 3.364 = 4 / 1.189)."""
    v4 = {**CLOSING, "train_samples_per_second": round(24 / 1.189, 3), "train_steps_per_second": round(6 / 1.189, 3)}
    line = resumed_metrics_line(v4, 2, 6, LOG, max_steps=6)
    assert line["train_steps_per_second"] == "3.364 (steps 3-6)"
    assert line["train_samples_per_second"] == "13.46 (steps 3-6)"
    assert part_throughput(CLOSING, 4, 6) == {}  # counted 4 steps: the part's, as they are
    assert part_throughput(v4, 4, 6) == {"train_samples_per_second": 13.457, "train_steps_per_second": 3.364}
    assert part_throughput(v4, 4, None) == {} and part_throughput({"train_runtime": 1.2}, 4, 6) == {}


def test_other_lines_and_a_run_never_resumed_are_left_as_they_are():
    assert resumed_metrics_line(CLOSING, 0, 6, LOG) == CLOSING
    entry = {"loss": 6.0, "grad_norm": 1.0, "epoch": 2.0}
    assert resumed_metrics_line(entry, 2, 6, LOG) == entry


def _closing_line(output: str) -> str:
    """The trainer's closing metrics line, written above the step bar (to stdout, which the command line sends to
    stderr)."""
    return next(line for line in output.splitlines() if "'train_loss'" in line)


def test_a_resumed_run_prints_which_steps_the_trainers_train_loss_covers_and_the_whole_runs_mean_loss(
        tmp_path, mined_file, tiny_model_path, capfd):
    """Stopped after checkpoint-2 of 5 steps and resumed: transformers' closing line said 'train_loss' of steps 3-5
    (its mean over the steps this process trained) with no word of it, where the run's mean_loss (the printed
    summary, negmine_train.json) is of steps 1-5, as the uninterrupted run's train_loss. It now says so."""
    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path), max_steps=5,
                         batch_size=4, num_negatives=2, checkpoint_steps=2, logging_steps=1, show_progress=True,
                         precision="fp32")
    straight = train(replace(config, output_dir=tmp_path / "straight"))
    line = _closing_line(capfd.readouterr().out)
    assert f"'train_loss': '{straight.mean_loss:.4g}'" in line and "mean_loss" not in line
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])  # after checkpoint-2
    capfd.readouterr()
    resumed = train(replace(config, resume=True))
    line = _closing_line(capfd.readouterr().out)
    part = sum(h["loss"] for h in resumed.loss_history[2:]) / 3  # the trainer's train_loss: steps 3-5
    assert f"'train_loss': '{part:.4g} (steps 3-5 only: resumed from checkpoint-2)'" in line
    assert f"'mean_loss': '{resumed.mean_loss:.4g} (steps 1-5: the whole run)'" in line
    runtime = float(re.search(r"'train_runtime': '([\d.]+) \(steps 3-5\)'", line).group(1))
    rate = float(re.search(r"'train_steps_per_second': '([\d.]+) \(steps 3-5\)'", line).group(1))
    samples = float(re.search(r"'train_samples_per_second': '([\d.]+) \(steps 3-5\)'", line).group(1))
    assert rate * runtime == pytest.approx(3, rel=2e-3) and samples == pytest.approx(4 * rate, rel=2e-3)  # batch 4
    assert resumed.mean_loss == pytest.approx(straight.mean_loss) and f"{part:.4g}" != f"{resumed.mean_loss:.4g}"


def test_negmine_train_resume_prints_the_mean_loss_its_summary_records(tmp_path, mined_file, tiny_model_path):
    """The command line: the closing line's mean_loss is the printed summary's and negmine_train.json's."""
    out = tmp_path / "out"
    config = TrainConfig(train_file=mined_file, output_dir=out, model=str(tiny_model_path), max_steps=5,
                         batch_size=4, num_negatives=2, checkpoint_steps=2, logging_steps=1, show_progress=False,
                         precision="fp32")
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])
    result = CliRunner().invoke(build_app(), [
        "train", str(mined_file), "-o", str(out), "--model", str(tiny_model_path), "--max-steps", "5",
        "--batch-size", "4", "--num-negatives", "2", "--checkpoint-steps", "2", "--logging-steps", "1",
        "--precision", "fp32", "--resume"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)["mean_loss"]
    assert printed == json.loads((out / "negmine_train.json").read_text())["result"]["mean_loss"]
    line = _closing_line(result.stderr)
    assert f"'mean_loss': '{printed:.4g} (steps 1-5: the whole run)'" in line
    assert "'train_loss': '" in line and "(steps 3-5 only: resumed from checkpoint-2)'" in line
