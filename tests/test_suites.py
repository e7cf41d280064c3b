"""The GX suites in expectations/ cover the landing contract, and the gate reads them as data."""

from __future__ import annotations

import json

import pytest

from orchestration.lib.config import EXPECTATIONS_DIR
from orchestration.lib.contract import SOURCES
from orchestration.lib.gate.context import referenced_sources
from orchestration.lib.gate.gx_duckdb import load_suite
from orchestration.lib.gate.rules import suite_json


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_committed_suite_holds_every_rule_of_the_contract(name: str) -> None:
    """Rules may be added to a suite by hand; none written from the contract may go missing."""
    committed = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    written = suite_json(SOURCES[name])

    def signature(expectation: dict) -> str:
        return json.dumps([expectation["type"], expectation["kwargs"], expectation.get("meta", {})], sort_keys=True)

    missing = {signature(e) for e in written["expectations"]} - {signature(e) for e in committed["expectations"]}
    assert not missing, f"run `python -m orchestration.lib.gate.rules`: {name} lacks {sorted(missing)[:2]}"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_suite_loads_in_gx_and_names_each_rule(name: str) -> None:
    suite = load_suite(EXPECTATIONS_DIR / f"{name}.json")
    source = SOURCES[name]
    rules = [e.configuration.meta for e in suite.expectations]
    assert all(meta.get("rule") for meta in rules)
    required = {c.name for c in source.columns if c.required}
    checked_present = {m["column"] for m in rules if m["rule"] == f"{m.get('column')} is present"}
    assert checked_present == required
    enumerations = {c.name for c in source.columns if c.allowed}
    assert enumerations <= {m["column"] for m in rules if " is one of " in m["rule"]}


def test_sources_load_after_the_sources_their_rules_read() -> None:
    # a posting's source_ref names a timesheet entry, rental, invoice or PO: those load before the ledger
    assert referenced_sources(SOURCES["gl_actuals"]) == [
        "accounts", "equipment_rentals", "fx_rates", "invoices", "projects", "purchase_orders", "timesheets"
    ]
    assert "departments" in referenced_sources(SOURCES["projects"])
    assert referenced_sources(SOURCES["departments"]) == []
    # no cycle: a topological order exists
    done: set[str] = set()
    pending = set(SOURCES)
    while pending:
        ready = {n for n in pending if set(referenced_sources(SOURCES[n])) <= done}
        assert ready, f"cycle among {sorted(pending)}"
        done |= ready
        pending -= ready
