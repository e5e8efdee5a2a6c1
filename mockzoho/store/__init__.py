"""All mutable state, in one SQLite file (WAL) shared by every worker, plus its content-addressed blobs."""

from __future__ import annotations

from .blobs import StagedBlob
from .control import ControlQueries
from .core import (LARGEST_INTEGER, SMALLEST_INTEGER, STATE_PROBLEMS, StateError, blob_dir, remove_state,
                   state_files, state_problem)
from .seeding import Seeding
from .zoho import (AttachmentRow, StoreConflict, TokenRow, UserRef, ZohoQueries, issue_access_token,
                   issue_refresh_token)


class Store(Seeding, ZohoQueries, ControlQueries):
    """The state: seeding, resets and clones, the Zoho queries, the control state, blobs, clock, transactions."""


__all__ = ["LARGEST_INTEGER", "SMALLEST_INTEGER", "STATE_PROBLEMS", "AttachmentRow", "StagedBlob", "StateError", "Store",
           "StoreConflict", "TokenRow", "UserRef", "blob_dir", "issue_access_token", "issue_refresh_token",
           "remove_state", "state_files", "state_problem"]
