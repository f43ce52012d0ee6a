def test_batch_stats_count_repeating_batches_clashing_rows_and_single_cluster_rows(benchmarks):
    batch_stats = benchmarks("topic_batches").batch_stats
    values = {0: {"q", "a"}, 1: {"q", "b"}, 2: {"c"}, 3: {"d"}, 4: {"e", "n"}, 5: {"f", "n"}}
    topics = [0, 0, 0, 1, 1, 2]
    stats = batch_stats([[0, 1, 2], [3, 4, 5]], values, topics)
    assert stats == {"batches": 2, "repeating_batches": 2, "clashing_rows": 4, "single_cluster_rows": 0.5}
    assert batch_stats([[0, 2], [1, 3], [4], [5]], values, topics)["repeating_batches"] == 0
