"""Resource ids (_rid): hierarchical binary ids, base64 encoded; media ids; name- or rid-based links."""

from __future__ import annotations

import base64
import binascii
import struct

# Bytes each level adds to its parent's rid, as in the service's rids: db 4, collection +4, document +8, attachment +4.
LEVEL_BYTES = {"dbs": 4, "colls": 4, "docs": 8, "attachments": 4}
KINDS = ("dbs", "colls", "docs", "attachments")
MEDIA_ALTCHARS = b"+-"


def decode(rid: str) -> bytes | None:
    """The bytes of a rid (standard base64, or with `-` for `/` as in URLs), or None."""
    try:
        return base64.b64decode(rid.replace("-", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None


def encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def rid_size(kind: str) -> int:
    """How many bytes a rid of that kind has: its own level's and all its ancestors'."""
    return sum(LEVEL_BYTES[k] for k in KINDS[:KINDS.index(kind) + 1])


def is_rid(segment: str, kind: str) -> bool:
    """True if a link segment is a rid of that kind's length (how the SDKs tell rid links from names)."""
    raw = decode(segment)
    return raw is not None and len(raw) == rid_size(kind)


def child_rid(parent: str, kind: str, counter: int) -> str:
    """The rid of a parent's `counter`-th child of a kind."""
    parent_bytes = decode(parent) or b""
    size = LEVEL_BYTES[kind]
    return encode(parent_bytes + struct.pack("<Q" if size == 8 else "<I", counter))


def url_safe(rid: str) -> bool:
    """Rids that can stand in a URL path segment as they are (no `/`)."""
    return "/" not in rid


def media_id(attachment_rid: str) -> str:
    """The media id of an attachment: its rid's 20 bytes and a storage-index byte, `-` for `/`."""
    return base64.b64encode((decode(attachment_rid) or b"") + b"\x01", altchars=MEDIA_ALTCHARS).decode()


def attachment_rid_of_media(media: str) -> tuple[str, str] | None:
    """For a media id: the attachment's rid, and the link the SDKs sign (first 20 bytes, `+-`, lower case)."""
    try:
        raw = base64.b64decode(media, altchars=MEDIA_ALTCHARS, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) > 20:
        raw = raw[:20]
        signed = base64.b64encode(raw, altchars=MEDIA_ALTCHARS).decode()
    else:
        signed = media
    return encode(raw), signed.lower()
