"""A user's own export format (``negmine.register_export_format``, or an installed package's
``negmine.export_formats`` entry point), checked against the :class:`negmine.export.base.Exporter` protocol when it
is registered."""

from __future__ import annotations

from negmine.config import EXPORT_FILE_TYPES as FILE_TYPES
from negmine.errors import ConfigError
from negmine.plugins import NAME_RULE, Attribute, attribute_problems, is_bool, is_name

EXPORTER_PROTOCOL = (
    "an export format is an object (an instance, not its class) with name (its --export value, also in its file's "
    "name: negatives.<name>.jsonl), the bools needs_scan (it needs the file's shape: an extra pass), per_query (one "
    "record per query: then also query_skip_reason(rows, every_row) and convert_query(rows, every_row, shape)), "
    "takes_scores (it writes scores with --export-scores) and always_scores, file_types (the --export-as types it "
    "can be written as, among jsonl, parquet), and the methods skip_reason(row, shape) (why a row cannot be written, "
    "or None), arrow_schema(shape) (the records' pyarrow schema; may return None if it is written as jsonl only) "
    "and convert(row, shape) (the row's records, dicts); see docs/mining.md, \"Your own strategy or export format\""
)


RESERVED = ("clean", "flags", "candidates")
"""Names negmine's own files take beside a native file (``negmine audit``: ``mined.clean.jsonl``,
``mined.flags.jsonl``, ``audit.candidates.jsonl``): an export format so named would write over them, or a run
would remove them as its stale exports."""


def is_export_name(value: object) -> bool:
    return is_name(value) and value not in RESERVED


def is_file_types(value: object) -> bool:
    return isinstance(value, tuple) and bool(value) and all(v in FILE_TYPES for v in value)


ATTRIBUTES = (
    Attribute("name", is_export_name, f"{NAME_RULE}: its --export value; not {', '.join(RESERVED)}, names of "
                                      "negmine's own files"),
    *(Attribute(flag, is_bool, "a bool") for flag in ("needs_scan", "per_query", "takes_scores", "always_scores")),
    Attribute("file_types", is_file_types, f"a non-empty tuple of file types among {', '.join(FILE_TYPES)}"),
    Attribute("skip_reason", callable, "a method skip_reason(row, shape) returning a str or None"),
    Attribute("arrow_schema", callable, "a method arrow_schema(shape) returning a pyarrow.Schema"),
    Attribute("convert", callable, "a method convert(row, shape) returning a list of dicts"),
)

QUERY_ATTRIBUTES = (
    Attribute("query_skip_reason", callable, "a method query_skip_reason(rows, every_row), as per_query is True"),
    Attribute("convert_query", callable, "a method convert_query(rows, every_row, shape), as per_query is True"),
)


def check_exporter(exporter: object, where: str) -> None:
    """ConfigError naming ``where`` and what is missing or wrong unless ``exporter`` is an export format."""
    if isinstance(exporter, type):
        raise ConfigError(f"{where}: {exporter.__name__} is a class: an export format is registered as an instance "
                          f"of it, e.g. register_export_format({exporter.__name__}()); {EXPORTER_PROTOCOL}")
    problems = attribute_problems(exporter, ATTRIBUTES)
    if getattr(exporter, "per_query", False) is True:
        problems += attribute_problems(exporter, QUERY_ATTRIBUTES)
    if problems:
        raise ConfigError(f"{where} is not a negmine export format: {'; '.join(problems)}; {EXPORTER_PROTOCOL}")
