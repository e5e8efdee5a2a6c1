"""Identifiers the mock makes up: tokens, the prefix of new record ids, stable ids for named things."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """`1000.<32 hex>.<32 hex>`, the shape of Zoho's tokens."""
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def new_client_id() -> str:
    """`1000.<30 upper-case hex>`, the shape of Zoho's OAuth client ids."""
    return f"1000.{secrets.token_hex(15).upper()}"


def id_prefix(seed: int) -> int:
    """The 7-digit prefix of the ids a state file generates, derived from the id seed."""
    return 1_000_000 + int(hashlib.sha256(str(seed).encode()).hexdigest(), 16) % 9_000_000


def numeric_id(*parts: str) -> str:
    """A stable 19-digit id for something the fixtures name by text (an org, a module)."""
    return str(10**18 + int(hashlib.sha256("/".join(parts).encode()).hexdigest(), 16) % (9 * 10**18))
