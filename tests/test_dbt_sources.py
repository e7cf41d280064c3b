"""dbt's `lake` sources are the landing contract: the committed `_sources.yml` is generated from it."""

from __future__ import annotations

import yaml

from orchestration.lib.contract import SOURCES
from orchestration.lib.dbt_sources import SOURCES_YML, sources_yml


def test_committed_sources_yml_is_generated_from_the_contract() -> None:
    assert SOURCES_YML.read_text(encoding="utf-8") == sources_yml(), (
        "models/staging/_sources.yml differs from the contract: run `python -m orchestration.lib.dbt_sources`"
    )


def test_every_source_has_its_columns_and_types() -> None:
    (lake,) = yaml.safe_load(sources_yml())["sources"]
    tables = {t["name"]: t for t in lake["tables"]}
    assert list(tables) == [*SOURCES, "load_ledger"]
    gl = {c["name"]: c.get("data_type") for c in tables["gl_actuals"]["columns"]}
    assert gl["txn_id"] == "varchar" and gl["posted_date"] == "date" and gl["amount"] == "decimal(18,4)"
    assert list(gl)[-2:] == ["_load_id", "_row_number"]
