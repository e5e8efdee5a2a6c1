"""Stub answers made from the request: Jinja2 expressions only, checked node by node, rendered in its immutable
sandbox (never eval), loaded on the first template.

A template is `{{ expression }}` text: names, attributes, items and slices, literals, comparisons, `and or not`,
`+ - ~`, `x if c else y`, tests (`is defined`), the filters in FILTERS and `new_id()`. No statement (`{% for %}`
would let a stub loop without end), no `* / ** %` (Jinja folds constant arithmetic while compiling: `9**9**9` would
hang the call that sets the stub), and no filter whose output can outgrow its input; what a template may render is
capped too, so a stub's answer costs at most its inputs' size a few times over.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

MAX_OUTPUT = 4 << 20  # what one answer's templates may render, all together
MAX_FILTERED = 1 << 20  # what one filter may give (tojson doubles backslashes: a chain of them would explode)
MAX_NODES = 64  # the parts of one template: a longer expression could concatenate an input over and over
MAX_FILTERS = 8  # filters in one template: a chain of tojson grows its text at every step
FILTERS = frozenset({"abs", "capitalize", "d", "default", "first", "float", "int", "last", "length", "lower",
                     "reverse", "round", "string", "title", "tojson", "trim", "truncate", "upper", "urlencode"})
# The only filters that take arguments, and how many (round's precision would make Python build 10**n; tojson's
# indent, any size of padding).
FILTER_ARGUMENTS = {"d": 2, "default": 2, "truncate": 4}
TESTS = frozenset({"boolean", "defined", "eq", "false", "float", "ge", "gt", "in", "integer", "le", "lower", "lt",
                   "mapping", "ne", "none", "number", "sequence", "string", "true", "undefined", "upper"})
NODES = ("Template", "Output", "TemplateData", "Name", "Const", "Getattr", "Getitem", "Slice", "Filter", "Test",
         "CondExpr", "Compare", "Operand", "Concat", "Add", "Sub", "Neg", "Pos", "Not", "And", "Or", "List", "Tuple",
         "Dict", "Pair", "Call")


class TemplateFailed(Exception):
    """A stub's template could not be rendered for this request."""


def is_template(text: str) -> bool:
    """Whether a string of a stub's answer is a template (the others are sent as they are)."""
    return "{{" in text or "{%" in text


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # ChainableUndefined: `request.json.data.0.x` of a body without it renders empty rather than failing; so does
    # None (`org` of a call with no org).
    environment = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False,
                                                finalize=lambda value: "" if value is None else value)
    environment.globals.clear()  # lipsum, cycler, range...: nothing a template may call but new_id
    environment.filters = {name: _capped(environment.filters[name]) for name in FILTERS}
    environment.tests = {name: environment.tests[name] for name in TESTS}
    return environment


def _capped(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose text output may not pass MAX_FILTERED (checked at each step of a chain, and when Jinja folds
    a constant one while compiling: its error then leaves it to the call, where it fails plainly)."""
    @functools.wraps(function)
    def capped(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if isinstance(result, str) and len(result) > MAX_FILTERED:
            raise TemplateFailed(f"a filter gave more than {MAX_FILTERED} characters")
        return result
    return capped


def template_problem(text: str) -> str | None:
    """Why `text` is not a template a stub may use, or None."""
    try:
        _compiled(text)
    except TemplateFailed as exc:
        return str(exc)
    return None


@lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    """The template, parsed, checked node by node, and compiled from the checked tree (compiling folds constants,
    so it comes after the checks); TemplateFailed saying why it may not be used. A stored stub was checked when
    set: rendering goes through here all the same."""
    from jinja2 import TemplateSyntaxError

    try:
        tree = _environment().parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateFailed(f"line {exc.lineno}: {exc.message}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # a 5000-digit number, brackets nested too deep
        raise TemplateFailed(f"it cannot be read: {type(exc).__name__}") from None
    count, filters, pending = 0, 0, [tree]
    while pending:
        node = pending.pop()
        count += 1
        filters += type(node).__name__ == "Filter"
        problem = _node_problem(node)
        if problem:
            raise TemplateFailed(f"line {node.lineno}: {problem}")
        pending.extend(node.iter_child_nodes())
    if count > MAX_NODES or filters > MAX_FILTERS:
        raise TemplateFailed(f"the template has {count} parts and {filters} filters: at most {MAX_NODES} and "
                             f"{MAX_FILTERS}")
    try:
        return _environment().from_string(tree)
    except Exception as exc:  # what only compiling finds
        raise TemplateFailed(f"it does not compile: {exc}") from None


def _node_problem(node: Any) -> str | None:
    """Why one part of a template is not allowed, or None."""
    from jinja2 import nodes

    kind = type(node).__name__
    if kind not in NODES:
        return f"{kind.lower()} is not allowed: only {{{{ expressions }}}} (no statements, no * / ** %)"
    if isinstance(node, nodes.Filter):
        if node.name not in FILTERS:
            return f"the filter {node.name!r} is not allowed (filters: {', '.join(sorted(FILTERS))})"
        if node.kwargs or node.dyn_args or node.dyn_kwargs or len(node.args) > FILTER_ARGUMENTS.get(node.name, 0):
            return f"the filter {node.name!r} takes no such arguments (only default and truncate take any)"
    if isinstance(node, nodes.Test):
        if node.name not in TESTS:
            return f"the test {node.name!r} is not allowed (tests: {', '.join(sorted(TESTS))})"
        if node.dyn_args or node.dyn_kwargs:
            return f"the test {node.name!r} takes no * or ** arguments"
    if isinstance(node, nodes.Call):
        bare = not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)
        if not (bare and isinstance(node.node, nodes.Name) and node.node.name == "new_id"):
            return "the only call allowed is new_id()"
    return None


@dataclass
class Budget:
    """What is left of the characters one answer's templates may render."""

    left: int = MAX_OUTPUT

    def spend(self, text: str) -> str:
        self.left -= len(text)
        if self.left < 0:
            raise TemplateFailed(f"the templates rendered more than {MAX_OUTPUT} characters")
        return text


def render(text: str, context: Mapping[str, Any], budget: Budget) -> str:
    """A template rendered (a plain string as it is); TemplateFailed with the reason if it cannot be."""
    if not is_template(text):
        return text
    try:
        return budget.spend(_compiled(text).render(context))
    except TemplateFailed:
        raise
    except Exception as exc:  # the sandbox's SecurityError, a TypeError of the template's arithmetic...
        raise TemplateFailed(f"{type(exc).__name__}: {exc}") from None


def render_json(value: Any, context: Mapping[str, Any], budget: Budget) -> Any:
    """A JSON value with each of its strings rendered (so that the answer stays JSON whatever the values)."""
    if isinstance(value, str):
        return render(value, context, budget)
    if isinstance(value, dict):
        return {key: render_json(item, context, budget) for key, item in value.items()}
    if isinstance(value, list):
        return [render_json(item, context, budget) for item in value]
    return value
