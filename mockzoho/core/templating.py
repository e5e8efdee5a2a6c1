"""Stub answers made from the request: Jinja2's immutable sandbox (never eval), loaded on the first template."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

MAX_OUTPUT = 1 << 20  # a template that renders more than this is refused at answer time


class TemplateFailed(Exception):
    """A stub's template could not be rendered for this request."""


def is_template(text: str) -> bool:
    """Whether a string of a stub's answer is a template (the others are sent as they are)."""
    return "{{" in text or "{%" in text


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # ChainableUndefined: `request.json.data.0.x` of a body without it renders empty rather than failing.
    return ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)


@lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    return _environment().from_string(text)


def template_problem(text: str) -> str | None:
    """Why `text` does not parse as a template, or None."""
    from jinja2 import TemplateSyntaxError

    try:
        _compiled(text)
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    return None


def render(text: str, context: Mapping[str, Any]) -> str:
    """A template rendered (a plain string as it is); TemplateFailed with the reason if it cannot be."""
    if not is_template(text):
        return text
    try:
        result = _compiled(text).render(context)
    except Exception as exc:  # the sandbox's SecurityError, a TypeError of the template's arithmetic...
        raise TemplateFailed(f"{type(exc).__name__}: {exc}") from None
    if len(result) > MAX_OUTPUT:
        raise TemplateFailed(f"the template rendered more than {MAX_OUTPUT} characters")
    return result


def render_json(value: Any, context: Mapping[str, Any]) -> Any:
    """A JSON value with each of its strings rendered (so that the answer stays JSON whatever the values)."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, dict):
        return {key: render_json(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render_json(item, context) for item in value]
    return value
