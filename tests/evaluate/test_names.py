"""The names negmine eval gives its runs (negmine.evaluate.names): a run file's name was its TREC tag, or, when that tag
was shared, its stem, parent/stem or path, so the same file was named by what else the command evaluated. A name
given to a run file (``--run NAME=PATH``, ``EvalConfig.run_names``) is kept whatever the other runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from negmine.errors import ConfigError
from negmine.evaluate.names import check_given_names, name_note, name_runs


def test_a_given_name_is_kept_and_an_unnamed_file_sharing_it_is_renamed() -> None:
    files = [("negmine", "runs/a.trec"), ("negmine", "runs/b.trec"), ("mine", "x/mine.trec"), ("c", "c.trec")]
    labels, names, named_by = name_runs(("bm25",), files, ("mine", None, None, None))
    assert labels == ["bm25"]
    assert names == ["mine", "negmine", "x/mine", "c"]  # runs/b's tag is now its own; x/mine's stem is 'mine' too
    assert named_by == ["given", "tag", "parent/stem", "tag"]
    assert name_runs(("bm25",), files)[1:] == (["a", "b", "mine", "c"], ["stem", "stem", "tag", "tag"])


def test_a_given_name_does_not_depend_on_the_other_runs() -> None:
    """The file named 'mine' keeps its name alone, beside a file of the same tag, and beside a model of its tag."""
    alone = name_runs((), [("negmine", "runs/a.trec")], ("mine",))[1]
    shared = name_runs((), [("negmine", "runs/a.trec"), ("negmine", "runs/b.trec")], ("mine", None))[1]
    model = name_runs(("org/negmine",), [("negmine", "runs/a.trec")], ("mine",))[1]
    assert alone[0] == shared[0] == model[0] == "mine"


def test_a_name_left_clashing_is_refused_naming_the_file_and_the_fix() -> None:
    """Only names given to other files can take each name an unnamed file tries: its tag, stem, parent/stem, path."""
    files = [("x", "b.trec")] + [("t", f"{i}.trec") for i in range(4)]
    with pytest.raises(ConfigError) as caught:
        name_runs((), files, (None, "x", "b", "/b", "b.trec"))
    assert str(caught.value) == ("run file b.trec is named 'b.trec', the name of another run of this evaluation; give "
                                 "it a name of its own: run_names (--run NAME=PATH)")


def test_names_given_twice_or_to_a_model_are_refused_naming_both() -> None:
    files = (Path("runs/a.trec"), Path("runs/b.trec"))
    with pytest.raises(ConfigError) as caught:
        check_given_names((), files, ("mine", "mine"))
    assert str(caught.value) == ("run name 'mine' is given to two run files, runs/a.trec and runs/b.trec; give each "
                                 "its own name: run_names (--run NAME=PATH)")
    with pytest.raises(ConfigError) as caught:
        check_given_names(("org/e5", "bm25"), files, (None, "e5"))
    assert str(caught.value) == ("run name 'e5' of run file runs/b.trec is the name of model 'org/e5'; give the run "
                                 "file another name: run_names (--run NAME=PATH)")
    check_given_names(("a/e5", "b/e5"), files, ("e5", None))  # the models are named a/e5 and b/e5 here


def test_the_note_names_a_renamed_file_only() -> None:
    record = {"source": "runs/b.trec", "tag": "negmine", "named_by": "stem"}
    assert name_note("b", record) == ("run file runs/b.trec: its tag 'negmine' is shared, named 'b' (name it yourself: "
                                      "--run NAME=runs/b.trec)")
    assert name_note("negmine", {**record, "named_by": "tag"}) == name_note("x", {**record, "named_by": "given"}) == ""
