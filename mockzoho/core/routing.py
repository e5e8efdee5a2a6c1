"""werkzeug's URL rule, with its URL builders compiled on first use rather than when the app is made."""

from __future__ import annotations

from typing import Any, Callable

from werkzeug.routing import Rule


class Route(Rule):
    """A rule whose builders (what `url_for` calls: two generated functions per rule, most of the cost of making an
    app) are compiled the first time a URL is built: the pytest plugin's `mockzoho_app` makes an app per test, and
    few of them ever build a URL. werkzeug without `_compile_builder` simply compiles as it always did."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_builder = super()._compile_builder
        compiled: list[Callable[..., tuple[str, str]]] = []

        def build(rule: Route, **values: Any) -> tuple[str, str]:
            if not compiled:
                compiled.append(compile_builder(append_unknown).__get__(rule, None))
            return compiled[0](**values)

        return build
