"""Selection: exclusions, positive-aware filters and strategies (registered by name)."""

SELECTION_VERSION = 4
"""Bumped when the same settings start choosing other negatives (2: strategies take a pool in retrieval order,
so a hybrid pool is taken in fusion order; 3: a pool keeps one copy of each normalised text, the best ranked;
4: ``random`` and ``simans`` seed each pair from its ids, not its position in the qrels). Recorded in each
mining summary (``selection_version``), so a cached mined file can be told apart from one the current code
would write."""
