"""The pipeline's Dagster definitions.

dagster-dbt is imported here first, as where dbt-core is not installed (only dbt Fusion): its `compat` module then
defines the few dbt names it uses (node types and statuses) itself instead of importing dbt-core's adapters and
results, about 0.9 s of every refresh's start (four runs each way: `import orchestration.refresh` 3.8 to 4.5 s
against 4.3 to 5.5 s). The pipeline's process never runs dbt: dbt runs in a child process, and
`StudioDbtCliResource` skips dagster-dbt's in-process adapter, the one use of dbt-core's classes beyond those names.
dagster-dbt still reads dbt-core's events as dbt-core's (it goes by the version of the dbt it starts). Where dbt
is already imported (a test process), dagster-dbt is imported as usual. `tests/test_dbt_resource.py` checks that
the refresh's process imports no dbt-core and that dagster-dbt's own names equal dbt-core's, value for value.
"""

import sys

if "dagster_dbt" not in sys.modules and "dbt.version" not in sys.modules:
    sys.modules["dbt.version"] = None  # type: ignore[assignment]  # `from dbt.version import …` raises ImportError
    try:
        import dagster_dbt  # noqa: F401
    finally:
        del sys.modules["dbt.version"]
