"""YAML fixtures -> validated objects; every problem is reported as `file: path.to.field: what is wrong`."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from .accounts.clients import Client
from .cosmos.fixtures import AccountFixture, CosmosSchema, build_accounts
from .fixture_files import files_digest, fixture_files
from .fixture_messages import FirstDefined, FixtureSchema, Known, did_you_mean, shown_token, unknown
from .nesting import MAX_NESTING, nesting
from .zoho.actions import PERMISSIONS
from .zoho.datacentres import DATA_CENTRES
from .zoho.links import MAX_LINK_URL, is_link_url
from .zoho.product import Module, Product
from .zoho.scopes import split_scopes

ZOHO_ID = validate.Regexp(r"^[0-9]{1,19}$", error="must be a numeric id of at most 19 digits")
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
MAX_ALIAS_GROWTH = 100_000  # nodes aliases may add to a document: reuse of a few anchors, never a YAML bomb


class FixtureError(Exception):
    """Fixtures that cannot be used; `problems` lists every one of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid fixtures:\n" + "\n".join(problems))


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML that keeps timestamps as strings, so marshmallow parses (and reports) them."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ZohoId(fields.String):
    """A Zoho id: YAML may write it as a number; it is always kept as a string of digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class AllOrList(fields.Field):
    """Either the word `all` (kept as None) or a list of values of `inner`."""

    def __init__(self, inner: fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.list = fields.List(inner)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple | None:
        if value == "all":
            return None
        return tuple(self.list.deserialize(value, attr, data, **kwargs))


class Scopes(fields.Field):
    """Scopes as one comma-separated string or a list of strings."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        scopes = split_scopes(value) if isinstance(value, str) else []
        if not scopes:
            raise ValidationError("must be a non-empty comma-separated string or list of scopes")
        return ",".join(scopes)


def time_field() -> fields.AwareDateTime:
    """A date-time; one without an offset is taken as UTC."""
    return fields.AwareDateTime(default_timezone=timezone.utc)


@dataclass(frozen=True)
class AttachmentFixture:
    id: str
    file_name: str
    size: int
    content: bytes | None
    content_type: str
    link_url: str | None
    owner: str | None
    created_time: datetime
    modified_time: datetime


@dataclass(frozen=True)
class RecordFixture:
    module: str
    id: str
    name: str
    owner: str | None
    created_time: datetime
    modified_time: datetime
    attachments: tuple[AttachmentFixture, ...]


@dataclass(frozen=True)
class UserFixture:
    id: str
    name: str
    email: str
    permissions: frozenset[str] | None  # None: every permission
    records: frozenset[str] | None      # None: may act on every record


@dataclass(frozen=True)
class TokenFixture:
    token: str
    user: str
    scopes: str
    expires_at: datetime | None
    revoked: bool = False


@dataclass(frozen=True)
class RefreshTokenFixture:
    token: str
    client: str
    user: str
    scopes: str


@dataclass(frozen=True)
class OrgFixture:
    id: str
    name: str
    dc: str
    time_zone: str
    users: tuple[UserFixture, ...]
    tokens: tuple[TokenFixture, ...]
    refresh_tokens: tuple[RefreshTokenFixture, ...]
    records: dict[str, tuple[RecordFixture, ...]]  # product name -> records


@dataclass(frozen=True)
class Fixtures:
    orgs: tuple[OrgFixture, ...]
    clients: tuple[Client, ...]
    modules: dict[str, tuple[Module, ...]]  # product name -> extra modules
    cosmos: tuple[AccountFixture, ...]
    digest: str


def link_url_rule(url: str) -> None:
    """The upload route's rule for links (marshmallow's URL validator differs, and compiles slowly)."""
    if not is_link_url(url):
        raise ValidationError(f"must be an http or https URL of at most {MAX_LINK_URL} characters")


class NamedAttachmentSchema(FixtureSchema):
    """An attachment given by id, name and size only: the common case of big generated fixtures, validated with
    three fields instead of the full schema's twelve (marshmallow's cost is per declared field)."""

    id = ZohoId(required=True, validate=ZOHO_ID)
    file_name = fields.String(required=True, validate=validate.Length(1, 255))
    size = fields.Integer(validate=validate.Range(min=0, max=2**53))


class AttachmentSchema(NamedAttachmentSchema):
    file_name = fields.String(validate=validate.Length(1, 255))
    content = fields.String()
    content_base64 = fields.String()
    path = fields.String()
    link_url = fields.String(validate=link_url_rule)
    content_type = fields.String()
    owner = ZohoId(validate=ZOHO_ID)
    created_time = time_field()
    modified_time = time_field()

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def one_source(self, data: dict, original: Any, **kwargs: Any) -> None:
        given = original if isinstance(original, dict) else data
        sources = [k for k in ("content", "content_base64", "path", "link_url") if k in given]
        if len(sources) > 1:
            raise ValidationError(f"give at most one of content, content_base64, path, link_url "
                                  f"(got {', '.join(sources)})", "_schema")
        if not {"file_name", "link_url", "path"} & set(data):
            raise ValidationError("Missing data for required field.", "file_name")

    @validates("content_base64")
    def valid_base64(self, value: str, **kwargs: Any) -> None:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError(f"not valid base64: {exc}") from exc


class AttachmentField(fields.Field):
    """An attachment, through the three-field schema when it has only those keys, else the full one."""

    named, full = NamedAttachmentSchema(), AttachmentSchema()

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        fits = isinstance(value, dict) and value.keys() <= self.named.fields.keys()
        try:
            return (self.named if fits else self.full).load(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages, valid_data=exc.valid_data) from None


class RecordSchema(FixtureSchema):
    module = fields.String(required=True)
    id = ZohoId(required=True, validate=ZOHO_ID)
    name = fields.String(load_default="")
    owner = ZohoId(validate=ZOHO_ID)
    created_time = time_field()
    modified_time = time_field()
    attachments = fields.List(AttachmentField(), load_default=list)


class ProductRecordsSchema(FixtureSchema):
    records = fields.List(fields.Nested(RecordSchema), load_default=list)


class UserSchema(FixtureSchema):
    id = ZohoId(required=True, validate=ZOHO_ID)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    permissions = AllOrList(fields.String(validate=Known("permission", PERMISSIONS)), load_default=None)
    records = AllOrList(ZohoId(validate=ZOHO_ID), load_default=None)


class TokenSchema(FixtureSchema):
    token = fields.String(required=True, validate=validate.Length(1, 512))
    user = ZohoId(required=True, validate=ZOHO_ID)
    scopes = Scopes(required=True)
    expires_at = fields.AwareDateTime(default_timezone=timezone.utc, load_default=None, allow_none=True)
    revoked = fields.Boolean(load_default=False)


class RefreshTokenSchema(FixtureSchema):
    token = fields.String(required=True, validate=validate.Length(1, 512))
    client = fields.String(required=True)
    user = ZohoId(required=True, validate=ZOHO_ID)
    scopes = Scopes(required=True)


class ClientSchema(FixtureSchema):
    id = fields.String(required=True, validate=validate.Length(1, 128))
    secret = fields.String(required=True, validate=validate.Length(1, 256))
    dc = fields.String(load_default="us", validate=Known("data centre", DATA_CENTRES))
    redirect_uris = fields.List(fields.String(validate=validate.Length(1, 2048)), required=True,
                                validate=validate.Length(min=1))
    org = fields.String()
    user = ZohoId(validate=ZOHO_ID)


class OrgSchema(FixtureSchema):
    id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{1,64}$", error="must be 1 to 64 letters, digits, '_', '.' or '-'"))
    name = fields.String(load_default="")
    dc = fields.String(load_default="us", validate=Known("data centre", DATA_CENTRES))
    time_zone = fields.String(load_default="UTC")
    users = fields.List(fields.Nested(UserSchema), required=True, validate=validate.Length(min=1))
    tokens = fields.List(fields.Nested(TokenSchema), load_default=list)
    refresh_tokens = fields.List(fields.Nested(RefreshTokenSchema), load_default=list)
    crm = fields.Nested(ProductRecordsSchema, load_default=dict)
    bigin = fields.Nested(ProductRecordsSchema, load_default=dict)

    @validates("time_zone")
    def known_zone(self, value: str, **kwargs: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(unknown("time zone", value, available_timezones(), listed=False)) from exc


class ModuleSchema(FixtureSchema):
    api_name = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z][A-Za-z0-9_]{0,63}$", error="must be a letter, then up to 63 letters, digits or '_'"))
    scope_name = fields.String()
    api_supported = fields.Boolean(load_default=True)
    attachments = fields.Boolean(load_default=True)



class FileSchema(FixtureSchema):
    orgs = fields.List(fields.Nested(OrgSchema), load_default=list)
    clients = fields.List(fields.Nested(ClientSchema), load_default=list)
    modules = fields.Dict(keys=fields.String(validate=Known("product", ("crm", "bigin"))),
                          values=fields.List(fields.Nested(ModuleSchema)), load_default=dict)
    cosmos = fields.Nested(CosmosSchema, load_default=dict)


def _document(file: FixtureSource) -> Any:
    """A fixture file's data: JSON (a subset of YAML) through the much faster json module, else YAML; either
    nested at most MAX_NESTING deep."""
    if file.name.endswith(".json"):
        try:
            document = json.loads(file.raw)
        except (ValueError, RecursionError) as exc:
            raise yaml.YAMLError(f"not valid JSON: {exc}") from exc
    else:
        document = _yaml_document(file.raw)
    if nesting(document) > MAX_NESTING:
        raise yaml.YAMLError(f"nested deeper than {MAX_NESTING} levels")
    return document


def _yaml_document(raw: bytes) -> Any:
    """Safe YAML, its aliases checked on the node graph before anything is built from it."""
    loader = _Loader(raw)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        written, expanded = _node_counts(root)
        if expanded - written > MAX_ALIAS_GROWTH:
            raise yaml.YAMLError(f"aliases expand the document by more than {MAX_ALIAS_GROWTH} nodes")
        return loader.construct_document(root)
    # A scalar Python will not build (a 5,000-digit integer), or nesting the pure-Python parser (no libyaml)
    # cannot follow.
    except (ValueError, RecursionError) as exc:
        raise yaml.YAMLError(str(exc)) from exc
    finally:
        loader.dispose()


def _node_counts(root: yaml.Node) -> tuple[int, int]:
    """Nodes of a YAML document as written and as its aliases expand it (each node visited once, without
    recursion); an alias inside its own anchor is refused."""
    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            expanded[id(node)] = 1 + sum(expanded[id(child)] for child in children)
        elif id(node) not in expanded:
            if id(node) in open_nodes:
                raise yaml.YAMLError("an alias refers to a node that contains it")
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in expanded)
    return len(expanded), expanded[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The nodes a mapping or sequence holds (keys included)."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _flatten(messages: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            # `_schema` is the object itself; `value` is how marshmallow names a dict entry's value.
            name = prefix if key in ("_schema", "value") else f"{prefix}.{key}" if prefix else str(key)
            yield from _flatten(value, name)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield f"{prefix or '(top)'}: {message}"
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            yield from _flatten(value, f"{prefix}.{index}")
    else:
        yield f"{prefix or '(top)'}: {messages}"


class _Builder:
    """Turns validated YAML documents into fixture objects, collecting cross-reference problems."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products = {p.name: p for p in products}
        self.problems: list[str] = []
        self.org_ids, self.tokens, self.client_ids = FirstDefined(), FirstDefined(), FirstDefined()
        self.module_names = {name: FirstDefined() for name in self.products}
        self.modules: dict[str, list[Module]] = {name: [] for name in self.products}
        self.pending_clients: list[tuple[FixtureSource, str, str | None, str]] = []  # refresh tokens' clients to check

    def problem(self, file: FixtureSource, path: str, message: str) -> None:
        self.problems.append(f"{file}: {path}: {message}")

    def unique(self, seen: FirstDefined, key: str | None, file: FixtureSource, path: str, what: str) -> bool:
        """True if `key` is new to `seen`; else report the duplicate (`what`) with where the first one is."""
        duplicate = seen.duplicate(key, f"{file}: {path}", what)
        if duplicate:
            self.problem(file, path, duplicate)
        return not duplicate

    def add_modules(self, file: FixtureSource, declared: dict[str, list[dict]]) -> None:
        """Fixture modules: a redeclared built-in keeps its scope name; a new one is custom (`custom`)."""
        for product, modules in declared.items():
            for index, data in enumerate(modules if product in self.modules else ()):
                if "api_name" not in data or not self.unique(
                        self.module_names[product], data["api_name"].lower(), file,
                        f"modules.{product}.{index}.api_name", f"{product} module {data['api_name']!r}"):
                    continue
                builtin = self.products[product].module(data["api_name"])
                scope = data.get("scope_name") or (builtin.scope_name if builtin else "custom")
                self.modules[product].append(Module(
                    data["api_name"], scope, data.get("api_supported", True), data.get("attachments", True),
                    builtin.module_name if builtin else ""))

    def module(self, product: str, api_name: str) -> Module | None:
        extra = {m.api_name.lower(): m for m in self.modules[product]}
        return extra.get(api_name.lower()) or self.products[product].module(api_name)

    def unknown_module(self, product: str, name: str) -> str:
        """The message for a module no catalogue has: another name of one it has, a close spelling of one, or
        else the product that has it."""
        catalogue = self.products[product].with_modules(self.modules[product])
        known = [m.api_name for m in catalogue.modules if m.api_supported]
        renamed = catalogue.renamed(name)
        elsewhere = [other for other in self.products if other != product and self.module(other, name)]
        hint = f"did you mean {renamed.api_name!r}?" if renamed else did_you_mean(name, known) or (
            f"that is a {elsewhere[0]} module" if elsewhere else "")
        return unknown(f"{product} module", name, known, hint)

    def org(self, file: FixtureSource, index: int, data: dict) -> OrgFixture:
        # `data` may be only the valid part of a document with errors: every key is optional here.
        where = f"orgs.{index}"
        org_id = data.get("id")
        self.unique(self.org_ids, org_id, file, f"{where}.id", f"org id {org_id!r}")
        users: dict[str, dict] = {}
        user_ids = FirstDefined()
        for i, user in enumerate(data.get("users", [])):
            self.unique(user_ids, user.get("id"), file, f"{where}.users.{i}.id", f"user id {user.get('id')}")
            users.setdefault(user.get("id", f"#{i}"), user)
        records: dict[str, tuple[RecordFixture, ...]] = {}
        for product in self.products:
            records[product] = self._records(file, f"{where}.{product}.records", product,
                                             data.get(product, {}).get("records", []), users)
        all_record_ids = {r.id for rs in records.values() for r in rs}
        for i, user in enumerate(data.get("users", [])):
            for j, record_id in enumerate(user.get("records") or ()):
                if record_id not in all_record_ids:
                    self.problem(file, f"{where}.users.{i}.records.{j}", f"no record {record_id} in this org")
        tokens = [TokenFixture(token=t.get("token", ""), user=t.get("user", ""), scopes=t.get("scopes", ""),
                               expires_at=t.get("expires_at"), revoked=t.get("revoked", False))
                  for t in self._tokens(file, f"{where}.tokens", data.get("tokens", []), users)]
        refresh_tokens = []
        for i, token in enumerate(self._tokens(file, f"{where}.refresh_tokens", data.get("refresh_tokens", []), users)):
            self.pending_clients.append((file, f"{where}.refresh_tokens.{i}.client", token.get("client"),
                                         data.get("dc", "us")))
            refresh_tokens.append(RefreshTokenFixture(token=token.get("token", ""), client=token.get("client", ""),
                                                      user=token.get("user", ""), scopes=token.get("scopes", "")))
        return OrgFixture(
            id=org_id or "", name=data.get("name", ""), dc=data.get("dc", "us"),
            time_zone=data.get("time_zone", "UTC"),
            users=tuple(UserFixture(id=u.get("id", ""), name=u.get("name", ""), email=u.get("email", ""),
                                    permissions=None if u.get("permissions") is None else frozenset(u["permissions"]),
                                    records=None if u.get("records") is None else frozenset(u["records"]))
                        for u in data.get("users", [])),
            tokens=tuple(tokens), refresh_tokens=tuple(refresh_tokens), records=records)

    def _tokens(self, file: FixtureSource, where: str, items: list[dict], users: dict[str, dict]) -> list[dict]:
        """Access or refresh tokens: unique across every file, and held by a user of the org."""
        for i, token in enumerate(items):
            self.unique(self.tokens, token.get("token"), file, f"{where}.{i}.token",
                        f"token {shown_token(token.get('token', ''))!r}")
            if "user" in token and token["user"] not in users:
                self.problem(file, f"{where}.{i}.user", f"no user {token['user']} in this org")
        return items

    def read(self, file: FixtureSource, where: str, path: str) -> bytes | None:
        """The bytes of a `path` content source, relative to the fixture file."""
        if file.base is None:
            self.problem(file, where, "not available in fixtures sent over HTTP: use content or content_base64")
            return None
        try:
            return (file.base / path).read_bytes()
        except OSError as exc:
            self.problem(file, where, f"cannot read {file.base / path}: {exc.strerror}")
            return None

    def cosmos(self, declared: list[tuple[FixtureSource, dict]]) -> tuple[AccountFixture, ...]:
        """Cosmos DB accounts of every file; account names are unique across files."""
        accounts: list[AccountFixture] = []
        names = FirstDefined()
        for file, section in declared:
            accounts.extend(build_accounts(section, str(file),
                                           lambda where, message: self.problem(file, where, message),
                                           lambda where, path: self.read(file, where, path), names))
        return tuple(accounts)

    def _records(self, file: FixtureSource, where: str, product: str, items: list[dict],
                 users: dict[str, dict]) -> tuple[RecordFixture, ...]:
        record_ids, attachment_ids = FirstDefined(), FirstDefined()
        built = []
        for i, rec in enumerate(items):
            at = f"{where}.{i}"
            if "module" not in rec:
                continue
            module = self.module(product, rec["module"])
            if module is None:
                self.problem(file, f"{at}.module", self.unknown_module(product, rec["module"]))
            elif not module.api_supported:
                self.problem(file, f"{at}.module", f"{product} module {module.api_name} is not supported in the API")
            elif rec.get("attachments") and not module.attachments:
                self.problem(file, f"{at}.attachments", f"{product} module {module.api_name} has no attachments")
            self.unique(record_ids, rec.get("id"), file, f"{at}.id", f"record id {rec.get('id')}")
            owner = self._owner(file, f"{at}.owner", rec.get("owner"), users)
            created = rec.get("created_time", EPOCH)
            attachments = []
            for j, att in enumerate(rec.get("attachments", [])):
                self.unique(attachment_ids, att.get("id"), file, f"{at}.attachments.{j}.id",
                            f"attachment id {att.get('id')}")
                attachments.append(self._attachment(file, f"{at}.attachments.{j}", att, owner, users))
            built.append(RecordFixture(
                module=module.api_name if module else rec["module"], id=rec.get("id", ""), name=rec.get("name", ""),
                owner=owner, created_time=created, modified_time=rec.get("modified_time", created),
                attachments=tuple(attachments)))
        return tuple(built)

    def _owner(self, file: FixtureSource, where: str, owner: str | None, users: dict[str, dict]) -> str | None:
        if owner is not None and owner not in users:
            self.problem(file, where, f"no user {owner} in this org")
        return owner if owner is not None else next(iter(users), None)

    def _attachment(self, file: FixtureSource, where: str, att: dict, record_owner: str | None,
                    users: dict[str, dict]) -> AttachmentFixture:
        content: bytes | None = None
        if "content" in att:
            content = att["content"].encode()
        elif "content_base64" in att:
            content = base64.b64decode(att["content_base64"])
        elif "path" in att:
            content = self.read(file, f"{where}.path", att["path"])
        link = att.get("link_url")
        file_name = att.get("file_name") or link or Path(att.get("path", "")).name
        size = len(content) if content is not None else att.get("size", 0)
        if content is not None and "size" in att and att["size"] != len(content):
            self.problem(file, f"{where}.size", f"is {att['size']} but the content has {len(content)} bytes")
        guessed = mimetypes.guess_type(file_name)[0] if not link else None
        created = att.get("created_time", EPOCH)
        return AttachmentFixture(
            id=att.get("id", ""), file_name=file_name, size=size, content=content,
            content_type=att.get("content_type") or guessed or "application/octet-stream",
            link_url=link, owner=self._owner(file, f"{where}.owner", att.get("owner"), users) or record_owner,
            created_time=created, modified_time=att.get("modified_time", created))

    def clients(self, orgs: tuple[OrgFixture, ...],
                declared: list[tuple[FixtureSource, int, dict]]) -> tuple[Client, ...]:
        """OAuth clients, each tied to the org and user that consent for it; refresh tokens checked against them."""
        built, seen = [], {}
        for file, index, client in declared:
            where = f"clients.{index}"
            self.unique(self.client_ids, client.get("id"), file, f"{where}.id", f"client id {client.get('id')!r}")
            dc = client.get("dc", "us")
            org = next((o for o in orgs if o.id == client["org"]), None) if "org" in client \
                else next((o for o in orgs if o.dc == dc), None)
            if org is None:
                self.problem(file, f"{where}.org", f"no org {client['org']!r}" if "org" in client
                             else f"no org in data centre {dc} to consent for this client")
            elif org.dc != dc:
                self.problem(file, f"{where}.org", f"org {org.id} is in data centre {org.dc}, the client in {dc}")
            user = client.get("user") or (org.users[0].id if org is not None and org.users else "")
            if org is not None and user not in {u.id for u in org.users}:
                self.problem(file, f"{where}.user", f"no user {user} in org {org.id}")
            seen[client.get("id")] = dc
            built.append(Client(id=client.get("id", ""), secret=client.get("secret", ""), dc=dc,
                                redirect_uris=tuple(client.get("redirect_uris", ())),
                                org=org.id if org is not None else "", user=user))
        for file, where, client_id, org_dc in self.pending_clients:
            if client_id is not None and client_id not in seen:
                self.problem(file, where, f"no client {client_id!r}")
            elif client_id is not None and seen[client_id] != org_dc:
                self.problem(file, where, f"client {client_id} is in data centre {seen[client_id]}, the org in {org_dc}")
        return tuple(built)


@dataclass(frozen=True)
class FixtureSource:
    """One fixture document: its name in messages, its bytes, and the folder its `path`s are relative to."""

    name: str
    raw: bytes
    base: Path | None

    def __str__(self) -> str:
        return self.name


def load_fixtures(path: Path, products: Iterable[Product]) -> Fixtures:
    """Read, validate and cross-check every fixture file under `path`; raise FixtureError listing all problems."""
    files = fixture_files(path)
    if not files:
        raise FixtureError([f"{path}: (top): no fixture files (*.yaml, *.yml, *.json) found"])
    sources, problems = [], []
    for file in files:
        try:
            sources.append(FixtureSource(str(file), file.read_bytes(), file.parent))
        except OSError as exc:
            problems.append(f"{file}: (top): cannot read: {exc.strerror}")
    if problems:
        raise FixtureError(problems)
    return parse_fixtures(sources, products)


def parse_fixtures(sources: list[FixtureSource], products: Iterable[Product]) -> Fixtures:
    """Validate and cross-check fixture documents; raise FixtureError listing every problem."""
    builder = _Builder(products)
    documents: list[tuple[FixtureSource, dict]] = []
    for file in sources:
        try:
            document = _document(file)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(top)"
            builder.problem(file, where, str(exc) if file.name.endswith(".json")
                            else f"not valid YAML: {getattr(exc, 'problem', exc)}")
            continue
        try:
            documents.append((file, FileSchema().load(document or {})))
        except ValidationError as exc:
            builder.problems.extend(f"{file}: {line}" for line in _flatten(exc.messages))
            # Cross-check what is valid too, so one run reports every problem.
            valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
            documents.append((file, {"orgs": valid.get("orgs", []), "modules": valid.get("modules", {}),
                                     "clients": valid.get("clients", []), "cosmos": valid.get("cosmos", {})}))
    for file, data in documents:
        builder.add_modules(file, data["modules"])
    orgs = tuple(builder.org(file, i, org) for file, data in documents for i, org in enumerate(data["orgs"]))
    if not orgs and not builder.problems and not any(data["cosmos"] for _, data in documents):
        builder.problem(sources[0] if sources else FixtureSource("fixtures", b"", None), "orgs",
                        "no org is defined")
    clients = builder.clients(orgs, [(file, i, c) for file, data in documents for i, c in enumerate(data["clients"])])
    cosmos = builder.cosmos([(file, data["cosmos"]) for file, data in documents])
    if builder.problems:
        raise FixtureError(builder.problems)
    return Fixtures(orgs=orgs, clients=clients, modules={k: tuple(v) for k, v in builder.modules.items()},
                    cosmos=cosmos, digest=files_digest((file.name, file.raw) for file in sources))
