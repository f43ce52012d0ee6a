"""Every tensor a loss builds lives on its inputs' device (a GPU when training there; no GPU here).

The embeddings and labels are on PyTorch's ``meta`` device: an operation mixing a meta tensor with a CPU tensor
raises ("Tensor on device cpu is not on the expected device meta"), as a CPU tensor mixed with a CUDA one does,
so a mask, weight or index tensor created without ``device=`` fails these tests."""

import pytest
import torch

from negmine.train.labels import pack_label
from negmine.train.losses.cached_mnrl import MaskedCachedMultipleNegativesRankingLoss
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss

GTE = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")
BATCH, NEGATIVES, DIM = 4, 2, 8


def _meta_embeddings() -> list[torch.Tensor]:
    return [torch.randn(BATCH, DIM, device="meta", requires_grad=True) for _ in range(2 + NEGATIVES)]


def _meta_labels() -> torch.Tensor:
    rows = [pack_label(r, 100 + r, [1000 * (k + 1) + r for k in range(NEGATIVES)], [int(r == 1), 0],
                       [100 + r, 102], width_known=2, query=50 + r % 2) for r in range(BATCH)]
    return torch.tensor(rows).to("meta")


class _DeviceOfMasks:
    """Stands in for MaskStats (which counts on the host: a meta tensor has no values to count)."""

    def __init__(self) -> None:
        self.devices: list[torch.device] = []

    def add(self, mask: torch.Tensor, excluded: torch.Tensor | None = None, positives: int | None = None) -> None:
        self.devices.append(mask.device)
        if excluded is not None:  # an extra direction's entries that are no candidate
            self.devices.append(excluded.device)


def _masks_counted(directions: tuple[str, ...]) -> int:
    """The tensors a loss hands its counts per (mini-)batch: the query -> document mask, then each extra direction's
    mask and its entries that are no candidate."""
    return 1 + 2 * (len(directions) - 1)


CASES = [
    ("none", ("query_to_doc",), "joint", None),
    ("all", ("query_to_doc",), "joint", 0.1),
    ("hard-negatives", GTE, "joint", None),
    ("in-batch", GTE, "joint", 0.0),
    ("all", ("query_to_doc", "doc_to_query"), "per_direction", 0.1),
]


@pytest.mark.parametrize("hardness, directions, partition, margin", CASES)
def test_masked_mnrl_builds_every_tensor_on_the_inputs_device(hardness, directions, partition, margin):
    loss_fn = MaskedMultipleNegativesRankingLoss(None, fn_margin=margin, hardness=hardness, hardness_strength=5.0,
                                                 directions=directions, partition_mode=partition)
    loss_fn.mask_stats = stats = _DeviceOfMasks()
    loss = loss_fn.compute_loss_from_embeddings(_meta_embeddings(), _meta_labels())
    assert (loss.device.type, loss.shape) == ("meta", torch.Size([]))
    assert stats.devices == [torch.device("meta")] * _masks_counted(directions)


@pytest.mark.parametrize("hardness, directions, partition, margin", CASES)
def test_masked_cached_mnrl_builds_every_tensor_on_the_inputs_device(tiny_model_path, hardness, directions, partition,
                                                                     margin):
    from sentence_transformers import SentenceTransformer

    loss_fn = MaskedCachedMultipleNegativesRankingLoss(  # two mini-batches of rows: 3, then 1
        SentenceTransformer(tiny_model_path), mini_batch_size=3, fn_margin=margin, hardness=hardness,
        hardness_strength=5.0, directions=directions, partition_mode=partition)
    loss_fn.mask_stats = stats = _DeviceOfMasks()
    reps = [[column[:3], column[3:]] for column in _meta_embeddings()]  # the cached embeddings, in mini-batches
    loss = loss_fn.calculate_loss(reps, _meta_labels())
    assert (loss.device.type, loss.shape) == ("meta", torch.Size([]))
    assert stats.devices == [torch.device("meta")] * 2 * _masks_counted(directions)


def test_a_cpu_tensor_mixed_into_a_meta_computation_raises():
    """The premise of the tests above: mixing devices fails on meta as it does on a GPU."""
    with pytest.raises(RuntimeError, match="is not on the expected device"):
        torch.zeros(BATCH, dtype=torch.bool) | torch.zeros(BATCH, dtype=torch.bool, device="meta")


@pytest.mark.parametrize("hardness, directions, partition, margin", CASES)
def test_focal_weighting_builds_every_tensor_on_the_inputs_device(tiny_model_path, hardness, directions, partition,
                                                                  margin):
    """focal_gamma on: the plain loss and the cached one, whose weights' pass without gradients counts no mask (it
    counted them into a throwaway MaskStats, on the host: a host sync per mask on a GPU, an error on meta)."""
    from sentence_transformers import SentenceTransformer

    settings = dict(fn_margin=margin, hardness=hardness, hardness_strength=5.0, directions=directions,
                    partition_mode=partition, focal_gamma=1.0)
    plain_fn = MaskedMultipleNegativesRankingLoss(None, **settings)
    plain_fn.mask_stats = plain_stats = _DeviceOfMasks()
    loss = plain_fn.compute_loss_from_embeddings(_meta_embeddings(), _meta_labels())
    assert (loss.device.type, loss.shape) == ("meta", torch.Size([]))
    assert plain_stats.devices == [torch.device("meta")] * _masks_counted(directions)
    cached_fn = MaskedCachedMultipleNegativesRankingLoss(SentenceTransformer(tiny_model_path), mini_batch_size=3,
                                                         **settings)
    cached_fn.mask_stats = stats = _DeviceOfMasks()
    reps = [[column[:3], column[3:]] for column in _meta_embeddings()]
    loss = cached_fn.calculate_loss(reps, _meta_labels())
    assert (loss.device.type, loss.shape) == ("meta", torch.Size([]))
    assert stats.devices == [torch.device("meta")] * 2 * _masks_counted(directions)  # the loss's pass alone
