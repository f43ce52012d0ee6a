from __future__ import annotations

import pytest

from negmine.errors import InputError
from negmine.io.columns import POSITIVE_COLUMNS, QUERY_COLUMNS, find_column, pick_column


def test_given_column_wins_over_aliases():
    assert pick_column("f", ["query", "mine"], "mine", QUERY_COLUMNS, "query", "fix") == "mine"


def test_first_alias_in_alias_order():
    assert pick_column("f", ["sentence2", "answer"], None, POSITIVE_COLUMNS, "positive", "fix") == "answer"


def test_missing_given_column():
    with pytest.raises(InputError) as info:
        pick_column("f.csv", ["a", "b"], "c", QUERY_COLUMNS, "query", "fix")
    assert str(info.value) == "f.csv: field 'c': query column not found; available columns: 'a', 'b'"


def test_missing_given_column_suggests_the_closest_one():
    # `--positive-column answer` on a file of question/answer_text columns listed them only
    with pytest.raises(InputError) as info:
        pick_column("f.csv", ["question", "answer_text"], "answer", POSITIVE_COLUMNS, "positive", "fix")
    assert str(info.value) == ("f.csv: field 'answer': positive column not found; available columns: 'question', "
                               "'answer_text'; did you mean 'answer_text'?")
    with pytest.raises(InputError) as info:
        pick_column("f.csv", ["Query", "positive"], "query", QUERY_COLUMNS, "query", "fix")
    assert str(info.value).endswith("available columns: 'Query', 'positive'; did you mean 'Query'?")


def test_no_alias_present():
    with pytest.raises(InputError) as info:
        pick_column("f.csv", [], None, ("x", "y"), "thing", "do this")
    assert str(info.value) == "f.csv: no thing column found (looked for x, y); available columns: none; do this"


def test_find_column_optional():
    assert find_column(["b", "id"], ("_id", "id")) == "id"
    assert find_column(["b"], ("_id", "id")) is None
