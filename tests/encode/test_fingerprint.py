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
