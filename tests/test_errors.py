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
