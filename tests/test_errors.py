"""negmine's exceptions."""

from __future__ import annotations

import pickle

from negmine.errors import ConfigError, EngineError, InputError


def test_errors_survive_pickling():
    """A worker process (Ray) sends its error to the driver pickled; InputError's own arguments did not
    round-trip (unpickling raised TypeError)."""
    err = pickle.loads(pickle.dumps(InputError("qrels/train.tsv", 7, "corpus-id", "unknown corpus id 'D42'")))
    assert isinstance(err, InputError)
    assert str(err) == "qrels/train.tsv:7: field 'corpus-id': unknown corpus id 'D42'"
    assert (err.path, err.line, err.field, err.problem) == ("qrels/train.tsv", 7, "corpus-id", "unknown corpus id 'D42'")
    for other in (ConfigError("bad --x 3; use 1"), EngineError("worker differs")):
        again = pickle.loads(pickle.dumps(other))
        assert type(again) is type(other) and str(again) == str(other)


def test_field_option_and_field_setting_name_the_config_field_and_the_cli_option():
    """A message that says what to change names it both ways: a Python user has the config field, not the option."""
    from negmine.errors import field_option, field_setting

    assert field_option("num_negatives") == "num_negatives (--num-negatives)"
    assert field_option("retrieve.depth") == "retrieve.depth (--depth)"  # a nested config's field
    assert field_option("learning_rate", "--lr") == "learning_rate (--lr)"
    assert field_setting("num_negatives", 5) == "num_negatives=5 (--num-negatives 5)"
    assert field_setting("strategy", "simans") == "strategy='simans' (--strategy simans)"
    assert field_setting("keep_partial", True) == "keep_partial=True (--keep-partial)"  # a flag takes no value
    assert field_setting("method", "dense", "--retriever") == "method='dense' (--retriever dense)"
    assert field_setting("checkpoint_steps", 500, cli="--checkpoint-steps 500 (not --no-checkpoints)") == (
        "checkpoint_steps=500 (--checkpoint-steps 500 (not --no-checkpoints))")
