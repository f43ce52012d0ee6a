import pytest
import torch
from sentence_transformers import SentenceTransformer

from negmine.errors import ConfigError
from negmine.train.attention_dropout import (
    apply_attention_dropout, model_attention_dropout, set_attention_dropout, trained_with,
)


def _dropouts(model) -> dict[str, float]:
    return {name: m.p for name, m in model.named_modules() if isinstance(m, torch.nn.Dropout)}


def test_sets_the_attention_probability_dropout_only(tiny_model_path):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    before = _dropouts(model)
    assert set_attention_dropout(model, 0.0) == 2  # one per layer of the 2-layer BERT
    after = _dropouts(model)
    attention = {n for n in after if n.endswith("attention.self.dropout")}
    assert len(attention) == 2 and all(after[n] == 0.0 for n in attention)
    assert all(before[n] == 0.1 for n in attention)
    assert {n: p for n, p in after.items() if n not in attention} == {n: p for n, p in before.items() if n not in attention}
    assert any(p == 0.1 for n, p in after.items() if n not in attention)  # hidden-state dropout kept
    assert model[0].auto_model.config.attention_probs_dropout_prob == 0.1  # the saved config keeps its own


class LlamaStyleAttention(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention_dropout = 0.1


def test_float_attention_dropout_attributes_are_set():
    model = torch.nn.Sequential(LlamaStyleAttention(), LlamaStyleAttention())
    assert set_attention_dropout(model, 0.05) == 2
    assert [m.attention_dropout for m in model] == [0.05, 0.05]


def test_a_model_without_attention_dropout_is_a_config_error():
    with pytest.raises(ConfigError, match=r"found no attention dropout .*attention modules: none.*"
                                          r"Use --attention-dropout model \(or leave it unset\) to train with "
                                          r"the model's own dropout$"):
        set_attention_dropout(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.1)), 0.0)


def _attention_dropouts(model) -> list[float]:
    return [p for n, p in _dropouts(model).items() if n.endswith("attention.self.dropout")]


def test_auto_on_a_cpu_sets_a_bert_models_attention_dropout_to_0(tiny_model_path):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    assert apply_attention_dropout(model, "auto", "cpu") == 0.0
    assert _attention_dropouts(model) == [0.0, 0.0]
    assert model[0].auto_model.config.attention_probs_dropout_prob == 0.1  # the saved config keeps its own


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_auto_on_a_gpu_keeps_the_models_own(tiny_model_path, device):
    """The fused GPU/MPS attention kernels take dropout: nothing to gain (resolved by name, no GPU needed)."""
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    assert apply_attention_dropout(model, "auto", device) == "model"
    assert _attention_dropouts(model) == [0.1, 0.1]


def test_auto_keeps_the_own_dropout_of_a_model_without_recognised_sites_and_a_number_is_refused():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.1))
    assert apply_attention_dropout(model, "auto", "cpu") == "model"  # the default: no error
    assert model[1].p == 0.1
    with pytest.raises(ConfigError, match="found no attention dropout"):
        apply_attention_dropout(model, 0.0, "cpu")  # asked for: an error, as before


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_model_keeps_the_models_own_and_a_number_is_set_on_any_device(tiny_model_path, device):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    assert apply_attention_dropout(model, "model", device) == "model"
    assert _attention_dropouts(model) == [0.1, 0.1]
    assert apply_attention_dropout(model, 0.05, device) == 0.05
    assert _attention_dropouts(model) == [0.05, 0.05]


def test_the_models_own_attention_dropout_is_one_probability_or_none():
    """What a run records of its model for ``--resume`` (run_settings.ATTENTION_DROPOUT_FACTS)."""
    llama = torch.nn.Sequential(LlamaStyleAttention(), LlamaStyleAttention())
    assert model_attention_dropout(llama) == {"recognised": True, "model_own": 0.1}
    llama[1].attention_dropout = 0.2
    assert model_attention_dropout(llama) == {"recognised": True, "model_own": None}  # sites that differ
    plain = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.1))
    assert model_attention_dropout(plain) == {"recognised": False, "model_own": None}


@pytest.mark.parametrize("setting, device, facts, trained", [
    ("auto", "cpu", {"recognised": True, "model_own": 0.1}, 0.0),
    ("auto", "cpu", {"recognised": False, "model_own": None}, "model"),
    ("auto", "cpu", None, "auto"),  # 0 or the model's own: not known without the model
    ("auto", "cuda:0", None, "model"),
    ("auto", "mps", {"recognised": True, "model_own": 0.1}, 0.1),
    ("model", "cpu", {"recognised": True, "model_own": 0.1}, 0.1),
    ("model", "cpu", None, "model"),
    (0, "cpu", None, 0.0),
])
def test_what_a_setting_trains_with_as_far_as_known_without_the_model(setting, device, facts, trained):
    assert trained_with(setting, device, facts) == trained
