"""Selection: exclusions, positive-aware filters and strategies (registered by name)."""

SELECTION_VERSION = 2
"""Bumped when the same settings start choosing other negatives (2: strategies take a pool in retrieval order,
so a hybrid pool is taken in fusion order). Recorded in each mining summary (``selection_version``), so a
cached mined file can be told apart from one the current code would write."""
