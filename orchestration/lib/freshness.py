"""Whether a run has anything to do: the inputs of the last clean publication, compared with this run's.

A refresh that published with no step failed records what it was made of: the as-of date, the studio config,
the code (dbt project, mappings, suites, this package) and every landing file's sha256, and the files the gate
rejected. A later run whose inputs are the same would publish the same figures and reject the same files (the
gate's rules read the landing files, the lake they made, the as-of date and the config), so `studio-budget run`
says so, names those files again and exits as that run did, without starting Dagster or dbt. Landing files are
hashed once: a file's sha256 is kept against its size and modification time, and a file is hashed again only when
either changes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from orchestration.lib.config import REPO_ROOT, WarehouseLayout

STATE_FILE = "last_clean_publication.json"
LAKE_LOADS = "*/load_id=*/_load.json"  # a whole load's manifest (`lake.LOAD_MANIFEST`), written last
HASH_CACHE_FILE = "landing_hashes.json"
# what decides the figures besides the landing files: the code and data files of the project
CODE_FOLDERS = ("orchestration", "dbt_project/models", "dbt_project/macros", "dbt_project/seeds", "dbt_project/tests")
CODE_FILES = ("dbt_project/dbt_project.yml", "dbt_project/profiles.yml")
DATA_FOLDERS = ("mappings", "expectations")


@dataclass(frozen=True)
class RunInputs:
    """Everything a refresh's figures depend on."""

    as_of: str
    config_sha256: str
    code_sha256: str
    landing: tuple[tuple[str, str], ...]  # (file name, sha256), by name


def sha256_of(path: Path) -> str:
    """A file's sha256, read in 1 MB chunks (the load ledger's key of a landing file)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """One sha256 over the project's code and data files (names and contents)."""
    digest = hashlib.sha256()
    files = [root / name for name in CODE_FILES]
    for folder in (*CODE_FOLDERS, *DATA_FOLDERS):
        files += [p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted(p for p in files if p.is_file() and p.suffix not in (".pyc", ".lock")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _hash_key(path: Path) -> str:
    """A landing file's key in the hash cache: its path, size and modification time (in nanoseconds)."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def hash_cache(layout: WarehouseLayout) -> dict[str, str]:
    """The warehouse's record of the landing files' sha256 by `_hash_key` (empty when missing or damaged)."""
    try:
        cache = json.loads((layout.internal / HASH_CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in cache.items() if isinstance(v, str)} if isinstance(cache, dict) else {}


def landing_sha256(path: Path, cache: Mapping[str, str]) -> str:
    """A landing file's sha256 as the hash cache (`hash_cache`) records it for the file as it is now (the same path,
    size and modification time: `landing_fingerprint` hashed it at the run's start), else read from the file. The
    ingest of a source looks at every one of its landing files, loaded or not: at 10M rows of history the ledger's
    files (187 MB; 0.25 s to hash alone, ten times that at 100M rows) were read whole again every day."""
    return cache.get(_hash_key(path)) or sha256_of(path)


def landing_fingerprint(
    landing_dir: Path, layout: WarehouseLayout, mappings: Mapping[str, Any] | None = None
) -> tuple[tuple[str, str], ...]:
    """Every file of the landing folder a refresh reads (a source's by its name prefix, or a mapping's) with its
    sha256, hashed only when new or changed. A file no refresh reads (a note, a misspelt name: the run names it
    NOT READ) changes nothing a refresh publishes, so it is left out: adding or editing one is not new."""
    from orchestration.lib.mappings import landing_file_is_read, load_mappings

    mappings = load_mappings() if mappings is None else mappings
    cache_path = layout.internal / HASH_CACHE_FILE
    cache = hash_cache(layout)
    found, fresh = [], {}
    for path in sorted(landing_dir.iterdir()):
        if not path.is_file() or path.name.startswith(".") or not landing_file_is_read(path.name, mappings):
            continue
        key = _hash_key(path)
        sha = cache.get(key) or sha256_of(path)
        fresh[key] = sha
        found.append((path.name, sha))
    if fresh != cache and layout.internal.is_dir():
        _write_json(cache_path, fresh)
    return tuple(found)


def run_inputs(
    landing_dir: Path,
    layout: WarehouseLayout,
    as_of: str,
    config_file: Path | None,
    mappings: Mapping[str, Any] | None = None,
) -> RunInputs:
    config = sha256_of(config_file) if config_file is not None and config_file.is_file() else ""
    return RunInputs(as_of, config, code_fingerprint(), landing_fingerprint(landing_dir, layout, mappings))


def record_clean_publication(
    layout: WarehouseLayout,
    inputs: RunInputs,
    base: Mapping[str, Any] | None = None,
    rejected: Sequence[Mapping[str, Any]] = (),
) -> None:
    """After a refresh that published with no step failed: what that publication was made of (its inputs, and
    the build and loads it was made from: `scope.publication_base`) and the landing files its gate rejected (each
    as the run names it: file, reasons, report, data_docs)."""
    state = {
        **asdict(inputs),
        "published_db_mtime_ns": published_mtime(layout),
        "base": base,
        "rejected": [_paths_within(item, layout.root, relative=True) for item in rejected],
    }
    _write_json(layout.internal / STATE_FILE, state)


def forget_clean_publication(layout: WarehouseLayout) -> None:
    (layout.internal / STATE_FILE).unlink(missing_ok=True)


def read_clean_publication(layout: WarehouseLayout) -> dict[str, Any] | None:
    """The record of the last clean publication (`record_clean_publication`), None without one."""
    try:
        return json.loads((layout.internal / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def recorded_rejections(layout: WarehouseLayout, state: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The landing files the last clean publication's run rejected (`record_clean_publication`), from `state` (the
    record, `read_clean_publication`) when the caller has read it already."""
    state = read_clean_publication(layout) if state is None else state
    found = [item for item in (state or {}).get("rejected") or [] if isinstance(item, dict) and "file" in item]
    return [_paths_within(item, layout.root, relative=False) for item in found]


REJECTION_PATHS = ("report", "data_docs")


def _paths_within(item: Mapping[str, Any], root: Path, relative: bool) -> dict[str, Any]:
    """A rejection's report and Data Docs paths kept relative to the warehouse (a warehouse moved or copied whole
    still names its own quarantine), and made whole again when read."""
    kept = dict(item)
    for key in REJECTION_PATHS:
        if not kept.get(key):
            continue
        path = Path(kept[key])
        if relative and path.is_absolute() and path.is_relative_to(root):
            kept[key] = str(path.relative_to(root))
        elif not relative and not path.is_absolute():
            kept[key] = str(root / path)
    return kept


def is_current(layout: WarehouseLayout, inputs: RunInputs) -> bool:
    """True when the published warehouse is the clean publication of exactly these inputs (less files its run
    rejected that have since been removed from landing) and of the loads the lake holds now."""
    state = read_clean_publication(layout)
    if state is None:
        return False
    settings = (state.get("as_of", ""), state.get("config_sha256", ""), state.get("code_sha256", ""))
    if settings != (inputs.as_of, inputs.config_sha256, inputs.code_sha256):
        return False
    recorded = {tuple(item) for item in state.get("landing", [])}
    now = set(inputs.landing)
    rejected = {item["file"] for item in recorded_rejections(layout, state)}
    if not now <= recorded or any(name not in rejected for name, _ in recorded - now):
        return False
    # loads accepted since (a Dagster UI run that did not publish) are not in the publication
    base = state.get("base") or {}
    if "lake_loads" not in base or sorted(tuple(load) for load in base["lake_loads"]) != lake_loads(layout):
        return False
    # a publication made since (by the Dagster UI or another tool) is not the one recorded
    return state.get("published_db_mtime_ns") == published_mtime(layout)


def lake_loads(layout: WarehouseLayout) -> list[tuple[str, str]]:
    """(source, load id) of every load the lake holds, by its folder (`lake/<source>/load_id=<id>/_load.json`;
    the lake's load ledger without reading it)."""
    if not layout.lake.is_dir():
        return []
    found = [(p.parent.parent.name, p.parent.name.removeprefix("load_id=")) for p in layout.lake.glob(LAKE_LOADS)]
    return sorted(found)


def loaded_before(layout: WarehouseLayout, inputs: RunInputs, loaded_now: Sequence[str]) -> int:
    """How many of the landing files the lake held before this run: those whose content a load holds (a load's id
    ends in its file's sha256, `loads.new_load_id`), but the files this run loaded. A run reads only the sources
    its plan names, so its loads' own count of the files they skipped leaves the other sources' out."""
    held = {load_id.rsplit("-", 1)[-1] for _, load_id in lake_loads(layout)}
    return sum(1 for name, sha in inputs.landing if sha[:12] in held and name not in loaded_now)


def published_mtime(layout: WarehouseLayout) -> int | None:
    return layout.published_db.stat().st_mtime_ns if layout.published_db.exists() else None


def _write_json(path: Path, data: object) -> None:
    work = path.with_name(f".{path.name}.incoming")
    work.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(work, path)


DOCS_CODE_STAMP = ".code"  # in docs/, beside `.inputs`: the project's code the page is of


def stamp_docs_code(layout: WarehouseLayout, code: str) -> None:
    """Record the code the docs page is of (`lib/dbt_docs.py`), for `docs_to_be_made`."""
    stamp = layout.docs / DOCS_CODE_STAMP
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != code:
        stamp.write_text(code, encoding="utf-8")


def docs_to_be_made(layout: WarehouseLayout, code: str) -> bool:
    """Whether a refresh of this code is to make the docs page again, as far as can be told before its build: there
    is no page, or the page is of other code (`code`: `code_fingerprint()`). The page's other input, the
    published tables' columns, changes with the code. `studio-budget run` then has a dbt imported in advance for
    the docs too (`dbt_child.warm_dbt`'s successor)."""
    stamp = layout.docs / DOCS_CODE_STAMP
    try:
        return not (layout.docs / "index.html").is_file() or stamp.read_text(encoding="utf-8") != code
    except OSError:
        return True
