"""dbt's Jinja templates compiled ahead of the build (orchestration/lib/dbt_templates.py): Jinja hands a source's
compiled code only to an environment with the same settings, the rendering is what Jinja's own compile gives, and
what is compiled ahead is what dbt's build then renders without compiling it again. These fail if a Jinja or dbt
upgrade moves what the module relies on."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest
from dbt.clients.jinja import add_rendered_test_kwargs, get_rendered
from dbt_common.clients.jinja import get_dbt_macro_name, get_environment, get_template, template_cache

from orchestration.lib.dbt_templates import compile_ahead, keep_compiled_templates


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Jinja's own compile, counted (each source it compiles), then kept (`keep_compiled_templates`); Jinja is
    given its own compile back after the test."""
    original = jinja2.Environment.compile
    compiled: list[str] = []

    def counted(self: jinja2.Environment, source: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(source if isinstance(source, str) else "<parsed>")
        return original(self, source, *args, **kwargs)

    monkeypatch.delenv("DBT_MACRO_DEBUGGING", raising=False)
    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    assert keep_compiled_templates()
    yield compiled


def test_jinja_hands_compiled_code_only_to_an_environment_with_the_same_settings(compiles: list[str]) -> None:
    source = "{% for n in range(3) %}{{ n * 2 }},{% endfor %}"
    first, second = get_environment().compile(source), get_environment().compile(source)
    assert first is second and compiles == [source]  # a new environment, the same settings: compiled once
    assert get_environment().from_string(source).render({}) == "0,2,4,"  # by hand
    # dbt's native environment (its test arguments') is another class: the same source is compiled for it anew
    compiles.clear()
    assert get_template("{{ 1 + 1 }}", {}, native=True).render({}) == get_template("{{ 1 + 1 }}", {}).render({}) == "2"
    assert compiles == ["{{ 1 + 1 }}", "{{ 1 + 1 }}"]
    # a filter only one environment has: Jinja checks it while compiling, for each environment
    shouting = jinja2.Environment()
    shouting.filters["shout"] = str.upper
    assert shouting.from_string("{{ 'a' | shout }}").render() == "A"
    with pytest.raises(jinja2.TemplateAssertionError, match="No filter named 'shout'"):
        jinja2.Environment().from_string("{{ 'a' | shout }}")
    # another syntax (one delimiter): the same source is other code
    dollar = jinja2.Environment(variable_start_string="${")
    assert dollar.from_string("${ 1 }}{{ 2 }}").render() == "1{{ 2 }}"
    assert jinja2.Environment().from_string("${ 1 }}{{ 2 }}").render() == "${ 1 }}2"
    # whether output is escaped, and the policies of filters folded while compiling, are compiled in
    assert jinja2.Environment(autoescape=False).from_string("{{ '<b>' }}").render() == "<b>"
    assert jinja2.Environment(autoescape=True).from_string("{{ '<b>' }}").render() == "&lt;b&gt;"
    assert jinja2.Environment().from_string("{{ 'hello world' | truncate(9) }}").render() == "hello world"  # leeway 5
    tight = jinja2.Environment()
    tight.policies["truncate.leeway"] = 0
    assert tight.from_string("{{ 'hello world' | truncate(9) }}").render() == "hello..."
    kept = jinja2.Environment.compile
    assert keep_compiled_templates() and jinja2.Environment.compile is kept  # a second call does not wrap it again
    get_environment().compile(source)
    assert source not in compiles  # compiled before the list was cleared, not since


def test_a_dbt_debugging_its_macros_compiles_as_usual(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_MACRO_DEBUGGING", "1")
    original = jinja2.Environment.compile
    assert not keep_compiled_templates()
    assert jinja2.Environment.compile is original


def fake_manifest() -> SimpleNamespace:
    """A parse's macros and nodes as dbt's build reads them: a macro's SQL; a model's SQL and its post-hook; a
    generic test's SQL and arguments (one rendered as text by dbt, `column_name`; one a function call)."""
    macros = {
        "macro.p.twice": SimpleNamespace(name="twice", macro_sql="{% macro twice(x) %}{{ x * 2 }}{% endmacro %}"),
        "macro.p.broken": SimpleNamespace(name="broken", macro_sql="{% macro broken() %}{% if %}{% endmacro %}"),
    }
    model = SimpleNamespace(
        raw_code="select {{ 1 + 2 }} as three",
        config=SimpleNamespace(pre_hook=[], post_hook=[SimpleNamespace(sql="{% if true %}analyze{% endif %}")]),
    )
    test = SimpleNamespace(
        raw_code="{{ test_rules(**_dbt_generic_test_kwargs) }}",
        config=SimpleNamespace(pre_hook=[], post_hook=[]),
        test_metadata=SimpleNamespace(
            kwargs={"column_name": "amount", "model": "ref('fct')", "rules": ["amount >= {{ 0 }}", "{{ 1 + 2 }}"]}
        ),
    )
    plain = SimpleNamespace(raw_code="select 1", config=SimpleNamespace(pre_hook=[], post_hook=[]))
    return SimpleNamespace(macros=macros, nodes={"model.p.m": model, "test.p.t": test, "model.p.plain": plain})


def test_what_is_compiled_ahead_the_build_renders_without_compiling_again(compiles: list[str]) -> None:
    manifest = fake_manifest()
    # 2 macros; the model's SQL and hook; the test's SQL and its three arguments rendered natively (the call as
    # an expression); the plain model's SQL has nothing to render (dbt returns it as it is)
    assert compile_ahead(manifest, lambda: False) == (1 + 2 + 1 + 3, 2 + 2 + 1 + 3)  # the broken macro is left
    assert manifest.macros["macro.p.twice"].macro_sql in template_cache.file_cache
    assert manifest.macros["macro.p.broken"].macro_sql not in template_cache.file_cache
    before = len(compiles)
    model, test = manifest.nodes["model.p.m"], manifest.nodes["test.p.t"]
    # as dbt's build renders them
    assert get_rendered(model.raw_code, {}, model) == "select 3 as three"
    assert get_rendered(model.config.post_hook[0].sql, {}, model) == "analyze"
    context: dict[str, Any] = {"ref": lambda name: f"ref_{name}"}
    add_rendered_test_kwargs(context, test)
    assert context["_dbt_generic_test_kwargs"] == {
        "column_name": "amount",
        "model": "ref_fct",
        "rules": ["amount >= 0", "3"],
    }
    macro = template_cache.get_node_template(manifest.macros["macro.p.twice"])
    assert getattr(macro.module, get_dbt_macro_name("twice"))(21).strip() == "42"
    assert compiles[before:] == []  # nothing compiled again


def test_compiling_ahead_stops_when_asked(compiles: list[str]) -> None:
    asked = iter([False, True])
    manifest = fake_manifest()
    manifest.macros = {"macro.p.first": SimpleNamespace(name="first", macro_sql="{% macro first() %}1{% endmacro %}")}
    assert compile_ahead(manifest, lambda: next(asked)) == (1, 1 + 6)
    assert compile_ahead(manifest, lambda: True) == (0, 7)
