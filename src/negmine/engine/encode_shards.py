"""The shards an :func:`negmine.engine.encode.encode_to_store` call encodes (one engine task each) and their markers.

``--encode-shard-size`` (``EngineConfig.encode_shard_size``, 8,192 texts) is the most distinct texts of a shard.
A store of fewer than ``SHARDS_AT_LEAST x size`` distinct texts is cut finer, into shards of an eighth of its texts
(at least :data:`MIN_TEXTS`), so that a stop loses at most a bounded part of it: SciFact's 5,183 documents were one
shard of 8,192, and Ctrl-C at 1,992 documents lost all of them (the shard is what a stopped run keeps); they are
now 6 shards of at most 1,024.

The cut is made inside the blocks of ``--encode-shard-size`` texts that earlier versions made shards of, and a
block whose shards are all finished gets the block's marker (``<store>.done/<block>``) besides those of its shards
(``<store>.done/<first>-<end>``, distinct-text numbers): a work folder left by an earlier version resumes here at
its finished blocks (the work folder's key holds ``--encode-shard-size``, not the cut), and one left here resumes
in an earlier version at the blocks finished whole. A marker names the texts it covers, so another cut never
takes one for another's.
"""

from __future__ import annotations

from typing import NamedTuple

from negmine.engine.store import EmbeddingStore

MIN_TEXTS = 1024
"""The fewest texts of a shard cut finer than ``--encode-shard-size``: a shard is one task, and each costs the model
a partly filled forward pass per pass length (:func:`negmine.encode.sentence_transformer.fixed_shape_batches`)."""
SHARDS_AT_LEAST = 8
"""A store is cut into at least this many shards while they hold :data:`MIN_TEXTS` texts or more, so a stop loses
at most about an eighth of it (the shards running when it stops, one on the local engine)."""


class EncodingStopped(NamedTuple):
    """Where an interrupted :func:`negmine.engine.encode.encode_to_store` (or :func:`negmine.encode.embed.embed_texts`
    with a cache: :mod:`negmine.encode.embed_shards`) stopped, set on the ``KeyboardInterrupt`` as its
    ``negmine_encoding``: ``negmine mine``'s Ctrl-C hint said "the encoding ... shards it finished are kept" when
    none had (SciFact's 5,183 documents were one shard of the default 8,192 texts, so a stop lost every text
    encoded), and the rerun encoded all of them again. ``shard_size``: the most texts of a shard of this store
    (:func:`shard_texts`); ``texts_lost``: texts of unfinished shards the model had
    encoded (only counted while a bar is drawn; else 0), which a rerun encodes again."""

    desc: str
    shards: int
    shards_done: int
    shard_size: int
    texts_lost: int


def shard_texts(n_texts: int, most: int) -> int:
    """Distinct texts per shard of a store of ``n_texts``: ``most`` (``--encode-shard-size``), or fewer for a
    store of under ``SHARDS_AT_LEAST x most`` texts (an eighth of it, at least :data:`MIN_TEXTS`)."""
    return min(most, max(MIN_TEXTS, -(-n_texts // SHARDS_AT_LEAST)))


class Shard(NamedTuple):
    block: int  # its block of ``most`` texts
    first: int  # its distinct texts: first, end (exclusive)
    end: int


def nested_shards(n_texts: int, most: int, size: int) -> list[Shard]:
    """``n_texts`` texts in order, cut into the blocks of ``most`` texts earlier versions made shards of, each block
    cut into shards of ``size`` texts (the last of a block may hold fewer): mining's store
    (:class:`EncodeShards`, ``size`` :func:`shard_texts`) and the texts :func:`negmine.encode.embed.embed_texts`
    encodes (:mod:`negmine.encode.embed_shards`) are cut by this one function."""
    shards: list[Shard] = []
    for block, b0 in enumerate(range(0, n_texts, most)):
        b1 = min(n_texts, b0 + most)
        shards.extend(Shard(block, u0, min(b1, u0 + size)) for u0 in range(b0, b1, size))
    return shards


class EncodeShards:
    """The shards of a store of ``n_texts`` distinct texts, in order, and their done markers in ``store``."""

    def __init__(self, store: EmbeddingStore, n_texts: int, most: int) -> None:
        self.store, self.size = store, shard_texts(n_texts, most)
        self.shards = nested_shards(n_texts, most, self.size)
        self._whole = {s.block for s in self.shards if (s.first, s.end) == self._block_span(s.block, n_texts, most)}

    @staticmethod
    def _block_span(block: int, n_texts: int, most: int) -> tuple[int, int]:
        return block * most, min(n_texts, (block + 1) * most)

    @property
    def spans(self) -> dict[int, tuple[int, int]]:
        """Shard number -> its distinct texts ``(first, end)``."""
        return {k: (s.first, s.end) for k, s in enumerate(self.shards)}

    def is_done(self, k: int) -> bool:
        shard = self.shards[k]
        return self.store.is_done(shard.block) or (
            shard.block not in self._whole and self.store.is_done(f"{shard.first}-{shard.end}"))

    def mark_done(self, k: int) -> None:
        """Mark shard ``k`` finished (its rows written), and its block once all the block's shards are."""
        shard = self.shards[k]
        if shard.block not in self._whole:
            self.store.mark_done(f"{shard.first}-{shard.end}")
            if not all(self.is_done(j) for j, other in enumerate(self.shards) if other.block == shard.block):
                return
        self.store.mark_done(shard.block)
