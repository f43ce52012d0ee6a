"""Candidate pools: dense (FAISS), BM25 (bm25s), hybrid (RRF / weighted fusion)."""
