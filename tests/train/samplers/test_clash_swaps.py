from negmine.train.samplers.clash_swaps import swap_clashing_rows


def _values(n, shared):
    values = {i: {f"t{i}"} for i in range(n)}
    for rows, text in shared:
        for row in rows:
            values[row].add(text)
    return values


def test_a_row_of_the_same_cluster_is_preferred_to_an_earlier_batch_of_another():
    topics = [0] * 6 + [1] * 3
    batches = [[6, 7, 8], [0, 1, 2], [3, 4, 5]]  # rows 0 and 1 share "q"; batch 0 is of cluster 1
    assert swap_clashing_rows(batches, _values(9, [((0, 1), "q")]), topics) == 0
    assert batches == [[6, 7, 8], [0, 3, 2], [1, 4, 5]]


def test_another_cluster_only_between_batches_that_mix_clusters_already():
    topics = [0, 0, 1, 2, 1, 2]
    batches = [[0, 1, 2], [3, 4, 5]]  # no other row of cluster 0 for row 1; both batches mix clusters
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q")]), topics) == 0
    assert batches == [[0, 3, 2], [1, 4, 5]]


def test_a_single_cluster_batch_never_takes_another_clusters_row():
    """Topic purity first: the clash stays rather than mixing two clusters' batches."""
    topics = [0] * 3 + [1] * 3
    batches = [[0, 1, 2], [3, 4, 5]]
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q")]), topics) == 1
    assert batches == [[0, 1, 2], [3, 4, 5]]
    topics = [0, 0, 1, 2, 2, 2]  # row 1's batch mixes clusters, the other one is cluster 2's only
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q")]), topics) == 1
    assert batches == [[0, 1, 2], [3, 4, 5]]


def test_a_freeing_swap_never_brings_a_clash_into_either_batch():
    """Row 1 shares "q" with row 0 and "r" with row 4: it can only take row 4's place, and does when row 4 fits in
    its batch; when row 4 shares a text with row 0 too, no swap frees row 1, which stays and is counted."""
    topics = [0] * 6
    batches = [[0, 1, 2], [3, 4, 5]]
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q"), ((1, 4), "r")]), topics) == 0
    assert batches == [[0, 4, 2], [3, 1, 5]]
    batches = [[0, 1, 2], [3, 4, 5]]
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q"), ((1, 4), "r"), ((0, 4), "s")]), topics) == 1
    assert batches == [[0, 1, 2], [3, 4, 5]]


def _clashing_rows(batches, values):
    return sum(any(values[row] & values[o] for o in batch if o != row) for batch in batches for row in batch)


def test_where_no_swap_frees_a_row_a_swap_that_lowers_the_clashing_rows_is_made():
    """Row 1 shares "q" with row 0 and "r" with rows 3 and 4 of the other batch: no swap frees it (every place there
    shares "r"), but taking row 3's place frees rows 0 and 1 of their batch and leaves two rows sharing "r" in the
    other, as before: 4 clashing rows -> 2."""
    values = _values(6, [((0, 1), "q"), ((1, 3, 4), "r")])
    batches = [[0, 1, 2], [3, 4, 5]]
    assert _clashing_rows(batches, values) == 4
    assert swap_clashing_rows(batches, values, [0] * 6) == 1
    assert batches == [[0, 3, 2], [1, 4, 5]]
    assert _clashing_rows(batches, values) == 2


def test_a_lowering_swap_keeps_the_same_rules_for_clusters():
    """As above with two single-cluster batches: the clashes stay (rows 1 and 4) rather than mixing two clusters'
    batches."""
    batches = [[0, 1, 2], [3, 4, 5]]
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q"), ((1, 3, 4), "r")]), [0, 0, 0, 1, 1, 1]) == 2
    assert batches == [[0, 1, 2], [3, 4, 5]]


def test_a_swap_that_would_not_lower_the_clashing_rows_is_not_made():
    """Row 1 shares "q" with row 0 and "r" with row 3 only: taking a place in the other batch frees 2 rows here and
    adds 2 there (row 3's, or row 4's and 5's with row 3 staying), so nothing moves."""
    batches = [[0, 1, 2], [3, 4, 5]]
    values = _values(6, [((0, 1), "q"), ((1, 3), "r"), ((3, 0), "s")])
    assert swap_clashing_rows(batches, values, [0] * 6) == 1
    assert batches == [[0, 1, 2], [3, 4, 5]]
