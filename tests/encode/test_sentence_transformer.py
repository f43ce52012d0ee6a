from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from negmine.config import EncoderConfig
from negmine.encode.precision import resolve_precision
from negmine.encode.sentence_transformer import (
    BUCKET_TOKENS, TOKENS_PER_PASS, SentenceTransformerEmbedder, equal_length_batches, fixed_shape_batches,
    pad_features, pass_length, rows_per_pass,
)
from negmine.errors import ConfigError

TEXTS = [
    "cancer risk",
    "the protein expression of the gene was increased in human cells",
    "a",
    "immune response to virus infection in mice",
    "blood",
    "heart disease treatment trial with patients and high risk",
]


def _cos(a, b):
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_output_float32_normalised_in_input_order(tiny_embedder):
    emb = tiny_embedder(precision="fp32", batch_size=2)
    out = emb.encode(TEXTS)
    assert out.dtype == np.float32 and out.shape == (len(TEXTS), emb.dim) and emb.dim == 32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    one_by_one = np.vstack([emb.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(out, one_by_one, atol=1e-5)


def test_equal_length_batches_group_by_token_count_longest_first_in_input_order():
    batches = equal_length_batches(np.array([3, 5, 3, 3, 5, 1, 3]), batch_size=2)
    assert [b.tolist() for b in batches] == [[1, 4], [0, 2], [3, 6], [5]]
    assert equal_length_batches(np.array([], dtype=np.int64), 4) == []


def test_rows_per_pass_fills_the_token_budget_within_one_and_the_batch_size():
    assert TOKENS_PER_PASS == 2048
    assert [rows_per_pass(n, 64) for n in (256, 200, 128, 100, 32, 3)] == [8, 10, 16, 20, 64, 64]
    assert rows_per_pass(4000, 64) == 1 and rows_per_pass(3, 16) == 16 and rows_per_pass(0, 4) == 4


def test_fixed_shape_batches_without_buckets_cut_each_token_count_into_passes_of_one_width():
    """Bucket 1 (a tokenizer without a pad token; every text until 2026-12-06): one group per token count."""
    lengths = np.array([800, 400, 800, 400, 800, 400, 400, 400, 400, 400, 400, 3000])
    passes = fixed_shape_batches(lengths, batch_size=64, bucket=1)
    assert [(rows.tolist(), width) for rows, width in passes] == [
        ([11], 1), ([0, 2], 2), ([4], 2), ([1, 3, 5, 6, 7], 5), ([8, 9, 10], 5),
    ]
    assert [width for _, width in fixed_shape_batches(lengths, batch_size=3, bucket=1)] == [1, 2, 2, 3, 3, 3]
    assert fixed_shape_batches(np.array([], dtype=np.int64), 4) == []


def test_pass_length_is_the_next_multiple_of_the_bucket_above_the_text_at_most_max_length():
    """At least one pad (a multiple of 16 goes up by 16), so every pass of a padded length has an attention mask
    whatever texts share it; a text cut at max_length runs unpadded, at its own length."""
    assert BUCKET_TOKENS == 16
    assert [pass_length(n, 256) for n in (1, 10, 15, 16, 17, 31, 32, 240, 241, 255, 256)] == [
        16, 16, 16, 32, 32, 32, 48, 256, 256, 256, 256]
    assert pass_length(300, None) == 304 and pass_length(20, 256, bucket=8) == 24
    assert pass_length(20, 256, bucket=1) == 20 and pass_length(0, 256) == 16


def test_texts_of_rare_token_counts_share_padded_passes_instead_of_filling_one_pass_each():
    """40 texts of 40 token counts took 40 passes of 14 to 20 rows (a pass per token count, the rest of each
    filled with copies): 672 rows for 40 texts. Padded to multiples of 16 tokens: 3 passes, 48 rows."""
    lengths = np.arange(100, 140)[::-1]
    passes = fixed_shape_batches(lengths, batch_size=64, max_length=256)
    assert [(sorted(lengths[rows].tolist())[::11], width) for rows, width in passes] == [
        ([128, 139], 14), ([112, 123], 16), ([100, 111], 18)]
    assert sum(width for _, width in passes) == 48
    assert sum(width for _, width in fixed_shape_batches(lengths, batch_size=64, bucket=1)) == 672


def test_texts_cut_at_max_length_run_apart_from_the_padded_texts_of_that_length():
    passes = fixed_shape_batches(np.array([256, 250, 256, 32, 20]), batch_size=64, max_length=256)
    assert [(rows.tolist(), width) for rows, width in passes] == [([0, 2], 8), ([1], 8), ([3], 42), ([4], 64)]


def test_pad_features_pads_ids_token_types_and_mask_on_the_tokenizers_side(load_tiny):
    import torch

    tokenizer = load_tiny().tokenizer
    features = {"input_ids": torch.tensor([[101, 7, 102]]), "token_type_ids": torch.zeros(1, 3, dtype=torch.long),
                "attention_mask": torch.ones(1, 3, dtype=torch.long), "modality": "text", "prompt_length": 2}
    padded = pad_features(features, 5, tokenizer)
    pad = tokenizer.pad_token_id
    assert padded["input_ids"].tolist() == [[101, 7, 102, pad, pad]]
    assert padded["attention_mask"].tolist() == [[1, 1, 1, 0, 0]] and padded["token_type_ids"].shape == (1, 5)
    assert (padded["modality"], padded["prompt_length"]) == ("text", 2)
    tokenizer.padding_side = "left"
    assert pad_features(features, 5, tokenizer)["attention_mask"].tolist() == [[0, 0, 1, 1, 1]]
    assert pad_features(features, 3, tokenizer) is features
    with pytest.raises(ConfigError) as err:
        pad_features({**features, "position_ids": torch.arange(3)[None]}, 5, tokenizer)
    assert str(err.value) == (
        "the model takes an input negmine cannot pad, 'position_ids' (it pads input_ids, attention_mask, "
        "token_type_ids to a fixed length per CPU pass); encode on a GPU (--device cuda), where passes are not "
        "padded, or use a model whose tokenizer gives only those inputs")


def _pass_shapes(model) -> list[tuple[int, int]]:
    """The (rows, tokens) of every forward pass ``model`` runs from now on."""
    shapes: list[tuple[int, int]] = []
    model.register_forward_pre_hook(lambda module, args: shapes.append(tuple(args[0]["input_ids"].shape)))
    return shapes


def test_texts_of_several_token_counts_are_encoded_in_one_padded_pass(load_tiny):
    """Five token counts took five passes of 64 rows (each but its own text fill)."""
    model = load_tiny()
    emb = SentenceTransformerEmbedder.from_model(model, EncoderConfig(precision="fp32", show_progress=False))
    texts = [" ".join(["cell"] * words) + f" gene {i}" for words in range(1, 6) for i in range(3)]
    assert emb.token_lengths(texts).tolist() == [n for n in range(5, 10) for _ in range(3)]
    shapes = _pass_shapes(model)
    out = emb.encode(texts)
    assert shapes == [(64, 16)]
    np.testing.assert_allclose(out, np.vstack([emb.encode([t]) for t in texts]), atol=0)


def test_a_tokenizer_that_pads_on_the_left_gets_unpadded_passes_of_one_token_count(load_tiny):
    """Left padding would shift a last-token pooling model's positions: such texts run at their own length."""
    model = load_tiny()
    model.tokenizer.padding_side = "left"
    emb = SentenceTransformerEmbedder.from_model(model, EncoderConfig(precision="fp32", show_progress=False))
    assert emb.bucket == 1
    model.tokenizer.padding_side = "right"
    right = SentenceTransformerEmbedder.from_model(model, EncoderConfig(precision="fp32", show_progress=False))
    assert right.fingerprint != emb.fingerprint  # other passes, other vectors: cached apart
    model.tokenizer.padding_side = "left"
    texts = [" ".join(["cell"] * words) + f" gene {i}" for words in range(1, 4) for i in range(2)]
    shapes = _pass_shapes(model)
    emb.encode(texts)
    assert emb.token_lengths(texts).tolist() == [5, 5, 6, 6, 7, 7]
    assert shapes == [(64, 7), (64, 6), (64, 5)]  # padded to 16 tokens it would be one pass, [(64, 16)]


def test_the_models_truncate_dim_and_eval_mode_are_kept(tiny_model_path):
    """The CPU passes run the model's modules themselves (no ``encode``): its truncate_dim still cuts the
    vectors, and a model handed in in training mode still encodes without dropout."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_path), device="cpu", truncate_dim=8)
    emb = SentenceTransformerEmbedder.from_model(model, EncoderConfig(precision="fp32", show_progress=False))
    model.train()
    out = emb.encode(TEXTS)
    assert emb.dim == 8 and out.shape == (len(TEXTS), 8) and not model.training
    reference = model.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=True)
    assert _cos(out, reference).min() > 0.9999


def test_a_texts_vector_is_bit_identical_alone_and_in_any_company(tmp_path):
    """Every CPU pass over one token count has one shape, so a text's vector is the same bits whatever else is
    encoded in the call. A random one-layer model 384 wide (the width of MiniLM's matrices; the 32-wide tiny
    model is too small to show it): with unpadded batches of varying size 25 of these 87 vectors differed from
    the text encoded alone on an Intel Xeon (MKL, torch 2.13), and 2 between the odd texts alone and all together."""
    from sentence_transformers import SentenceTransformer

    from negmine.testing.tiny_models import build_tiny_bi_encoder

    model = SentenceTransformer(str(build_tiny_bi_encoder(tmp_path / "m", hidden=384, layers=1)), device="cpu")
    emb = SentenceTransformerEmbedder.from_model(model, EncoderConfig(precision="fp32", show_progress=False))
    texts = [f"{word} " * n for n in range(1, 30) for word in ("cell", "gene protein", "risk")]
    together = emb.encode(texts)
    alone = np.vstack([emb.encode([t]) for t in texts])
    assert np.array_equal(together, alone) and np.array_equal(together[1::2], emb.encode(texts[1::2]))


@pytest.fixture(scope="module")
def minilm():
    """The bundled all-MiniLM-L6-v2 (the tiny random model does not show the padding effect tested below)."""
    from sentence_transformers import SentenceTransformer

    from negmine.config import DEFAULT_MODEL
    from negmine.encode.default_model import resolve_model

    return SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_texts_vector_does_not_depend_on_the_texts_encoded_with_it(minilm, precision):
    """The demo's texts encoded all together and in two interleaved halves give bit-identical vectors, so what
    the embedding cache already holds (which decides the texts a run encodes together) cannot change the mined
    bytes. With padded length-sorted batches 29 of these 120 vectors moved (up to 1.8e-7 in fp32, 8.9e-4 in bf16) on
    an AMD EPYC; with unpadded batches of varying size, 36 moved on an Intel Xeon (MKL) and 77 differed alone."""
    from negmine.io.beir import read_corpus, read_queries

    demo = Path(__file__).parents[2] / "src" / "negmine" / "demo" / "minifacts"
    texts = list(read_corpus(demo / "corpus.jsonl").texts[:80]) + list(read_queries(demo / "queries.jsonl").texts[:40])
    emb = SentenceTransformerEmbedder.from_model(minilm, EncoderConfig(precision=precision, batch_size=16,
                                                                       show_progress=False))
    together = emb.encode(texts)
    halves = np.empty_like(together)
    halves[0::2], halves[1::2] = emb.encode(texts[0::2]), emb.encode(texts[1::2])
    assert np.array_equal(together, halves)
    alone = np.vstack([emb.encode([t]) for t in texts[:30]])
    assert np.array_equal(together[:30], alone)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_padded_texts_vector_is_its_unpadded_one(minilm, precision):
    """Mean pooling over the attention mask: a text padded to its pass length gets the vector sentence-transformers
    gives it encoded alone, unpadded (to the last bits in fp32; bf16 rounds the padded pass's sums otherwise)."""
    from negmine.io.beir import read_queries

    demo = Path(__file__).parents[2] / "src" / "negmine" / "demo" / "minifacts"
    texts = list(read_queries(demo / "queries.jsonl").texts[:24]) + ["gene " * 15, "gene " * 30]
    emb = SentenceTransformerEmbedder.from_model(minilm, EncoderConfig(precision=precision, show_progress=False))
    lengths = emb.token_lengths(texts)
    assert (np.array([pass_length(n, emb.max_length) for n in lengths]) - lengths >= 1).all()
    with emb._autocast():
        alone = np.vstack([minilm.encode([t], convert_to_numpy=True, normalize_embeddings=True) for t in texts])
    assert _cos(emb.encode(texts), alone).min() >= (0.99999 if precision == "fp32" else 0.9999)


def test_token_lengths_are_those_the_model_encodes_with_the_prompt(tiny_embedder):
    emb = tiny_embedder(precision="fp32", max_length=6)
    lengths = emb.token_lengths(TEXTS, prompt="the study of ")
    expected = [int(emb.model.tokenize(["the study of " + t])["attention_mask"].sum()) for t in TEXTS]
    assert lengths.tolist() == expected and max(expected) == 6


def test_unnormalised_model_output_is_normalised(load_tiny):
    from sentence_transformers import SentenceTransformer

    full = load_tiny()
    no_norm = SentenceTransformer(modules=[full[0], full[1]], device="cpu")
    emb = SentenceTransformerEmbedder.from_model(no_norm, EncoderConfig(precision="fp32", show_progress=False))
    raw = no_norm.encode(TEXTS, convert_to_numpy=True)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(emb.encode(TEXTS), axis=1), 1.0, atol=1e-6)


def test_prompt_is_prepended(tiny_embedder):
    emb = tiny_embedder(precision="fp32")
    with_prompt = emb.encode(["cancer risk"], prompt="the study of ")
    np.testing.assert_allclose(with_prompt, emb.encode(["the study of cancer risk"]), atol=1e-5)
    assert not np.allclose(with_prompt, emb.encode(["cancer risk"]), atol=1e-3)


def test_max_length_truncates_and_changes_fingerprint(tiny_embedder):
    full = tiny_embedder(precision="fp32")
    short = tiny_embedder(precision="fp32", max_length=4)
    assert short.model.max_seq_length == 4 and short.max_length == 4
    assert short.fingerprint != full.fingerprint
    a, b = short.encode(["cancer risk study patients", "cancer risk study mice blood"])
    np.testing.assert_allclose(a, b, atol=1e-6)  # [CLS] cancer risk [SEP]: the rest is cut


def test_precision_changes_fingerprint_and_bf16_stays_close(tiny_embedder):
    fp32 = tiny_embedder(precision="fp32")
    bf16 = tiny_embedder(precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert fp32.fingerprint != bf16.fingerprint
    low = bf16.encode(TEXTS)
    assert low.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(low, axis=1), 1.0, atol=1e-6)
    assert _cos(low, fp32.encode(TEXTS)).min() > 0.99


def test_auto_precision_follows_cpu(tiny_embedder):
    assert tiny_embedder(precision="auto").precision == resolve_precision("auto", "cpu")


def test_loading_from_config_matches_passed_model(tiny_model_path, tiny_embedder):
    loaded = SentenceTransformerEmbedder(EncoderConfig(model=str(tiny_model_path), precision="fp32", show_progress=False))
    passed = tiny_embedder(precision="fp32")
    assert loaded.model.device.type == "cpu"
    assert loaded.fingerprint == passed.fingerprint
    np.testing.assert_allclose(loaded.encode(TEXTS), passed.encode(TEXTS), atol=1e-6)


def test_missing_model_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"model path '.*nope' does not exist"):
        SentenceTransformerEmbedder(EncoderConfig(model=str(tmp_path / "nope")))


def test_bad_config_rejected_before_loading(load_tiny):
    with pytest.raises(ConfigError, match="batch_size must be a positive integer, got 0"):
        SentenceTransformerEmbedder.from_model(load_tiny(), EncoderConfig(batch_size=0))


def test_empty_input(tiny_embedder):
    emb = tiny_embedder()
    assert emb.encode([]).shape == (0, emb.dim)


def test_no_progress_also_hides_the_weight_loading_bars_and_restores_the_switch(tiny_model_path, capfd, monkeypatch):
    """--no-progress, and since 2026-12-05 a log file (stderr no terminal) with progress on, hide transformers'
    "Loading weights" (in the demo's quickstart logs, one per model load); a terminal with progress on keeps it."""
    import transformers
    from transformers.utils import logging as hf_logging

    from negmine.encode.sentence_transformer import load_sentence_transformer

    with monkeypatch.context() as terminal:
        terminal.setattr("sys.stderr.isatty", lambda: True, raising=False)
        load_sentence_transformer(EncoderConfig(model=str(tiny_model_path), show_progress=True))
    shown = capfd.readouterr().err
    # transformers 5 draws a "Loading weights" bar; 4.x (the floor is 4.47) draws none for a one-file checkpoint
    # (only "Loading checkpoint shards" for sharded ones), so there the test checks the hiding and the switch only
    if int(transformers.__version__.split(".")[0]) >= 5:
        assert "Loading weights" in shown
    load_sentence_transformer(EncoderConfig(model=str(tiny_model_path), show_progress=True))
    assert "Loading weights" not in capfd.readouterr().err, "a log file: negmine's bars only"
    assert hf_logging.is_progress_bar_enabled()
    load_sentence_transformer(EncoderConfig(model=str(tiny_model_path), show_progress=False))
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()


def test_a_missing_model_path_fails_before_sentence_transformers_is_imported():
    """The import takes seconds; a mistyped --model path must not wait for it (checked in a fresh process)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from negmine.config import EncoderConfig\n"
            "from negmine.errors import ConfigError\n"
            "from negmine.encode.sentence_transformer import load_sentence_transformer\n"
            "try:\n"
            "    load_sentence_transformer(EncoderConfig(model='/nonexistent/model'))\n"
            "except ConfigError as err:\n"
            "    print(err)\n"
            "print('sentence_transformers' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.splitlines()
    assert out == ["model path '/nonexistent/model' does not exist; pass an existing folder or a hub model name", "False"]


def test_batch_size_changes_the_fingerprint(tiny_embedder):
    """It sets the passes' shape, so vectors may differ in their last bits: another batch size is cached apart."""
    assert tiny_embedder(precision="fp32", batch_size=2).fingerprint != tiny_embedder(precision="fp32").fingerprint


def _cut_short(folder: Path, name: str) -> None:
    """``folder/name`` cut to its first 1000 bytes (a download or copy that stopped)."""
    path = folder / name
    path.write_bytes(path.read_bytes()[:1000])


def test_a_model_folder_with_a_cut_short_safetensors_file_is_a_config_error_naming_it(tiny_model_path, tmp_path):
    """safetensors' SafetensorError is neither OSError nor ValueError: the CLI printed a traceback."""
    import shutil

    folder = Path(shutil.copytree(tiny_model_path, tmp_path / "cut"))
    _cut_short(folder, "model.safetensors")
    with pytest.raises(ConfigError) as info:
        SentenceTransformerEmbedder(EncoderConfig(model=str(folder), show_progress=False))
    assert str(info.value) == (
        f"could not load model '{folder}': its weights file is damaged or cut short (SafetensorError: Error while "
        "deserializing header: invalid header length); copy, download or save the model again")


def test_a_model_folder_with_a_cut_short_pytorch_bin_is_a_config_error_naming_it(tiny_model_path, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file

    folder = Path(shutil.copytree(tiny_model_path, tmp_path / "cut"))
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    _cut_short(folder, "pytorch_model.bin")
    with pytest.raises(ConfigError, match=rf"could not load model '{folder}': its weights file is damaged or cut short "
                                          r"\(RuntimeError: PytorchStreamReader failed reading zip archive: failed "
                                          r"finding central directory\); copy, download or save the model again$"):
        SentenceTransformerEmbedder(EncoderConfig(model=str(folder), show_progress=False))


def test_a_model_folder_whose_config_json_is_cut_short_names_the_file_where_it_breaks_and_the_fix(tiny_model_path,
                                                                                                  tmp_path):
    """transformers said 'It looks like the config file at ... is not a valid JSON file.', without where or why."""
    import shutil

    from ..conftest import cut_json

    folder = Path(shutil.copytree(tiny_model_path, tmp_path / "cut"))
    line = cut_json(folder / "config.json")
    with pytest.raises(ConfigError) as info:
        SentenceTransformerEmbedder(EncoderConfig(model=str(folder), show_progress=False))
    assert str(info.value) == (
        f"could not load model '{folder}': its file {folder / 'config.json'} is not valid JSON: Expecting property "
        f"name enclosed in double quotes (line {line}, column 1); it is damaged or cut short (a copy or download that "
        "stopped?): copy, download or save the model again")


@pytest.mark.parametrize("name, before", [
    ("modules.json", "JSONDecodeError: Unterminated string"),
    ("1_Pooling/config.json", "JSONDecodeError: Unterminated string"),
    ("tokenizer.json", "ValueError: Unrecognized processing class"),
])
def test_a_model_folder_with_another_json_file_cut_short_names_that_file(tiny_model_path, tmp_path, name, before):
    """The message was the parser's words (or, for tokenizer.json, 'Unrecognized processing class'), not the file."""
    import shutil

    folder = Path(shutil.copytree(tiny_model_path, tmp_path / "cut"))
    path = folder / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # half a JSON object is never one
    with pytest.raises(ConfigError, match=rf"^could not load model '{re.escape(str(folder))}': its file "
                                          rf"{re.escape(str(folder / name))} is not valid JSON: .* \(line \d+, column "
                                          r"\d+\); it is damaged or cut short .*: copy, download or save the model "
                                          r"again$") as info:
        SentenceTransformerEmbedder(EncoderConfig(model=str(folder), show_progress=False))
    assert before not in str(info.value)


def test_a_model_folder_whose_json_file_starts_with_a_byte_order_mark_says_to_remove_it(tiny_model_path, tmp_path):
    """An editor saving with a mark: json.loads refuses it ('Unexpected UTF-8 BOM'), and so did the load."""
    import shutil

    folder = Path(shutil.copytree(tiny_model_path, tmp_path / "marked"))
    path = folder / "sentence_bert_config.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with pytest.raises(ConfigError) as info:
        SentenceTransformerEmbedder(EncoderConfig(model=str(folder), show_progress=False))
    assert str(info.value) == (
        f"could not load model '{folder}': its file {path} starts with a byte-order mark (U+FEFF), which the loaders' "
        "JSON parser refuses (it was saved by an editor that adds one?); remove the mark, e.g. "
        f"sed -i '1s/^\\xEF\\xBB\\xBF//' {path}")


def test_transformers_bars_inside_another_bar_are_drawn_on_a_terminal_only(capfd, monkeypatch):
    """A checkpoint saved during training drew transformers' "Writing model shards" under the trainer's bar: one
    cursor-up (ESC[A) left in a log file per checkpoint. Nested, transformers' bars follow negmine.progress."""
    from tqdm.auto import tqdm
    from transformers.utils import logging as hf_logging

    from negmine.encode.sentence_transformer import transformers_bars

    factory = hf_logging.tqdm
    with transformers_bars(True):
        for _ in hf_logging.tqdm(range(2), desc="outermost bar"):
            pass
        with tqdm(total=1, desc="trainer"):
            for _ in hf_logging.tqdm(range(2), desc="Writing model shards"):
                pass
    err = capfd.readouterr().err
    assert "trainer" in err, "negmine's (the trainer's) bar is drawn in a log file"
    assert "outermost bar" not in err, "since 2026-12-05 transformers' bars are not drawn in a log file at all"
    assert "Writing model shards" not in err and "\x1b[" not in err
    assert hf_logging.tqdm is factory, "transformers' factory is put back"
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    with transformers_bars(True):
        for _ in hf_logging.tqdm(range(2), desc="outermost bar"):
            pass
        with tqdm(total=1, desc="trainer"):
            for _ in hf_logging.tqdm(range(2), desc="Writing model shards"):
                pass
    err = capfd.readouterr().err
    assert "outermost bar" in err and "Writing model shards" in err, "on a terminal both are drawn"


def test_the_text_bar_says_what_its_caller_encodes(load_tiny, capsys, monkeypatch):
    """Every embedder bar was labelled plain 'encode', whatever model and texts it was working on."""
    import negmine.progress
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder
    from negmine.progress import encoding

    # drawn even if a bar an earlier test left open (a model load's) makes this one look nested on a non-terminal
    monkeypatch.setattr(negmine.progress, "_draws_in_place", lambda tqdm_class, stream: True)

    embedder = SentenceTransformerEmbedder.from_model(load_tiny(), EncoderConfig(show_progress=True))
    capsys.readouterr()
    with encoding("encode teacher out/model documents"):
        vectors = embedder.encode(TEXTS)
    bar = capsys.readouterr().err
    # the label, not the bar's progress: a bar left open by an earlier test nests this one, and a nested bar that
    # closes within tqdm's refresh interval is cleared without its 100% state ever drawn
    assert "encode teacher out/model documents: " in bar and not re.search(r"(^|[\r\n])encode:", bar), bar
    np.testing.assert_array_equal(vectors, embedder.encode(TEXTS))  # the label changes nothing encoded
    embedder.encode(TEXTS)
    assert re.search(r"(^|[\r\n])encode: ", capsys.readouterr().err), "no label given: plain encode"


def test_a_beir_dataset_folder_given_as_a_model_is_named_as_the_data(tmp_path):
    # `negmine mine DEMO --model DEMO`: the folder was refused as 'not a model folder' without saying what it is
    from negmine.encode.sentence_transformer import check_model_source

    data = tmp_path / "demo"
    data.mkdir()
    (data / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n')
    (data / "queries.jsonl").write_text('{"_id": "q1", "text": "y"}\n')
    with pytest.raises(ConfigError) as err:
        check_model_source(str(data))
    assert str(err.value) == (
        f"model {str(data)!r} is not a model folder: it has neither modules.json (sentence-transformers) nor "
        "config.json (transformers); it is a BEIR dataset folder (corpus.jsonl, queries.jsonl), the data, which the "
        "command takes as its positional argument; pass the folder `negmine train -o DIR` wrote, or a hub name")
    (data / "queries.jsonl").unlink()  # not a BEIR folder: the message stays as it was
    with pytest.raises(ConfigError, match=r"\(transformers\); pass the folder"):
        check_model_source(str(data))


def test_a_pinned_hub_model_whose_snapshot_lacks_files_is_refused_offline_naming_them(tiny_model_path, offline_cache):
    """A snapshot an interrupted download left without its weights and its pooling config: the pinned load read the
    folder and failed with transformers' 'Error no file named model.safetensors ...'; now it loads by commit (online,
    what is missing fetched) and, offline, is refused naming the commit, the files and the fix."""
    from negmine.encode.hub import SENTENCE_TRANSFORMERS_ORGANIZATION, cached_snapshot, pinned_snapshots
    from negmine.encode.sentence_transformer import load_sentence_transformer
    from negmine.testing.hub_cache import write_cached_model

    snapshot = write_cached_model(offline_cache, "org/tiny", tiny_model_path, "a" * 40)
    (snapshot / "model.safetensors").unlink()
    (snapshot / "1_Pooling" / "config.json").unlink()
    key = ("org/tiny", SENTENCE_TRANSFORMERS_ORGANIZATION)
    with pinned_snapshots({key: cached_snapshot(*key)}), pytest.raises(ConfigError) as info:
        load_sentence_transformer(EncoderConfig(model="org/tiny", show_progress=False))
    assert str(info.value).startswith(
        f"could not load model 'org/tiny': commit '{'a' * 40}' of org/tiny in the Hugging Face cache ({snapshot}) "
        "lacks model.safetensors (or pytorch_model.bin) and 1_Pooling/config.json, as a download that stopped part "
        f"way leaves it; HF_HUB_OFFLINE=1 forbids fetching them: fetch them with network (`hf download org/tiny "
        f"--revision {'a' * 40}`), or run the command with network, without HF_HUB_OFFLINE: the load then fetches "
        "that commit's missing files (OSError: ")


def test_a_hub_model_not_cached_when_the_run_began_loads_its_first_loads_commit_in_later_loads(
        tmp_path, tiny_model_path, offline_cache, monkeypatch):
    """A teacher by hub name that its first load in the run downloaded: later loads in the run (re-mining rounds)
    load that commit, not the newer one the hub (and a download) moved refs/main to."""
    import sentence_transformers

    from negmine.encode.fingerprint import tensor_digest
    from negmine.encode.hub import pinned_snapshots
    from negmine.encode.sentence_transformer import load_sentence_transformer
    from negmine.testing.hub_cache import downloading_at_first_load, write_cached_model
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    downloading = downloading_at_first_load(sentence_transformers.SentenceTransformer, offline_cache, "org/tiny",
                                            tiny_model_path)
    newer = build_tiny_bi_encoder(tmp_path / "newer", seed=1)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", downloading)
    config = EncoderConfig(model="org/tiny", show_progress=False)
    with pinned_snapshots({}):
        first = load_sentence_transformer(config)
        write_cached_model(offline_cache, "org/tiny", newer, "b" * 40)
        again = load_sentence_transformer(config)
    after = load_sentence_transformer(config)
    snapshot = offline_cache / "models--org--tiny" / "snapshots" / ("a" * 40)  # commit A's files
    assert downloading.calls == [("org/tiny", None), (str(snapshot), None), ("org/tiny", None)]
    weights = [tensor_digest(m.state_dict()) for m in (first, again, after)]
    assert weights[0] == weights[1] != weights[2]


def test_a_hub_model_is_pinned_to_the_commit_its_load_used_when_refs_main_moves_before_the_pin(
        tmp_path, tiny_model_path, offline_cache, monkeypatch):
    """A hub name no cache held when the run began was pinned to the snapshot the cache's refs/main named right after
    its first load: a download by another process in between (to commit B, another model's weights) pinned B, which
    the run had not loaded, and later loads in the run (re-mining rounds) loaded B. sentence-transformers records the
    commit the load resolved (its model card data): that commit, A, is pinned."""
    import sentence_transformers

    from negmine.encode.fingerprint import tensor_digest
    from negmine.encode.hub import SENTENCE_TRANSFORMERS_ORGANIZATION, cached_snapshot, pinned_snapshots
    from negmine.encode.sentence_transformer import load_sentence_transformer
    from negmine.testing.hub_cache import downloading_then_moved
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    downloading = downloading_then_moved(sentence_transformers.SentenceTransformer, offline_cache, "org/tiny",
                                         tiny_model_path, build_tiny_bi_encoder(tmp_path / "newer", seed=1))
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", downloading)
    config = EncoderConfig(model="org/tiny", show_progress=False)
    with pinned_snapshots({}):
        first = load_sentence_transformer(config)  # refs/main: A at the load, B at the pin
        assert cached_snapshot("org/tiny", SENTENCE_TRANSFORMERS_ORGANIZATION).commit == "a" * 40
        again = load_sentence_transformer(config)
    snapshot = offline_cache / "models--org--tiny" / "snapshots" / ("a" * 40)
    assert downloading.calls == [("org/tiny", None), (str(snapshot), None)]
    assert tensor_digest(again.state_dict()) == tensor_digest(first.state_dict())


def test_a_folder_holding_a_model_in_a_subfolder_names_the_subfolder(tmp_path):
    """`--model tiny1` with the model in `tiny1/model/` was refused as 'not a model folder' without a word on the
    model one level down. One check for every command: eval, mine, audit (their models and judges) and train."""
    from negmine.encode.sentence_transformer import check_model_source

    outer = tmp_path / "tiny1"
    (outer / "model").mkdir(parents=True)
    (outer / "model" / "modules.json").write_text("[]")
    (outer / "logs").mkdir()  # a subfolder without a model is not named
    with pytest.raises(ConfigError) as err:
        check_model_source(str(outer))
    assert str(err.value) == (
        f"model {str(outer)!r} is not a model folder: it has neither modules.json (sentence-transformers) nor "
        f"config.json (transformers); its subfolder {str(outer / 'model')!r} holds one: pass that folder")
    for name in ("b", "c", "d"):  # config.json alone (transformers) holds one too
        (outer / name).mkdir()
        (outer / name / "config.json").write_text("{}")
    with pytest.raises(ConfigError) as err:
        check_model_source(str(outer) + "/", what="teacher")
    assert str(err.value).endswith(
        f"; its subfolders {str(outer / 'b')!r}, {str(outer / 'c')!r}, {str(outer / 'd')!r} and 1 more hold one each: "
        "pass one of them")
