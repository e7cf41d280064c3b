"""What a refresh materializes: every asset, or only what the new landing files and a new as-of date reach.

A day's delivery is a ledger file or two. About a third of the project's models (the staging of budgets,
people, production and reference files, their dimensions, the month and rate spines) read none of it and no
as-of date: rebuilt, their tables come out the same, and their dbt tests pass again on the same rows. When the
published warehouse is the clean publication of the last run (`freshness.py`) and the build database holds
that run's passed build, a run materializes only:

- the ingest assets of the sources that have new or changed landing files, of the sources with loads in the
  lake that the publication does not hold (accepted by a run that then failed, or by a Dagster UI run), and of the
  sources of files the publication's run rejected that are still in the landing folder (checked again: what they
  refer to may have arrived with the new files);
- the dbt models that read those sources, the load ledger (which every new load changes) or the as-of date
  (`macros/as_of.sql`), when it moved;
- everything downstream of those in the asset graph: the models built on them, with their dbt tests, the
  publication, the department files, the reports and the documentation.

The other models keep the tables the build and work databases hold; the publication copies them as they are.

Everything is materialized (as before this scope existed) when any of these holds:
- `--full-refresh`, or the Spark engine;
- no clean publication recorded, or the published warehouse is not it (a run since failed before publishing or
  another tool published);
- another config or another version of the code;
- the last clean publication was not made from this build database (the Spark engine's, or one recorded before
  the scope was), the last dbt build did not pass, a build or work database is missing, or the build database
  holds another build than the one published (the dbt step's record of it differs: a later build passed but was
  not published, a Dagster UI run built some models);
- the dbt step would rebuild the incremental models from the lake (another dbt version, settings or reference
  loads: `incremental_rebuild_reasons`), or an earlier as-of date than the published warehouse's;
- a load the published warehouse holds is gone from the lake;
- a new file of a source whose rows every posted cost line carries (projects, accounts, fx rates: the
  incremental models rebuild from the lake, `REFERENCE_SOURCES_OF_POSTINGS`);
- nothing the scope can name changed (a loaded landing file was removed; files no refresh reads are no input).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.freshness import RunInputs, published_mtime, read_clean_publication, recorded_rejections

AS_OF_MACRO = "macro.studio_budget.as_of_date"
LOAD_LEDGER = "load_ledger"


@dataclass(frozen=True)
class RefreshScope:
    """Every asset (`everything_because` names why), or the sources with new landing files and whether the as-of
    date moved."""

    everything_because: str | None
    sources: tuple[str, ...] = ()
    as_of_moved: bool = False

    @property
    def everything(self) -> bool:
        return self.everything_because is not None

    def describe(self) -> str:
        """One line for the person running the refresh."""
        if self.everything:
            return f"every model ({self.everything_because})"
        reached = [f"new files of {', '.join(self.sources)}"] if self.sources else []
        if self.as_of_moved:
            reached.append("the new as-of date")
        return f"what {' and '.join(reached)} {'reaches' if reached == ['the new as-of date'] else 'reach'}"


def publication_base(engine: str, build_state: Mapping[str, Any] | None, lake_loads: Iterable[tuple[str, str]]) -> dict:
    """What a publication was made from besides its inputs, kept with the record of a clean one
    (`freshness.record_clean_publication`): the engine, the dbt step's record of the build it copied
    (`read_incremental_state`) and the lake's accepted loads as (source, load id)."""
    return {"engine": engine, "build_state": build_state, "lake_loads": sorted([s, load] for s, load in lake_loads)}


def refresh_scope(
    layout: WarehouseLayout,
    inputs: RunInputs,
    source_of: Callable[[str], str | None],
    base: Mapping[str, Any],
    reference_sources: Iterable[str],
    rebuild_reasons: Iterable[str] = (),
    full_refresh: bool = False,
) -> RefreshScope:
    """The scope of a run with these inputs. `source_of` names a landing file's source (None: no refresh reads
    it); `base`: the warehouse as it is now (`publication_base`); `rebuild_reasons`: why the dbt step would rebuild
    the incremental models from the lake (`incremental_rebuild_reasons`)."""
    engine, build_state = base["engine"], base["build_state"]
    if full_refresh:
        return RefreshScope("--full-refresh")
    if engine != "duckdb":
        return RefreshScope(f"the {engine} engine builds every model")
    state = read_clean_publication(layout)
    if state is None:
        return RefreshScope("no clean publication to build on")
    if state.get("published_db_mtime_ns") != published_mtime(layout):
        return RefreshScope("the published warehouse is not the last clean publication")
    if (state.get("config_sha256"), state.get("code_sha256")) != (inputs.config_sha256, inputs.code_sha256):
        return RefreshScope("another config or another version of the code")
    recorded = state.get("base") or {}
    if recorded.get("engine") != engine:
        return RefreshScope("the last clean publication was not built by this engine's build database")
    if build_state is None or "attempted_as_of" in build_state:
        return RefreshScope("the last dbt build did not pass")
    if not (layout.build_db.exists() and layout.work_db.exists()):
        return RefreshScope("no build or work database")
    if recorded.get("build_state") != build_state:
        return RefreshScope("the build database holds another build than the published warehouse")
    if reasons := list(rebuild_reasons):
        return RefreshScope(f"the incremental models rebuild from the lake: {'; '.join(reasons)}")
    recorded_as_of = str(state.get("as_of", ""))
    if inputs.as_of < recorded_as_of:
        return RefreshScope(f"an earlier as-of date than the last publication's ({recorded_as_of})")
    published_loads = {tuple(load) for load in recorded.get("lake_loads", [])}
    lake_loads = {tuple(load) for load in base["lake_loads"]}
    if published_loads - lake_loads:
        return RefreshScope("loads the published warehouse holds are gone from the lake")
    before = {tuple(item) for item in state.get("landing", [])}
    changed = [name for name, sha in inputs.landing if (name, sha) not in before]
    sources = {source for name in changed if (source := source_of(name)) is not None}
    sources |= {source for source, _ in lake_loads - published_loads}  # loaded since, never published
    # a file the publication's run rejected and still in landing is checked again, and named again if still rejected
    landing_names = {name for name, _ in inputs.landing}
    rechecked = {
        source
        for item in recorded_rejections(layout, state)
        if item["file"] in landing_names and (source := source_of(item["file"]))
    }
    if reference := sorted(sources & set(reference_sources)):
        return RefreshScope(f"new files of {', '.join(reference)}, which every cost line carries")
    if reference := sorted((rechecked - sources) & set(reference_sources)):
        return RefreshScope(
            f"a rejected file of {', '.join(reference)} is checked again, and every cost line carries {reference[0]}"
        )
    sources |= rechecked
    as_of_moved = inputs.as_of != recorded_as_of
    if not sources and not as_of_moved:
        return RefreshScope("no new file of a source and the same as-of date")
    return RefreshScope(None, tuple(sorted(sources)), as_of_moved)


def _macro_readers_of_as_of(macros: Mapping[str, Any]) -> set[str]:
    """The macros that read the as-of date, directly or through other macros (and the as-of macro itself)."""
    readers = {AS_OF_MACRO}
    grew = True
    while grew:
        grew = False
        for unique_id, macro in macros.items():
            if unique_id not in readers and readers & set(macro.get("depends_on", {}).get("macros", [])):
                readers.add(unique_id)
                grew = True
    return readers


def models_reading(manifest: Mapping[str, Any], sources: Iterable[str], as_of: bool) -> list[dict[str, Any]]:
    """The dbt models that read one of these lake sources or the load ledger (any new load is in it), or, with
    `as_of`, the as-of date. Their downstream models are not listed: the asset graph has them."""
    wanted = set(sources)
    if wanted:
        wanted.add(LOAD_LEDGER)
    source_ids = {uid for uid, source in manifest["sources"].items() if source["name"] in wanted}
    as_of_macros = _macro_readers_of_as_of(manifest["macros"]) if as_of else set()
    found = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        depends_on = node.get("depends_on", {})
        if source_ids & set(depends_on.get("nodes", [])) or as_of_macros & set(depends_on.get("macros", [])):
            found.append(node)
    return found


def read_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
