"""negmine.train stage."""

SUMMARY_NAME = "negmine_train.json"
"""The run summary ``negmine train`` writes last in its output directory (read by ``negmine report DIR``)."""
