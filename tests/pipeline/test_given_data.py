from __future__ import annotations

from pathlib import Path

import pytest

from negmine.config import DataConfig
from negmine.errors import ConfigError
from negmine.pipeline.given_data import NAMED_INPUTS, named_inputs, refuse_named_inputs


def test_every_field_naming_data_is_listed_with_its_value_in_field_order():
    every = DataConfig(**{name: Path(f"/d/{name}") for name in NAMED_INPUTS})
    assert named_inputs(every) == [f"{name} ('/d/{name}')" for name in NAMED_INPUTS]
    assert named_inputs(DataConfig(split="dev", unknown_qrels="skip", query_column="q")) == []


def test_the_message_names_the_fields_joined_and_ends_with_the_callers_fix():
    refuse_named_inputs(DataConfig(unknown_qrels="skip"), "f()", "fix")  # nothing named: nothing refused
    with pytest.raises(ConfigError) as info:
        refuse_named_inputs(DataConfig(corpus=Path("c.jsonl"), queries=Path("q.jsonl"), qrels=Path("r.tsv")),
                            "f()", "do this")
    assert str(info.value) == ("f() mines the data it is given, but the config's data also names corpus ('c.jsonl'), "
                               "queries ('q.jsonl') and qrels ('r.tsv'), which it would not read; do this")
