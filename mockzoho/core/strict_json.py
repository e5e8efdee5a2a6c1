"""What every family's JSON bodies refuse that Python's json module lets through."""

from __future__ import annotations


def not_json(constant: str) -> None:
    """NaN and Infinity are not JSON (json.loads' `parse_constant`)."""
    raise ValueError(f"{constant} is not JSON")
