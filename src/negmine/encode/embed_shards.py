"""The shards :func:`negmine.encode.embed.embed_texts` encodes the texts the cache lacks in, and where a stop left them.

Each shard is one call of the embedder whose vectors go to the cache as soon as it returns, so a stopped
``negmine eval`` (or any caller with a cache) keeps the shards it finished and its rerun reads them back. The cut is
mining's (:func:`negmine.engine.encode_shards.nested_shards`, :func:`~negmine.engine.encode_shards.shard_texts`): the
blocks of ``shard_size`` texts (8,192) that were the shards before, each cut, for a call of under 8 x ``shard_size``
distinct texts, into shards of an eighth of them, at least 1,024. SciFact's 5,183 documents were one shard, and a
stop while encoding them lost every text encoded. The cut is made over the texts of each lookup chunk the cache lacks
(:data:`negmine.encode.embed.LOOKUP_CHUNK`, one chunk below 65,536 distinct texts), in their order; cache keys do not
depend on it, and neither does a vector on the CPU (the fixed-shape passes of
:mod:`negmine.encode.sentence_transformer`). Without a cache nothing is kept, so the shards stay the blocks of
``shard_size`` (mining's engine task encodes through here with no cache: cutting it finer would cost partly filled
passes for nothing).
"""

from __future__ import annotations

from negmine.engine.encode_shards import EncodingStopped, nested_shards, shard_texts


class EmbedShards:
    """The shards of an :func:`~negmine.encode.embed.embed_texts` call of ``n_texts`` distinct texts, counted as they
    are cut, encoded and finished, for the :class:`~negmine.engine.encode_shards.EncodingStopped` a Ctrl-C carries.
    ``kept``: the call has a cache, which keeps each finished shard."""

    def __init__(self, n_texts: int, most: int, kept: bool) -> None:
        self.most, self.size = most, shard_texts(n_texts, most) if kept else most
        self.unseen = n_texts  # distinct texts not looked up in the cache yet
        self.cut = 0  # shards cut of the texts looked up and not found (each encoded in this call)
        self.done = 0
        self.running = 0  # texts the model's passes encoded of the shard running (counted while a bar is drawn)

    def spans(self, n_free: int, seen: int = 0) -> list[tuple[int, int]]:
        """``n_free`` texts to encode, in order, cut into shards: each one's ``(first, end)``; ``seen``: distinct
        texts just looked up in the cache, of which these are those it lacked."""
        self.unseen -= seen
        spans = [(s.first, s.end) for s in nested_shards(n_free, self.most, self.size)]
        self.cut += len(spans)
        return spans

    def skipped(self) -> None:
        """A shard cut by :meth:`spans` is not encoded here: another run claimed all its texts first."""
        self.cut -= 1

    def passed(self, texts: int) -> None:
        self.running += texts

    def finished(self) -> None:
        self.done, self.running = self.done + 1, 0

    def stopped(self, desc: str) -> EncodingStopped:
        """Where the call stands when stopped. The texts not looked up yet (a call of over 65,536 distinct texts)
        count as shards to encode, as if the cache held none of them."""
        later = len(nested_shards(self.unseen, self.most, self.size))
        return EncodingStopped(desc, self.cut + later, self.done, self.size, self.running)
