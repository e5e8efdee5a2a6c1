"""How deep a parsed document nests: the control API and the fixtures refuse what nests too deep (no Flask
here, so that seeding stays free of it)."""

from __future__ import annotations

from typing import Any

# Lists and dicts deeper than this are no call or fixture anyone means: a Cosmos DB document nests at most 128
# deep (a fixture file counts from its own top, a little above its documents).
MAX_NESTING = 128


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
