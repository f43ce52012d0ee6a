from negmine.train.samplers.cluster_count import default_num_clusters


def test_default_number_of_clusters():
    assert default_num_clusters(809, 32) == 12
    assert default_num_clusters(10, 32) == 1
