"""negmine.train stage."""

SUMMARY_NAME = "negmine_train.json"
"""The run summary ``negmine train`` writes last in its output directory (read by ``negmine report DIR``)."""

TRAINING_VERSION = 2
"""Bumped when the same data, settings and seed start training another model (2: the no-duplicates batching
trains on every row once per epoch, 2026-12-03). Recorded in each training summary (``training_version``), so a
cached trained model can be told apart from one the current code would train."""
