"""Build tiny random sentence-transformers models (2-layer BERT from a config) in a local folder.

No hub access is needed: the tokenizer vocabulary is written from a fixed word list, so the same
call always gives the same weights (seeded) and the same tokenization.
"""

from __future__ import annotations

import string
from pathlib import Path

_WORDS = (
    "the a of and to in is for on with by as that at from be are this it or an was were which has have "
    "cell cells gene protein cancer risk study patients effect increase decrease human mice blood brain "
    "heart disease treatment trial dna rna virus infection immune response level levels high low "
    "associated reduced increased expression model data results method analysis"
).split()


def _vocab() -> list[str]:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = [f"##{c}" for c in string.ascii_lowercase + string.digits]
    return special + chars + pieces + sorted(set(_WORDS) - set(chars))


def _write_tokenizer(folder: Path) -> None:
    from transformers import BertTokenizerFast

    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    BertTokenizerFast(str(vocab_file), do_lower_case=True).save_pretrained(str(folder))


def _bert_config(hidden: int, layers: int):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
    )


def _save_bert(folder: Path, model_class, seed: int, hidden: int, layers: int, num_labels: int | None = None) -> Path:
    """A random ``model_class`` (a transformers BERT class) seeded with ``seed``, and the tiny tokenizer, saved to
    ``folder``; returns ``folder``."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = _bert_config(hidden, layers)
    if num_labels is not None:
        config.num_labels = num_labels
    model_class(config).save_pretrained(str(folder))
    _write_tokenizer(folder)
    return folder


def build_tiny_bi_encoder(folder: str | Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """Save a tiny mean-pooled, normalised SentenceTransformer to ``folder`` and return the path."""
    from sentence_transformers import SentenceTransformer
    from transformers import BertModel

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:  # sentence-transformers 5
        from sentence_transformers import models

    folder = Path(folder)
    hf_dir = _save_bert(folder / "hf", BertModel, seed, hidden, layers)
    word = models.Transformer(str(hf_dir), max_seq_length=64)
    dim = word.get_embedding_dimension() if hasattr(word, "get_embedding_dimension") else word.get_word_embedding_dimension()
    pool = models.Pooling(dim, pooling_mode="mean")
    model = SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu")
    model.save(str(folder / "model"))
    return folder / "model"


def build_tiny_cross_encoder(folder: str | Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """Save a tiny random BERT sequence classifier usable as ``CrossEncoder(path)``; return the path."""
    from transformers import BertForSequenceClassification

    return _save_bert(Path(folder), BertForSequenceClassification, seed, hidden, layers, num_labels=1)


def build_tiny_sparse_encoder(folder: str | Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """Save a tiny random SPLADE-style sentence-transformers ``SparseEncoder`` (a masked-language-model BERT with
    max SPLADE pooling) to ``folder``/model and return that path: a folder negmine must not take as a dense
    bi-encoder (``config_sentence_transformers.json`` model_type ``SparseEncoder``)."""
    from sentence_transformers.sparse_encoder import SparseEncoder
    from transformers import BertForMaskedLM

    folder = Path(folder)
    hf_dir = _save_bert(folder / "hf", BertForMaskedLM, seed, hidden, layers)
    try:  # sentence-transformers >= 6: the shared Transformer with a fill-mask task (MLMTransformer is deprecated)
        from sentence_transformers.sparse_encoder.modules import SpladePooling, Transformer

        mlm = Transformer(str(hf_dir), transformer_task="fill-mask", max_seq_length=64)
    except (ImportError, TypeError):  # sentence-transformers 5
        from sentence_transformers.sparse_encoder.models import MLMTransformer, SpladePooling

        mlm = MLMTransformer(str(hf_dir), max_seq_length=64)
    model = SparseEncoder(modules=[mlm, SpladePooling(pooling_strategy="max")], device="cpu")
    model.save(str(folder / "model"), create_model_card=False)  # the card's example similarities warn (beta CSR)
    return folder / "model"
