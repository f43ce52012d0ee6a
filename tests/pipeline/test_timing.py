import time

import pytest

from negmine.pipeline.timing import StageTimer


def test_stage_seconds_accumulate_and_are_kept_when_the_stage_raises():
    timer = StageTimer()
    with timer("encode"):
        time.sleep(0.02)
    with timer("encode"):
        time.sleep(0.02)
    with pytest.raises(RuntimeError):
        with timer("search"):
            raise RuntimeError("boom")
    assert list(timer.seconds) == ["encode", "search"]
    assert timer.seconds["encode"] >= 0.04
    assert timer.rounded()["encode"] == round(timer.seconds["encode"], 3)
