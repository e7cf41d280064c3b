"""The quality gate (SPEC §5): a landing file is read as text into its own check database, its Great
Expectations suite runs there in DuckDB, and the results decide whether the load reaches the lake."""
