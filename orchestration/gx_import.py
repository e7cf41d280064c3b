"""Great Expectations imported without the libraries this project never calls through it.

`import great_expectations` imports every expectation GX ships, and a few of them bring in libraries a gate run
in DuckDB never calls: scipy.stats (the KL-divergence and Kolmogorov-Smirnov expectations), altair (their charts)
and pyspark with its Spark Connect modules (GX's Spark datasource; installed here for the Spark engine). They
are a third of GX's import (after Dagster's: 2.6 s against 4.1 s, mean of three), paid by every run, every Dagster
code location and every test process that validates a load (README "Refreshes that cost what the new data costs").

While `great_expectations` itself is being imported, and only then:
- `scipy.stats` and `altair` are stand-ins that import the real module the first time one of their attributes is
  read, so those expectations still work if a suite ever uses one;
- pyspark reads as not installed, so GX sets up no Spark datasource. The gate never hands GX a Spark DataFrame,
  and the Spark engine imports pyspark afterwards as usual.

`install()` runs when the `orchestration` package is imported, before anything of it imports GX. It does nothing
if GX is imported already. tests/test_gx_duckdb.py checks that none of these libraries is loaded by the
pipeline's imports, that the deferred ones still work through GX's own modules, and that pyspark imports after.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import types
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder

PACKAGE = "great_expectations"
DEFERRED = ("scipy.stats", "altair")  # imported by the first read of one of their attributes
HIDDEN = ("pyspark",)  # not importable by GX's own import


class _Deferred(types.ModuleType):
    """A module's stand-in: the first attribute read imports the module, and every read is answered by it."""

    def __getattr__(self, name: str) -> object:
        if sys.modules.get(self.__name__) is self:  # read while GX is still being imported
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


class _LeanLoader(importlib.abc.Loader):
    """GX's own loader, run with the stand-ins in place; they are taken out again however the import ends."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> object:  # resource readers and the like: GX's loader's own
        return getattr(self.loader, name)

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        placed: dict[str, types.ModuleType | None] = {}
        for name in DEFERRED:
            if name not in sys.modules:
                placed[name] = sys.modules[name] = _Deferred(name)
        for name in HIDDEN:
            if name not in sys.modules:
                placed[name] = sys.modules[name] = None  # `import pyspark` raises ImportError
        try:
            self.loader.exec_module(module)
        finally:
            for name, stand_in in placed.items():
                if name in sys.modules and sys.modules[name] is stand_in:
                    del sys.modules[name]


class _LeanFinder(importlib.abc.MetaPathFinder):
    """Finds `great_expectations` once, with its loader wrapped; then leaves the import system as it was."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        sys.meta_path.remove(self)
        spec = PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _LeanLoader(spec.loader)
        return spec


def install() -> None:
    """Import GX lean from now on, unless it is imported already (or this was installed before)."""
    if PACKAGE not in sys.modules and not any(isinstance(finder, _LeanFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _LeanFinder())
