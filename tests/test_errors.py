"""negmine's exceptions."""

from __future__ import annotations

import pickle

import pytest

from negmine.errors import ConfigError, EngineError, InputError, counted


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


def test_dataset_input_errors_survive_pickling():
    """A Hugging Face dataset's rows have no file line: the error names the dataset, row (and 0-based index), column."""
    from negmine.errors import DatasetInputError

    err = pickle.loads(pickle.dumps(DatasetInputError("dataset 'nq'", 17, "positive", "empty text")))
    assert type(err) is DatasetInputError and str(err) == "dataset 'nq', row 17 (index 16), column 'positive': empty text"
    assert (err.source, err.row, err.field, err.path, err.line) == ("dataset 'nq'", 17, "positive", None, None)


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


def test_unknown_choice_suggests_the_closest_name_and_the_option_that_takes_it():
    """An unknown name lists the allowed ones, then the fix: the closest name as a setting when it is a typo, else
    the field and option to pick one with; a list field (formats, judges, directions) names the option's value."""
    from negmine.errors import unknown_choice

    strategies = ("top", "range", "random", "simans")
    assert str(unknown_choice("strategy", "simams", strategies, "strategy")) == (
        "unknown strategy 'simams'; allowed: random, range, simans, top; did you mean strategy='simans' "
        "(--strategy simans)?")
    assert str(unknown_choice("strategy", "best", strategies, "strategy")) == (
        "unknown strategy 'best'; allowed: random, range, simans, top; pick one with strategy (--strategy)")
    assert str(unknown_choice("judge", "scores", ("score", "teacher"), "judges", "--judge", many=True)) == (
        "unknown judge 'scores'; allowed: score, teacher; did you mean 'score' in judges (--judge score)?")
    assert str(unknown_choice("judge", "bm25", ("score", "teacher"), "judges", "--judge", many=True)) == (
        "unknown judge 'bm25'; allowed: score, teacher; pick one or more with judges (--judge)")
    # a look-alike that is no typo gets no suggestion: 'remove' (meant: drop) read 'did you mean promote?'
    assert str(unknown_choice("false-negative policy", "remove", ("drop", "promote", "mark"),
                              "false_negative_policy")) == (
        "unknown false-negative policy 'remove'; allowed: drop, mark, promote; pick one with false_negative_policy "
        "(--false-negative-policy)")
    assert str(unknown_choice("backend", "Torch", ("onnx", "torch"), "backend")).endswith(
        "; did you mean backend='torch' (--backend torch)?")
    # no field: a Python-only name (a demo dataset, a run of a comparison) gets the suggestion alone
    assert str(unknown_choice("demo dataset", "minifact", ("minifacts",))) == (
        "unknown demo dataset 'minifact'; allowed: minifacts; did you mean 'minifacts'?")
    assert str(unknown_choice("demo dataset", "nq", ("minifacts",))) == "unknown demo dataset 'nq'; allowed: minifacts"


def test_config_choices_suggest_the_closest_name_in_their_order():
    from negmine.config import EngineConfig, RetrieveConfig, TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(loss="mrnl").validate()
    assert str(info.value) == "unknown loss 'mrnl'; allowed: mnrl, cached-mnrl; did you mean loss='mnrl' (--loss mnrl)?"
    with pytest.raises(ConfigError) as info:
        RetrieveConfig(method="bm-25").validate()
    assert str(info.value) == ("unknown retriever 'bm-25'; allowed: dense, bm25, hybrid; did you mean "
                               "method='bm25' (--retriever bm25)?")
    with pytest.raises(ConfigError) as info:
        EngineConfig(name="spark").validate()
    assert str(info.value) == "unknown engine 'spark'; allowed: local, ray; pick one with name (--engine)"


def _mine_pairs_with_bm25(tmp_path):
    """negmine.pipeline.mine.mine on a pairs file with a repeated row (a warning of the pairs reader) and a query
    with no BM25 word (a warning of the BM25 index): no model is loaded."""
    import json

    from negmine.config import (
        DataConfig, EncoderConfig, EngineConfig, FilterConfig, MineConfig, OutputConfig, RetrieveConfig, SelectConfig,
    )
    from negmine.pipeline.mine import mine

    rows = [{"anchor": f"cell protein {i}", "positive": f"cell protein gene study {i}"} for i in range(10)]
    rows += [rows[0], {"anchor": "?? !!", "positive": "gene study blood"}]
    pairs = tmp_path / "p.jsonl"
    pairs.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    config = MineConfig(
        data=DataConfig(pairs=pairs), encoder=EncoderConfig(show_progress=False),
        retrieve=RetrieveConfig(method="bm25"), filters=FilterConfig(sd_margin=None),
        select=SelectConfig(num_negatives=2, keep_partial=True), engine=EngineConfig(workers=1),
        output=OutputConfig(path=tmp_path / "neg.jsonl"))
    return mine(config)


def test_warnings_of_the_api_point_at_the_callers_line(tmp_path):
    """A fixed stacklevel=2 pointed at a line inside negmine when the warning came a few calls deep (mine -> the
    pairs reader -> the warning), so the user saw negmine's file, and a filter on their own module did not match."""
    import warnings

    from negmine.errors import NegmineWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _mine_pairs_with_bm25(tmp_path)
    ours = [w for w in caught if issubclass(w.category, NegmineWarning)]
    assert [str(w.message)[:60] for w in ours] == [
        f"{tmp_path / 'p.jsonl'}: 1 repeated (query, positive) row kept once"[:60],
        "1 of 11 queries has no BM25 token (no word of two or more le"]
    assert [w.filename for w in ours] == [__file__, __file__]


def test_every_warning_negmine_issues_points_at_the_caller_of_negmine():
    """Each ``warnings.warn`` in negmine passes ``stacklevel=caller_stacklevel()``, so a warning added later
    points at the user's call as well (a fixed number is right only for the call path it was counted on)."""
    import ast
    from pathlib import Path

    import negmine

    source = Path(negmine.__file__).parent
    bad = []
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn"
                    and getattr(node.func.value, "id", "") == "warnings"):
                continue
            level = next((k.value for k in node.keywords if k.arg == "stacklevel"), None)
            if path.name != "errors.py" and not (isinstance(level, ast.Call)
                                                 and getattr(level.func, "id", "") == "caller_stacklevel"):
                bad.append(f"{path.relative_to(source)}:{node.lineno}")
    assert bad == []


def test_first_line_quotes_the_first_line_of_a_library_error():
    from negmine.errors import first_line

    assert first_line(ValueError("  bad header\nTraceback detail\n")) == "bad header"


def test_first_line_of_a_blank_error_is_its_class_name_or_the_given_text():
    from negmine.errors import first_line

    assert first_line(OSError()) == "OSError"
    assert first_line(ValueError("   \n")) == "ValueError"
    assert first_line(OSError(), "") == ""


@pytest.mark.parametrize(("args", "text"), [
    ((1, "row"), "1 row"), ((0, "row"), "0 rows"), ((2, "row"), "2 rows"),
    ((1, "query", "queries"), "1 query"), ((3, "query", "queries"), "3 queries"),
    ((1234, "row", None, ","), "1,234 rows"), ((1, "entry", "entries", ","), "1 entry"),
])
def test_counted_is_singular_for_one_only(args, text):
    assert counted(*args) == text
