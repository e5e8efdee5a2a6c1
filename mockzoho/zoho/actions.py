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

ACTIONS = (DELETE_ATTACHMENT, DELETE_RECORD, LIST_ATTACHMENTS, DOWNLOAD_ATTACHMENT, UPLOAD_ATTACHMENT)
PERMISSIONS = frozenset(a.permission for a in ACTIONS)
