import pytest

from negmine.config import TrainConfig
from negmine.errors import ConfigError
from negmine.train.losses import LOSSES, build_loss


@pytest.mark.parametrize("loss", list(LOSSES))
def test_builder_passes_every_loss_setting(loss, tiny_model_path):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    config = TrainConfig(loss=loss, scale=30.0, fn_mask=False, fn_margin=0.2, hardness="in-batch",
                         hardness_strength=2.0, mini_batch_size=4, directions=("query_to_doc", "doc_to_query"),
                         partition_mode="per_direction")
    built = build_loss(model, config)
    assert (built.directions, built.partition_mode) == (("query_to_doc", "doc_to_query"), "per_direction")
    assert (built.scale, built.fn_mask, built.fn_margin) == (30.0, False, 0.2)
    assert (built.hardness, built.hardness_strength) == ("in-batch", 2.0)
    # the sentence-transformers parent gets the same weighting for its own (unmasked) path
    assert (built.hardness_mode, built.hardness_strength) == ("in_batch_negatives", 2.0)


def test_default_weights_every_negative():
    built = build_loss(None, TrainConfig())
    assert (built.hardness, built.hardness_strength, built.hardness_mode) == ("all", 5.0, "all_negatives")


def test_unknown_loss_lists_the_registry():
    with pytest.raises(ConfigError, match="unknown loss 'triplet'; allowed: cached-mnrl, mnrl"):
        build_loss(None, TrainConfig(loss="triplet"))
