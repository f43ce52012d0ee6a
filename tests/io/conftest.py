from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    """``write_text("name", "content")`` -> path under tmp_path (parents created, written as UTF-8 bytes)."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path

    return write


@pytest.fixture
def write_rows(write_text) -> Callable[..., Path]:
    """``write_rows("name.jsonl", [dict, ...])`` -> JSONL path (non-dict items are written as raw lines)."""

    def write(name: str, rows: list) -> Path:
        lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
        return write_text(name, "".join(line + "\n" for line in lines))

    return write
