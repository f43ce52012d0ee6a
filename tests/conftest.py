from __future__ import annotations

from pathlib import Path

import pytest

SHARED_SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A 2-layer random BERT bi-encoder saved locally (seconds to build, no hub)."""
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    return build_tiny_bi_encoder(tmp_path_factory.mktemp("tiny_bi"))


@pytest.fixture(scope="session")
def tiny_cross_encoder_path(tmp_path_factory) -> Path:
    from negmine.testing.tiny_models import build_tiny_cross_encoder

    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny_ce"))


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    if not (SHARED_SCIFACT / "corpus.jsonl").exists():
        pytest.skip(f"SciFact not found at {SHARED_SCIFACT}")
    return SHARED_SCIFACT
