"""What a request does, and what each action needs: scope operations, profile permission, messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """One kind of API call, with the scopes and permissions it needs and the messages it refuses with."""

    scope_ops: frozenset[str]          # besides ALL, which always qualifies
    attachments: bool                  # needs a `modules.attachments.*` scope too
    permission: str                    # the profile permission in fixtures
    permission_name: str               # how NO_PERMISSION names it in `details.permissions`
    denied_message: str                # NO_PERMISSION (profile)
    unprivileged_message: str          # AUTHORIZATION_FAILED (record access)


DELETE_ATTACHMENT = Action(
    scope_ops=frozenset({"delete"}),
    attachments=True,
    permission="attachments.delete",
    permission_name="Crm_Implied_Delete_Attachments",
    denied_message="Permission denied to delete attachment",
    unprivileged_message="User does not have sufficient privilege to delete attachments",
)

DELETE_RECORD = Action(
    scope_ops=frozenset({"delete"}),
    attachments=False,
    permission="records.delete",
    permission_name="Crm_Implied_Delete",
    denied_message="Permission denied to delete",
    unprivileged_message="User does not have sufficient privilege to delete records",
)

LIST_ATTACHMENTS = Action(
    scope_ops=frozenset({"read"}),
    attachments=True,
    permission="attachments.read",
    permission_name="Crm_Implied_View_Attachments",
    denied_message="Permission denied to read attachments",
    unprivileged_message="User does not have sufficient privilege to read attachments",
)

DOWNLOAD_ATTACHMENT = Action(
    scope_ops=frozenset({"read"}),
    attachments=True,
    permission="attachments.read",
    permission_name="Crm_Implied_View_Attachments",
    denied_message="Permission denied to download attachment",
    unprivileged_message="User does not have sufficient privilege to download attachments",
)

UPLOAD_ATTACHMENT = Action(
    scope_ops=frozenset({"create", "write"}),
    attachments=True,
    permission="attachments.create",
    permission_name="Crm_Implied_Create_Attachments",
    denied_message="Permission denied to upload attachment",
    unprivileged_message="User does not have sufficient privilege to upload attachments",
)

READ_RECORDS = Action(
    scope_ops=frozenset({"read"}),
    attachments=False,
    permission="records.read",
    permission_name="Crm_Implied_View",
    denied_message="Permission denied to read",
    unprivileged_message="User does not have sufficient privilege to read records",
)

CREATE_RECORDS = Action(
    scope_ops=frozenset({"create", "write"}),
    attachments=False,
    permission="records.create",
    permission_name="Crm_Implied_Create",
    denied_message="Permission denied to create",
    unprivileged_message="User does not have sufficient privilege to create records",
)

UPDATE_RECORDS = Action(
    scope_ops=frozenset({"update", "write"}),
    attachments=False,
    permission="records.edit",
    permission_name="Crm_Implied_Edit",
    denied_message="Permission denied to edit",
    unprivileged_message="User does not have sufficient privilege to edit records",
)

# An upsert may insert or update: Zoho's docs list the create and write scopes for it, as for an insert.
UPSERT_RECORDS = CREATE_RECORDS

ACTIONS = (DELETE_ATTACHMENT, DELETE_RECORD, LIST_ATTACHMENTS, DOWNLOAD_ATTACHMENT, UPLOAD_ATTACHMENT, READ_RECORDS,
           CREATE_RECORDS, UPDATE_RECORDS)
PERMISSIONS = frozenset(a.permission for a in ACTIONS)
