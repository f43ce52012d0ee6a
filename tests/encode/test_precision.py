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
