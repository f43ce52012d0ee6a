import json

import pytest

from negmine.audit.api import run_audit
from negmine.config import AuditConfig, JudgeConfig, NearDupConfig
from negmine.errors import ConfigError, InputError

from .conftest import sample_rows


def _mined(tmp_path):
    path = tmp_path / "mined.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in sample_rows()), encoding="utf-8")
    return path


def test_run_audit_is_the_command_as_a_function(tmp_path):
    mined = _mined(tmp_path)
    config = AuditConfig(input=mined, judges=JudgeConfig(near_dup=NearDupConfig(cosine=None)),
                         flags=tmp_path / "f.flags.jsonl", output=tmp_path / "clean.jsonl", formats=("triplet",))
    summary = run_audit(config)
    assert summary["counts"]["pairs"] == len(sample_rows())
    assert json.loads((tmp_path / "f.audit-summary.json").read_text())["counts"] == summary["counts"]
    assert (tmp_path / "f.flags.jsonl").is_file() and (tmp_path / "clean.jsonl").is_file()
    assert (tmp_path / "clean.triplet.jsonl").is_file() and summary["exports"] == {"triplet": str(tmp_path / "clean.triplet.jsonl")}


def test_run_audit_checks_before_any_model_loads(tmp_path):
    with pytest.raises(InputError, match="not found; pass a mined native JSONL file or a BEIR directory"):
        run_audit(AuditConfig(input=tmp_path / "missing.jsonl", flags=tmp_path / "f.flags.jsonl"))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="no rows"):
        run_audit(AuditConfig(input=empty, flags=tmp_path / "f.flags.jsonl"))
    with pytest.raises(ConfigError, match="unknown export format 'csv'"):
        run_audit(AuditConfig(input=_mined(tmp_path), output=tmp_path / "c.jsonl", formats=("csv",)))
