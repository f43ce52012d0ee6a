import json
import sys

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.data_collator import BaseDataCollator
from transformers import TrainerCallback

from negmine.config import DataConfig, MineConfig, TrainConfig
from negmine.train.api import train
from negmine.train.dataset import rows_to_train_data
from negmine.train.labels import split_label, text_key
from negmine.train.remine import NegativeOverlay, RemineCallback, TrainingModelEmbedder, overlay_rows


def _fresh_rows(rows, tag):
    out = []
    for row in rows:
        new = dict(row)
        new["negative_ids"] = [f"{tag}-{row['query_id']}-{k}" for k in range(2)]
        new["negatives"] = [f"{tag} negative {row['query_id']} {k}" for k in range(2)]
        out.append(new)
    return out


def test_training_model_embedder(tiny_model_path):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.train()
    embedder = TrainingModelEmbedder(model, step=7)
    assert embedder.fingerprint.endswith("train-step=7") and embedder.dim == 32
    assert TrainingModelEmbedder(model, step=8).fingerprint != embedder.fingerprint
    with torch.no_grad():
        next(model.parameters()).add_(1e-3)
    changed = TrainingModelEmbedder(model, step=7).fingerprint
    assert changed != embedder.fingerprint  # same step, other weights: never the same cache entry
    vectors = embedder.encode(["cell gene", "heart disease risk"], prompt="query: ")
    assert vectors.dtype == np.float32 and vectors.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.training  # restored after encoding


def test_training_model_embedders_vectors_are_listed_as_the_model_being_trained(tiny_model_path, tmp_path):
    """Re-mining's vectors go to the embedding cache, a namespace per re-mine; `negmine cache list` said `model not
    recorded` for them, the label docs/mining.md gives namespaces written before the model was recorded."""
    from negmine.encode.cache import EmbeddingCache
    from negmine.encode.cache_contents import cache_entries
    from negmine.encode.embed import embed_texts

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    embedder = TrainingModelEmbedder(model, step=7)
    assert embedder.model_name == f"{tiny_model_path} being trained, step 7"
    cache = EmbeddingCache(tmp_path)
    embed_texts(embedder, ["cell gene", "heart disease risk"], cache=cache)
    cache.close()
    (entry,) = cache_entries(tmp_path)
    assert entry.about == f"{tiny_model_path} being trained, step 7, prompt ''"


def test_training_model_embedder_encodes_at_its_own_length_and_keeps_the_training_one(tiny_model_path):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    own = model.max_seq_length
    model.max_seq_length = 4  # --max-length's training truncation
    long_text = ["cell gene protein cancer risk study patients effect blood brain heart disease"]
    full = TrainingModelEmbedder(model, step=1, max_length=own)
    assert (full.max_length, model.max_seq_length) == (own, 4)
    truncated = TrainingModelEmbedder(model, step=1)
    assert truncated.max_length == 4 and truncated.fingerprint != full.fingerprint
    assert not np.allclose(full.encode(long_text), truncated.encode(long_text))
    assert model.max_seq_length == 4
    model.max_seq_length = own
    assert np.allclose(full.encode(long_text), model.encode(long_text), atol=1e-5)


@pytest.mark.parametrize("mined_length, expected", [(None, "own"), (32, 32)])
def test_remining_encodes_at_the_mining_length_not_the_training_truncation(tmp_path, mined_file, tiny_model_path,
                                                                           mined_length, expected):
    from negmine.config import EncoderConfig

    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]
    remined_at, trained_at = [], []

    def miner(embedder, output_path):
        remined_at.append(embedder.inner.max_length)  # the length its vectors (and cache key) use
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in _fresh_rows(rows, "new")))
        return output_path

    class Lengths(TrainerCallback):
        def on_step_begin(self, args, state, control, model=None, **kwargs):
            trained_at.append(model.max_seq_length)

    mine = MineConfig(data=DataConfig(data_dir=tmp_path), encoder=EncoderConfig(max_length=mined_length))
    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path),
                         max_steps=3, batch_size=4, num_negatives=2, checkpoint_steps=None, show_progress=False,
                         precision="fp32", remine_steps=1, max_length=8, mine=mine)
    train(config, miner=miner, callbacks=[Lengths()])
    own = SentenceTransformer(str(tiny_model_path), device="cpu").max_seq_length
    assert remined_at == [own if expected == "own" else expected] * 2
    assert trained_at == [8, 8, 8]


def test_overlay_swaps_matching_rows_and_keeps_the_rest(make_row):
    rows = [make_row(i) for i in range(3)]
    data = rows_to_train_data(rows, 2)
    fresh = _fresh_rows(rows[:2], "new")
    fresh[1]["negatives"] = fresh[1]["negatives"][:1]  # too few: row 1 keeps its old negatives
    fresh[1]["negative_ids"] = fresh[1]["negative_ids"][:1]
    fresh.append(_fresh_rows([make_row(99)], "new")[0])  # unknown pair: ignored
    overlay = NegativeOverlay(2)
    assert overlay_rows(data, fresh, overlay) == 1
    data.dataset.set_transform(overlay)
    assert data.dataset[0]["negative_1"] == "new negative q0 0"
    assert data.dataset[1]["negative_1"] == rows[1]["negatives"][0]
    parts = split_label(torch.tensor([data.dataset[0]["label"]]), 2)
    assert parts.rows.tolist() == [0] and parts.doc_keys[0, 1].item() == text_key("new negative q0 0")
    assert len(data.dataset) == 3


def test_remined_negatives_the_audit_took_out_are_flagged_and_taken_last(make_row):
    """Mining excludes only qrels positives: re-mining brings back the audit's promoted document and a dropped
    false negative whose text was nowhere in the file (so no text key could mask it)."""
    audited = make_row(0, false_negative_ids=["fn"], extra_positive_ids=["pro"], extra_positives=["promoted text"],
                       extra_positive_scores=[0.8])
    data = rows_to_train_data([audited, make_row(1)], 2)
    remined = dict(audited, negative_ids=["fn", "pro", "new1", "new2"],
                   negatives=["dropped text", "promoted text", "fresh one", "fresh two"])
    overlay = NegativeOverlay(2)
    assert overlay_rows(data, [remined], overlay) == 1
    negatives, label = overlay.rows[0]
    assert negatives == ["fresh one", "fresh two"]
    # with too few fresh ones they fill the row, flagged (so masked in its own columns)
    remined_short = dict(remined, negative_ids=["fn", "new1"], negatives=["dropped text", "fresh one"])
    overlay_rows(data, [remined_short], overlay)
    negatives, label = overlay.rows[0]
    assert negatives == ["fresh one", "dropped text"] and split_label(torch.tensor([label]), 2).flags.tolist() == [[0, 1]]


def test_remine_swaps_negatives_seen_by_training(tmp_path, mined_file, tiny_model_path, monkeypatch):
    seen: list[str] = []
    original = BaseDataCollator.__call__

    def spy(self, features):
        seen.extend(f["negative_1"] for f in features)
        return original(self, features)

    monkeypatch.setattr(BaseDataCollator, "__call__", spy)
    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]
    calls = []

    def miner(embedder, output_path):
        calls.append((embedder.fingerprint, output_path.name))
        embedder.encode(["probe"])
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in _fresh_rows(rows, f"s{len(calls)}")))
        return output_path

    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path),
                         max_steps=5, batch_size=4, num_negatives=2, checkpoint_steps=None, show_progress=False,
                         precision="fp32", remine_steps=2, mine=MineConfig(data=DataConfig(data_dir=tmp_path)))
    result = train(config, miner=miner)
    assert [name for _, name in calls] == ["step-0000002.jsonl", "step-0000004.jsonl"]
    assert len({fp for fp, _ in calls}) == 2 and all("train-step=" in fp for fp, _ in calls)
    assert [e["step"] for e in result.remine] == [2, 4] and all(e["rows_updated"] == 12 for e in result.remine)
    # accelerate's loader holds the next batch when a step ends, so a swap after step k shows from step k + 2
    # (12 rows, batch 4: steps 1-3 are epoch 1, 4-5 epoch 2): steps 1-3 use the mined file, 4-5 the step-2 file
    assert not any(" negative q" in t for t in seen[:12])
    assert all(t.startswith("s1 negative") for t in seen[12:20])


def test_restore_applies_latest_file_up_to_the_step(tmp_path, make_row, write_mined):
    rows = [make_row(i) for i in range(2)]
    data = rows_to_train_data(rows, 2)
    write_mined(tmp_path / "step-0000002.jsonl", _fresh_rows(rows, "two"))
    write_mined(tmp_path / "step-0000004.jsonl", _fresh_rows(rows, "four"))
    callback = RemineCallback(data, miner=None, output_dir=tmp_path, every_steps=2)
    callback.restore(3)
    assert data.dataset[0]["negative_1"] == "two negative q0 0"
    assert callback.events[0]["restored"] is True and callback.events[0]["step"] == 2


def test_restore_trains_on_the_negatives_the_uninterrupted_run_had(tmp_path, make_row, write_mined):
    """A row the latest re-mined file left short keeps the negatives of an earlier file. Before, a resumed run
    re-applied only the latest file, so such a row went back to its first-round negatives ('patients effect
    decrease' instead of 'two negative q1 0'): resumed and uninterrupted runs trained on other data."""
    rows = [make_row(i) for i in range(2)]
    short = dict(_fresh_rows(rows[1:], "four")[0])
    short.update({key: short[key][:1] for key in ("negative_ids", "negatives", "negative_scores", "negative_ranks")})
    write_mined(tmp_path / "step-0000002.jsonl", _fresh_rows(rows, "two"))
    write_mined(tmp_path / "step-0000004.jsonl", [_fresh_rows(rows[:1], "four")[0], short])
    live = rows_to_train_data(rows, 2)
    run = RemineCallback(live, miner=None, output_dir=tmp_path, every_steps=2)
    for step in (2, 4):
        run._apply(tmp_path / f"step-{step:07d}.jsonl", step, 0.0)
    resumed = rows_to_train_data(rows, 2)
    callback = RemineCallback(resumed, miner=None, output_dir=tmp_path, every_steps=2)
    callback.restore(5)
    assert [resumed.dataset[i] for i in range(2)] == [live.dataset[i] for i in range(2)]
    assert resumed.dataset[1]["negative_1"] == "two negative q1 0"
    assert [(e["step"], e["restored"]) for e in callback.events] == [(2, True), (4, True)]


@pytest.mark.parametrize("every_epoch, every_steps", [(True, None), (False, 2)])
def test_no_remine_at_the_very_end(tmp_path, mined_file, tiny_model_path, every_epoch, every_steps):
    """2 epochs of 2 steps: re-mined after step 2, not after step 4, whose negatives nothing would train on. (A run
    whose only re-mine would be at its end is refused before training: test_remining_that_never_runs_is_refused.)"""
    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]

    def miner(embedder, output_path):
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in _fresh_rows(rows, output_path.stem)))
        return output_path

    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path),
                         epochs=2, batch_size=6, num_negatives=2, checkpoint_steps=None, show_progress=False,
                         precision="fp32", remine_every_epoch=every_epoch, remine_steps=every_steps,
                         mine=MineConfig(data=DataConfig(data_dir=tmp_path)))
    result = train(config, miner=miner)
    assert result.global_step == 4 and [e["step"] for e in result.remine] == [2]


@pytest.mark.parametrize("every_epoch, every_steps, asked", [
    (True, None, r"remine_every_epoch=True \(--remine-every-epoch\) \(epochs of 2 steps\)"),
    (False, 5, r"remine_steps=5 \(--remine-steps 5\)"),
    (True, 2, r"remine_every_epoch=True \(--remine-every-epoch\) \(epochs of 2 steps\) and remine_steps=2 "
              r"\(--remine-steps 2\)"),
])
def test_remining_that_never_runs_is_refused(tmp_path, mined_file, tiny_model_path, every_epoch, every_steps, asked):
    """One epoch of 2 steps: re-mining skips the last step, so it never ran, and the run said nothing (remine [])."""
    from negmine.errors import ConfigError

    def miner(embedder, output_path):  # pragma: no cover - must not be called
        raise AssertionError("re-mined")

    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path),
                         epochs=1, batch_size=6, num_negatives=2, checkpoint_steps=None, show_progress=False,
                         precision="fp32", remine_every_epoch=every_epoch, remine_steps=every_steps,
                         mine=MineConfig(data=DataConfig(data_dir=tmp_path)))
    with pytest.raises(ConfigError, match=rf"^re-mining would never run: the run is 2 steps \(12 rows, batch_size 6\), "
                                          rf"and {asked} re-mines only before the last step; use remine_steps "
                                          r"\(--remine-steps\) below 2, more epochs \(--epochs\) or max_steps "
                                          r"\(--max-steps\), or drop the re-mining options$"):
        train(config, miner=miner)
    assert not (tmp_path / "out").exists()


def test_resume_reapplies_the_latest_remined_negatives(tmp_path, mined_file, tiny_model_path):
    from dataclasses import replace

    from transformers import TrainerCallback

    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]

    def miner(embedder, output_path):
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in _fresh_rows(rows, output_path.stem)))
        return output_path

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                raise KeyboardInterrupt

    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path),
                         max_steps=4, batch_size=4, num_negatives=2, checkpoint_steps=2, show_progress=False,
                         precision="fp32", remine_steps=2, mine=MineConfig(data=DataConfig(data_dir=tmp_path)))
    with pytest.raises(KeyboardInterrupt):
        train(config, miner=miner, callbacks=[Interrupt()])
    result = train(replace(config, resume=True), miner=miner)
    assert result.global_step == 4 and result.resumed_from.endswith("checkpoint-2")
    assert result.remine[0]["restored"] is True and result.remine[0]["file"].endswith("step-0000002.jsonl")


def _audited(query_id, positive_id, negative_ids, **extra):
    row = {"query_id": query_id, "query": f"query {query_id}", "positive_id": positive_id,
           "positive": f"doc {positive_id}", "positive_score": 0.9, "negative_ids": list(negative_ids),
           "negatives": [f"doc {n}" for n in negative_ids], "negative_scores": [0.5] * len(negative_ids),
           "negative_ranks": list(range(1, len(negative_ids) + 1))}
    return {**row, **extra}


def test_a_remined_known_relevant_negative_is_masked_in_every_row_of_its_query():
    """q0 has two positives (rows 0 and 1); the audit dropped its false negative fn, whose text the file no longer
    has. Re-mining brings fn back as row 0's negative and as an ordinary negative of q1 (row 2). Like a first-round
    false negative (masked through the query's known positives), it must be masked for both rows of q0 wherever
    it is a column: before, only row 0's own column was (row 1 and the in-batch column of row 2 were not)."""
    from negmine.train.losses.masking import candidate_keys, false_negative_mask

    rows = [_audited("q0", "a", ["x1", "x2"], false_negative_ids=["fn"]),
            _audited("q0", "b", ["y1", "y2"], false_negative_ids=["fn"]), _audited("q1", "c", ["z1", "z2"])]
    data = rows_to_train_data(rows, 2)
    # row 1 is not in the re-mined file (or too short there): it keeps its negatives, yet learns fn's text
    remined = [_audited("q0", "a", ["fn", "x3"]), _audited("q1", "c", ["fn", "z3"])]
    overlay = NegativeOverlay(2)
    assert overlay_rows(data, remined, overlay) == 2
    data.dataset.set_transform(overlay)
    labels = torch.tensor([data.dataset[i]["label"] for i in range(3)])
    mask = false_negative_mask(torch.zeros(3, 9), labels, torch.arange(3), 2, None)
    fn_columns = [c for c, key in enumerate(candidate_keys(split_label(labels, 2).doc_keys).tolist())
                  if key == text_key("doc fn")]
    assert fn_columns == [5, 6]  # row 2's negative_1 and row 0's negative_2
    assert mask[:2, fn_columns].all()  # both rows of q0
    assert not mask[2, fn_columns].any()  # q1 knows nothing of fn: an ordinary negative there
    assert data.dataset[1]["negative_1"] == "doc y1"


def test_a_run_resumed_at_a_remining_step_trains_the_weights_of_the_uninterrupted_run(tmp_path, mined_file,
                                                                                     tiny_model_path):
    """Accelerate's loader has built step k + 1's batch when step k re-mines, so the uninterrupted run trains step
    k + 1 on the negatives before; a run resumed from a checkpoint at step k swapped at once and trained step k + 1
    on the re-mined ones: other weights (measured on minifacts, --remine-steps 10 --checkpoint-steps 5, killed at
    step 15 or 21: model.safetensors differed from the uninterrupted run's; killed at 20: the same)."""
    from dataclasses import replace

    from .conftest import InterruptAt

    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]

    def miner(embedder, output_path):
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in _fresh_rows(rows, output_path.stem)))
        return output_path

    def config(name, **kw):  # 12 rows, batch 4: 3 steps an epoch, so step 2 is inside the first
        return TrainConfig(train_file=mined_file, output_dir=tmp_path / name, model=str(tiny_model_path),
                           max_steps=5, batch_size=4, num_negatives=2, show_progress=False, precision="fp32",
                           warmup_ratio=0.0, remine_steps=2, mine=MineConfig(data=DataConfig(data_dir=tmp_path)), **kw)

    train(config("straight", checkpoint_steps=None), miner=miner)
    interrupted = config("resumed", checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, miner=miner, callbacks=[InterruptAt(3)])
    result = train(replace(interrupted, resume=True), miner=miner)
    assert result.resumed_from.endswith("checkpoint-2")
    straight = SentenceTransformer(str(tmp_path / "straight"), device="cpu").state_dict()
    resumed = SentenceTransformer(str(tmp_path / "resumed"), device="cpu").state_dict()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_a_run_stopped_while_re_mining_after_an_epoch_end_checkpoint_re_mines_when_resumed(tmp_path, mined_file,
                                                                                          tiny_model_path):
    """At an epoch's last step the trainer saves a step checkpoint before the epoch-end callbacks, so
    ``--remine-every-epoch`` re-mines after checkpoint-3 is written. A run stopped while re-mining (Ctrl-C, or
    ``kill -9``: mining writes its file atomically, so none is left) resumed from checkpoint-3, found no re-mined file
    and never re-mined step 3: its second epoch trained on the first-round negatives, ``remine`` was ``[]`` and the
    weights were not the uninterrupted run's (measured on minifacts, --max-steps 12 --checkpoint-steps 5
    --remine-every-epoch, killed while re-mining at step 5)."""
    from dataclasses import replace

    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]
    stop = {"calls": 0}

    def miner(embedder, output_path):
        stop["calls"] += 1
        if stop["calls"] == stop.get("at"):
            raise KeyboardInterrupt
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in _fresh_rows(rows, output_path.stem)))
        return output_path

    def config(name, **kw):  # 12 rows, batch 4: 3 steps an epoch, re-mined after step 3
        return TrainConfig(train_file=mined_file, output_dir=tmp_path / name, model=str(tiny_model_path),
                           epochs=2, batch_size=4, num_negatives=2, show_progress=False, precision="fp32",
                           warmup_ratio=0.0, logging_steps=1, remine_every_epoch=True,
                           mine=MineConfig(data=DataConfig(data_dir=tmp_path)), **kw)

    straight = train(config("straight", checkpoint_steps=None), miner=miner)
    interrupted = config("resumed", checkpoint_steps=3)
    stop.update(calls=0, at=1)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, miner=miner)
    assert (tmp_path / "resumed" / "checkpoints" / "checkpoint-3").is_dir()
    assert not list((tmp_path / "resumed").glob("remine/*.jsonl"))
    result = train(replace(interrupted, resume=True), miner=miner)
    assert result.resumed_from.endswith("checkpoint-3")
    assert [(e["step"], e["restored"]) for e in result.remine] == [(3, False)]
    assert [e["step"] for e in straight.remine] == [3]
    assert [e["loss"] for e in result.loss_history] == [e["loss"] for e in straight.loss_history]
    weights = [SentenceTransformer(str(tmp_path / name), device="cpu").state_dict() for name in ("straight", "resumed")]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def _encoding_miner(mined_file):
    """A miner that encodes 40 texts with the model being trained (the long part of a re-mining) and returns the
    file's rows with fresh negatives."""
    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]

    def miner(embedder, output_path):
        embedder.encode([f"corpus text {i}" for i in range(40)])
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in _fresh_rows(rows, "s")))
        return output_path

    return miner


def _remining_config(tmp_path, mined_file, tiny_model_path, show: bool) -> TrainConfig:
    return TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path), max_steps=3,
                       batch_size=4, num_negatives=2, checkpoint_steps=None, show_progress=show, precision="fp32",
                       remine_steps=2, mine=MineConfig(data=DataConfig(data_dir=tmp_path)))


@pytest.mark.parametrize("show", [True, False])
def test_remining_shows_the_encoding_bar_with_progress_on(tmp_path, mined_file, tiny_model_path, capfd, show):
    """Re-mining encodes the whole corpus with the model being trained: with progress on, the training bar stood
    still and nothing said why (minifacts, --remine-steps 10: 14 s at step 10 without a line)."""
    train(_remining_config(tmp_path, mined_file, tiny_model_path, show), miner=_encoding_miner(mined_file))
    err = capfd.readouterr().err
    assert ("re-mining at step 2: encoding the corpus with the model being trained" in err) is show
    assert "\x1b[A" not in err  # no terminal here: the nested encoding bar is not drawn (no cursor moves)
    assert "encode:" not in err


def test_remining_draws_the_encoding_bar_on_a_terminal(tmp_path, mined_file, tiny_model_path, monkeypatch):
    """On a terminal the nested encoding bar is drawn (:func:`negmine.progress.bar_shown`)."""
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    train(_remining_config(tmp_path, mined_file, tiny_model_path, True), miner=_encoding_miner(mined_file))
    assert "encode:" in terminal.getvalue()


def test_a_remined_known_relevant_negative_is_masked_in_the_rows_of_a_query_with_the_same_text():
    """Since TRAINING_VERSION 4 the known positives of queries whose texts normalise alike are pooled (SciFact's
    train split repeats query texts under other ids). q0 and q0b ask the same question; the audit dropped q0b's
    false negative fn, whose text the file no longer has. Re-mining brings fn back as a negative of q0's row: its
    text joined q0's known positives only, so q0b's row took fn (in q0's row, in the same batch) for an in-batch
    negative, though it is q0b's own false negative."""
    from negmine.train.losses.masking import candidate_keys, false_negative_mask

    rows = [_audited("q0", "a", ["x1", "x2"]), _audited("q0b", "b", ["y1", "y2"], query="QUERY q0",
                                                        false_negative_ids=["fn"]),
            _audited("q1", "c", ["z1", "z2"])]
    data = rows_to_train_data(rows, 2)
    overlay = NegativeOverlay(2)
    assert overlay_rows(data, [_audited("q0", "a", ["fn", "x3"])], overlay) == 1
    assert overlay.rows[0][0] == ["doc x3", "doc fn"], "flagged for q0 too (pooled ids): taken last"
    data.dataset.set_transform(overlay)
    labels = torch.tensor([data.dataset[i]["label"] for i in range(3)])
    mask = false_negative_mask(torch.zeros(3, 9), labels, torch.arange(3), 2, None)
    fn_columns = [c for c, key in enumerate(candidate_keys(split_label(labels, 2).doc_keys).tolist())
                  if key == text_key("doc fn")]
    assert fn_columns == [6]  # row 0's negative_2 (positives, then each negative column)
    assert mask[:2, fn_columns].all()  # q0's row and its twin q0b's
    assert not mask[2, fn_columns].any()  # q1 knows nothing of fn
    assert data.known_keys["q0"] == data.known_keys["q0b"]


def _teacher_of(label, num_negatives: int) -> list[float]:
    """The teacher's scores that end a distilling row's label (positive, then each negative column)."""
    return np.array(label[-(1 + num_negatives):], dtype=np.int64).view(np.float64).tolist()


def test_a_remined_row_distils_from_the_remined_rows_judge_scores(make_row):
    """Distilling from the judge's scores with re-mining: a swapped row's label takes the re-mined row's judge scores,
    its positive's and those of the negatives it takes, in their columns (a known-relevant one, flagged, goes last),
    and a row that keeps its negatives keeps its scores. Before, distillation with re-mining was refused."""
    rows = [make_row(i, judge_positive_score=5.0 + i, judge_negative_scores=[1.0 + i, 0.5 + i],
                     **({"false_negative_ids": ["fn0"]} if i == 0 else {})) for i in range(3)]
    data = rows_to_train_data(rows, 2, distill_from="judge")
    assert _teacher_of(data.dataset[0]["label"], 2) == [5.0, 1.0, 0.5]
    remined = [dict(rows[0], negative_ids=["fn0", "new-a", "new-b"], negatives=["dropped text", "fresh a", "fresh b"],
                    judge_positive_score=4.25, judge_negative_scores=[3.5, -1.25, -2.0]),
               dict(rows[1], negative_ids=["new-c"], negatives=["fresh c"], judge_positive_score=9.0,
                    judge_negative_scores=[9.0])]  # too few: row 1 keeps its negatives and scores
    overlay = NegativeOverlay(2)
    assert overlay_rows(data, remined, overlay) == 1
    data.dataset.set_transform(overlay)
    assert [data.dataset[0][f"negative_{k}"] for k in (1, 2)] == ["fresh a", "fresh b"]
    assert _teacher_of(data.dataset[0]["label"], 2) == [4.25, -1.25, -2.0]  # fn0's 3.5 not taken: fn0 is not chosen
    assert _teacher_of(data.dataset[1]["label"], 2) == [6.0, 2.0, 1.5]
    assert len({len(data.dataset[i]["label"]) for i in range(3)}) == 1
    short = dict(remined[0], negative_ids=["fn0", "new-a"], negatives=["dropped text", "fresh a"],
                 judge_negative_scores=[3.5, -1.25])
    overlay_rows(data, [short], overlay)
    assert [data.dataset[0][f"negative_{k}"] for k in (1, 2)] == ["fresh a", "dropped text"]
    assert _teacher_of(data.dataset[0]["label"], 2) == [4.25, -1.25, 3.5]  # parallel to the columns


def test_a_row_whose_known_positives_remining_extends_keeps_its_teacher_scores():
    """The known-positive keys a re-mined known-relevant negative adds replaced the label's whole tail, the teacher's
    scores after them too: the row's label lost them (and the batch's labels their common width)."""
    judge = dict(judge_positive_score=6.0, judge_negative_scores=[2.0, 1.0])
    rows = [_audited("q0", "a", ["x1", "x2"], false_negative_ids=["fn"], **judge),
            _audited("q0", "b", ["y1", "y2"], false_negative_ids=["fn"], **judge),
            _audited("q1", "c", ["z1", "z2"], **judge)]
    data = rows_to_train_data(rows, 2, distill_from="judge")
    width = len(data.dataset[0]["label"])
    remined = [_audited("q0", "a", ["fn", "x3", "x4"], judge_positive_score=7.0,
                        judge_negative_scores=[5.0, 0.0, -1.0])]
    overlay = NegativeOverlay(2)
    assert overlay_rows(data, remined, overlay) == 1
    data.dataset.set_transform(overlay)
    labels = [data.dataset[i]["label"] for i in range(3)]
    assert [len(label) for label in labels] == [width] * 3
    assert _teacher_of(labels[0], 2) == [7.0, 0.0, -1.0]
    assert _teacher_of(labels[1], 2) == [6.0, 2.0, 1.0]  # not re-mined: its own scores, behind the extended keys
    assert text_key("doc fn") in split_label(torch.tensor([labels[1][:-3]]), 2).known.tolist()[0]


def test_a_remined_file_without_judge_scores_stops_a_distilling_run_before_any_row_is_swapped(tmp_path, make_row,
                                                                                             write_mined):
    """A miner that writes no judge scores (a ``miner=`` function; the pipeline's always does when the config passed
    its check): failing, rather than training a swapped row on the old row's scores or on none."""
    from negmine.errors import InputError
    from negmine.train.remine import remined_rows

    rows = [make_row(i, judge_positive_score=5.0, judge_negative_scores=[1.0, 0.5]) for i in range(2)]
    data = rows_to_train_data(rows, 2, distill_from="judge")
    path = write_mined(tmp_path / "step-0000001.jsonl", [*_fresh_rows(rows[:1], "new"), make_row(1)])
    path.write_text(path.read_text().replace('"judge_positive_score": 5.0, ', "", 1).replace(
        ', "judge_negative_scores": [1.0, 0.5]', "", 1))
    overlay = NegativeOverlay(2)
    with pytest.raises(InputError) as info:
        overlay_rows(data, remined_rows(path, "judge"), overlay)
    assert str(info.value) == (
        f"{path}:1: field 'judge_positive_score': re-mined row (q0, d0) has no judge scores, and distill_from='judge' "
        "(--distill-from judge) with re-mining trains a re-mined row on the judge's scores of its new negatives; "
        "re-mine with a relevance judge: a TrainConfig.mine that denoises with a cross-encoder (or one teacher), or a "
        "miner= that writes judge_positive_score and judge_negative_scores")
    assert overlay.rows == {} and overlay.known == {}
    assert [r["query_id"] for r in remined_rows(path, None)] == ["q0", "q1"]  # not distilling: read as before


def test_a_distilling_run_learns_the_remined_scores_and_resumes_to_the_uninterrupted_runs_weights(
        tmp_path, make_row, write_mined, tiny_model_path):
    """Two runs whose re-minings bring the same negatives with other judge scores train other weights (the scores
    reach the loss), and a run resumed at a re-mining step re-applies the re-mined file, scores included."""
    from dataclasses import replace

    from negmine.config import DenoiseConfig, JudgeConfig

    from .conftest import InterruptAt

    rows = [make_row(i, judge_positive_score=6.0 - 0.25 * i, judge_negative_scores=[2.0 - 0.5 * (i % 4), -3.0 + i % 5])
            for i in range(12)]
    mined = write_mined(tmp_path / "judged.jsonl", rows)
    judged_by = {"denoise": {"enabled": True, "judges": {"cross_encoder": "ce"}}}  # the re-mining's judge
    (tmp_path / "judged.summary.json").write_text(json.dumps({"config": judged_by}), encoding="utf-8")

    def scoring(spread):
        def miner(embedder, output_path):
            output_path.parent.mkdir(parents=True, exist_ok=True)
            fresh = [dict(r, judge_negative_scores=[spread, -spread]) for r in _fresh_rows(rows, output_path.stem)]
            return write_mined(output_path, fresh)
        return miner

    mine = MineConfig(data=DataConfig(data_dir=tmp_path),
                      denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(cross_encoder="ce")))

    def config(name, **kw):  # 12 rows, batch 4: the re-mining at step 2 reaches training at step 4
        return TrainConfig(train_file=mined, output_dir=tmp_path / name, model=str(tiny_model_path), max_steps=5,
                           batch_size=4, num_negatives=2, show_progress=False, precision="fp32", warmup_ratio=0.0,
                           remine_steps=2, distill="kl", mine=mine, **kw)

    def weights(name):
        return SentenceTransformer(str(tmp_path / name), device="cpu").state_dict()

    train(config("straight", checkpoint_steps=None), miner=scoring(0.5))
    train(config("other", checkpoint_steps=None), miner=scoring(3.0))
    straight, other = weights("straight"), weights("other")
    assert not all(torch.equal(straight[k], other[k]) for k in straight)
    interrupted = config("resumed", checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, miner=scoring(0.5), callbacks=[InterruptAt(3)])
    assert train(replace(interrupted, resume=True), miner=scoring(0.5)).resumed_from.endswith("checkpoint-2")
    resumed = weights("resumed")
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def _colliding_miner(rows):
    """A miner whose re-mined negatives are other rows' positives: at step s, row i's first negative is the positive
    of row (i + 1 + s % 11) % 12, its second one a fresh text; each step pairs other rows."""
    def miner(embedder, output_path):
        step = int(output_path.stem.rsplit("-", 1)[-1])
        fresh = [dict(row, negative_ids=[rows[(i + 1 + step % 11) % 12]["positive_id"], f"s{step}-{i}"],
                      negatives=[rows[(i + 1 + step % 11) % 12]["positive"], f"s{step} negative {row['query_id']}"])
                 for i, row in enumerate(rows)]
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in fresh))
        return output_path

    return miner


@pytest.mark.parametrize("batching", [{}, {"batching": "topic", "topic_clusters": 1}])
def test_batches_built_after_a_re_mining_hold_no_remined_negative_twice(tmp_path, mined_file, tiny_model_path,
                                                                        monkeypatch, batching):
    """The no-duplicates sampler compared the training file's negatives after a re-mining too (it reads the dataset
    without the overlay), so the second epoch put a row whose re-mined negative is a batch mate's positive in that
    batch (12 rows, batch 4: its 3 batches repeated 1, 3 and 1 texts): the text counted twice as the row's negative.
    Topic batching (one cluster, so every swap keeps purity) compares the re-mined negatives the same way."""
    batches: list[list[dict]] = []
    original = BaseDataCollator.__call__

    def spy(self, features):
        batches.append([{k: v for k, v in f.items() if k != "label"} for f in features])
        return original(self, features)

    monkeypatch.setattr(BaseDataCollator, "__call__", spy)
    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]
    config = TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(tiny_model_path), epochs=2,
                         batch_size=4, num_negatives=2, checkpoint_steps=None, show_progress=False, precision="fp32",
                         remine_every_epoch=True, mine=MineConfig(data=DataConfig(data_dir=tmp_path)), **batching)
    result = train(config, miner=_colliding_miner(rows))
    assert [e["step"] for e in result.remine] == [3] and len(batches) == 6
    positives = {row["positive"] for row in rows}
    second = batches[3:]
    assert sum(f["negative_1"] in positives for batch in second for f in batch) == 12  # the re-mined ones trained
    repeated = [[text for f in batch for text in f.values()] for batch in second]
    assert [len(texts) - len(set(texts)) for texts in repeated] == [0, 0, 0]


@pytest.mark.parametrize("remining, checkpoint, stop", [
    ({"remine_steps": 2}, 5, 6),  # epoch 2 (steps 4-6) built on step 2's file; re-mined at 4, checkpointed at 5
    ({"remine_every_epoch": True}, 3, 4),  # re-mined at epoch 1's end, after checkpoint-3 was written
    ({"remine_steps": 2, "batching": "topic", "topic_clusters": 1}, 5, 6),  # topic batching compares them too
])
def test_a_resumed_run_builds_the_batches_of_its_epoch_from_the_negatives_at_the_epochs_start(
        tmp_path, mined_file, tiny_model_path, remining, checkpoint, stop):
    """Re-mined negatives that pair rows change the batches the no-duplicates sampler builds at each epoch's start.
    Resumed inside epoch 2 from checkpoint-5, the run has re-applied step 4's file, re-mined after epoch 2's batches
    were built: its batches must come from step 2's, as the uninterrupted run's did, or the weights differ (they
    did, with the epoch's batches built from every file the resumed run re-applied)."""
    from dataclasses import replace

    from .conftest import InterruptAt

    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]

    def config(name, **kw):  # 12 rows, batch 4: 3 steps an epoch, 3 epochs
        return TrainConfig(train_file=mined_file, output_dir=tmp_path / name, model=str(tiny_model_path), epochs=3,
                           batch_size=4, num_negatives=2, show_progress=False, precision="fp32", warmup_ratio=0.0,
                           mine=MineConfig(data=DataConfig(data_dir=tmp_path)), **remining, **kw)

    straight = train(config("straight", checkpoint_steps=None), miner=_colliding_miner(rows))
    interrupted = config("resumed", checkpoint_steps=checkpoint)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, miner=_colliding_miner(rows), callbacks=[InterruptAt(stop)])
    result = train(replace(interrupted, resume=True), miner=_colliding_miner(rows))
    assert result.resumed_from.endswith(f"checkpoint-{checkpoint}")
    assert [e["step"] for e in result.remine] == [e["step"] for e in straight.remine] == (
        [2, 4, 6, 8] if "remine_steps" in remining else [3, 6])
    weights = [SentenceTransformer(str(tmp_path / name), device="cpu").state_dict() for name in ("straight", "resumed")]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
