import dataclasses
import json
from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer
from transformers import TrainerCallback

from negmine.config import DevEvalConfig, EncoderConfig, TrainConfig
from negmine.errors import ConfigError, InputError, NegmineWarning
from negmine.train.api import SUMMARY_NAME, train
from negmine.train.dev_eval import DEV_METRICS, DevEvaluator, dev_history, load_dev_data

from .conftest import InterruptAt, toy_row, write_jsonl




def _config(tmp_path, mined, model, dev, **overrides) -> TrainConfig:
    base = dict(train_file=mined, output_dir=tmp_path / "out", model=str(model), max_steps=4, batch_size=4,
                num_negatives=2, checkpoint_steps=None, logging_steps=1, show_progress=False, precision="fp32",
                dev=dev)
    base.update(overrides)
    return TrainConfig(**base)


def test_the_evaluator_scores_as_negmine_eval_does_at_the_models_full_length(dev_dir, tiny_model_path):
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder
    from negmine.evaluate.dense_eval import retrieve_run
    from negmine.evaluate.metrics import evaluate_run

    dataset = load_dev_data(DevEvalConfig(dev_dir))
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    full = model.max_seq_length
    expected = evaluate_run(dataset.judged_qrels(), retrieve_run(
        SentenceTransformerEmbedder.from_model(model, EncoderConfig(show_progress=False)), dataset), DEV_METRICS).mean
    model.max_seq_length = 3  # the training truncation: the evaluator must not use it
    metrics = DevEvaluator(dataset, full)(model, steps=7)
    assert model.max_seq_length == 3
    assert metrics == pytest.approx({f"dev_{k}": v for k, v in expected.items()})
    assert 0.0 < metrics["dev_ndcg@10"] <= 1.0


def test_the_evaluator_reports_judged_at_10_as_negmine_eval_computes_it(dev_dir, tiny_model_path):
    """Each evaluation logs judged@10 (the share of each query's top 10 with any judgment; negmine eval's, through
    the evaluate package's judged_at_k), and the evaluator knows how many queries it scores: the split's with a
    relevant judgment, 6 here. It logged neither, so a dev figure on partial qrels could not be weighed."""
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder
    from negmine.evaluate.dense_eval import retrieve_run
    from negmine.evaluate.judged import judged_at_k
    from negmine.evaluate.metrics import evaluated_query_ids

    dataset = load_dev_data(DevEvalConfig(dev_dir))
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    qrels = dataset.judged_qrels()
    run = retrieve_run(SentenceTransformerEmbedder.from_model(model, EncoderConfig(show_progress=False)), dataset)
    expected = judged_at_k(qrels, run.without_identical_ids(), 10, evaluated_query_ids(qrels)).mean()
    evaluator = DevEvaluator(dataset, model.max_seq_length)
    metrics = evaluator(model, steps=7)
    assert metrics["dev_judged@10"] == pytest.approx(expected)
    assert 0.0 < metrics["dev_judged@10"] < 1.0, "the fixture's split judges one document per query"
    assert evaluator.queries_evaluated == 6 and evaluator.get_config_dict() == {"queries_evaluated": 6}
    assert evaluator.primary_metric == "dev_ndcg@10", "checkpoint selection stays on nDCG@10"


def test_training_logs_dev_metrics_before_during_and_after(tmp_path, mined_file, dev_dir, tiny_model_path):
    result = train(_config(tmp_path, mined_file, tiny_model_path, DevEvalConfig(dev_dir, steps=3)))
    assert [e["step"] for e in result.dev] == [0, 3, 4]  # before the first step, every 3 steps, at the end
    assert all(set(DEV_METRICS) <= e.keys() and 0.0 <= e["ndcg@10"] <= 1.0 for e in result.dev)
    assert all(0.0 < e["judged@10"] <= 1.0 for e in result.dev)
    assert result.best_checkpoint is None
    summary = json.loads((result.output_dir / SUMMARY_NAME).read_text())
    assert summary["result"]["dev"] == result.dev and summary["config"]["dev"]["steps"] == 3
    assert summary["result"]["dev_queries_evaluated"] == result.dev_queries_evaluated == 6  # once, not per evaluation
    assert not any("queries" in key for e in result.dev for key in e)
    # the trainer makes checkpoints/eval for evaluator output negmine's evaluator never writes: not left behind
    assert not (result.output_dir / "checkpoints" / "eval").exists()


def test_a_run_stopped_after_an_evaluation_leaves_no_eval_folder(tmp_path, mined_file, dev_dir, tiny_model_path):
    """The trainer makes checkpoints/eval before each evaluation for the evaluator's CSV files, which negmine's
    evaluator never writes; it was removed only when the run finished, so a run stopped by Ctrl-C (resumed or not)
    left an empty folder behind."""
    config = _config(tmp_path, mined_file, tiny_model_path, DevEvalConfig(dev_dir, steps=1), checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(3)])  # evaluated at steps 0, 1 and 2
    assert (config.output_dir / "checkpoints" / "checkpoint-2").is_dir()
    assert not (config.output_dir / "checkpoints" / "eval").exists()


def test_the_evaluator_removes_the_empty_output_folder_it_is_given_also_when_stopped(tmp_path, dev_dir,
                                                                                   tiny_model_path, monkeypatch):
    import negmine.evaluate.dense_eval

    dataset = load_dev_data(DevEvalConfig(dev_dir))
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    folder = tmp_path / "eval"
    folder.mkdir()
    DevEvaluator(dataset, model.max_seq_length)(model, output_path=str(folder), steps=1)
    assert not folder.exists()
    folder.mkdir()
    (folder / "mine.csv").write_text("a user's file\n")
    DevEvaluator(dataset, model.max_seq_length)(model, output_path=str(folder), steps=1)
    assert (folder / "mine.csv").exists(), "a folder with something in it stays"
    (folder / "mine.csv").unlink()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(negmine.evaluate.dense_eval, "retrieve_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        DevEvaluator(dataset, model.max_seq_length)(model, output_path=str(folder), steps=1)
    assert not folder.exists()


@pytest.fixture(scope="module")
def toy_keep_best(tmp_path_factory, tiny_model_path):
    """``make(folder) -> TrainConfig``: four learnable pairs (dev nDCG@10 rises after ~15 steps, then stays),
    30 steps, evaluated every 5 on the same pairs with --keep-best."""
    from negmine.testing.beir import write_beir

    folder = tmp_path_factory.mktemp("toy")
    rows = [toy_row(i) for i in range(4)]
    mined = write_jsonl(folder / "toy.jsonl", rows)
    corpus = {r["positive_id"]: r["positive"] for r in rows} | {r["negative_ids"][0]: r["negatives"][0] for r in rows}
    dev = write_beir(folder / "dev", corpus, {r["query_id"]: r["query"] for r in rows},
                     [(r["query_id"], r["positive_id"], 1) for r in rows], split="dev")

    def make(out):
        return _config(out, mined, tiny_model_path, DevEvalConfig(dev, steps=5, keep_best=True), max_steps=30,
                       num_negatives=1, learning_rate=3e-3, warmup_ratio=0.0, fn_mask=False, checkpoint_steps=500,
                       hardness="hard-negatives")  # the curve above is this loss's; pinned so defaults can change

    return make


@pytest.fixture(scope="module")
def straight_keep_best(tmp_path_factory, toy_keep_best):
    """The uninterrupted toy --keep-best run (shared by the tests below)."""
    return train(toy_keep_best(tmp_path_factory.mktemp("straight")))


def _state(path):
    return SentenceTransformer(str(path), device="cpu").state_dict()


def test_keep_best_ends_with_the_best_evaluated_checkpoint_not_the_last(straight_keep_best):
    result = straight_keep_best
    assert [e["step"] for e in result.dev] == [0, 5, 10, 15, 20, 25, 30]
    scores = [e["ndcg@10"] for e in result.dev]
    assert max(scores) > scores[0]
    best = next(e["step"] for e in result.dev[1:] if e["ndcg@10"] == max(scores))  # the first of equals wins
    assert best < 30 and result.best_checkpoint.endswith(f"checkpoint-{best}")
    logged = json.loads((Path(result.best_checkpoint) / "trainer_state.json").read_text())["log_history"]
    assert [e["eval_dev_judged@10"] for e in logged if "eval_dev_ndcg@10" in e] == \
        [e["judged@10"] for e in result.dev if e["step"] <= best], "each evaluation's judged@10 is in the trainer state"
    saved, kept = _state(result.output_dir), _state(result.best_checkpoint)
    last = _state(result.output_dir / "checkpoints" / "checkpoint-30")
    assert all(torch.equal(saved[k], kept[k]) for k in kept)
    assert not all(torch.equal(saved[k], last[k]) for k in last)


def test_an_interrupted_keep_best_run_resumes_to_the_same_model(tmp_path, toy_keep_best, straight_keep_best):
    straight = straight_keep_best
    config = toy_keep_best(tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(22)])
    resumed = train(dataclasses.replace(config, resume=True))
    assert resumed.resumed_from.endswith("checkpoint-20")
    assert Path(resumed.best_checkpoint).name == Path(straight.best_checkpoint).name
    assert [e["step"] for e in resumed.dev if e["step"] <= 20] == [0, 5, 10, 15, 20]  # restored with the state
    assert [e["ndcg@10"] for e in resumed.dev if e["step"] >= 25] == [e["ndcg@10"] for e in straight.dev[-2:]]
    a, b = _state(straight.output_dir), _state(resumed.output_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_keep_best_run_resumed_at_another_cadence_evaluates_keeps_and_ends_as_the_straight_one(
        tmp_path, toy_keep_best, straight_keep_best):
    """--keep-best saves at every evaluation whatever --checkpoint-steps says, and --logging-steps changes the log
    only: resumed with other values, the evaluations, the checkpoint kept and the weights are the straight run's."""
    straight = straight_keep_best
    config = toy_keep_best(tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[InterruptAt(22)])
    with pytest.warns(NegmineWarning, match=r"^checkpoint_steps=7 \(--checkpoint-steps 7\) is not used with "
                                            r"dev\.keep_best \(--keep-best\): a checkpoint is saved at every evaluation, "
                                            r"every 5 steps \(dev\.steps, --eval-steps\), and at no other step; set "
                                            r"dev\.steps \(--eval-steps\) to the cadence you want checkpoints at"):
        resumed = train(dataclasses.replace(config, resume=True, checkpoint_steps=7, logging_steps=4))
    assert resumed.resumed_from.endswith("checkpoint-20")
    assert resumed.resume_changes == ["logging_steps 1 -> 4"]  # --checkpoint-steps acts not under --keep-best
    assert Path(resumed.best_checkpoint).name == Path(straight.best_checkpoint).name
    assert resumed.dev == straight.dev
    assert all("judged@10" in e for e in straight.dev)
    assert resumed.dev_queries_evaluated == straight.dev_queries_evaluated == 4
    assert [h["step"] for h in resumed.loss_history if h["step"] > 20] == [24, 25, 28, 30]  # every 4, checkpoints, end
    a, b = _state(straight.output_dir), _state(resumed.output_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_without_eval_steps_each_epoch_and_the_end_are_evaluated(tmp_path, mined_file, dev_dir, tiny_model_path):
    result = train(_config(tmp_path, mined_file, tiny_model_path, DevEvalConfig(dev_dir)))  # 3 steps per epoch
    assert [e["step"] for e in result.dev] == [0, 3, 4]


def test_a_document_sample_keeps_every_judged_document(dev_dir):
    from negmine.train.dev_eval import sample_corpus

    full = load_dev_data(DevEvalConfig(dev_dir))
    sampled = load_dev_data(DevEvalConfig(dev_dir, max_documents=10))
    judged = {doc for docs in full.judged_qrels().judgments.values() for doc in docs}
    assert len(full.corpus) == 36 and len(sampled.corpus) == 10 and judged <= set(sampled.corpus.ids)
    positions = [list(full.corpus.ids).index(doc) for doc in sampled.corpus.ids]
    assert positions == sorted(positions), "corpus order is kept"
    assert all(sampled.corpus.text(d) == full.corpus.text(d) for d in sampled.corpus.ids)
    assert list(load_dev_data(DevEvalConfig(dev_dir, max_documents=10)).corpus.ids) == list(sampled.corpus.ids)
    assert "sample of 10 of 36 documents" in sampled.corpus.source
    assert len(sample_corpus(full, 3)) == len(judged)  # fewer than the judged documents: all judged, no others
    assert len(load_dev_data(DevEvalConfig(dev_dir, max_documents=100)).corpus) == 36


def test_dev_history_reads_only_evaluation_entries():
    log = [{"loss": 1.0, "step": 1}, {"eval_dev_ndcg@10": 0.5, "eval_dev_mrr@10": 0.4, "step": 2, "epoch": 0.5}]
    assert dev_history(log) == [{"step": 2, "epoch": 0.5, "ndcg@10": 0.5, "mrr@10": 0.4}]
    log.append({"eval_dev_ndcg@10": 0.6, "eval_dev_judged@10": 0.25, "eval_runtime": 1.0, "step": 3, "epoch": 0.75})
    assert dev_history(log)[1] == {"step": 3, "epoch": 0.75, "ndcg@10": 0.6, "judged@10": 0.25}


@pytest.mark.parametrize("dev, extra, message", [
    (DevEvalConfig(None), {}, "dev evaluation needs a BEIR directory; set dev.data_dir (--eval-data DIR)"),
    (DevEvalConfig("d", steps=0), {}, "dev.steps must be a positive integer, got 0; use e.g. dev.steps=100 (--eval-steps "
                                      "100)"),
    (DevEvalConfig("d", keep_best=True), {"checkpoint_steps": None}, "dev.keep_best (--keep-best) returns to the best "
     "evaluated checkpoint, so it needs checkpoints: set checkpoint_steps=500 (drop --no-checkpoints)"),
    (DevEvalConfig("d", max_documents=0), {}, "dev.max_documents must be a positive integer, got 0; use e.g. "
     "dev.max_documents=100000 (--eval-max-documents 100000)"),
    (DevEvalConfig("d", unknown_qrels="ignore"), {}, "--unknown-qrels"),
])
def test_bad_dev_options_fail_before_any_work(tmp_path, mined_file, dev, extra, message):
    with pytest.raises(ConfigError) as info:
        train(_config(tmp_path, mined_file, "no-such-model", dev, **extra))
    assert message in str(info.value)


def test_a_bad_dev_split_fails_before_the_model_loads(tmp_path, mined_file, dev_dir):
    with open(dev_dir / "qrels" / "dev.tsv", "a") as handle:
        handle.write("q0\tghost\t1\n")
    # the fix names the TrainConfig's field, dev.unknown_qrels (it said unknown_qrels, a field TrainConfig has not)
    with pytest.raises(InputError, match=r"dev\.tsv:\d+: field 'corpus-id': unknown corpus id 'ghost' .*; if the "
                                         r"dataset judges documents missing from its corpus, set "
                                         r"dev\.unknown_qrels='skip' \(--unknown-qrels skip\) to drop such rows$"):
        train(_config(tmp_path, mined_file, "no-such-model", DevEvalConfig(dev_dir)))
    skipped = load_dev_data(DevEvalConfig(dev_dir, unknown_qrels="skip"))  # the option the message names
    assert "ghost" in skipped.judged_qrels().judgments["q0"], "scored as never retrievable, as negmine eval does"
    with pytest.raises(Exception, match="qrels/test.tsv"):
        train(_config(tmp_path, mined_file, "no-such-model", DevEvalConfig(dev_dir, split="test")))
    assert not (tmp_path / "out").exists()


def test_a_dev_split_with_its_corpus_and_queries_swapped_is_told_the_directorys_files(tmp_path):
    """The hint said 'give the documents as corpus (--corpus) and the queries as queries (--queries)': fields and
    options of mining, not of the dev evaluation, which takes the directory alone (dev.data_dir, --eval-data)."""
    from negmine.testing.beir import write_beir

    dev = write_beir(tmp_path / "dev", {"q0": "a query"}, {"d0": "a document"}, [("q0", "d0", 1)], split="dev")
    with pytest.raises(InputError) as info:
        load_dev_data(DevEvalConfig(dev))
    assert str(info.value).endswith(": were the corpus and queries files swapped? the BEIR directory's corpus.jsonl "
                                    "holds the documents, its queries.jsonl the queries"), str(info.value)


def test_a_missing_dev_split_names_the_eval_split_option(dev_dir):
    # `negmine train ... --eval-data DEMO` (default --eval-split dev; the demo has train and test) was told
    # "pick one with split (--split; for negmine train's dev evaluation: dev.split, --eval-split), e.g. --split test"
    with pytest.raises(InputError) as info:
        load_dev_data(DevEvalConfig(dev_dir, split="validation"))
    assert str(info.value) == (f"{dev_dir / 'qrels' / 'validation.tsv'}: split 'validation' not found; available "
                               "splits: dev; pick one, e.g. dev.split='dev' (--eval-split dev)")
    with pytest.raises(InputError, match=r"^\S*missing: BEIR directory not found, given as dev\.data_dir "
                                         r"\(--eval-data\); check the path: a BEIR directory holds corpus\.jsonl, "
                                         r"queries\.jsonl and qrels/<split>\.tsv$"):
        load_dev_data(DevEvalConfig(dev_dir.parent / "missing"))


def test_dev_evaluation_only_measures_the_same_run(tmp_path, mined_file, dev_dir, tiny_model_path):
    """Evaluating before, during and after training leaves every batch, dropout mask and weight as they were."""
    plain = train(_config(tmp_path / "plain", mined_file, tiny_model_path, None, max_steps=6))
    watched = train(_config(tmp_path / "watched", mined_file, tiny_model_path, DevEvalConfig(dev_dir, steps=2),
                            max_steps=6))
    assert [e["step"] for e in watched.dev] == [0, 2, 4, 6]
    assert [e["loss"] for e in watched.loss_history] == [e["loss"] for e in plain.loss_history]
    a, b = _state(plain.output_dir), _state(watched.output_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)


def _dev(*scores):
    return [{"step": step, "ndcg@10": score} for step, score in scores]


def test_keep_best_warns_when_the_starting_model_beat_every_checkpoint():
    from negmine.train.dev_eval import warn_if_start_was_best

    # measured on the demo (tiny model, --lr 0.1): the kept checkpoint-10 scored 0.0448, the start 0.2004, no word
    with pytest.warns(NegmineWarning) as caught:
        warn_if_start_was_best(_dev((0, 0.2004), (3, 0.0153), (10, 0.0448)), "out/checkpoints/checkpoint-10")
    assert str(caught[0].message) == (
        "dev.keep_best (--keep-best): the starting model scored dev ndcg@10 0.2004 before the first step, above every checkpoint; the "
        "saved model is the best of them, checkpoint-10 (0.0448 at step 10), so this training lowered the dev score: "
        "keep the starting model, or train again with other settings (e.g. a lower learning_rate, --lr)")


@pytest.mark.parametrize(("dev", "best"), [
    (_dev((0, 0.20), (3, 0.20)), "c/checkpoint-3"),  # a tie is no loss
    (_dev((0, 0.20), (3, 0.25), (6, 0.10)), "c/checkpoint-3"),
    (_dev((3, 0.10)), "c/checkpoint-3"),  # resumed logs keep step 0; none here: nothing to compare
])
def test_keep_best_says_nothing_when_a_checkpoint_is_as_good_as_the_start(dev, best, recwarn):
    from negmine.train.dev_eval import warn_if_start_was_best

    warn_if_start_was_best(dev, best)
    assert not recwarn.list


class InterruptAtEvaluation(TrainerCallback):
    """Raises KeyboardInterrupt (a Ctrl-C) once the evaluation at step ``step`` is made."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_evaluate(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("run, stop", [
    ({"epochs": 2}, InterruptAt(4)),  # goes on from the checkpoint at the first epoch's end
    ({"max_steps": 5}, InterruptAtEvaluation(5)),  # stopped in the evaluation of the last step, inside an epoch
])
def test_a_run_resumed_from_a_checkpoint_at_an_epoch_end_keeps_that_epochs_dev_evaluation(
        tmp_path, mined_file, dev_dir, tiny_model_path, run, stop):
    """Evaluated every epoch (no --eval-steps), a step checkpoint at an epoch's last step, or at the run's last step,
    was saved before the epoch-end evaluation, so its log lacked it: a run resumed from it listed no evaluation at
    that step in ``dev`` (nor in the training report), even when it had been made before the stop (measured on
    minifacts, --max-steps 12 --checkpoint-steps 5, killed at step 7: dev steps [0, 10, 12], not [0, 5, 10, 12]).
    The evaluation now comes before the checkpoint; the weights are the same either way (evaluating draws no random
    number). 12 rows, batch 4: 3 steps an epoch."""
    run = {"max_steps": None, **run}
    straight = train(_config(tmp_path / "a", mined_file, tiny_model_path, DevEvalConfig(dev_dir), **run))
    config = _config(tmp_path / "b", mined_file, tiny_model_path, DevEvalConfig(dev_dir), checkpoint_steps=3, **run)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[stop])
    resumed = train(dataclasses.replace(config, resume=True))
    assert resumed.resumed_from.endswith("checkpoint-3")
    assert [e["step"] for e in straight.dev] == [0, 3, straight.global_step]
    assert resumed.dev == straight.dev
    a, b = _state(straight.output_dir), _state(resumed.output_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_printed_dev_line_leaves_out_the_trainers_always_zero_throughput():
    """With the bars on, every dev line ended in 'eval_samples_per_second': '0', 'eval_steps_per_second': '0': the
    trainer counts an evaluation dataset's samples, and the dev evaluator has none. The log keeps them."""
    from types import SimpleNamespace

    from negmine.train.dev_eval import DevLineProgress

    written = []
    progress = DevLineProgress()
    progress.training_bar = SimpleNamespace(write=written.append)
    logs = {"eval_dev_ndcg@10": 0.5, "eval_runtime": 2.244, "eval_samples_per_second": 0.0,
            "eval_steps_per_second": 0.0, "epoch": 0.5}
    progress.on_log(None, SimpleNamespace(is_world_process_zero=True), None, logs=logs)
    assert written == ["{'eval_dev_ndcg@10': '0.5', 'eval_runtime': '2.244', 'epoch': '0.5'}"]
    assert "eval_samples_per_second" in logs, "the log entry itself is left as it is"


@pytest.mark.parametrize("queries, line", [
    (6, "dev evaluation: 6 queries scored at each evaluation (the split's queries with a relevant judgment); "
        "judged@10 is the share of their top 10 with any judgment"),
    (1, "dev evaluation: 1 query scored at each evaluation (the split's queries with a relevant judgment); "
        "judged@10 is the share of their top 10 with any judgment"),
    (None, None),
])
def test_the_dev_query_count_is_printed_once_as_training_begins(queries, line, monkeypatch):
    """The count is the same at every evaluation: one line above the bar as the run (or a resumed part) begins,
    not a key of every dev line; a run without a dev split prints none."""
    from types import SimpleNamespace

    import negmine.progress
    from negmine.train.dev_eval import DevLineProgress

    written = []
    monkeypatch.setattr(negmine.progress, "progress_bar", lambda **_: SimpleNamespace(write=written.append))
    progress = DevLineProgress(queries)
    progress.on_train_begin(None, SimpleNamespace(is_world_process_zero=True, max_steps=4, global_step=0), None)
    assert written == ([line] if line else [])


def test_progress_bars_written_to_a_log_file_leave_no_cursor_moves(tmp_path, mined_file, dev_dir, tiny_model_path,
                                                                   capfd):
    """`negmine train ... --eval-data DEV 2>log`: each evaluation drew its corpus and query bars, and the model's
    text bar inside them, under the trainer's bar, and a checkpoint its "Writing model shards"; in a file every
    update left tqdm's cursor-up (ESC[A) behind (105 in a 4-step demo run). Nested bars are drawn on a terminal
    only (negmine.progress); pytest's captured stderr is no terminal."""
    config = _config(tmp_path, mined_file, tiny_model_path, DevEvalConfig(dev_dir, steps=2), show_progress=True,
                     checkpoint_steps=2)
    result = train(config)
    err = capfd.readouterr().err
    assert [e["step"] for e in result.dev] == [0, 2, 4]
    assert "4/4" in err, "the trainer's bar, the outermost, is drawn as before"
    assert "\x1b[" not in err


def test_the_dev_evaluations_bars_say_dev_split_and_step(dev_dir, tiny_model_path, monkeypatch):
    """A dev evaluation's bars under the trainer's were 'encode corpus' and 'encode queries' (and the model's own
    bar plain 'encode'), as in any other encoding: they name the dev split and the step."""
    import negmine.evaluate.dense_eval as dense_eval
    from negmine.progress import encode_desc

    real, seen = dense_eval.encode_split, []

    def encode_split(embedder, *args, **kwargs):
        inner = embedder.encode
        embedder.encode = lambda texts, prompt="": seen.append(encode_desc()) or inner(texts, prompt)
        return real(embedder, *args, **kwargs)

    monkeypatch.setattr(dense_eval, "encode_split", encode_split)
    DevEvaluator(load_dev_data(DevEvalConfig(dev_dir)), 64)(SentenceTransformer(str(tiny_model_path), device="cpu"),
                                                              steps=7)
    assert seen == ["encode corpus (dev split, step 7)", "encode queries (dev split, step 7)"]
