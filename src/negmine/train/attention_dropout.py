"""Set the attention-probability dropout of a sentence-transformers model for training.

Why it is an option, and why its default ``auto`` is 0 on a CPU: on CPU, PyTorch's
``scaled_dot_product_attention`` runs its fused kernel only without dropout; with the attention dropout most
encoders ship with (BERT-family 0.1) every training step takes the unfused math path and draws a bernoulli
mask over each ``batch x heads x length x length`` attention matrix. For all-MiniLM-L6-v2 at batch 32 and 128
tokens that was 1.6x the step time of attention dropout 0 on a 2-core CPU (2026-12-02, torch 2.13, bf16
autocast; hidden-state dropout kept in both); with SciFact-length documents (batch 32, the model's 256 tokens)
2 steps took 4.3x the CPU time and 2.4x the peak memory (docs/training.md "Attention dropout").

Only the modules' dropout probabilities change, not the model's config, so the saved model keeps the dropout
its config declares (a later fine-tune starts from the original setting).
"""

from __future__ import annotations

from negmine.errors import ConfigError

ATTENTION_DROPOUT_SITES = (
    ("SelfAttention", "dropout"),  # BERT, RoBERTa, XLM-R, MPNet, ELECTRA, DistilBERT's MultiHeadSelfAttention
    ("Attention", "attn_dropout"),  # GPT-2 style blocks
)
"""(class-name suffix, attribute): the ``nn.Dropout`` applied to attention probabilities in transformers' modules."""
FLOAT_ATTRIBUTE = "attention_dropout"
"""Attention modules that pass a float probability to their attention function (Llama-style, ModernBERT)."""


def attention_dropout_sites(model) -> list[tuple[object, str]]:
    """``(module, attribute)`` of every attention-probability dropout in ``model`` that negmine recognises: an
    ``nn.Dropout`` at :data:`ATTENTION_DROPOUT_SITES`, or a float :data:`FLOAT_ATTRIBUTE` on an ``*Attention``."""
    import torch

    sites = []
    for module in model.modules():
        name = type(module).__name__
        for suffix, attribute in ATTENTION_DROPOUT_SITES:
            if name.endswith(suffix) and isinstance(getattr(module, attribute, None), torch.nn.Dropout):
                sites.append((module, attribute))
                break
        else:
            if name.endswith("Attention") and isinstance(getattr(module, FLOAT_ATTRIBUTE, None), float):
                sites.append((module, FLOAT_ATTRIBUTE))
    return sites


def set_attention_dropout(model, p: float) -> int:
    """Set every attention-probability dropout in ``model`` to ``p``; returns how many sites were set.

    Raises ConfigError when the model has none that negmine recognises, rather than silently training with
    the dropout unchanged."""
    sites = attention_dropout_sites(model)
    for module, attribute in sites:
        if attribute == FLOAT_ATTRIBUTE:
            setattr(module, attribute, p)
        else:
            getattr(module, attribute).p = p
    if not sites:
        kinds = sorted({type(m).__name__ for m in model.modules() if "attention" in type(m).__name__.lower()})
        raise ConfigError(
            f"attention_dropout: found no attention dropout to set in this model (attention modules: "
            f"{', '.join(kinds) or 'none'}); negmine knows nn.Dropout attributes "
            f"{', '.join(f'{s}.{a}' for s, a in ATTENTION_DROPOUT_SITES)} and float '{FLOAT_ATTRIBUTE}' on "
            "*Attention modules. Use --attention-dropout model (or leave it unset) to train with the model's own "
            "dropout"
        )
    return len(sites)


def apply_attention_dropout(model, setting: float | str, device: str) -> float | str:
    """Apply ``TrainConfig.attention_dropout`` to ``model`` training on ``device``; returns what the run trains with:
    the probability set, or ``"model"`` for the model's own.

    ``auto`` is 0 on a CPU when the model has sites negmine recognises (PyTorch's fused CPU attention kernel takes
    no dropout, so with it every step runs the unfused math path); on ``cuda``/``mps`` (whose fused kernels take
    dropout) and for a model without recognised sites it keeps the model's own, without an error. ``model`` keeps
    the model's own; a number is set, and a model without recognised sites is a ConfigError
    (:func:`set_attention_dropout`)."""
    if setting == "auto":
        setting = auto_setting(device, bool(attention_dropout_sites(model)))
    if setting == "model":
        return "model"
    set_attention_dropout(model, float(setting))
    return float(setting)


def auto_setting(device: str, recognised: bool) -> float | str:
    """What ``auto`` is on ``device`` for a model whose attention dropout negmine does (``recognised``) or does not
    recognise: 0.0 on a CPU for a recognised one, else ``"model"`` (the model's own)."""
    return 0.0 if device.split(":")[0] == "cpu" and recognised else "model"


def model_attention_dropout(model) -> dict:
    """The model's own attention dropout, read before the run sets it, recorded beside a run's settings so that
    ``--resume`` can tell what another setting would train with (:func:`trained_with`): ``recognised`` (whether
    negmine recognises any), ``model_own`` (the probability every recognised site holds; None when none is
    recognised or they differ)."""
    sites = attention_dropout_sites(model)
    values = {float(getattr(m, a) if a == FLOAT_ATTRIBUTE else getattr(m, a).p) for m, a in sites}
    return {"recognised": bool(sites), "model_own": values.pop() if len(values) == 1 else None}


def trained_with(setting: float | str, device: str, model_facts: dict | None) -> float | str:
    """What a run of ``setting`` on ``device`` trains with, as far as it is known without loading the model: the
    probability, ``"model"`` (the model's own, its value not known) or ``"auto"`` (0 or the model's own: not known).
    ``model_facts`` are :func:`model_attention_dropout`'s for the run's model, None when not known: ``auto`` is then
    known off a CPU only (the model's own), and ``model`` stays ``"model"``."""
    if setting == "auto":
        if model_facts is None and device.split(":")[0] == "cpu":
            return "auto"
        setting = auto_setting(device, bool(model_facts and model_facts.get("recognised")))
    if setting == "model":
        own = model_facts.get("model_own") if model_facts else None
        return "model" if own is None else float(own)
    return float(setting)
