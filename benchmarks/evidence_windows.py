"""Pilot (session 59, pre-registered in TRAINING_HISTORY.md): train on each document's *evidence window*.

The benchmark trains at 128 tokens (``train_scifact.SHARED``), while SciFact's positives average 375 tokens: 827
of 830 mined positives are longer than the training length, and for 56% of rows the positive's sentence closest
to the query (bundled MiniLM) ends past token 126, so the model is trained to match the claim with a truncated
abstract that lacks its evidence. This pilot keeps each long document's first sentence (SciFact's title) and
replaces the rest by the span of whole sentences around the one closest to the row's query, as much as fits in
126 tokens, wherever the first 126 tokens do not already hold that sentence; positive and the 3 training
negatives alike (the negatives' windows are their sentences closest to the same query: no style cue tells them
apart). Masking and the known-positive keys stay those of the full texts (only the texts the model encodes
change; the no-duplicates sampler sees the windowed texts). Everything else is ``negmine``'s defaults arm of
``train_scifact.py --heldout`` in the same work folder; the defaults' models are reused.

    python benchmarks/evidence_windows.py --work ~/.cache/negmine/bench-s53 [--seeds 42,1,2]

A pilot by monkeypatching the dataset builder, not a negmine option: it became one only if it earned it, and it did
not (2026-12-07, 3 seeds: 0.732 against the defaults' 0.744, -1.19 nDCG@10, p 0.04; TRAINING_HISTORY.md).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pilot  # noqa: E402
import train_scifact as bench  # noqa: E402

BUDGET = 126  # SHARED max_length 128 minus [CLS] and [SEP]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SOURCE = "pilot1-evidencewindow"  # the model folders' prefix (pilot version 1; held-out folders start with dev-)


def sentence_lengths(texts, tokenizer) -> dict[str, tuple[list[str], list[int]]]:
    out = {}
    for text in texts:
        sentences = [s for s in SENTENCE_END.split(text) if s]
        out[text] = (sentences, [len(tokenizer(s, add_special_tokens=False)["input_ids"]) for s in sentences])
    return out


def window(sentences: list[str], lengths: list[int], best: int) -> str | None:
    """The first sentence plus the span around ``best`` that fits BUDGET (grown after, then before, in turns);
    None when the first BUDGET tokens already hold sentence ``best``."""
    if sum(lengths[: best + 1]) <= BUDGET:
        return None
    keep, total, lo, hi = {best}, lengths[best] + (lengths[0] if best else 0), best, best
    grown = True
    while grown:
        grown = False
        for cand in (hi + 1, lo - 1):
            if 0 < cand < len(sentences) and cand not in keep and total + lengths[cand] <= BUDGET:
                keep.add(cand)
                total += lengths[cand]
                lo, hi, grown = min(lo, cand), max(hi, cand), True
    return " ".join(sentences[i] for i in sorted(keep | {0}))


def evidence_windows(rows: list[dict], num_negatives: int) -> dict[tuple[str, str], str]:
    """(query text, document text) -> window, for the rows' positives and first ``num_negatives`` negatives."""
    import torch
    from sentence_transformers import SentenceTransformer

    from negmine.config import DEFAULT_MODEL
    from negmine.encode.default_model import resolve_model

    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    pairs = sorted({(r["query"], d) for r in rows for d in [r["positive"], *r["negatives"][:num_negatives]]})
    split = sentence_lengths(sorted({d for _, d in pairs}), model.tokenizer)
    long_pairs = [(q, d) for q, d in pairs if sum(split[d][1]) > BUDGET]
    sentences = sorted({s for _, d in long_pairs for s in split[d][0]})
    queries = sorted({q for q, _ in long_pairs})
    with torch.autocast("cpu", dtype=torch.bfloat16):
        s_vec = model.encode(sentences, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        q_vec = model.encode(queries, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    s_at, q_at = {s: i for i, s in enumerate(sentences)}, {q: i for i, q in enumerate(queries)}
    out = {}
    for q, d in long_pairs:
        sents, lengths = split[d]
        best = int(np.argmax(s_vec[[s_at[s] for s in sents]] @ q_vec[q_at[q]]))
        text = window(sents, lengths, best)
        if text is not None:
            out[(q, d)] = text
    return out


def patch_dataset(windows: dict[tuple[str, str], str]) -> None:
    """Make the dataset builder write windowed texts; labels (masking keys) are computed before, from full texts."""
    import negmine.train.dataset as dataset

    original = dataset._append

    def _append(columns, anchor, positive, encoded):
        negatives = [windows.get((anchor, t), t) for t in encoded.negatives]
        original(columns, anchor, windows.get((anchor, positive), positive), encoded._replace(negatives=negatives))

    dataset._append = _append


def main() -> None:
    pilot = _pilot.setup(__doc__.splitlines()[0], "evidence_windows")
    windows = evidence_windows(pilot.rows, bench.SHARED["num_negatives"])
    rows = pilot.rows
    stats = {"rows": len(rows), "windowed_positives": sum((r["query"], r["positive"]) in windows for r in rows),
             "windowed_negatives": sum((r["query"], d) in windows for r in rows
                                       for d in r["negatives"][: bench.SHARED["num_negatives"]])}
    print(stats, flush=True)
    _pilot.run(pilot, "evidence-window", SOURCE, lambda: patch_dataset(windows), stats)


if __name__ == "__main__":
    main()
