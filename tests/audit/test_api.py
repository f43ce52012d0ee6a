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


def _no_model(*args, **kwargs):
    raise AssertionError("a model or judge loaded before the input file was checked")


@pytest.mark.parametrize("judges", [
    JudgeConfig(),
    JudgeConfig(sd_margin=None, relative_margin=0.05),
    JudgeConfig(judges=("near-duplicate",)),
    JudgeConfig(judges=("score",), sd_margin=None, absolute_margin=0.1),
])
@pytest.mark.parametrize("spoil, field, message", [
    (lambda r: r["negative_scores"].pop(), "negative_scores", "has 3 entries but negative_ids has 4; the lists"),
    (lambda r: r["negative_ids"].__setitem__(1, r["positive_id"]), "negative_ids", "entry 1 is the row's positive_id 'p1'"),
])
def test_every_row_of_the_input_is_checked_before_any_model_loads(tmp_path, monkeypatch, judges, spoil, field,
                                                                  message):
    import negmine.audit.resources as resources
    import negmine.pipeline.mine as pipeline_mine

    rows = sample_rows() * 3
    last = json.loads(json.dumps(rows[0]))
    spoil(last)
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in [*rows, last]), encoding="utf-8")
    for module, name in ((pipeline_mine, "make_embedder"), (pipeline_mine, "make_cache"),
                         (resources, "load_resources")):
        monkeypatch.setattr(module, name, _no_model)
    with pytest.raises(InputError, match=rf"mined.jsonl:10: field '{field}': {message}"):
        run_audit(AuditConfig(input=mined, judges=judges, flags=tmp_path / "f.flags.jsonl"))
    assert not (tmp_path / "f.flags.jsonl").exists()
