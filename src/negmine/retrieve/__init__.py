"""Candidate pools: dense (FAISS), BM25 (bm25s), hybrid (RRF / weighted fusion).

Building blocks only: :mod:`negmine.pipeline` decides which retriever serves which configuration.
"""
