"""Quoting for the SQL the pipeline writes itself (identifiers, string literals, file paths)."""

from __future__ import annotations

from pathlib import Path


def q(name: str) -> str:
    """A quoted identifier: `amount` → `"amount"` (a double quote inside is doubled)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str | Path) -> str:
    """The text of a single-quoted SQL string literal (without the quotes): a quote inside is doubled."""
    return str(value).replace("'", "''")
