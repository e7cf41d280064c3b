"""What the gate found on a load: one result per rule, and the report kept beside a rejected file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Great Expectations takes seconds to import: not for the rules' wording alone
    from orchestration.lib.gate.gx_duckdb import ExpectationOutcome

EXAMPLE_ROWS = 20


@dataclass
class CheckResult:
    rule: str
    passed: bool
    message: str
    column: str | None = None
    blocking: bool = True
    bad_rows: int = 0
    examples: list[dict] = field(default_factory=list)

    @classmethod
    def failure(cls, rule: str, message: str, column: str | None = None, blocking: bool = True) -> CheckResult:
        return cls(rule, False, message, column, blocking, 1)

    @classmethod
    def from_outcome(cls, outcome: ExpectationOutcome) -> CheckResult:
        examples = []
        for row in outcome.examples:
            value = row.get(outcome.column) if outcome.column else None
            examples.append({"row": row.get("_row_number"), "column": outcome.column, "value": value, **row})
        return cls(
            outcome.rule,
            outcome.success,
            outcome.message,
            outcome.column,
            outcome.blocking,
            outcome.unexpected_count,
            examples,
        )

    def as_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=str))


# the report's line that links its Data Docs page (a path relative to the report)
DATA_DOCS_LINE = "Data Docs: "


def render_quarantine_report(
    file_name: str, source: str, checks: list[CheckResult], data_docs: str | None = None, export: bool = False
) -> str:
    """The readable report kept beside a rejected file; `data_docs` is the link (relative to the report) to the
    Data Docs page of the load's validation. An export read through a mapping (`export`) numbers its rows as a
    spreadsheet opens it."""
    failed = [c for c in checks if not c.passed]
    lines = [
        f"Rejected load: {file_name} (source: {source})",
        "Rows are the export's own: row 1 is the file's first line, preamble included."
        if export
        else "Rows are counted from the first data row: row 1 is the line after the header.",
        f"{DATA_DOCS_LINE}{data_docs}"
        if data_docs
        else "Data Docs: none (the suite did not run: the file could not be read or its name is not plain)",
        "",
    ]
    for check in sorted(failed, key=lambda c: not c.blocking):
        kind = "BLOCKING" if check.blocking else "warning"
        lines.append(f"[{kind}] {check.rule}" + (f" — column '{check.column}'" if check.column else ""))
        # the message begins with the rule the heading names: its rest (the offending rows) is what is new
        detail = check.message.removeprefix(check.rule).removeprefix(f" (column {check.column})").lstrip(": ")
        if detail:
            lines.append(f"    {detail}")
        if check.bad_rows:
            lines.append(f"    bad rows: {check.bad_rows}")
        for example in check.examples[:EXAMPLE_ROWS]:
            if example.get("row") is not None:
                what = f"{example['column']} = " if example.get("column") else ""
                problem = f" ({example['problem']})" if example.get("problem") and not example.get("column") else ""
                lines.append(f"      row {example['row']}: {what}{example['value']!r}{problem}")
        lines.append("")
    lines.append("Nothing from this file reached the warehouse. Fix it and deliver it again.")
    return "\n".join(lines) + "\n"
