"""Records as the API sees them: listings, reads and the checks of every write, in Zoho's error terms (no SQL,
no request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..store.search import Filter
from ..store import Reference, RecordPlan, RecordRow, RecordWrite, Refusal, Saved, Store, UserRef
from .actions import READ_RECORDS, UPDATE_RECORDS, Action
from .auth import Principal
from .errors import ID_INVALID, RECORD_ADDED, RECORD_UPDATED, RELATED_LIST_INVALID, ZohoError
from .fields import Field, ModuleFields, RelatedList
from .paging import TOKEN_LIFETIME, Page, page_token
from .product import Module, Product
from .serialize import RecordView, lookup_ids, record_json, saved_details, stored_keys, zoho_time
from .values import FieldProblem, index_of, parse_value, record_name, references, with_name

BULK_LIMIT = 100
MAX_FIELDS = 50
DISCRETE_LIMIT = 2000   # records reachable through `page` on v8; beyond, only through `page_token`
SORT_FIELDS = {"id": "id", "created_time": "created_time", "modified_time": "modified_time"}
# Keys a client sends back from a record it read, which a write ignores rather than refuses.
IGNORED_KEYS = frozenset({"id", "Created_By", "Modified_By", "Created_Time", "Modified_Time"})


@dataclass(frozen=True)
class Listing:
    """What a listing asked for: fields, page, order, ids and a modified-since time."""

    fields: frozenset[str] | None
    page: Page
    sort_by: str = "id"
    descending: bool = False
    ids: tuple[str, ...] = ()
    modified_since: int | None = None
    token_scope: str | None = None  # v8: the listing's page tokens are made for this scope
    by_token: bool = False          # the page was asked for with a page token


@dataclass(frozen=True)
class Change:
    """One record of a write call, checked field by field: the values it sets, its owner if given, the ids its
    lookups name."""

    values: dict[str, Any]
    owner: str | None
    references: tuple[Reference, ...]
    read_only: dict[str, Any]  # values sent for read-only fields: only what the record already holds is let by


def parse_fields(value: str | None, required: bool) -> list[str] | None:
    """The `fields` of a listing; REQUIRED_PARAM_MISSING where the version needs them."""
    fields = [f.strip() for f in (value or "").split(",") if f.strip()]
    if not fields and required:
        raise ZohoError("REQUIRED_PARAM_MISSING", details={"param_name": "fields"})
    return fields or None


def parse_field_names(value: str | None, required: bool) -> frozenset[str] | None:
    """The `fields` of a record listing (lower case): at most 50, else LIMIT_EXCEEDED."""
    names = parse_fields(value, required)
    if names is None:
        return None
    if len(names) > MAX_FIELDS:
        raise ZohoError("LIMIT_EXCEEDED", details={"limit": MAX_FIELDS, "param_name": "fields"})
    return frozenset(n.lower() for n in names)


def parse_sort(sort_by: str | None, sort_order: str | None) -> tuple[str, bool]:
    """`sort_by` (id, Created_Time or Modified_Time) and `sort_order` (asc or desc)."""
    by = SORT_FIELDS.get((sort_by or "id").lower())
    if by is None:
        raise ZohoError("INVALID_DATA", details={"param_name": "sort_by", "supported_values":
                                                 ["id", "Created_Time", "Modified_Time"]})
    order = (sort_order or "asc").lower()
    if order not in ("asc", "desc"):
        raise ZohoError("INVALID_DATA", details={"param_name": "sort_order", "supported_values": ["asc", "desc"]})
    return by, order == "desc"


def same_value(field: Field | None, stored: Any, sent: Any) -> bool:
    """True if a value sent for a read-only field is what the record holds (empty booleans are false)."""
    if field is not None and field.data_type == "boolean":
        return bool(stored) == bool(sent)
    return stored == sent or (stored in (None, "", []) and sent in (None, "", []))


def json_path(where: str | None, *names: str) -> dict[str, str]:
    """`{"json_path": "$.data[i].<names>"}` on versions that have it (`where` is the record's path), else `{}`."""
    return {} if where is None else {"json_path": ".".join((where, *names))}


def field_error(problem: FieldProblem, where: str | None) -> ZohoError:
    """A field's refusal as Zoho reports it, with `json_path` where the version has it."""
    details = dict(problem.details)
    if where is not None:
        suffix = ".id" if problem.code == "MANDATORY_NOT_FOUND" and details.get("api_name") == "id" else ""
        details["json_path"] = where + suffix
    return ZohoError(problem.code, problem.message, details)


class RecordModels:
    """The records half of a product's models (mixed into ZohoModels, which holds the store and product)."""

    store: Store
    product: Product

    def view(self, principal: Principal, module: Module, rows: Sequence[RecordRow], version: str,
             wanted: frozenset[str] | None = None) -> RecordView:
        """What showing these rows needs: users, the names behind their lookups."""
        fields = self.product.fields(module)
        return RecordView(fields, self.store.users_by_id(principal.org),
                          self.store.record_names(principal.org, self.product.name, lookup_ids(fields, rows)),
                          principal.time_zone, wanted, version in self.product.page_token_versions)

    def records_page(self, principal: Principal, module: Module, version: str, listing: Listing, now: int,
                     where: Filter | None = None) -> dict[str, Any] | None:
        """One page of a module's records (filtered by `where`) as `{"data","info"}`, or None when empty."""
        page = listing.page
        if listing.token_scope is not None and not listing.by_token and page.page * page.per_page > DISCRETE_LIMIT:
            raise ZohoError("DISCRETE_PAGINATION_LIMIT_EXCEEDED", details={"limit": DISCRETE_LIMIT})
        window = page.window
        rows, more = window.cut(self.store.list_records(
            principal.org, self.product.name, module.api_name, sort_by=listing.sort_by,
            descending=listing.descending, offset=window.offset, limit=window.rows_to_read, ids=listing.ids,
            modified_since=listing.modified_since, where=where,
            restricted_user=principal.user if principal.restricted else None,
            only=stored_keys(self.product.fields(module), listing.fields)))
        if not rows:
            return None
        view = self.view(principal, module, rows, version, listing.fields)
        data = [record_json(r, view) for r in rows]
        return {"data": data, "info": self.listing_info(principal, version, listing, len(data), more, now)}

    def listing_info(self, principal: Principal, version: str, listing: Listing, count: int, more: bool,
                     now: int) -> dict[str, Any]:
        """The `info` of a page, as each version has it."""
        page = listing.page
        info: dict[str, Any] = {"per_page": page.per_page}
        if version in self.product.page_token_versions:
            scope = listing.token_scope or f"{principal.org}/{self.product.name}/records"
            expires = now + TOKEN_LIFETIME
            info["next_page_token"] = page_token(Page(page.page + 1, page.per_page), scope, expires) if more else None
            info["count"], info["page"] = count, page.page
            info["previous_page_token"] = (page_token(Page(page.page - 1, page.per_page), scope, expires)
                                           if page.page > 1 else None)
            info["page_token_expiry"] = zoho_time(expires, principal.time_zone) if more or page.page > 1 else None
        else:
            info["count"], info["page"] = count, page.page
        if version in self.product.modern_versions:
            info["sort_by"] = {"created_time": "Created_Time", "modified_time": "Modified_Time"}.get(
                listing.sort_by, "id")
            info["sort_order"] = "desc" if listing.descending else "asc"
        info["more_records"] = more
        return info

    def get_record(self, principal: Principal, module: Module, version: str, record_id: str, action: Action,
                   wanted: frozenset[str] | None = None) -> dict[str, Any] | None:
        """`{"data":[record]}`, or None where the version answers a missing record with no content."""
        row = self.store.get_records(principal.org, self.product.name, module.api_name, [record_id]).get(record_id)
        if row is None:
            if version in self.product.modern_versions:
                raise ZohoError("INVALID_DATA", ID_INVALID, {"resource_path_index": 1})
            return None
        if principal.restricted and not self.store.user_may_act(principal.org, principal.user, record_id):
            raise ZohoError("AUTHORIZATION_FAILED", action.unprivileged_message)
        return {"data": [record_json(row, self.view(principal, module, [row], version, wanted))]}

    def related_list(self, principal: Principal, module: Module, name: str) -> tuple[RelatedList, Module]:
        """A related list of the module and the module of its records, once the caller may read those."""
        related = self.product.fields(module).related_list(name)
        target = None if related is None or related.field is None else self.product.module(related.module)
        if related is None or target is None:
            raise ZohoError("INVALID_DATA", RELATED_LIST_INVALID, {"resource_path_index": 2})
        if not principal.scopes.allows(self.product, target, READ_RECORDS):
            raise ZohoError("OAUTH_SCOPE_MISMATCH")
        return related, target

    # -- writes ----------------------------------------------------------------------------------

    def check_change(self, fields: ModuleFields, module: Module, item: Any, where: str | None) -> Change:
        """One record of a write, checked field by field (unknown fields are ignored, as Zoho does)."""
        if not isinstance(item, dict):
            raise ZohoError("INVALID_DATA", details={"expected_data_type": "jsonobject", "api_name": "data",
                                                     **json_path(where)})
        values: dict[str, Any] = {}
        refs: list[Reference] = []
        owner = None
        read_only: dict[str, Any] = {}
        for key, raw in item.items():
            field = fields.field(key) if key not in IGNORED_KEYS else None
            if field is None:
                if key == "$se_module" and module.api_name == "Notes":
                    values["$se_module"] = self._se_module(raw, where)
                continue
            path = None if where is None else f"{where}.{field.api_name}"
            try:
                value = parse_value(field, raw)
                ref = references(field, raw)
            except FieldProblem as problem:
                raise field_error(problem, path) from None
            if field.read_only:
                read_only[field.api_name] = value
            elif field.api_name == "Owner":
                owner = value
            else:
                values[field.api_name] = value
            if ref is not None:
                target = "users" if field.data_type in ("ownerlookup", "userlookup") else field.lookup
                refs.append(Reference(field.api_name, target, ref.id))
        if module.api_name == "Notes" and ("Parent_Id" in values) != ("$se_module" in values):
            # A note's parent is a record of a module: the two are given together, or neither changes.
            missing = "$se_module" if "Parent_Id" in values else "Parent_Id"
            raise ZohoError("MANDATORY_NOT_FOUND", details={"api_name": missing, **json_path(where, missing)})
        if "Parent_Id" in values and module.api_name == "Notes":
            refs = [Reference(r.api_name, values.get("$se_module"), r.id) if r.api_name == "Parent_Id" else r
                    for r in refs]
        return Change(values, owner, tuple(refs), read_only)

    def _se_module(self, name: Any, where: str | None) -> str:
        """The module a note's `$se_module` names, by its API name."""
        found = self.product.module(name) if isinstance(name, str) else None
        if found is None or found.api_name == "Notes":
            raise ZohoError("INVALID_DATA", details={"api_name": "$se_module", **json_path(where, "$se_module")})
        return found.api_name

    def build(self, fields: ModuleFields, change: Change, principal: Principal, where: str | None,
              existing: RecordRow | None) -> RecordWrite | ZohoError:
        """A record's whole new state from what is stored and the change: MANDATORY_NOT_FOUND if a new record
        lacks a mandatory value or an update empties one; AUTHORIZATION_FAILED if a restricted user may not edit
        the record."""
        if existing is not None and principal.restricted and not self.store.user_may_act(
                principal.org, principal.user, existing.id):
            return ZohoError("AUTHORIZATION_FAILED", UPDATE_RECORDS.unprivileged_message)
        data = {k: v for k, v in {**(existing.data if existing else {}), **change.values}.items() if v is not None}
        for field in fields.fields:
            checked = existing is None or field.api_name in change.values  # an update checks what it sets
            if checked and field.mandatory and data.get(field.api_name) in (None, "", []):
                details = {"api_name": field.api_name, **json_path(where, field.api_name)}
                return ZohoError("MANDATORY_NOT_FOUND", details=details)
        data = with_name(fields, data)
        for api_name, value in change.read_only.items():
            # Zoho's own SDKs send back every value of a record they read: what it holds goes by unchanged.
            if not same_value(fields.field(api_name), data.get(api_name), value):
                return ZohoError("INVALID_DATA", "the field is read only",
                                 {"api_name": api_name, **json_path(where, api_name)})
        owner = change.owner or (existing.owner if existing else None) or principal.user
        return RecordWrite(data=data, name=record_name(fields, data), owner=owner, index=index_of(fields, data),
                           unique=tuple(f.api_name.lower() for f in fields.fields if f.unique),
                           references=change.references)

    def refused(self, principal: Principal, module: Module, refusal: Refusal, where: str | None,
                target: str | None) -> ZohoError:
        """What the store refused a record for, as Zoho reports it."""
        if refusal.reason == "missing":
            return ZohoError("INVALID_DATA", ID_INVALID, {"api_name": "id", **json_path(where, "id"),
                                                          **({"id": target} if target else {})})
        field = self.product.fields(module).field(refusal.field or "")
        api_name = field.api_name if field else refusal.field
        at = json_path(where, api_name or "")
        if refusal.reason == "reference":
            return ZohoError("INVALID_DATA", details={"api_name": api_name, **at})
        other = self.store.get_records(principal.org, self.product.name, module.api_name, [refusal.other or ""])
        owner = next(iter(other.values())).owner if other else None
        user = self.store.users_by_id(principal.org).get(owner or "")
        duplicate = {"id": refusal.other, "module": {"api_name": module.api_name, "id": self.product.module_id(module)},
                     "Owner": None if user is None else {"name": user.name, "id": user.id}}
        return ZohoError("DUPLICATE_DATA", details={"api_name": api_name, **at, "duplicate_record": duplicate})

    def write_records(self, principal: Principal, module: Module, version: str, items: list[Any], now: int, *,
                      mode: str, target: str | None = None,
                      duplicate_check: Sequence[str] | None = None) -> tuple[list[dict[str, Any]], int]:
        """Insert (`insert`), update (`update`) or upsert (`upsert`) records; per record its answer entry, and
        the status of the whole answer."""
        if len(items) > BULK_LIMIT:
            raise ZohoError("LIMIT_EXCEEDED", "count of records in your request exceeds the limit",
                            {"maximum_length": BULK_LIMIT, "api_name": "data"})
        fields = self.product.fields(module)
        modern = version in self.product.modern_versions
        match_fields = self._match_fields(fields, duplicate_check) if mode == "upsert" else ()
        plans: list[RecordPlan | ZohoError] = []
        for i, item in enumerate(items):
            where = f"$.data[{i}]" if modern else None
            try:
                plans.append(self._plan(principal, fields, module, item, where, mode, target, match_fields))
            except ZohoError as error:
                plans.append(error)
        ready = [p for p in plans if isinstance(p, RecordPlan)]
        outcomes = iter(self.store.save_records(
            principal.org, self.product.name, module.api_name, ready, principal.user, now,
            grant=principal.restricted) if ready else ())
        users = self.store.users_by_id(principal.org)
        entries, inserted, failed = [], 0, 0
        for i, plan in enumerate(plans):
            outcome: Any = next(outcomes) if isinstance(plan, RecordPlan) else plan
            where = f"$.data[{i}]" if modern else None
            if isinstance(outcome, Refusal):
                outcome = self.refused(principal, module, outcome, where, plan.target if isinstance(
                    plan, RecordPlan) else None)
            if isinstance(outcome, ZohoError):
                failed += 1
                entries.append(outcome.body())
                continue
            assert isinstance(outcome, Saved)
            inserted += outcome.inserted
            entries.append(self._saved_entry(outcome, users, principal, version, mode, match_fields))
        succeeded = len(items) - failed
        status = 201 if inserted == succeeded and mode != "update" else 200
        if failed and not succeeded:
            # Zoho's legacy v2 SDK reads a 400 as a top-level error, so the old versions answer 202 (as fakes of
            # them do); modern ones answer 400 (the v8 OpenAPI file).
            status = 400 if version in self.product.modern_versions else 202
        elif failed:
            status = 207 if version in self.product.multi_status_versions else status
        return entries, status

    def _plan(self, principal: Principal, fields: ModuleFields, module: Module, item: Any, where: str | None,
              mode: str, target: str | None, match_fields: Sequence[Field]) -> RecordPlan:
        change = self.check_change(fields, module, item, where)
        record_id = target
        if mode == "update" and record_id is None:
            given = item.get("id")
            if isinstance(given, int) and not isinstance(given, bool):
                given = str(given)  # Zoho's SDKs send ids as JSON numbers (the v8 SDK's Record.set_id takes an int)
            record_id = given if isinstance(given, str) else None
            if record_id is None:
                raise ZohoError("MANDATORY_NOT_FOUND", details={
                    "api_name": "id", **json_path(where, "id")})
        match = tuple((f.api_name.lower(), entry) for f in match_fields
                      for entry in index_of(fields, {f.api_name: change.values.get(f.api_name)}).get(
                          f.api_name.lower(), [])[:1])
        return RecordPlan(build=lambda existing: self.build(fields, change, principal, where, existing),
                          target=record_id, match=match if record_id is None else (), insert=mode != "update")

    def _match_fields(self, fields: ModuleFields, names: Sequence[str] | None) -> tuple[Field, ...]:
        """The fields an upsert finds its record by: those given, else the module's unique fields, else its
        duplicate-check defaults."""
        if names:
            found = []
            for name in names:
                field = fields.field(name) if isinstance(name, str) else None
                if field is None:
                    raise ZohoError("INVALID_DATA", details={"api_name": str(name),
                                                             "param_name": "duplicate_check_fields"})
                found.append(field)
            return tuple(found)
        return tuple(f for f in fields.fields if f.unique) or tuple(
            f for f in (fields.field(n) for n in fields.duplicate_check) if f is not None)

    def _saved_entry(self, saved: Saved, users: dict[str, UserRef], principal: Principal, version: str, mode: str,
                     match_fields: Sequence[Field]) -> dict[str, Any]:
        details = saved_details(saved.row, users, principal.time_zone, version in self.product.page_token_versions)
        message = RECORD_ADDED if saved.inserted else RECORD_UPDATED
        entry: dict[str, Any] = {"code": "SUCCESS"}
        if mode == "upsert":
            matched = next((f.api_name for f in match_fields if f.api_name.lower() == saved.matched), None)
            entry.update({"duplicate_field": matched, "action": "insert" if saved.inserted else "update"})
        entry.update({"details": details, "message": message, "status": "success"})
        return entry
