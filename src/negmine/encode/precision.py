"""Which float precision an encoder runs in.

``bf16`` runs the forward pass under ``torch.autocast(dtype=torch.bfloat16)``: matrix multiplies in bf16,
numerically sensitive ops (softmax, layer norm) kept in fp32 by autocast's op lists. Measured on
all-MiniLM-L6-v2 / 500 SciFact docs / 2 shared cores with AVX512-BF16 (best of 3 interleaved rounds):
fp32 68.4 s; autocast 31.9 s (2.1x), cosine to fp32 >= 0.99997, doc-to-doc top-10 overlap 0.992;
casting the weights (``model.to(torch.bfloat16)``) 28.9 s (2.4x) but cosine >= 0.99992, overlap 0.988,
and it needs a second copy of the model (or mutates the caller's, e.g. a model being trained).
Autocast is used: nearly as fast, more accurate, and the wrapped model is left untouched. ``auto``
picks bf16 only where the hardware has native bf16 arithmetic (CPU flags ``avx512_bf16`` or
``amx_bf16``; CUDA devices of compute capability 8.0 or newer, and ROCm); emulated bf16 is slower than fp32.
"""

from __future__ import annotations

from pathlib import Path

from negmine.config import PRECISIONS
from negmine.errors import unknown_choice

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The CPU feature flags listed in ``cpuinfo`` (empty when the file is missing, e.g. on macOS)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    flags: set[str] = set()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return flags


def cpu_has_native_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """True when the CPU advertises native bf16 instructions (AVX512-BF16 or AMX-BF16)."""
    return any(flag in cpu_flags(cpuinfo) for flag in NATIVE_BF16_FLAGS)


def resolve_precision(precision: str, device_type: str = "cpu", cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """Map ``auto``/``fp32``/``bf16`` to the precision actually used: ``"fp32"`` or ``"bf16"``."""
    if precision not in PRECISIONS:
        raise unknown_choice("precision", precision, PRECISIONS)
    if precision != "auto":
        return precision
    if device_type == "cpu":
        return "bf16" if cpu_has_native_bf16(cpuinfo) else "fp32"
    if device_type == "cuda":
        return "bf16" if cuda_has_native_bf16() else "fp32"
    return "fp32"


def cuda_has_native_bf16() -> bool:
    """True when the current CUDA device has native bf16 arithmetic: compute capability 8.0 or newer (Ampere on),
    or a ROCm build. Not ``torch.cuda.is_bf16_supported()``: it also says True on older GPUs that only emulate
    bf16 (its ``including_emulation`` defaults to True), where bf16 is slower than fp32."""
    import torch

    if not torch.cuda.is_available():
        return False
    if torch.version.hip:
        return True
    return torch.cuda.get_device_properties(torch.cuda.current_device()).major >= 8
