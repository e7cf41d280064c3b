"""Whether a run has anything to do (`orchestration.lib.freshness`): every input that decides the figures counts."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

from orchestration.lib.freshness import (
    HASH_CACHE_FILE,
    hash_cache,
    is_current,
    landing_fingerprint,
    landing_sha256,
    record_clean_publication,
    run_inputs,
)
from tests.conftest import two_file_studio

NO_LOADS = {"lake_loads": []}  # what a publication was made from (`scope.publication_base`): an empty lake


def test_the_same_inputs_are_current_and_any_change_is_not(tmp_path: Path) -> None:
    landing, layout = two_file_studio(tmp_path)
    inputs = run_inputs(landing, layout, "2026-10-15", None)
    assert not is_current(layout, inputs)  # nothing recorded yet
    record_clean_publication(layout, inputs, NO_LOADS)
    assert is_current(layout, run_inputs(landing, layout, "2026-10-15", None))
    assert not is_current(layout, run_inputs(landing, layout, "2026-10-16", None))  # another as-of
    config = tmp_path / "studio.toml"
    config.write_text("base_currency = 'GBP'\n", encoding="utf-8")
    assert not is_current(layout, run_inputs(landing, layout, "2026-10-15", config))  # a config
    assert not is_current(layout, replace(inputs, code_sha256="0" * 64))  # other code
    (landing / "gl_actuals_2.csv").write_text("txn_id\nT2\n", encoding="utf-8")  # a new file
    assert not is_current(layout, run_inputs(landing, layout, "2026-10-15", None))
    (landing / "gl_actuals_2.csv").unlink()
    assert is_current(layout, run_inputs(landing, layout, "2026-10-15", None))
    (landing / "gl_actuals_1.csv").write_text("txn_id\nT9\n", encoding="utf-8")  # same name, other content
    assert not is_current(layout, run_inputs(landing, layout, "2026-10-15", None))


def test_a_publication_made_since_is_not_the_recorded_one(tmp_path: Path) -> None:
    landing, layout = two_file_studio(tmp_path)
    inputs = run_inputs(landing, layout, "2026-10-15", None)
    record_clean_publication(layout, inputs, NO_LOADS)
    stat = layout.published_db.stat()
    os.utime(layout.published_db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # e.g. from the Dagster UI
    assert not is_current(layout, inputs)


def test_a_file_is_hashed_again_only_when_its_size_or_time_changes(tmp_path: Path) -> None:
    landing, layout = two_file_studio(tmp_path)
    first = dict(landing_fingerprint(landing, layout))
    cache = (layout.internal / HASH_CACHE_FILE).read_text(encoding="utf-8")
    # the cache answers for an unchanged file: a planted sha256 proves it was not read again
    planted = cache.replace(first["projects.csv"], "f" * 64)
    (layout.internal / HASH_CACHE_FILE).write_text(planted, encoding="utf-8")
    assert dict(landing_fingerprint(landing, layout))["projects.csv"] == "f" * 64
    (landing / "projects.csv").write_text("project_code\nP1\nP2\n", encoding="utf-8")  # new size: hashed again
    again = dict(landing_fingerprint(landing, layout))
    assert again["projects.csv"] == hashlib.sha256(b"project_code\nP1\nP2\n").hexdigest()


def test_the_ingest_takes_a_files_hash_from_the_cache_while_the_file_is_unchanged(tmp_path: Path) -> None:
    landing, layout = two_file_studio(tmp_path)
    ledger = landing / "gl_actuals_1.csv"
    # no cache yet: the file is read
    assert landing_sha256(ledger, hash_cache(layout)) == hashlib.sha256(ledger.read_bytes()).hexdigest()
    first = dict(landing_fingerprint(landing, layout))
    cache = layout.internal / HASH_CACHE_FILE
    cache.write_text(cache.read_text(encoding="utf-8").replace(first["gl_actuals_1.csv"], "e" * 64), encoding="utf-8")
    assert landing_sha256(ledger, hash_cache(layout)) == "e" * 64  # the planted value: the file was not read
    stat = ledger.stat()
    os.utime(ledger, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # touched: the same bytes read again
    assert landing_sha256(ledger, hash_cache(layout)) == hashlib.sha256(ledger.read_bytes()).hexdigest()
    cache.write_text("not json", encoding="utf-8")  # a damaged cache is no answer
    assert landing_sha256(ledger, hash_cache(layout)) == hashlib.sha256(ledger.read_bytes()).hexdigest()


def test_files_no_refresh_reads_are_not_landing_inputs(tmp_path: Path) -> None:
    """A note, a misspelt name or a folder beside the landing files changes nothing a refresh publishes: the
    inputs are those of the files a source or a mapping reads, so the warehouse stays current."""
    landing, layout = two_file_studio(tmp_path)
    inputs = run_inputs(landing, layout, "2026-10-15", None)
    record_clean_publication(layout, inputs, NO_LOADS)
    (landing / "notes.txt").write_text("call the stage\n", encoding="utf-8")
    (landing / "Projects_2027.csv").write_text("project_code\nP9\n", encoding="utf-8")
    (landing / "archive").mkdir()
    assert dict(landing_fingerprint(landing, layout)).keys() == dict(inputs.landing).keys()
    assert is_current(layout, run_inputs(landing, layout, "2026-10-15", None))
    (landing / "projects_2027.csv").write_text("project_code\nP9\n", encoding="utf-8")  # a projects file: new
    assert not is_current(layout, run_inputs(landing, layout, "2026-10-15", None))


def test_a_load_the_publication_does_not_hold_is_new(tmp_path: Path) -> None:
    """A load accepted since the publication (a Dagster UI run that did not publish) makes the same landing files
    not current; a publication recorded without its loads is never taken as current."""
    landing, layout = two_file_studio(tmp_path)
    inputs = run_inputs(landing, layout, "2026-10-15", None)
    record_clean_publication(layout, inputs, NO_LOADS)
    assert is_current(layout, inputs)
    load = layout.lake / "gl_actuals" / "load_id=L9"
    load.mkdir(parents=True)
    (load / "_load.json").write_text("{}", encoding="utf-8")
    assert not is_current(layout, inputs)
    record_clean_publication(layout, inputs, {"lake_loads": [["gl_actuals", "L9"]]})
    assert is_current(layout, inputs)
    record_clean_publication(layout, inputs)  # no record of its loads
    assert not is_current(layout, inputs)


def test_a_rejected_file_removed_from_landing_leaves_the_publication_current(tmp_path: Path) -> None:
    """The publication's run rejected gl_actuals_bad.csv: removing it changes nothing published (still current);
    removing a file it loaded does."""
    landing, layout = two_file_studio(tmp_path)
    (landing / "gl_actuals_bad.csv").write_text("txn_id\nT?\n", encoding="utf-8")
    inputs = run_inputs(landing, layout, "2026-10-15", None)
    rejected = [{"file": "gl_actuals_bad.csv", "reasons": ["txn_id is plain"], "report": "r.txt"}]
    record_clean_publication(layout, inputs, NO_LOADS, rejected)
    assert is_current(layout, inputs)
    (landing / "gl_actuals_bad.csv").unlink()
    assert is_current(layout, run_inputs(landing, layout, "2026-10-15", None))
    (landing / "gl_actuals_1.csv").unlink()
    assert not is_current(layout, run_inputs(landing, layout, "2026-10-15", None))
