"""A window onto a listing: read one row more than it holds, to know whether more follow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Rows from `offset`, at most `limit` of them (None: all that are left)."""

    offset: int
    limit: int | None

    @property
    def rows_to_read(self) -> int | None:
        """How many rows to read: one past the limit tells whether more follow."""
        return None if self.limit is None else self.limit + 1

    def cut(self, rows: Sequence[T]) -> tuple[list[T], bool]:
        """The rows read for this window, trimmed to it, and whether more follow."""
        if self.limit is None or len(rows) <= self.limit:
            return list(rows), False
        return list(rows[:self.limit]), True
