"""How deep a parsed document nests: the control API and the fixtures refuse what nests too deep (no Flask
here, so that seeding stays free of it)."""

from __future__ import annotations

from typing import Any

MAX_NESTING = 64  # lists and dicts and objects nested deeper than this are no fixture or call anyone means to send


def nesting(value: Any) -> int:
    """How deep lists and dicts nest in a parsed JSON or YAML value (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest
