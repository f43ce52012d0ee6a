"""The model-free checks of a training run, importable without transformers or torch."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from dataclasses import replace

import pytest

from negmine.config import TrainConfig
from negmine.errors import ConfigError, NegmineWarning
from negmine.train.preflight import PREFIX_CHECKPOINT_DIR, check_before_work, find_checkpoint


def test_importing_the_checks_loads_neither_transformers_nor_torch():
    code = "import sys, negmine.train.preflight; print('transformers' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_the_checkpoint_prefix_is_transformers_own():
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR as TRANSFORMERS_PREFIX

    assert PREFIX_CHECKPOINT_DIR == TRANSFORMERS_PREFIX


def test_a_training_file_that_is_a_link_in_a_loop_says_so(tmp_path):
    """It read "not found" alone, while ls lists the file (negmine train and negmine audit both)."""
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig
    from negmine.errors import InputError

    mined, other = tmp_path / "mined.jsonl", tmp_path / "other.jsonl"
    mined.symlink_to(other.name)
    other.symlink_to(mined.name)
    with pytest.raises(ConfigError) as info:
        check_before_work(TrainConfig(train_file=mined, output_dir=tmp_path / "m"))
    loop = (f"(it is a symbolic link in a loop: following it leads back to itself, {mined} -> other.jsonl; point it at "
            "the file)")
    assert str(info.value) == f"training file {mined} not found {loop}; mine it first with `negmine mine`"
    with pytest.raises(InputError) as info:
        run_audit(AuditConfig(input=mined))
    assert str(info.value) == f"{mined}: not found {loop}; pass a mined native JSONL file or a BEIR directory"


def test_a_missing_training_file_and_a_file_as_output_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"training file .*missing.jsonl not found; mine it first"):
        check_before_work(TrainConfig(train_file=tmp_path / "missing.jsonl", output_dir=tmp_path / "m"))
    mined = tmp_path / "n.jsonl"
    mined.write_text("{}\n")
    with pytest.raises(ConfigError, match=r"--output .*n.jsonl: exists and is not a directory"):
        check_before_work(TrainConfig(train_file=mined, output_dir=mined))


def test_resume_needs_a_complete_checkpoint_and_a_fresh_run_refuses_old_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"^resume=True \(--resume\): no checkpoint found in .*; run again with "
                                          r"resume=False \(no --resume\) to start afresh$"):
        find_checkpoint(tmp_path, resume=True)
    (tmp_path / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    (tmp_path / "checkpoints" / "checkpoint-4" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoints" / "checkpoint-8").mkdir()  # killed while saving: no trainer_state.json
    incomplete = f"{tmp_path / 'checkpoints' / 'checkpoint-8'} was not saved to the end (killed while writing it?); "
    with pytest.warns(NegmineWarning, match=re.escape(incomplete + "resuming from checkpoint-4 instead")):
        assert find_checkpoint(tmp_path, resume=True) == str(tmp_path / "checkpoints" / "checkpoint-4")
    with pytest.warns(NegmineWarning, match=re.escape(incomplete + "skipped")), \
            pytest.raises(ConfigError, match="already holds checkpoints of an earlier run \\(e.g. checkpoint-4\\)"):
        find_checkpoint(tmp_path, resume=False)


@pytest.mark.parametrize(("state", "problem"), [
    ("[1]", ": must hold a JSON object, got array"),
    ('{"global_step": 4, "epoch": "half"}', ": field 'epoch': must be a number, got \"half\""),
])
def test_a_checkpoint_state_that_is_json_but_not_the_trainers_is_named_on_resume(tmp_path, state, problem):
    """A state cut short is skipped (above); one edited into other JSON was resumed from, and reading its epoch
    raised an AttributeError (or ValueError) traceback."""
    from negmine.errors import InputError

    for step, text in ((2, '{"global_step": 2, "epoch": 0.5}'), (4, state)):
        (tmp_path / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text(text, encoding="utf-8")
    last = tmp_path / "checkpoints" / "checkpoint-4"
    with pytest.raises(InputError) as info:
        find_checkpoint(tmp_path, resume=True)
    assert str(info.value) == (f"{last / 'trainer_state.json'}{problem}; transformers wrote it when it saved the "
                               f"checkpoint, so it was edited: restore it, or delete {last} to resume from the "
                               "checkpoint before it")


def test_a_checkpoint_state_saved_with_a_byte_order_mark_is_named_for_the_mark_not_skipped(tmp_path):
    """An editor saving trainer_state.json with a mark: the checkpoint was skipped as 'not saved to the end', and
    the run went on from the one before (or, the only one, --resume said to start afresh). transformers refuses the
    file too ('Unexpected UTF-8 BOM'), so resuming from it is no way out either: the mark has to go."""
    from negmine.errors import InputError

    for step in (2, 4):
        (tmp_path / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (tmp_path / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text(
            f'{{"global_step": {step}, "epoch": 0.5}}', encoding="utf-8-sig" if step == 4 else "utf-8")
    last = tmp_path / "checkpoints" / "checkpoint-4"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "not saved to the end"
        with pytest.raises(InputError) as info:
            find_checkpoint(tmp_path, resume=True)
        assert str(info.value) == (
            f"{last / 'trainer_state.json'}: starts with a byte-order mark (U+FEFF), which transformers cannot read (it "
            "refuses the file with 'Unexpected UTF-8 BOM'): an editor saved it with one. The checkpoint itself was "
            f"saved to the end; remove the mark, e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' {last / 'trainer_state.json'}, "
            f"and resume again, or delete {last} to resume from the checkpoint before it")
        with pytest.raises(ConfigError, match=r"already holds checkpoints of an earlier run \(e\.g\. checkpoint-4\)"):
            find_checkpoint(tmp_path, resume=False)

def test_a_fresh_run_over_a_checkpoint_killed_while_saving_says_it_starts_afresh(tmp_path):
    """A run killed while saving its first checkpoint leaves only that incomplete folder; rerun without --resume
    (as the --resume error tells), the run starts from step 0, but the warning said it was 'resuming from an
    earlier checkpoint'."""
    (tmp_path / "checkpoints" / "checkpoint-2").mkdir(parents=True)  # no trainer_state.json
    with pytest.warns(NegmineWarning) as caught:
        assert find_checkpoint(tmp_path, resume=False) is None
    assert [str(w.message) for w in caught] == [f"{tmp_path / 'checkpoints' / 'checkpoint-2'} was not saved to the "
                                                "end (killed while writing it?); no complete checkpoint: this run "
                                                "starts from step 0"]
    (tmp_path / "checkpoints" / "checkpoint-1").mkdir()
    (tmp_path / "checkpoints" / "checkpoint-1" / "trainer_state.json").write_text("{}")
    with pytest.warns(NegmineWarning) as caught:
        assert find_checkpoint(tmp_path, resume=True) == str(tmp_path / "checkpoints" / "checkpoint-1")
    assert [str(w.message) for w in caught] == [f"{tmp_path / 'checkpoints' / 'checkpoint-2'} was not saved to the "
                                                "end (killed while writing it?); resuming from checkpoint-1 instead"]


def test_a_directory_given_as_the_training_file_is_named_as_such(tmp_path):
    with pytest.raises(ConfigError, match=r"training file .* is a directory; pass the mined native JSONL file"):
        check_before_work(TrainConfig(train_file=tmp_path, output_dir=tmp_path / "m"))


def test_matryoshka_dims_are_checked_against_a_local_models_dimension_before_the_order(tmp_path, tiny_model_path):
    """384,500 was refused for its order, with 500,384 as the fix, which the model refused once it had loaded."""
    mined = tmp_path / "m.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "o", matryoshka_dims=(384, 500))
    with pytest.raises(ConfigError) as info:
        check_before_work(config)
    assert str(info.value) == ("matryoshka_dims (384, 500): 500 exceeds the embedding dimension 384 of the model "
                               "'bundled:all-MiniLM-L6-v2'; use dims up to 384, e.g. --matryoshka-dims 384")
    with pytest.raises(ConfigError) as info:  # a hub name: its dimension is known once it loads
        check_before_work(replace(config, model="someone/some-model"))
    assert str(info.value) == ("matryoshka_dims must be strictly decreasing (largest first, each once), got (384, 500); "
                               "give them sorted largest first: 500,384, and none above the model's embedding dimension")
    with pytest.raises(ConfigError, match=r"^matryoshka_dims \(48, 0\): 48 exceeds .* e.g. --matryoshka-dims 32$"):
        check_before_work(replace(config, model=str(tiny_model_path), matryoshka_dims=(48, 0)))
    check_before_work(replace(config, model=str(tiny_model_path), matryoshka_dims=(32, 16)))  # fits: no error


@pytest.mark.parametrize(("dims", "weights", "per_step", "example"), [
    ((500, 384, 128), (2.0, 1.0, 0.5), 3, "--matryoshka-dims 384,128 --matryoshka-weights 1,0.5 "
                                          "--matryoshka-dims-per-step 2"),
    ((500, 256), (2.0, 1.0), -1, "--matryoshka-dims 384,256 --matryoshka-weights 2,1"),
    ((600, 500, 64), (3.0, 2.0, 1.0), 2, "--matryoshka-dims 384,64 --matryoshka-weights 3,1"),
    ((500, 384, 128), None, -1, "--matryoshka-dims 384,128"),
])
def test_the_dims_suggestion_brings_weights_and_dims_per_step_that_fit_it(tmp_path, dims, weights, per_step, example):
    """The suggestion for dims above the model's had fewer dims than given and said nothing of
    --matryoshka-weights (or --matryoshka-dims-per-step): following it failed on their count. Kept dims keep
    their weights; the model's dimension replaces the first dim too large and takes its weight."""
    mined = tmp_path / "m.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "o", matryoshka_dims=dims, matryoshka_weights=weights,
                         matryoshka_dims_per_step=per_step)
    with pytest.raises(ConfigError) as info:
        check_before_work(config)
    assert str(info.value).endswith(f"use dims up to 384, e.g. {example}"), str(info.value)
    fixed = dict(part.split(" ") for part in example.removeprefix("--").split(" --"))
    check_before_work(replace(config, matryoshka_dims=tuple(map(int, fixed["matryoshka-dims"].split(","))),
                              matryoshka_weights=tuple(map(float, fixed["matryoshka-weights"].split(",")))
                              if "matryoshka-weights" in fixed else None,
                              matryoshka_dims_per_step=int(fixed.get("matryoshka-dims-per-step", per_step))))


def test_checkpoint_steps_with_keep_best_are_named_as_unused(tmp_path):
    """--keep-best saves at every evaluation and nowhere else: --checkpoint-steps 2 went unused without a word."""
    import warnings

    from negmine.config import DevEvalConfig
    from negmine.errors import NegmineWarning

    mined = tmp_path / "n.jsonl"
    mined.write_text("{}\n")
    base = TrainConfig(train_file=mined, output_dir=tmp_path / "m", checkpoint_steps=2,
                       dev=DevEvalConfig(tmp_path, steps=5, keep_best=True))
    with pytest.warns(NegmineWarning, match=r"^checkpoint_steps=2 \(--checkpoint-steps 2\) is not used with "
                                            r"dev\.keep_best \(--keep-best\): a checkpoint is saved at every evaluation, "
                                            r"every 5 steps \(dev\.steps, --eval-steps\), and at no other step; set "
                                            r"dev\.steps \(--eval-steps\) to the cadence you want checkpoints at, or "
                                            r"leave checkpoint_steps at its default \(drop --checkpoint-steps\)$"):
        check_before_work(base)
    with pytest.warns(NegmineWarning, match=r"saved at every evaluation, each epoch, and at no other step"):
        check_before_work(replace(base, dev=DevEvalConfig(tmp_path, keep_best=True)))
    with pytest.warns(NegmineWarning, match=r"saved at every evaluation, every step \(dev\.steps, --eval-steps\), and "):
        check_before_work(replace(base, dev=DevEvalConfig(tmp_path, steps=1, keep_best=True)))  # not 'every 1 steps'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_before_work(replace(base, checkpoint_steps=TrainConfig.checkpoint_steps))  # the default: nothing set
        check_before_work(replace(base, dev=DevEvalConfig(tmp_path, steps=5)))  # without --keep-best it is used


def test_a_negative_fn_margin_is_warned_about_before_the_run(tmp_path):
    """--fn-margin -1 is in the allowed range [-2, 2], and it masked nearly every candidate of a run (loss 0 at
    every step) with nothing said: a negative margin masks candidates scored below the positive."""
    import warnings

    mined = tmp_path / "n.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "m", fn_margin=-1.0)
    with pytest.warns(NegmineWarning, match=r"^fn_margin=-1\.0 \(--fn-margin -1\.0\) is negative: it masks every "
                                            r"candidate the model scores above the positive's score - 1\.0, so also "
                                            r"those scored just below the positive, the hardest negatives, .*; use a "
                                            r"margin above 0 \(e\.g\. fn_margin=0\.1 \(--fn-margin 0\.1\): candidates "
                                            r"scored 0\.1 above the positive\) or none \(fn_margin=None "
                                            r"\(--no-fn-margin\), the default\)$"):
        check_before_work(config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for margin in (None, 0.0, 0.1):
            check_before_work(replace(config, fn_margin=margin))


def test_prompts_unlike_those_the_same_model_mined_with_are_named(tmp_path):
    """An E5 file mined with 'query: '/'passage: ' and trained without them: no word was said."""
    import json
    import warnings

    from negmine.errors import NegmineWarning

    mined = tmp_path / "neg.jsonl"
    mined.write_text("{}\n")
    encoder = {"model": "e5", "query_prompt": "query: ", "document_prompt": "passage: "}
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": {"encoder": encoder}}))
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "m", model="e5")
    with pytest.warns(NegmineWarning, match=rf"^{mined} was mined by 'e5' with query_prompt 'query: ' and "
                                            r"document_prompt 'passage: ' \(--query-prompt, --document-prompt; "
                                            r".*neg.summary.json\), but is trained with '' and ''; give the mining "
                                            r"prompts to negmine train \(TrainConfig.query_prompt, document_prompt\) "
                                            r"unless the change is meant$"):
        check_before_work(config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_before_work(replace(config, query_prompt="query: ", document_prompt="passage: "))
        check_before_work(replace(config, model="other"))  # another model may take other prompts


def test_summaries_saved_with_a_byte_order_mark_are_read_by_the_checks(tmp_path):
    """read_json_file drops a file's leading mark (an editor's UTF-8 with BOM), but these checks read the summaries
    as plain UTF-8 and took the mark for unreadable JSON: the finished run's step read '?' and the prompts the
    model mined with were not compared, without a word."""
    import json

    from negmine.train.preflight import refuse_finished_run

    mined = _mined_file(tmp_path)
    encoder = {"model": "e5", "query_prompt": "query: ", "document_prompt": "passage: "}
    (tmp_path / "mined.summary.json").write_text("\ufeff" + json.dumps({"config": {"encoder": encoder}}),
                                                 encoding="utf-8")
    with pytest.warns(NegmineWarning, match=rf"^{mined} was mined by 'e5' with query_prompt 'query: ' and "
                                            r"document_prompt 'passage: ' .*mined.summary.json\), but is trained with "
                                            r"'' and ''"):
        check_before_work(TrainConfig(train_file=mined, output_dir=tmp_path / "m", model="e5"))
    finished = tmp_path / "done"
    finished.mkdir()
    (finished / "negmine_train.json").write_text("\ufeff" + json.dumps({"result": {"global_step": 2}}),
                                                 encoding="utf-8")
    with pytest.raises(ConfigError, match=r"done already holds a finished training run \(negmine_train.json, step "
                                          r"2\); choose a new --output directory"):
        refuse_finished_run(finished)


def _mined_file(tmp_path):
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    return mined


def test_an_output_folder_another_training_writes_is_refused_at_once(tmp_path, monkeypatch):
    """Two trainings into one folder would interleave their checkpoints; the second fails before the trainer's
    import (the command's early check) and, through the Python API, before the data loads."""
    import negmine.train.api as train_api
    from negmine.testing.output_holder import hold_in_other_process

    monkeypatch.setattr(train_api, "load_train_data", lambda *a: pytest.fail("the data loaded"))
    config = TrainConfig(train_file=_mined_file(tmp_path), output_dir=tmp_path / "model")
    with hold_in_other_process({}, {"--output": tmp_path / "model"}) as other:
        for check in (check_before_work, train_api.train):
            with pytest.raises(ConfigError) as err:
                check(config)
            assert str(err.value) == (
                f"--output {tmp_path / 'model'}: another negmine run (pid {other.pid}) is writing this output now "
                f"(it holds {tmp_path / 'model' / '.negmine.lock'}); wait for that run to finish, or choose another --output for "
                "this one")
    assert not (tmp_path / "model").exists()


def test_a_training_holds_its_output_folder_until_it_ends_or_stops(tmp_path, monkeypatch):
    import fcntl
    import os

    import negmine.train.api as train_api

    lock = tmp_path / "model" / ".negmine.lock"
    seen = []

    def run(config, miner, callbacks, checkpoint, start, remine_pairs):
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # what a second run's lock attempt meets
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        seen.append(checkpoint)
        raise KeyboardInterrupt  # Ctrl-C

    monkeypatch.setattr(train_api, "_train", run)
    config = TrainConfig(train_file=_mined_file(tmp_path), output_dir=tmp_path / "model")
    for _ in range(2):  # the stopped run's lock is gone: the rerun gets it
        with pytest.raises(KeyboardInterrupt):
            train_api.train(config)
        assert not (tmp_path / "model").exists(), "the lock and the folder made for it are gone"
    assert seen == [None, None]


def test_a_cross_encoder_or_sparse_encoder_as_the_starting_model_is_warned_about(tmp_path, tiny_model_path,
                                                                                tiny_cross_encoder_path,
                                                                                tiny_sparse_encoder_path):
    """sentence-transformers loads such a folder's transformer layers with mean pooling and drops its head, and the
    run said nothing of it (only a transformers 'UNEXPECTED classifier' load report). A warning, not an error:
    training from a re-ranker's layers can be meant (nothing loaded is random)."""
    import warnings

    from sentence_transformers import CrossEncoder

    saved = tmp_path / "saved"
    CrossEncoder(str(tiny_cross_encoder_path)).save_pretrained(str(saved))
    base = TrainConfig(train_file=_mined_file(tmp_path), output_dir=tmp_path / "m")
    dropped = "its scoring head"
    for folder, kind in ((tiny_cross_encoder_path, "a sequence classifier (BertForSequenceClassification, "
                                                   "transformers)"),
                         (saved, "a CrossEncoder model (sentence-transformers)"),
                         (tiny_sparse_encoder_path, "a SparseEncoder model (sentence-transformers)")):
        if folder == tiny_sparse_encoder_path:
            dropped = "its masked-language-model head and sparse pooling"
        with pytest.warns(NegmineWarning) as caught:
            check_before_work(replace(base, model=str(folder)))
        assert [str(w.message) for w in caught] == [
            f"--model '{folder}' is {kind}, not a bi-encoder: sentence-transformers loads its transformer layers with "
            f"mean pooling and drops {dropped}, so training starts from those layers as from a plain backbone "
            "(bert-base-uncased, say), not from a model that encodes a text alone; to fine-tune a bi-encoder, pass "
            "one as --model (a sentence-transformers folder, e.g. the folder `negmine train -o DIR` wrote, or a hub "
            "name); go on if starting from this backbone is meant"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for folder in (tiny_model_path, tiny_model_path.parent / "hf"):  # a bi-encoder, a BertModel backbone
            check_before_work(replace(base, model=str(folder)))


def test_a_local_model_that_cannot_be_one_is_refused_before_the_data_loads(tmp_path, monkeypatch):
    """A missing --model folder was found only when the model loaded, after the training (and dev) data had loaded
    and the trainer was imported (the demo: exit 2 after 32 s); the command checks it with the other settings."""
    import negmine.train.api as train_api
    from negmine.train.api import train

    monkeypatch.setattr(train_api, "load_train_data", lambda *args: pytest.fail("the training data loaded"))
    base = TrainConfig(train_file=_mined_file(tmp_path), output_dir=tmp_path / "m")
    missing, afile = tmp_path / "no-such-model", tmp_path / "weights.bin"
    afile.write_text("")
    for model, message in ((missing, f"model path '{missing}' does not exist; pass an existing folder or a hub "
                                     "model name"),
                           (afile, f"model '{afile}' is a file, not a model folder; pass a sentence-transformers "
                                   "folder (the folder `negmine train -o DIR` wrote) or a hub name")):
        for check in (check_before_work, train):
            with pytest.raises(ConfigError) as info:
                check(replace(base, model=str(model)))
            assert str(info.value) == message
    assert not (tmp_path / "m").exists()


def test_an_output_folder_that_is_the_starting_models_folder_is_refused(tmp_path):
    """The run saved the trained weights over the model it started from (exit 0)."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "modules.json").write_text("[]")
    mined = tmp_path / "n.jsonl"
    mined.write_text("{}\n")
    for output in (model, tmp_path / "." / "model"):
        with pytest.raises(ConfigError) as info:
            check_before_work(TrainConfig(train_file=mined, model=str(model), output_dir=output))
        assert str(info.value) == (f"output_dir (--output) {output} is the folder of model (--model) {model}: training "
                                   "would save over the model it starts from; choose a new output directory")
    assert check_before_work(TrainConfig(train_file=mined, model=str(model), output_dir=tmp_path / "new")) is None


def test_check_training_file_reads_every_row_as_training_does_and_leaves_the_repeats_warning_to_it(tmp_path):
    """``negmine train`` runs it before the trainer's import: a malformed row was found seconds later."""
    import warnings

    from negmine.errors import InputError
    from negmine.testing.native_rows import pair_row, write_native
    from negmine.train.preflight import check_training_file

    rows = [pair_row("q1", "d1", 0.9, [("n1", 0.5), ("n2", 0.4)]), pair_row("q2", "d2", 0.9, [("n3", 0.5)])]
    mined = write_native(tmp_path / "m.jsonl", [*rows, rows[0]])  # a repeated row: warned about when the data loads
    # epochs 2: the one pair kept (the repeat is read once) is a step per epoch (one step, at learning rate 0, is
    # refused)
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "o", num_negatives=2, epochs=2, batch_size=1)
    with warnings.catch_warnings():  # batch_size 1: the one pair is a full batch (fewer rows are warned about)
        warnings.simplefilter("error")
        check_training_file(config)
    other = dict(rows[1], negatives=["another text for n1"], negative_ids=["n1"])  # n1's text differs from line 1's
    write_native(mined, [rows[0], other])
    with pytest.raises(InputError, match=rf"^{re.escape(str(mined))}:2: field 'negatives': entry 0: document id 'n1' "
                                         r"has another text than at line 1 \(negatives entry 0\)"):
        check_training_file(config)


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_check_training_file_refuses_a_file_without_rows(tmp_path, content):
    """`negmine train empty.jsonl` was refused once the data loaded, after the trainer's import (8 s on the demo)."""
    from negmine.train.preflight import check_training_file

    mined = tmp_path / "empty.jsonl"
    mined.write_text(content)
    with pytest.raises(ConfigError) as info:
        check_training_file(TrainConfig(train_file=mined, output_dir=tmp_path / "o"))
    assert str(info.value) == f"{mined}: the mined file has no rows; mine negatives first (negmine mine ...)"


def test_check_training_file_refuses_num_negatives_no_row_has(tmp_path):
    """`negmine train negatives.jsonl --num-negatives 10` on the quickstart's 5-negative rows: refused after the
    trainer's import; a row with enough negatives anywhere in the file passes, as training keeps that row."""
    from negmine.testing.native_rows import pair_row, write_native
    from negmine.train.preflight import check_training_file

    rows = [pair_row("q1", "d1", 0.9, [("n1", 0.5), ("n2", 0.4)]), pair_row("q2", "d2", 0.9, [("n3", 0.5)])]
    mined = write_native(tmp_path / "m.jsonl", rows)
    with pytest.raises(ConfigError) as info:
        check_training_file(TrainConfig(train_file=mined, output_dir=tmp_path / "o", num_negatives=3))
    assert str(info.value) == (f"{mined}: no row has at least 3 negatives (the most any row has is 2); lower "
                               "num_negatives (--num-negatives) to 2 or mine more")
    # epochs 2: the one pair kept is a step per epoch (one step, at learning rate 0, is refused); batch_size 1: a
    # full batch (fewer rows than the batch size are warned about)
    check_training_file(TrainConfig(train_file=mined, output_dir=tmp_path / "o", num_negatives=2, epochs=2,
                                    batch_size=1))


@pytest.fixture
def trainer_not_importable(monkeypatch):
    """Importing the trainer (negmine's, sentence-transformers', transformers') raises ImportError: a check that
    runs only once it is imported fails the test. ``negmine train`` imports it after the preflight (seconds)."""
    for name in ("negmine.train.api", "sentence_transformers.trainer", "transformers.trainer"):
        monkeypatch.setitem(sys.modules, name, None)


def _promoting_rows():
    """3 rows of 2 negatives, one of 1 (left out at num_negatives 2), and 2 promoted documents of q1 (one given on
    two rows: paired once): 5 pairs at num_negatives 2, as the data load makes them."""
    from negmine.testing.native_rows import pair_row

    promoted = {"extra_positive_ids": ["p1", "p2"], "extra_positives": ["text p1", "text p2"],
                "extra_positive_scores": [0.8, 0.7]}
    return [pair_row("q1", "d1", 0.9, [("n1", 0.5), ("n2", 0.4)], **promoted),
            pair_row("q1", "d2", 0.9, [("n1", 0.5), ("n3", 0.4)], **{**promoted, "extra_positive_ids": ["p1"],
                                                                     "extra_positives": ["text p1"],
                                                                     "extra_positive_scores": [0.8]}),
            pair_row("q2", "d3", 0.9, [("n4", 0.5)]),
            pair_row("q3", "d4", 0.9, [("n5", 0.5), ("n6", 0.4)])]


def test_pair_count_counts_the_pairs_the_data_load_makes(tmp_path):
    """The preflight counts a run's steps before the data loads, on the rows as it reads them (a repeated row once):
    its count must be the loaded dataset's length."""
    from negmine.export.native import read_native_lines
    from negmine.testing.native_rows import write_native
    from negmine.train.dataset import PairCount, load_train_data

    mined = write_native(tmp_path / "m.jsonl", [*_promoting_rows(), _promoting_rows()[0]])
    for num_negatives in (1, 2):
        count = PairCount(num_negatives)
        for _, row in read_native_lines(mined, warn_repeats=False, check_ids=True):
            count.add(row)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NegmineWarning)  # the repeated row; the row of 1 negative, left out at 2
            loaded = len(load_train_data(mined, num_negatives).dataset)
        assert (num_negatives, count.pairs) == (num_negatives, loaded) == (num_negatives, {1: 6, 2: 5}[num_negatives])


def test_check_training_file_refuses_one_step_at_learning_rate_0_before_the_trainers_import(tmp_path,
                                                                                            trainer_not_importable):
    """Every pair in one batch at epochs 1: one step, which the warm-up runs at learning rate 0 (the model saved
    unchanged). ``negmine train`` refused it only once the data had loaded, after the trainer's import (6-7 s on the
    demo, 70 rows at --batch-size 128); the count is the data load's: promoted documents' pairs in, short rows out."""
    from negmine.testing.native_rows import write_native
    from negmine.train.preflight import check_training_file

    mined = write_native(tmp_path / "m.jsonl", _promoting_rows())
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "o", num_negatives=2, batch_size=5)
    with pytest.raises(ConfigError) as info:
        check_training_file(config)
    assert str(info.value) == (
        f"{mined}: its 5 training rows fit in one batch (batch_size 5), so epochs 1 is a single step, and with "
        "warmup_ratio 0.1 a linear warm-up runs that step at learning rate 0: the model would be saved unchanged; use "
        "a --batch-size below 5, --epochs 2 or more, or --warmup-ratio 0")
    for fine in (replace(config, batch_size=4), replace(config, epochs=2), replace(config, warmup_ratio=0.0),
                 replace(config, max_steps=3)):
        check_training_file(fine)


def test_check_training_file_warns_when_the_rows_are_fewer_than_the_batch_size(tmp_path, trainer_not_importable):
    """Every batch is all the rows: fewer in-batch negatives than the batch size suggests, one step an epoch, each
    step on the same batch. It trained without a word (the demo's 38 rows mined by the tiny model at --batch-size
    64 --max-steps 5). A warning: the run trains; one that would not (one step at learning rate 0) is refused."""
    from negmine.testing.native_rows import pair_row, write_native
    from negmine.train.preflight import check_training_file

    mined = write_native(tmp_path / "m.jsonl", _promoting_rows())  # 5 pairs at num_negatives 2
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "o", num_negatives=2, batch_size=8, max_steps=3)
    tail = ("; for several batches an epoch, each with other in-batch negatives, use a --batch-size below 5 or train "
            "on more rows (mine more pairs), or set --batch-size 5 if one batch of every row is meant")
    head = (f"{mined}: its 5 training rows are fewer than batch_size=8 (--batch-size 8), so each batch holds all 5: a "
            "query's in-batch negatives come from 4 other rows, not the 7 the batch size suggests, and an epoch is 1 "
            "step")
    for changed, repeat in [({}, "; the run's 3 steps (max_steps=3 (--max-steps 3)) all train on that same batch"),
                            ({"max_steps": None, "epochs": 2}, "; the run's 2 steps (epochs=2 (--epochs 2)) all train "
                                                                "on that same batch"),
                            ({"max_steps": None, "warmup_ratio": 0.0}, "")]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_training_file(replace(config, **changed))
        assert [str(w.message) for w in caught] == [head + repeat + tail]
        assert [w.category for w in caught] == [NegmineWarning]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_training_file(replace(config, batch_size=5))  # every row in one full batch: as asked
        with pytest.raises(ConfigError, match="fit in one batch"):  # refused, with no warning before it
            check_training_file(replace(config, max_steps=None))
    one = write_native(tmp_path / "one.jsonl", [pair_row("q1", "d1", 0.9, [("n1", 0.5), ("n2", 0.4)])])
    with pytest.warns(NegmineWarning, match=r"its one training row is fewer than batch_size=8 \(--batch-size 8\), so "
                                            r"each batch holds only it: a query's in-batch negatives come from no other "
                                            r"row, not the 7 .* each with other in-batch negatives, train on more rows "
                                            r"\(mine more pairs\), or set --batch-size 1 if"):
        check_training_file(replace(config, train_file=one))
    two = write_native(tmp_path / "two.jsonl", [pair_row(q, "d1", 0.9, [("n1", 0.5), ("n2", 0.4)]) for q in ("q1", "q2")])
    with pytest.warns(NegmineWarning, match=r"its 2 training rows are fewer than batch_size=8 \(--batch-size 8\), so "
                                            r"each batch holds all 2: a query's in-batch negatives come from 1 other row, "
                                            r"not the 7"):
        check_training_file(replace(config, train_file=two))


@pytest.mark.parametrize(("every_epoch", "steps", "asked"), [
    (True, None, "remine_every_epoch=True (--remine-every-epoch) (epochs of 3 steps)"),
    (False, 3, "remine_steps=3 (--remine-steps 3)"),
])
def test_check_training_file_refuses_remining_that_never_runs_before_the_trainers_import(
        tmp_path, trainer_not_importable, every_epoch, steps, asked):
    """``--remine-every-epoch`` with one epoch (or ``--remine-steps`` at the run's steps or more) re-mines only before
    the last step, so never: refused once the data had loaded, after the trainer's import (6-12 s on the demo)."""
    from negmine.config import DataConfig, MineConfig
    from negmine.testing.native_rows import write_native
    from negmine.train.preflight import check_training_file

    mined = write_native(tmp_path / "m.jsonl", _promoting_rows())
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "o", num_negatives=2, batch_size=2,
                         remine_every_epoch=every_epoch, remine_steps=steps,
                         mine=MineConfig(data=DataConfig(data_dir=tmp_path)))
    with pytest.raises(ConfigError) as info:
        check_training_file(config)
    assert str(info.value) == (
        f"re-mining would never run: the run is 3 steps (5 rows, batch_size 2), and {asked} re-mines only before the "
        "last step; use remine_steps (--remine-steps) below 3, more epochs (--epochs) or max_steps (--max-steps), or "
        "drop the re-mining options")
    for fine in (replace(config, epochs=2), replace(config, max_steps=4)):
        check_training_file(fine)


def test_remining_that_never_runs_counts_a_single_step_and_row_in_the_singular(tmp_path):
    """'the run is 1 steps (1 rows, ...) ... (epochs of 1 steps)' until 2026-12-07."""
    from negmine.config import DataConfig, MineConfig
    from negmine.train.preflight import refuse_remine_that_never_runs

    config = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "o", batch_size=2,
                         remine_every_epoch=True, mine=MineConfig(data=DataConfig(data_dir=tmp_path)))
    with pytest.raises(ConfigError, match=r"^re-mining would never run: the run is 1 step \(1 row, batch_size 2\), and "
                                          r"remine_every_epoch=True \(--remine-every-epoch\) \(epochs of 1 step\) "
                                          r"re-mines only before the last step"):
        refuse_remine_that_never_runs(config, 1)


def test_check_training_file_refuses_more_topic_clusters_than_queries_before_the_trainers_import(
        tmp_path, trainer_not_importable, monkeypatch):
    """``--topic-clusters`` above the distinct queries of the rows training keeps (k-means makes at most one cluster
    per query) was refused once the data had loaded, after the trainer's import; the sampler's module (which imports
    sentence-transformers) is not needed for it either."""
    from negmine.testing.native_rows import write_native
    from negmine.train.preflight import check_training_file

    monkeypatch.setitem(sys.modules, "negmine.train.samplers.topic", None)
    mined = write_native(tmp_path / "m.jsonl", _promoting_rows())  # kept at num_negatives 2: q1, q1, q3
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "o", num_negatives=2, batch_size=2,
                         batching="topic", topic_clusters=3)
    with pytest.raises(ConfigError) as info:
        check_training_file(config)
    assert str(info.value) == (
        f"topic_clusters=3 (--topic-clusters 3) is more than the 2 distinct queries of {mined}, and k-means makes at "
        "most one cluster per query; use topic_clusters=2 (--topic-clusters 2) or fewer, or leave it unset (here 1: "
        "about two batches of queries per cluster)")
    for fine in (replace(config, topic_clusters=2), replace(config, batching="no-duplicates")):
        check_training_file(fine)
