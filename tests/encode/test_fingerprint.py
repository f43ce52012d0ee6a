from __future__ import annotations

import torch

from negmine.encode.fingerprint import model_fingerprint, tensor_digest


def test_same_weights_same_fingerprint_regardless_of_load(load_tiny):
    a, b = load_tiny(), load_tiny()
    assert model_fingerprint(a, 64, "fp32") == model_fingerprint(b, 64, "fp32")


def test_settings_change_fingerprint(load_tiny):
    model = load_tiny()
    base = model_fingerprint(model, 64, "fp32")
    assert model_fingerprint(model, 32, "fp32") != base
    assert model_fingerprint(model, 64, "bf16") != base
    # a GPU's kernels give other last bits: its vectors are cached apart; the CPU keeps the fingerprints it had
    assert model_fingerprint(model, 64, "fp32", "cuda") != base
    assert model_fingerprint(model, 64, "fp32", "cpu") == base
    # the batch size sets the shape of the passes, which moves last bits: another one is cached apart
    assert model_fingerprint(model, 64, "fp32", "cpu", 64) != base
    assert model_fingerprint(model, 64, "fp32", "cpu", 32) != model_fingerprint(model, 64, "fp32", "cpu", 64)


def test_any_weight_change_changes_fingerprint(load_tiny):
    model = load_tiny()
    before = model_fingerprint(model, 64, "fp32")
    with torch.no_grad():
        # a small update to one deep tensor, as a training step would make
        next(p for n, p in model.named_parameters() if "layer.1.output.dense.weight" in n).add_(1e-3)
    assert model_fingerprint(model, 64, "fp32") != before


def test_digest_covers_names_shapes_and_values():
    base = {"a": torch.zeros(10), "b": torch.arange(6.0).reshape(2, 3)}
    digest = tensor_digest(base)
    assert tensor_digest(dict(base)) == digest
    assert tensor_digest({"a": torch.zeros(10), "c": base["b"]}) != digest
    assert tensor_digest({"a": torch.zeros(10), "b": base["b"].reshape(3, 2)}) != digest
    changed = base["b"].clone()
    changed[1, 2] = 5.5
    assert tensor_digest({"a": torch.zeros(10), "b": changed}) != digest


def test_every_element_counts_not_a_sample():
    base = torch.zeros(100_000)
    digest = tensor_digest({"w": base})
    for at in (1, 12_345, 99_998):  # none of them among 4,096 evenly spaced elements
        changed = base.clone()
        changed[at] = 1e-6
        assert tensor_digest({"w": changed}) != digest, at
    assert tensor_digest({"w": base.to(torch.bfloat16)}) != tensor_digest({"w": base.to(torch.float16)})
    assert tensor_digest({"m": torch.tensor([True, False])}) != tensor_digest({"m": torch.tensor([False, True])})


def test_a_model_folder_re_saved_with_one_weight_changed_gets_another_fingerprint(tiny_model_path, tmp_path):
    import shutil

    import numpy as np
    from sentence_transformers import SentenceTransformer

    from negmine.config import EncoderConfig
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    folder = shutil.copytree(tiny_model_path, tmp_path / "model")
    config = EncoderConfig(model=str(folder), precision="fp32", show_progress=False)
    before = SentenceTransformerEmbedder(config).fingerprint
    model = SentenceTransformer(str(folder), device="cpu")
    table = model[0].auto_model.embeddings.word_embeddings.weight
    count = table.numel()
    sampled = set(np.linspace(0, count - 1, min(count, 4096)).astype(np.int64).tolist())
    at = next(i for i in range(count) if i not in sampled)  # an element the old 4,096-element sample skipped
    with torch.no_grad():
        table.view(-1)[at] += 0.5  # one token's embedding, as a sparse update would change it
    model.save(str(folder))  # same path, same name, other weights
    after = SentenceTransformerEmbedder(config)
    assert after.fingerprint != before
    assert SentenceTransformerEmbedder(config).fingerprint == after.fingerprint, "stable for the same weights"
