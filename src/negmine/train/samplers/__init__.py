"""Batch samplers for training (sentence-transformers' own ones are used by name)."""
