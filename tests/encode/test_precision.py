from __future__ import annotations

import pytest

from negmine.encode.precision import cpu_flags, cpu_has_native_bf16, resolve_precision
from negmine.errors import ConfigError

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu vme sse sse2 avx2 avx512f {extra}
bogomips\t: 4000.00
"""


@pytest.fixture
def cpuinfo(tmp_path):
    def write(extra: str):
        path = tmp_path / "cpuinfo"
        path.write_text(CPUINFO.format(extra=extra))
        return path

    return write


def test_flags_parsed(cpuinfo):
    flags = cpu_flags(cpuinfo("avx512_bf16"))
    assert {"avx2", "avx512f", "avx512_bf16"} <= flags
    assert "GenuineIntel" not in flags


@pytest.mark.parametrize("extra,native", [("avx512_bf16", True), ("amx_bf16 amx_tile", True), ("avx512_vnni", False)])
def test_native_bf16_detection(cpuinfo, extra, native):
    path = cpuinfo(extra)
    assert cpu_has_native_bf16(path) is native
    assert resolve_precision("auto", "cpu", path) == ("bf16" if native else "fp32")


def test_missing_cpuinfo_means_fp32(tmp_path):
    assert cpu_flags(tmp_path / "absent") == set()
    assert resolve_precision("auto", "cpu", tmp_path / "absent") == "fp32"


@pytest.mark.parametrize("choice", ["fp32", "bf16"])
def test_explicit_precision_kept(cpuinfo, choice):
    assert resolve_precision(choice, "cpu", cpuinfo("")) == choice


def test_unknown_precision_lists_choices():
    with pytest.raises(ConfigError, match=r"unknown precision 'fp16'; allowed: auto, bf16, fp32"):
        resolve_precision("fp16")


class _Properties:
    def __init__(self, major: int) -> None:
        self.major = major


@pytest.mark.parametrize("major,hip,expected", [(8, None, "bf16"), (9, None, "bf16"), (7, None, "fp32"),
                                                (7, "6.2", "bf16")])
def test_auto_on_cuda_is_bf16_only_where_the_gpu_has_it_natively(monkeypatch, major, hip, expected):
    """No GPU here: torch.cuda is faked. A pre-Ampere GPU (compute capability 7.x) emulates bf16, and
    torch.cuda.is_bf16_supported() still says True there (its including_emulation defaults to True): auto used to
    pick bf16 on it, slower than fp32. ROCm builds have bf16."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: _Properties(major))
    monkeypatch.setattr(torch.version, "hip", hip)
    assert resolve_precision("auto", "cuda") == expected
    assert resolve_precision("fp32", "cuda") == "fp32" and resolve_precision("bf16", "cuda") == "bf16"


def test_auto_on_cuda_without_a_gpu_is_fp32_and_on_mps_fp32():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    assert resolve_precision("auto", "cuda") == "fp32"
    assert resolve_precision("auto", "mps") == "fp32"
