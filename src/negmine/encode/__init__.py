"""Embedders (sentence-transformers by name or path, bundled default), prompts, on-disk embedding cache."""
