"""dbt's Jinja templates compiled before its build needs them, in the waiting dbt process (`dbt_child.serve`).

A dbt build renders Jinja for each node it runs: the node's SQL, its hooks, its test's arguments, and every macro
it calls (the materialization and the adapter's macros it dispatches to). Jinja first compiles each source into
Python code (lexing, parsing, code generation, Python's `compile`). dbt keeps the compiled macros for the life of
its process (`dbt_common.clients.jinja.template_cache`), and a node's own SQL not at all. So a build compiled them
while it ran, in the Python its two threads share one core for (eight alternating days at 10M rows, whose nodes
are small: dbt's elapsed time 4.08 against 4.59 s on average with them compiled ahead).

The waiting dbt process has the project's parse before the run's build arrives, and its core is idle meanwhile:
- `keep_compiled_templates` has Jinja keep the code it compiles, by the source and the environment's settings its
  code generation reads (`_settings`): an environment with other settings compiles it anew. Not among them: what
  an extension of Jinja's own may set on the environment for itself (i18n's `newstyle_gettext`); dbt's
  extensions set nothing;
- `compile_ahead` compiles every macro of the parse into dbt's own cache, then each node's SQL, hooks and test
  arguments as dbt's build renders them, and stops as soon as `stop()` says so (the build has arrived): what is not
  compiled ahead is compiled by the build as before.

A template's compiled code does not hold its environment: Jinja binds one when it makes the template from the code
(`Template.from_code`). The rendering is untouched (each template is still made for its own context)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Hashable, Iterator
from typing import Any

# dbt renders a test argument that looks like a function call as an expression: the pattern of
# dbt.clients.jinja.add_rendered_test_kwargs, a local variable there (nothing to import)
_LOOKS_LIKE_FUNCTION = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")


def _settings(environment: Any) -> tuple[Hashable, ...]:
    """What Jinja's compiled code depends on besides the source: the environment's class (its parser), its syntax,
    its extensions, filters and tests (code generation checks that a filter or test exists, and how it is
    called), its code generation options, whether it escapes output (decided while compiling), and its policies
    (filters folded into constants while compiling read them: `truncate.leeway`, `json.dumps_kwargs`)."""
    return (
        type(environment),
        environment.code_generator_class,
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        tuple(sorted((name, type(extension)) for name, extension in environment.extensions.items())),
        environment.optimized,
        environment.finalize,
        environment.autoescape,
        environment.is_async,
        environment.sandboxed,
        frozenset(getattr(environment, "intercepted_binops", ())),
        frozenset(getattr(environment, "intercepted_unops", ())),
        frozenset(environment.filters.items()),
        frozenset(environment.tests.items()),
        _frozen(environment.policies),
    )


def _frozen(value: Any) -> Hashable:
    """A setting as a key: a dict or list as tuples of its items, all the way down (what cannot be a key raises
    TypeError, and the source is compiled as it is)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    hash(value)
    return value


def keep_compiled_templates() -> bool:
    """From now on in this process, Jinja compiles a template source once per environment settings
    (`_settings`) and hands the same code to every later compile of it. Not when dbt is asked to debug its macros
    (DBT_MACRO_DEBUGGING: each compile then records its source for the debugger). False when not kept."""
    import jinja2

    if os.environ.get("DBT_MACRO_DEBUGGING"):
        return False
    compile_source = jinja2.Environment.compile
    if getattr(compile_source, "keeps_compiled", False):
        return True
    kept: dict[tuple[Hashable, ...], Any] = {}

    def compile(  # Jinja calls it by this name
        self: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):  # a parsed template: compiled as it is
            return compile_source(self, source, name, filename, raw, defer_init)
        try:
            key = (_settings(self), source, name, filename, raw, defer_init)
            code = kept.get(key)
        except TypeError:  # a setting that cannot be a key (a filter that is not hashable): compiled as it is
            return compile_source(self, source, name, filename, raw, defer_init)
        if code is None:
            code = kept[key] = compile_source(self, source, name, filename, raw, defer_init)
        return code

    compile.keeps_compiled = True  # type: ignore[attr-defined]
    compile.__doc__ = compile_source.__doc__
    jinja2.Environment.compile = compile  # type: ignore[method-assign]
    return True


def _node_sources(node: Any) -> Iterator[tuple[str, bool]]:
    """The Jinja sources a build renders for a node, each with whether dbt renders it natively (to a Python
    value): its SQL, its hooks' SQL, and a generic test's arguments as dbt's test compilation renders them."""
    from dbt_common.utils import deep_map_render

    yield node.raw_code, False
    config = getattr(node, "config", None)
    for hook in [*getattr(config, "pre_hook", []), *getattr(config, "post_hook", [])]:
        if isinstance(getattr(hook, "sql", None), str):
            yield hook.sql, False
    metadata = getattr(node, "test_metadata", None)
    found: list[tuple[str, bool]] = []

    def keep(value: Any, keypath: tuple[str | int, ...]) -> Any:
        if isinstance(value, str) and keypath != ("column_name",):  # dbt passes the column name as it is
            found.append((f"{{{{ {value} }}}}" if _LOOKS_LIKE_FUNCTION.match(value) else value, True))
        return value

    deep_map_render(keep, getattr(metadata, "kwargs", None) or {})  # dbt's own walk of a test's arguments
    yield from found


def compile_ahead(manifest: Any, stop: Callable[[], bool]) -> tuple[int, int]:
    """Compile the manifest's macros into dbt's template cache, then its nodes' sources (`_node_sources`, kept
    by `keep_compiled_templates`), until `stop()` is true; (compiled, in all). A source that fails to compile is
    left to the build, which tells its error as it would have."""
    from dbt.clients.jinja import _HAS_RENDER_CHARS_PAT  # dbt renders only a string with one of these
    from dbt_common.clients.jinja import get_template, template_cache

    macros = list(manifest.macros.values())
    sources = [
        (source, native, node)
        for node in manifest.nodes.values()
        for source, native in _node_sources(node)
        if isinstance(source, str) and (native or _HAS_RENDER_CHARS_PAT.search(source))
    ]
    compiled = 0
    for macro in macros:
        if stop():
            return compiled, len(macros) + len(sources)
        try:
            template_cache.get_node_template(macro)
            compiled += 1
        except Exception:  # the build compiles it again and says why it fails
            pass
    for source, native, node in sources:
        if stop():
            break
        try:
            get_template(source, {}, node, native=native)
            compiled += 1
        except Exception:  # the build compiles it again and says why it fails
            pass
    return compiled, len(macros) + len(sources)
