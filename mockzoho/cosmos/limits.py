"""Cosmos DB's document limit, which the fixtures and the API both hold documents to."""

from __future__ import annotations

import json
from typing import Any

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # "max allowable document size is 2 MB" (the 413 of the status-code table)


def document_bytes(document: dict[str, Any]) -> int:
    """A document's size as it is served: compact JSON in UTF-8. ValueError if it is no JSON (NaN, a lone
    UTF-16 surrogate), TypeError if it holds what JSON has no type for."""
    return len(json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode())
