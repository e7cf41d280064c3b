"""The dbt unit tests (the `unit_tests:` of dbt_project/models/**/*.yml), each as its own pytest test.

They check the SQL formulas (variance, YTD, phasing, versions, roll-ups, …) on hand-made rows. dbt runs them all
in one invocation against a copy of the session's small-studio build database (unit tests need their models'
parents to exist); each pytest test then reports its own, so a broken formula reads as that formula failing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestration.lib.config import DBT_PROJECT_DIR
from tests.conftest import SMALL_AS_OF

pytestmark = pytest.mark.xdist_group("dbt_unit_tests")


def declared_unit_tests() -> list[str]:
    """`model.test_name` of every unit test declared in the dbt project's YAML."""
    found = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests") or []:
            found.append(f"{test['model']}.{test['name']}")
    return found


@pytest.fixture(scope="module")
def unit_test_results(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("dbt_unit")
    # dbt reads the columns of each model a unit test mocks from the built relations: the build database and the
    # work database of the staging and intermediate models, which the profile attaches
    build_db, work_db = folder / "build.duckdb", folder / "work.duckdb"
    shutil.copy(small_warehouse / "_internal" / "build.duckdb", build_db)
    shutil.copy(small_warehouse / "_internal" / "work.duckdb", work_db)
    dbt = Path(sys.executable).with_name("dbt")
    target = folder / "target"
    done = subprocess.run(
        [
            str(dbt), "test", "--select", "test_type:unit",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(folder / "logs"), "--log-level-file", "none",
            "--vars", json.dumps({"build_db": str(build_db), "work_db": str(work_db), "as_of": SMALL_AS_OF}),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    results_file = target / "run_results.json"
    assert results_file.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(results_file.read_text(encoding="utf-8"))["results"]
    # unique_id: unit_test.<project>.<model>.<test name> (the project's on-run-start hook is a result too)
    return {".".join(r["unique_id"].split(".")[2:]): r for r in results if r["unique_id"].startswith("unit_test.")}


@pytest.mark.parametrize("name", declared_unit_tests())
def test_dbt_unit_test(name: str, unit_test_results: dict[str, dict]) -> None:
    assert name in unit_test_results, f"dbt did not run unit test {name}"
    result = unit_test_results[name]
    assert result["status"] == "pass", result.get("message")


def test_every_unit_test_dbt_ran_is_declared(unit_test_results: dict[str, dict]) -> None:
    assert sorted(unit_test_results) == sorted(declared_unit_tests())
