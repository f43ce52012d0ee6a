"""negmine.train stage."""

SUMMARY_NAME = "negmine_train.json"
"""The run summary ``negmine train`` writes last in its output directory (read by ``negmine report DIR``)."""

TRAINING_VERSION = 11
"""Bumped when the same data, settings and seed start training another model (2: the no-duplicates batching
trains on every row once per epoch, 2026-12-03; 3: query-to-query / doc-to-query directions mask a sibling
row's query, re-mined known-relevant negatives are masked in every row of their query and a resumed re-mining
run re-applies every re-mined file, 2026-12-04 - models of the default recipe are unchanged; 4: masking compares
texts after mining's normalisation and pools the known positives of queries with the same text, 2026-12-05; 5: re-mining masks a re-mined
known-relevant negative in the rows of every query with the same normalised text, 2026-12-05 - models of the
default recipe are unchanged, measured byte-identical on the demo; 6: with re-mining, the no-duplicates batching
compares the re-mined negatives swapped in before each epoch's start, not the training file's, 2026-12-07 - runs
that do not re-mine build the same batches; 7: `--fn-margin` masks in the doc_to_query and doc_to_doc directions too,
2026-12-07 - runs without the margin or those directions are unchanged; 8: topic batching swaps rows apart that
repeat a text in their batch, where topic purity allows, 2026-12-07 - other batchings are unchanged; 9: with
``fn_mask``, the query_to_query direction masks the queries sharing a known positive with the row, 2026-12-07 - runs
without that direction are unchanged; 10: topic batching also swaps a row no swap frees where that lowers the rows
sharing a text, 2026-12-07 - other batchings are unchanged; 11: focal row weights computed in log space, equal to
float rounding at gamma 1 but no longer all 1 where every weight underflowed, 2026-12-07 - runs without
``focal_gamma`` are unchanged). Recorded in each training summary
(``training_version``), so a cached trained model can be told apart from one the current code would train; which
runs each bump since 5 changed: :func:`negmine.train.versions.trains_unchanged`."""

from negmine.callable_package import make_callable  # noqa: E402

make_callable(__name__, "negmine.train.api:train")  # negmine.train(config) is negmine.train.api.train(config)
