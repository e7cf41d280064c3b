"""The documentation sites a refresh leaves beside the published warehouse (README "Documentation sites"):
`docs/index.html` (dbt docs of the marts) and `quality/` (Great Expectations Data Docs of every load).

Both come from the session's sample run (`studio-budget run`, through the Dagster graph); what they must hold
is worked out from the dbt project's own files and the published audit, not from the pages themselves.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from orchestration.lib.config import DBT_PROJECT_DIR
from tests.conftest import CliRun, copy_warehouse, query

MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"
# where the dbt JSON artifacts start inside dbt's static page (their own schema URLs, whatever the minified JS)
ARTIFACT_START = re.compile(r'\{"metadata":\s*\{"dbt_schema_version":\s*"https://schemas\.getdbt\.com/dbt/(\w+)/')


def embedded_artifacts(page: Path) -> dict[str, dict]:
    """The manifest and catalog `dbt docs generate --static` inlined into the page."""
    text = page.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    found = {}
    for match in ARTIFACT_START.finditer(text):
        found[match.group(1)], _ = decoder.raw_decode(text, match.start())
    return found


def html_text(markup: str) -> str:
    """The words of an HTML page (scripts and styles dropped, tags removed, entities decoded, spaces collapsed)."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def page_rows(markup: str) -> list[str]:
    """The table rows of a Data Docs page, as HTML."""
    return re.findall(r"<tr\b.*?</tr>", markup, flags=re.S)


def mart_names() -> set[str]:
    return {p.stem for p in MARTS_DIR.rglob("*.sql")}


# ---------------------------------------------------------------------------------------------------- dbt docs


def test_dbt_docs_page_documents_every_mart_and_column(sample_run: CliRun) -> None:
    page = sample_run.warehouse / "docs" / "index.html"
    assert page.is_file(), sample_run.stderr
    assert not list(page.parent.glob(".index-*")), "a draft page was left beside the published one"
    artifacts = embedded_artifacts(page)
    assert set(artifacts) == {"manifest", "catalog"}
    manifest, catalog = artifacts["manifest"], artifacts["catalog"]

    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    marts = mart_names()
    assert marts <= set(models), marts - set(models)
    tables = {n["metadata"]["name"]: n for n in catalog["nodes"].values() if n["metadata"]["schema"] == "marts"}
    # the catalog is the published tables': every mart, with the columns the warehouse has
    assert set(tables) == marts
    with_published = {
        (table, column)
        for table, column in query(
            sample_run.warehouse / "studio.duckdb",
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'marts'",
        )
    }
    assert {(t, c.lower()) for t, node in tables.items() for c in node["columns"]} == with_published
    undocumented = []
    for name in sorted(marts):
        if not models[name]["description"].strip():
            undocumented.append(name)
        documented = {c.lower(): v["description"] for c, v in models[name]["columns"].items()}
        undocumented += [f"{name}.{c}" for c in tables[name]["columns"] if not documented.get(c.lower(), "").strip()]
    assert undocumented == []


class _NoDbt:
    """A dbt resource that must not be started."""

    def cli(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("dbt was started")


def test_dbt_docs_are_generated_again_only_when_their_inputs_change(sample_run: CliRun, tmp_path: Path) -> None:
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.dbt_docs import publish_dbt_docs
    from orchestration.lib.freshness import code_fingerprint, docs_to_be_made

    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    layout = WarehouseLayout(warehouse)
    page = warehouse / "docs" / "index.html"
    before = page.read_bytes()
    # the run recorded the code the page is of: a run of this code has no page to make (and of other code has)
    assert not docs_to_be_made(layout, code_fingerprint())
    assert docs_to_be_made(layout, "other code")
    # the same code and published columns: the page stands, dbt is not started; the code is recorded again
    (warehouse / "docs" / ".code").unlink()
    assert docs_to_be_made(layout, code_fingerprint())
    assert publish_dbt_docs(_NoDbt(), layout, {}) == page and page.read_bytes() == before
    assert not docs_to_be_made(layout, code_fingerprint())
    # another publication's columns (or code): dbt is started
    (warehouse / "docs" / ".inputs").write_text("made from something else", encoding="utf-8")
    with pytest.raises(AssertionError, match="dbt was started"):
        publish_dbt_docs(_NoDbt(), layout, {})
    assert page.read_bytes() == before  # and a failed generate leaves the page
    page.unlink()
    assert docs_to_be_made(layout, code_fingerprint())  # no page: one is to be made


def test_dbt_docs_reuse_the_builds_parse(sample_run: CliRun) -> None:
    """dbt keeps one partial-parse state per target folder: the docs run (after the build, in the same folder)
    parses only what changed when it names the build's target and vars, and leaves the next build the same."""
    output = (sample_run.warehouse / "_internal" / "dbt_output.log").read_text(encoding="utf-8")
    build, docs = output.split("Running with dbt=")[1:]  # the build, then the docs
    assert "START sql table model" in build and "Building catalog" in docs
    assert "Unable to do partial parsing" not in docs, docs[:2000]


def test_exposures_cover_every_report_and_export() -> None:
    """Every mart is exported (the parquet_exports exposure), and every mart read by a report or delivery
    module (found by name in its SQL) is declared by an exposure."""
    declared = yaml.safe_load((DBT_PROJECT_DIR / "models" / "exposures.yml").read_text(encoding="utf-8"))
    refs = {
        e["name"]: {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in e["depends_on"]} for e in declared["exposures"]
    }
    assert refs["parquet_exports"] == mart_names()
    readers = {
        "studio_budget_vs_actual_report": ["report.py"],
        "project_cost_report": ["report_project.py", "report_production.py"],
        "reforecast_draft": ["reforecast.py"],
        "alert_delivery": ["alerts.py"],
    }
    lib = Path(__file__).resolve().parents[1] / "orchestration" / "lib"
    for exposure, modules in readers.items():
        read = {m for module in modules for m in re.findall(r"\bmarts\.(\w+)", (lib / module).read_text())}
        assert read and read <= refs[exposure], (exposure, read - refs[exposure])


# ---------------------------------------------------------------------------------------------------- GX Data Docs


def unstamped(page: str) -> str:
    """What varies from one build of a Data Docs page to the next: the time GX stamps on its links, its random
    element ids."""
    page = re.sub(r"\?d=\d{8}T\d{6}\.\d+Z", "?d=", page)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", page)


def load_page(warehouse: Path, source: str, load_id: str) -> Path:
    [page] = (warehouse / "quality" / "validations" / source).glob(f"*/*/{load_id}.html")
    return page


def test_every_accepted_load_has_its_data_docs_page(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    loads = query(database, "SELECT load_id, source, file_name FROM audit.loads WHERE status = 'accepted'")
    assert len(loads) == 21  # every file of the sample but AS_OF
    index = (sample_run.warehouse / "quality" / "index.html").read_text(encoding="utf-8")
    for load_id, source, file_name in loads:
        page = load_page(sample_run.warehouse, source, load_id)
        text = html_text(page.read_text(encoding="utf-8"))
        assert f"Data asset: {file_name}" in text
        assert "Status: Succeeded" in text
        # GX evaluated exactly the rules the audit recorded for the load
        [(rules,)] = query(database, "SELECT count(*) FROM audit.check_results WHERE load_id = ?", [load_id])
        assert f"Evaluated Expectations {rules}" in text, (file_name, rules)
        # the index lists the page (GX's index holds each page's link relative to itself)
        assert page.relative_to(sample_run.warehouse / "quality").as_posix() in index


def test_data_docs_pages_compile_gxs_templates_once_per_process(
    sample_run: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GX makes a new Jinja environment for every site build; `data_docs.COMPILED_TEMPLATES` keeps the compiled
    templates for the process. The pages are the same as GX renders them without it (the second method: the
    cache switched off), and a second build compiles nothing."""
    import jinja2

    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.gate import data_docs

    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    layout = WarehouseLayout(warehouse)
    compiled: list[str] = []
    compile_template = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *args: object) -> object:
        compiled.append(name or "")
        return compile_template(self, source, name, *args)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    site = warehouse / "quality"

    def build() -> dict[str, str]:
        """Every page of the site after a build (GX renders the newest load's page again, and the index)."""
        compiled.clear()
        data_docs.build_index(layout)
        return {page.relative_to(site).as_posix(): unstamped(page.read_text("utf-8")) for page in site.rglob("*.html")}

    data_docs.COMPILED_TEMPLATES.compiled.clear()
    first = build()
    assert len(first) == 22 and compiled, "GX rendered no site: 21 load pages and the index"
    assert build() == first
    assert compiled == [], f"templates compiled again in the same process: {sorted(set(compiled))}"
    monkeypatch.setattr(data_docs, "COMPILED_TEMPLATES", None)  # GX's own views, as without the cache
    assert build() == first
    assert compiled


def test_data_docs_index_reads_only_the_validations_it_has_not_listed(
    sample_run: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GX's index builder reads every validation kept at every build; the project's (`data_docs.IndexBuilder`)
    keeps what the index shows of each in `_internal/gx_index_links.json` and reads only the ones it has not
    listed, or whose result file changed. The index is the one GX's own builder makes (the second method: GX's
    `DefaultSiteIndexBuilder` in its place). A deleted page is rendered again; a result rewritten is read again;
    a new validation whose page is missing is read, listed, and its page rendered."""
    from great_expectations.data_context.store.validation_results_store import ValidationResultsStore
    from great_expectations.data_context.types.resource_identifiers import ValidationResultIdentifier
    from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder

    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.gate import data_docs

    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    layout = WarehouseLayout(warehouse)
    links = layout.internal / data_docs.INDEX_LINKS
    assert links.is_file(), "the sample run's index kept no links"
    links.unlink()
    index = warehouse / "quality" / "index.html"
    reads: list[object] = []
    deserialize = ValidationResultsStore.deserialize

    def counted(self: ValidationResultsStore, value: object) -> object:
        reads.append(value)
        return deserialize(self, value)

    monkeypatch.setattr(ValidationResultsStore, "deserialize", counted)

    def build(own: bool = False) -> str:
        reads.clear()
        with monkeypatch.context() as patch:
            if own:  # GX's own builder, which reads every validation
                patch.setattr(data_docs, "IndexBuilder", DefaultSiteIndexBuilder)
            data_docs.build_index(layout)
        return unstamped(index.read_text(encoding="utf-8"))

    def listed() -> int:
        return len(json.loads(links.read_text(encoding="utf-8"))["links"])

    context = data_docs.data_docs_context(layout)
    kept = sorted(context.validation_results_store.list_keys(), key=lambda k: k.run_id.run_time)
    assert len(kept) == 21
    by_gx = build(own=True)
    assert len(reads) == 21 + 1, "GX's index reads each validation, and the newest page its own"
    assert "How to" not in html_text(by_gx), "the site shows no how-to buttons (show_how_to_buttons: false)"
    assert not links.exists()
    # no links yet: each validation read once for the index, and the newest page's once
    assert build() == by_gx
    assert len(reads) == 21 + 1
    assert listed() == 21
    # listed: the index reads none of them again
    assert build() == by_gx
    assert len(reads) == 1, "only the newest page's validation is read (its page is rendered again)"

    # a listed validation's page deleted: rendered again by the next build, from its result
    oldest = kept[0]
    page = load_page(warehouse, oldest.expectation_suite_identifier.name, oldest.batch_identifier)
    page.unlink()
    assert build() == by_gx
    assert page.is_file()
    assert len(reads) == 1, "the deleted page's validation is read for its page, the index reads none"

    # a listed validation's result rewritten (here: failed): read again, and the index shows it as GX's does
    second = kept[1]
    rewritten = context.validation_results_store.get(second)
    assert rewritten.success
    rewritten.success = False
    context.validation_results_store.set(second, rewritten)
    with_failure = build()
    assert with_failure != by_gx
    assert len(reads) == 2, "the rewritten result is read for the index, and the newest page's for its page"
    assert with_failure == build(own=True)

    # a new validation, kept without its page (a run killed while rendering it): a copy of the first, a day later
    result = context.validation_results_store.get(oldest)
    run = type(oldest.run_id)(run_name="later", run_time=kept[-1].run_id.run_time + timedelta(days=1))
    new = ValidationResultIdentifier(oldest.expectation_suite_identifier, run, "20991231T000000000000-000000000000")
    context.validation_results_store.set(new, result)
    with_new = build()
    assert len(reads) == 2, "the new validation is read for the index and for its page, and no other"
    assert listed() == 22
    page = load_page(warehouse, oldest.expectation_suite_identifier.name, new.batch_identifier)
    assert page.relative_to(warehouse / "quality").as_posix() in with_new
    assert with_new == build(own=True)
