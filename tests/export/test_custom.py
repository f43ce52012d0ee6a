"""A user's own export format (src/negmine/export/custom.py): the protocol check's messages."""

from __future__ import annotations

import pytest

import negmine
from negmine.errors import ConfigError
from negmine.export.custom import check_exporter
from negmine.testing.plugins import QueryNegativeExporter


def test_a_class_is_refused_with_the_call_to_make_instead():
    with pytest.raises(ConfigError, match=r"^register_export_format\(QueryNegativeExporter\): QueryNegativeExporter is "
                                          r"a class: an export format is registered as an instance of it, e.g. "
                                          r"register_export_format\(QueryNegativeExporter\(\)\); an export format is "
                                          r"an object"):
        negmine.register_export_format(QueryNegativeExporter)


def test_missing_methods_and_wrong_attributes_are_named_with_what_the_protocol_needs():
    class Half:
        name = "half.jsonl"
        needs_scan = per_query = takes_scores = always_scores = False
        file_types = ("csv",)

        def skip_reason(self, row, shape):
            return None

    with pytest.raises(ConfigError) as raised:
        negmine.register_export_format(Half())
    message = str(raised.value)
    assert message.startswith(
        "register_export_format(Half) is not a negmine export format: name is 'half.jsonl', of type str (it must be a "
        "str of letters, digits, '-' and '_' (not starting with '-' or '_'): its --export value; not clean, flags, "
        "candidates, names of negmine's own files); file_types is "
        "('csv',), of type tuple (it must be a non-empty tuple of file types among jsonl, parquet); arrow_schema is "
        "missing (it must be a method arrow_schema(shape) returning a pyarrow.Schema); convert is missing (it must be "
        "a method convert(row, shape) returning a list of dicts); an export format is an object (an instance, not its "
        "class) with name (its --export value, also in its file's name: negatives.<name>.jsonl)")
    assert message.endswith('see docs/mining.md, "Your own strategy or export format"')


def test_a_per_query_format_needs_the_query_methods():
    class PerQuery(QueryNegativeExporter):
        name = "per-query"
        per_query = True

    with pytest.raises(ConfigError, match=r"is not a negmine export format: query_skip_reason is missing \(it must be a "
                                          r"method query_skip_reason\(rows, every_row\), as per_query is True\); "
                                          r"convert_query is missing"):
        check_exporter(PerQuery(), "PerQuery()")


def test_every_built_in_passes_the_check():
    from negmine.export.registry import EXPORTERS

    for fmt, exporter in EXPORTERS.items():
        check_exporter(exporter, fmt)


def test_a_format_cannot_take_the_name_of_the_audit_s_own_files():
    class Clean(QueryNegativeExporter):
        name = "clean"  # its export of mined.jsonl would be mined.clean.jsonl, the cleaned file of negmine audit

    with pytest.raises(ConfigError, match=r"^register_export_format\(Clean\) is not a negmine export format: name is "
                                          r"'clean', of type str \(it must be .*: its --export value; not clean, "
                                          r"flags, candidates, names of negmine's own files\)"):
        negmine.register_export_format(Clean())
