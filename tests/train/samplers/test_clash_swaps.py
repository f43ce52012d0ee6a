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


def test_a_swap_never_brings_a_clash_into_either_batch():
    """Row 1 shares "q" with row 0 and "r" with row 4: it can only take row 4's place, and does when row 4 fits in
    its batch; when row 4 shares a text with row 0 too, no swap frees row 1, which stays and is counted."""
    topics = [0] * 6
    batches = [[0, 1, 2], [3, 4, 5]]
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q"), ((1, 4), "r")]), topics) == 0
    assert batches == [[0, 4, 2], [3, 1, 5]]
    batches = [[0, 1, 2], [3, 4, 5]]
    assert swap_clashing_rows(batches, _values(6, [((0, 1), "q"), ((1, 4), "r"), ((0, 4), "s")]), topics) == 1
    assert batches == [[0, 1, 2], [3, 4, 5]]
