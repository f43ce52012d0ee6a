"""Helpers for tests and examples: tiny local models that build in seconds without any hub."""
