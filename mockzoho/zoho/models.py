"""Records and attachments of one product as the API sees them: the rules, in Zoho's error terms."""

from __future__ import annotations

from typing import Sequence

from ..store import Store
from .actions import Action
from .auth import Principal
from .errors import ID_INVALID, MODULE_NOT_SUPPORTED, RECORD_NOT_DELETED, RELATED_ID_INVALID, ZohoError
from .product import Module, Product

BULK_LIMIT = 100


def parse_ids(values: Sequence[str]) -> list[str]:
    """Ids from one or more comma-separated `ids` parameters; REQUIRED_PARAM_MISSING or LIMIT_EXCEEDED."""
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not ids:
        raise ZohoError("REQUIRED_PARAM_MISSING", details={"param_name": "ids"})
    if len(ids) > BULK_LIMIT:
        raise ZohoError("LIMIT_EXCEEDED", details={"limit": BULK_LIMIT})
    return ids


class ZohoModels:
    """One product's records and attachments, seen through a principal's scopes and profile."""

    def __init__(self, store: Store, product: Product) -> None:
        self.store = store
        self.product = product

    def authorize(self, principal: Principal, module_name: str, action: Action) -> Module:
        """The module, once the token's scopes and the user's profile allow `action` on it."""
        module = self.product.module(module_name)
        if module is None:
            raise ZohoError("INVALID_MODULE", details={"resource_path_index": 0})
        if not module.api_supported or (action.attachments and not module.attachments):
            raise ZohoError("INVALID_MODULE", MODULE_NOT_SUPPORTED, {"resource_path_index": 0})
        if not principal.scopes.allows(self.product, module, action):
            raise ZohoError("OAUTH_SCOPE_MISMATCH")
        if not principal.may(action):
            raise ZohoError("NO_PERMISSION", action.denied_message, {"permissions": [action.permission_name]})
        return module

    def require_record(self, principal: Principal, module: Module, record_id: str, action: Action) -> None:
        """Check that the parent record of an attachment call exists and the user may act on it."""
        if self.store.record_module(principal.org, self.product.name, record_id) != module.api_name:
            raise ZohoError("INVALID_DATA", RELATED_ID_INVALID, {"resource_path_index": 1})
        if principal.restricted and not self.store.user_may_act(principal.org, principal.user, record_id):
            raise ZohoError("AUTHORIZATION_FAILED", action.unprivileged_message)

    def delete_attachment(self, principal: Principal, record_id: str, attachment_id: str) -> None:
        """Delete one attachment of a checked record; INVALID_DATA if it is not there."""
        [deleted] = self.store.delete_attachments(principal.org, self.product.name, record_id, [attachment_id])
        if not deleted:
            raise ZohoError("INVALID_DATA", ID_INVALID)

    def delete_attachments(self, principal: Principal, record_id: str,
                           ids: Sequence[str]) -> list[ZohoError | None]:
        """Delete attachments of a checked record; per id, None or the error to report for it."""
        outcome = self.store.delete_attachments(principal.org, self.product.name, record_id, ids)
        return [None if ok else not_deleted(i) for i, ok in zip(ids, outcome)]

    def delete_record(self, principal: Principal, module: Module, record_id: str, action: Action) -> None:
        """Delete one record (and so its attachments); the failure is raised as a top-level error."""
        [result] = self._delete_records(principal, module, [record_id])
        if result == "forbidden":
            raise ZohoError("AUTHORIZATION_FAILED", action.unprivileged_message)
        if result == "missing":
            raise not_deleted(record_id)

    def delete_records(self, principal: Principal, module: Module, ids: Sequence[str],
                       action: Action) -> list[ZohoError | None]:
        """Delete records (and so their attachments); per id, None or the error to report for it."""
        return [None if result == "deleted"
                else ZohoError("AUTHORIZATION_FAILED", action.unprivileged_message, {"id": record_id})
                if result == "forbidden" else not_deleted(record_id)
                for record_id, result in zip(ids, self._delete_records(principal, module, ids))]

    def _delete_records(self, principal: Principal, module: Module, ids: Sequence[str]) -> list[str]:
        return self.store.delete_records(principal.org, self.product.name, module.api_name, ids,
                                         principal.user if principal.restricted else None)

def not_deleted(item_id: str) -> ZohoError:
    """The per-item failure of a bulk delete."""
    return ZohoError("INVALID_DATA", RECORD_NOT_DELETED, {"id": item_id})
