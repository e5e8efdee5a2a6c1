"""All mutable state, shared by every worker: a SQLite file (WAL) with the journal's file and the blobs beside it,
or a PostgreSQL database shared by every host too. The only package that runs SQL."""

from __future__ import annotations

from .accounts import AccountsQueries
from .blobs import StagedBlob
from .control import ControlQueries, UnknownUser
from .cosmos import CosmosQueries
from .records import Group, Reference, RecordPlan, RecordQueries, RecordRow, RecordWrite, Refusal, Saved, SumOverflow
from .core import (LARGEST_INTEGER, SMALLEST_INTEGER, STATE_PROBLEMS, Location, StateError, StoreError,
                   is_database_url, remove_state, shown_location, state_problem)
from .sqlite import blob_dir, state_files
from .seeding import FixtureOrgProtected, OrgExists, OrgRefused, Seeding, UnknownOrg
from .zoho import AttachmentRow, StoreConflict, TokenRow, UserRef, ZohoQueries


class Store(Seeding, ZohoQueries, RecordQueries, AccountsQueries, ControlQueries, CosmosQueries):
    """The state: seeding, resets and clones, the Zoho, accounts and Cosmos DB queries, the control state, blobs,
    clock, transactions."""


__all__ = ["LARGEST_INTEGER", "SMALLEST_INTEGER", "STATE_PROBLEMS", "AttachmentRow", "FixtureOrgProtected", "Group",
           "Location", "OrgExists", "OrgRefused", "RecordPlan", "RecordRow", "RecordWrite", "Reference", "Refusal",
           "Saved", "StagedBlob", "StateError", "Store", "StoreConflict", "StoreError", "SumOverflow", "TokenRow",
           "UnknownOrg", "UnknownUser", "UserRef", "blob_dir", "is_database_url", "remove_state", "shown_location",
           "state_files", "state_problem"]
