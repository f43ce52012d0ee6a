"""Pilot (session 61, pre-registered in TRAINING_HISTORY.md): cross-batch memory (XBM, Wang et al. 2020).

Every arm of ``train_scifact.py`` contrasts a query with its batch's 128 documents (32 positives and 3 mined
negatives per row). XBM keeps the document embeddings of the last ``--memory-steps`` training steps (detached, as the
model encoded them then) and adds them to each query's softmax denominator as further negatives: 3 steps give 384
more, at no encoding cost. A memory document is left out of a row's softmax when its text key is one of the row's
known positives (the same keys negmine's false-negative masking uses: every positive of the query's text) or the key
of a document already among the batch's candidates (no text counted twice). Memory columns are hardness-weighted as
the batch's negatives are (``--hardness all``: ``strength * sg(cosine)`` added to the logit). The memory fills from
the first step (empty at step 1, when the loss equals the defaults'; checked) and is updated only by training
steps. Everything else is ``negmine``'s defaults arm of ``train_scifact.py --heldout`` in the same work folder; the
defaults' models are reused.

    python benchmarks/xbm.py --work ~/.cache/negmine/bench-s53 [--seeds 42,1,2] [--memory-steps 3]

A pilot by monkeypatching the masked MNRL loss, not a negmine option: it became one only if it earned it, and it did
not (2026-12-07, 3 seeds: 0.716 against the defaults' 0.743, -2.73 nDCG@10, p 0.006; TRAINING_HISTORY.md).
"""

from __future__ import annotations

import sys
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pilot  # noqa: E402
import train_scifact as bench  # noqa: E402

SOURCE = "pilot4-xbm"  # the model folders' prefix (pilot version 4; held-out folders start with dev-)


class Memory:
    """The last ``steps`` training steps' document embeddings (detached) and text keys, plus what was used."""

    def __init__(self, steps: int) -> None:
        self.batches: deque = deque(maxlen=steps)
        self.counts = {"steps": 0, "memory_columns": 0, "masked": 0}
        self.checked = False

    def tensors(self):
        import torch

        if not self.batches:
            return None, None
        return torch.cat([e for e, _ in self.batches]), torch.cat([k for _, k in self.batches])

    def push(self, docs, keys) -> None:
        self.batches.append((docs.detach().clone(), keys.clone()))


def memory_logits(loss, view, memory: Memory):
    """``(B, M)`` scaled, hardness-weighted logits of the queries against the memory, masked columns at -inf."""
    from negmine.train.losses.masking import candidate_keys, known_positive_mask

    embeddings, keys = memory.tensors()
    if embeddings is None:
        return None
    sim = loss.similarity_fct(view.queries, embeddings)
    in_batch = (keys.unsqueeze(0) == candidate_keys(view.parts.doc_keys).unsqueeze(1)).any(dim=0)
    mask = known_positive_mask(keys, view.parts.known[view.rows]) | in_batch.unsqueeze(0)
    memory.counts["memory_columns"] += sim.numel()
    memory.counts["masked"] += int(mask.sum())
    logits = sim * loss.scale + loss.hardness_strength * sim.detach()
    return logits.masked_fill(mask, float("-inf"))


def check_defaults(loss) -> None:
    """The pilot reimplements the defaults' loss path only: refuse any other setting."""
    settings = (loss.hardness, tuple(loss.directions), loss.fn_margin, loss.debias_prior, loss.additive_margin,
                loss.focal_gamma, loss.distill, loss.fn_mask)
    expected = ("all", ("query_to_doc",), None, 0.0, 0.0, 0.0, None, True)
    if settings != expected:
        raise RuntimeError(f"xbm pilot: loss settings {settings}, written for the defaults {expected}")


def patch_loss(steps: int, runs: list) -> None:
    """Make the masked MNRL loss add the memory's documents to every row's softmax: each loss object (one per
    training run) has its own memory of ``steps`` steps, whose counts are appended to ``runs``."""
    import torch
    import torch.nn.functional as F
    from negmine.train.losses import mnrl
    from negmine.train.losses.directions import BatchView
    from negmine.train.losses.hardness import hardness_penalty
    from negmine.train.losses.masking import candidate_keys, masked_logits

    original = mnrl.MaskedMultipleNegativesRankingLoss.contrastive_loss

    def contrastive_loss(self, embeddings, labels):
        check_defaults(self)
        if not hasattr(self, "xbm_memory"):
            self.xbm_memory = Memory(steps)
            runs.append(self.xbm_memory.counts)
        memory = self.xbm_memory
        if not mnrl.masks_with_labels(self, labels):
            raise RuntimeError("xbm pilot: a batch without negmine's label rows")
        queries, docs = embeddings[0], torch.cat(embeddings[1:], dim=0)
        rows = torch.arange(queries.size(0), device=queries.device)
        view = BatchView(queries, docs, rows, labels, len(embeddings) - 2, use_labels=True)
        sim = self.similarity_fct(queries, docs)
        mask = mnrl.candidate_mask(self, view, sim)
        penalty = hardness_penalty(sim, rows, view.batch_size, self.hardness, self.hardness_strength)
        logits = masked_logits(sim, mask, self.scale, penalty)
        extra = memory_logits(self, view, memory)
        loss = F.cross_entropy(logits if extra is None else torch.cat([logits, extra], dim=1), rows)
        if not memory.checked:  # empty memory: the defaults' loss
            counts = self.mask_stats.masked, self.mask_stats.candidates, self.mask_stats.rows
            reference = original(self, embeddings, labels)
            self.mask_stats.masked, self.mask_stats.candidates, self.mask_stats.rows = counts
            if extra is not None or not torch.allclose(loss, reference, atol=1e-6):
                raise RuntimeError(f"xbm pilot: loss {float(loss)} without memory, defaults' {float(reference)}")
            memory.checked = True
        if torch.is_grad_enabled() and queries.requires_grad:
            memory.counts["steps"] += 1
            memory.push(docs, candidate_keys(view.parts.doc_keys))
        return loss

    mnrl.MaskedMultipleNegativesRankingLoss.contrastive_loss = contrastive_loss


def main() -> None:
    def memory_argument(parser) -> None:
        parser.add_argument("--memory-steps", type=int, default=3)

    pilot = _pilot.setup(__doc__.splitlines()[0], "xbm", memory_argument)
    stats = {"rows": len(pilot.rows), "memory_steps": pilot.args.memory_steps, "runs": []}
    print(stats, flush=True)

    def patch() -> None:
        patch_loss(pilot.args.memory_steps, stats["runs"])

    _pilot.run(pilot, "xbm", SOURCE, patch, stats)


if __name__ == "__main__":
    main()
