from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from negmine.config import TrainConfig
from negmine.train import TRAINING_VERSION
from negmine.train.versions import CHANGED_RUNS, FIRST_SCOPED_VERSION, trains_unchanged

PLAIN = TrainConfig(train_file=Path("m.jsonl"), output_dir=Path("o"))


def test_every_bump_since_the_first_scoped_version_names_the_runs_it_changed() -> None:
    assert sorted(CHANGED_RUNS) == list(range(FIRST_SCOPED_VERSION + 1, TRAINING_VERSION + 1))


def test_a_default_run_is_unchanged_since_version_5_and_changed_before() -> None:
    assert all(trains_unchanged(v, PLAIN) for v in range(FIRST_SCOPED_VERSION, TRAINING_VERSION + 1))
    assert not trains_unchanged(FIRST_SCOPED_VERSION - 1, PLAIN)
    assert not trains_unchanged(TRAINING_VERSION + 1, PLAIN)  # recorded by newer code


def test_a_re_mining_run_recorded_before_version_6_is_changed() -> None:
    remining = dataclasses.replace(PLAIN, remine_steps=12)
    assert not trains_unchanged(5, remining)
    assert trains_unchanged(6, remining)


@pytest.mark.parametrize(("directions", "margin", "changed"), [
    (("query_to_doc", "doc_to_query"), 0.1, True),
    (("query_to_doc", "doc_to_doc"), 0.0, True),
    (("query_to_doc", "query_to_query"), 0.1, False),  # query_to_query has no margin mask
    (("query_to_doc", "doc_to_query"), None, False),
    (("query_to_doc",), 0.1, False),
])
def test_fn_margin_runs_with_extra_document_directions_recorded_before_version_7_are_changed(directions, margin,
                                                                                             changed) -> None:
    config = dataclasses.replace(PLAIN, directions=directions, fn_margin=margin)
    assert CHANGED_RUNS[7](config) is changed
    if "query_to_query" not in directions:  # bump 9 changed query_to_query runs
        assert trains_unchanged(6, config) is not changed
        assert trains_unchanged(7, config)


def test_a_topic_batching_run_recorded_before_version_8_is_changed() -> None:
    topic = dataclasses.replace(PLAIN, batching="topic")
    assert not trains_unchanged(7, topic)
    assert CHANGED_RUNS[8](topic)
    assert trains_unchanged(7, PLAIN)


def test_a_topic_batching_run_recorded_before_version_10_is_changed() -> None:
    topic = dataclasses.replace(PLAIN, batching="topic")
    assert not trains_unchanged(9, topic)
    assert trains_unchanged(10, topic)
    assert trains_unchanged(9, PLAIN)


@pytest.mark.parametrize(("directions", "fn_mask", "changed"), [
    (("query_to_doc", "query_to_query"), True, True),
    (("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"), True, True),
    (("query_to_doc", "query_to_query"), False, False),  # nothing masked without fn_mask
    (("query_to_doc", "doc_to_query"), True, False),
])
def test_query_to_query_runs_recorded_before_version_9_are_changed(directions, fn_mask, changed) -> None:
    config = dataclasses.replace(PLAIN, directions=directions, fn_mask=fn_mask)
    assert trains_unchanged(8, config) is not changed
    assert trains_unchanged(9, config)


def test_a_focal_run_recorded_before_version_11_is_changed_and_a_plain_one_is_not() -> None:
    focal = dataclasses.replace(PLAIN, focal_gamma=1.0)
    assert CHANGED_RUNS[11](focal) and not CHANGED_RUNS[11](PLAIN)
    assert not trains_unchanged(10, focal)
    assert trains_unchanged(11, focal)
    assert trains_unchanged(10, PLAIN)
