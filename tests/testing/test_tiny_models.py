"""The tiny local models the unit tests build must tell texts apart: a tokenizer that maps every word to
[UNK] gives all texts of one token count the same vector, and tests on it could not see many defects."""

from transformers import AutoTokenizer

from negmine.testing.tiny_models import build_tiny_bi_encoder, build_tiny_cross_encoder


def test_the_tiny_bi_encoder_tokenizes_words_not_unknown_tokens(tmp_path):
    path = build_tiny_bi_encoder(tmp_path / "bi")
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    assert len(tokenizer) > 100
    assert "[UNK]" not in tokenizer.tokenize("Patients effect decrease 42")


def test_the_tiny_bi_encoder_gives_texts_of_equal_length_different_vectors(tmp_path):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(build_tiny_bi_encoder(tmp_path / "bi")), device="cpu")
    a, b = model.encode(["aspirin lowers fever", "statins raise risk"])
    assert abs(float(a @ b)) < 0.999


def test_the_tiny_cross_encoder_tokenizes_words_not_unknown_tokens(tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(str(build_tiny_cross_encoder(tmp_path / "ce")))
    assert "[UNK]" not in tokenizer.tokenize("aspirin lowers fever")


def test_the_tiny_sparse_encoder_is_a_sparse_encoder_over_its_vocabulary(tmp_path):
    """The folder a SparseEncoder check is tested on must be one sentence-transformers saved and loads as such."""
    import json

    from sentence_transformers.sparse_encoder import SparseEncoder

    from negmine.testing.tiny_models import build_tiny_sparse_encoder

    path = build_tiny_sparse_encoder(tmp_path / "sparse")
    assert json.loads((path / "config_sentence_transformers.json").read_text())["model_type"] == "SparseEncoder"
    vectors = SparseEncoder(str(path), device="cpu").encode(["aspirin lowers fever"], convert_to_tensor=True)
    assert vectors.is_sparse and vectors.shape[1] == len(AutoTokenizer.from_pretrained(str(path)))
