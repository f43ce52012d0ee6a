from __future__ import annotations

from pathlib import Path

import pytest

from negmine.config import UNKNOWN_QRELS, DataConfig, EvalConfig
from negmine.errors import ConfigError


def test_unknown_qrels_defaults_to_error_and_accepts_every_listed_policy():
    assert DataConfig().unknown_qrels == "error" == EvalConfig().unknown_qrels
    assert UNKNOWN_QRELS == ("error", "skip")
    for policy in UNKNOWN_QRELS:
        DataConfig(data_dir=Path("beir"), unknown_qrels=policy).validate()
        EvalConfig(data_dir=Path("beir"), unknown_qrels=policy).validate()


@pytest.mark.parametrize("config", [DataConfig(data_dir=Path("beir"), unknown_qrels="Skip"),
                                    EvalConfig(data_dir=Path("beir"), unknown_qrels="Skip"),
                                    DataConfig(pairs=Path("p.jsonl"), unknown_qrels="Skip")])
def test_bad_unknown_qrels_lists_the_allowed_values_and_the_flag(config):
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == (
        "unknown unknown-qrels policy 'Skip'; allowed: error, skip "
        "(--unknown-qrels skip drops qrels rows whose corpus-id is not in the corpus)"
    )
