import pytest

from negmine.config import DataConfig, FilterConfig, MineConfig, RetrieveConfig
from negmine.errors import ConfigError
from negmine.select.consistency import is_consistent, positive_rank


def test_rank_counts_candidates_strictly_above_the_positive(make_pool):
    assert positive_rank(make_pool([0.9, 0.8, 0.5, 0.1], 0.6)) == 3
    assert positive_rank(make_pool([0.5, 0.4], 0.9)) == 1
    assert positive_rank(make_pool([0.5, 0.5, 0.25], 0.5)) == 1, "ties do not push the positive down"


def test_positive_below_every_candidate_ranks_past_the_pool(make_pool):
    assert positive_rank(make_pool([0.9, 0.8, 0.7], 0.1)) == 4
    assert positive_rank(make_pool([], 0.1)) == 1


def test_negative_scores_work(make_pool):
    assert positive_rank(make_pool([-0.1, -0.2, -0.5], -0.3)) == 3


def test_limit_is_inclusive_and_none_keeps_everything(make_pool):
    pool = make_pool([0.9, 0.8, 0.5], 0.6)  # rank 3
    assert is_consistent(pool, 3) and not is_consistent(pool, 2)
    assert is_consistent(make_pool([0.9] * 50, 0.0), None)


@pytest.mark.parametrize("bad", [0, -3])
def test_bad_limit_names_the_option(bad):
    with pytest.raises(ConfigError, match=rf"max_positive_rank must be a positive integer, got {bad!r}.*--max-positive-rank"):
        FilterConfig(max_positive_rank=bad).validate()


def test_a_fractional_limit_is_refused_by_type_naming_the_field():
    # only the Python API can pass a float (the command line's option is typed int): the field type check names it
    with pytest.raises(ConfigError, match=r"FilterConfig\.max_positive_rank must be an integer or None, got 2\.5 \(float\)"):
        FilterConfig(max_positive_rank=2.5).validate()


def test_limit_beyond_depth_is_rejected(tmp_path):
    config = MineConfig(data=DataConfig(data_dir=tmp_path), retrieve=RetrieveConfig(depth=50), filters=FilterConfig(max_positive_rank=80))
    with pytest.raises(ConfigError, match=r"max_positive_rank 80 is beyond the candidate depth 50.*; raise retrieve\.depth \(--depth\) to at least 80$"):
        config.validate()
