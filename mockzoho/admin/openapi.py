"""The OpenAPI 3.1 document of everything the server serves, at `GET /__admin/openapi.json`: the control API
from the marshmallow schemas that validate its calls (so the document cannot drift from them) and those of
`answers.py`; the Zoho and Cosmos DB routes from the app's URL map, in their vendors' envelopes."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from flask import Blueprint, Flask, Response, current_app
from werkzeug.routing import Rule
from werkzeug.routing.rules import parse_converter_args

from .. import __version__
from ..core.context import app_state
from ..core.families import Families, Family
from .errors import admin_response

if TYPE_CHECKING:
    from apispec import APISpec


@dataclass(frozen=True)
class Op:
    """A control-API operation: what it does and answers, and what validates its request."""

    summary: str
    answer: str  # its success answer: a schema of answers.py
    status: int = 200
    body: str | None = None  # the schema of admin.schemas that validates its JSON body
    query: str | None = None  # the schema of admin.schemas that validates its query
    params: tuple[str, ...] = ()  # query parameters it reads as they are, without a schema
    raw: str | None = None  # the media type of a body that is not JSON
    rules: str = ""  # what the body's schema checks across its fields, which JSON Schema does not say
    example: dict[str, Any] | None = None  # a body that works on the bundled fixtures
    errors: tuple[int, ...] = ()  # besides 400 for a request that does not fit, 401, 403 and 413
    public: bool = False  # answers every caller, trusted or not


# Every control-API route, by method and path below /__admin: a route missing here (or an entry without its
# route) fails the build, so no route goes undocumented.
OPERATIONS: dict[str, Op] = {
    "GET /health": Op("Liveness and version; where the state lives, to a trusted caller", "HealthAnswer",
                      public=True),
    "POST /reset": Op("Everything, or one org, back to the fixtures", "ResetAnswer", body="ResetSchema",
                      errors=(404,)),
    "PUT /fixtures": Op("Replace the fixtures, and the state with them", "FixturesAnswer", raw="application/yaml"),
    "GET /orgs": Op("The orgs, and the fixture org each was cloned from", "OrgListAnswer"),
    "POST /orgs": Op("A new isolated org, a copy of a fixture org", "NewOrgAnswer", 201, body="OrgSchema",
                     errors=(404, 409)),
    "DELETE /orgs/{org}": Op("Remove a cloned org", "DeletedOrgAnswer", errors=(404, 409)),
    "POST /tokens": Op("Mint an access token (and a refresh token) for a user", "TokenAnswer", 201,
                       body="TokenSchema", errors=(404,), example={"org": "zylker-us", "user": "2883756000000113001",
                                                                   "scopes": "ZohoCRM.modules.ALL"}),
    "GET /clock": Op("The server clock", "ClockAnswer"),
    "PUT /clock": Op("Set the clock, frozen or running", "ClockAnswer", body="ClockSchema",
                     example={"now": "2027-01-01T00:00:00Z", "frozen": True}),
    "POST /clock/advance": Op("Move the clock", "ClockAnswer", body="AdvanceSchema", example={"seconds": 3600},
                              rules="The clock stays between 1971 and 9000."),
    "GET /requests": Op("Journaled calls", "JournalAnswer", query="JournalQuerySchema"),
    "GET /requests/count": Op("How many journaled calls match", "CountAnswer", query="JournalQuerySchema"),
    "DELETE /requests": Op("Forget journaled calls", "DeletedAnswer", params=("org", "tag")),
    "POST /faults": Op("Set a fault", "IdAnswer", 201, body="FaultSchema", rules=(
        "An action, one or more: `respond`, `delay_ms`, `drop: true` (which takes no `respond`); `times` or "
        "`probability`, not both; `respond` has a Zoho error `code`, or a raw `status` with `body` and `headers`. "
        "A match that can never be met is `matches_nothing`."),
        example={"match": {"product": "crm", "method": "DELETE", "path": "/crm/*"},
                 "respond": {"code": "INTERNAL_ERROR"}, "times": 2}),
    "GET /faults": Op("The faults set, with their usage", "FaultListAnswer", params=("org",)),
    "DELETE /faults": Op("Remove faults", "DeletedAnswer", params=("org",)),
    "DELETE /faults/{fault_id}": Op("Remove one fault", "DeletedAnswer", errors=(404,)),
    "GET /requests/unmatched": Op("Calls nothing answered, with the stubs that nearly matched", "UnmatchedAnswer",
                                  query="UnmatchedQuerySchema"),
    "POST /stubs": Op("Set a stub", "IdAnswer", 201, body="StubSchema", errors=(400,),
                      example={"match": {"method": "POST", "path": "/crm/v8/Leads/*/actions/convert"},
                               "respond": {"json": {"data": [{"code": "SUCCESS"}]}}}),
    "GET /stubs": Op("The stubs set, with their usage", "StubListAnswer", params=("org",)),
    "DELETE /stubs": Op("Remove stubs", "DeletedAnswer", params=("org",)),
    "DELETE /stubs/{stub_id}": Op("Remove one stub", "DeletedAnswer", errors=(404,)),
    "PUT /limits/{org}": Op("Set an org's rate limits", "LimitAnswer", body="LimitSchema",
                            rules="`calls` with `window_seconds`, or `concurrency`, or both.",
                            example={"calls": 100, "window_seconds": 60}),
    "GET /limits": Op("The rate limits, with their usage", "LimitListAnswer"),
    "DELETE /limits": Op("Lift every rate limit", "DeletedAnswer"),
    "DELETE /limits/{org}": Op("Lift an org's rate limits", "DeletedAnswer"),
    "GET /openapi.json": Op("This document", "DocumentAnswer", public=True),
}

ERRORS = {400: "The request does not fit: `details` names every problem", 401: "The admin token is missing or wrong",
          403: "The control API is closed: no admin token is set and the server is reachable beyond loopback "
               "(or the request came through a proxy or from another site)",
          404: "Not found", 409: "A conflict with the state", 413: "The body is larger than the call takes"}


@dataclass(frozen=True)
class Vendor:
    """How one API family answers, as far as it can be said of every route: its credentials and envelopes."""

    about: str
    security: str | None  # the security scheme its calls use
    answer: str  # what a success is
    error: dict[str, Any]  # the JSON Schema of its error envelope
    client_error: str  # what a 4XX carries


ZOHO_ERROR = {"type": "object", "required": ["code", "details", "message", "status"],
              "properties": {"code": {"type": "string"}, "details": {"type": "object"},
                             "message": {"type": "string"}, "status": {"const": "error"}}}
ZOHO = Vendor("Zoho {name}: the routes of docs/fidelity.md and the README", "zohoOAuthToken",
              "Zoho's answer as the mock serves it: JSON in Zoho's key order, or no body (204: nothing to show)",
              ZOHO_ERROR, "A Zoho error; a call on several records answers a `data` array, an entry per record")
VENDORS: dict[str, Vendor] = {
    "crm": ZOHO, "bigin": ZOHO,
    "accounts": Vendor("The Zoho accounts server: OAuth tokens, revocation, consent", None,
                       "JSON: the token answer, `{\"status\": \"success\"}`, or an OAuth error `{\"error\": code}` "
                       "(Zoho answers most of them with 200)",
                       {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                       "An OAuth error"),
    "cosmos": Vendor("Azure Cosmos DB (SQL API): the account, databases, collections, documents, attachments and "
                     "their media", "cosmosMasterKey",
                     "The resource, feed or account as JSON, or no body (204: deleted)",
                     {"type": "object", "required": ["code", "message"],
                      "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
                     "A Cosmos DB error"),
}
# Answers that are not JSON, by view name and method.
OTHER_ANSWERS: dict[tuple[str, str], dict[str, Any]] = {
    ("download_attachment", "GET"): {"2XX": {"description": "The attachment's bytes, with their stored content "
                                                            "type; 204 if there is no such attachment",
                                             "content": {"*/*": {"schema": {}}}}},
    ("media", "GET"): {"2XX": {"description": "The attachment's bytes, with their stored content type",
                               "content": {"*/*": {"schema": {}}}}},
    ("list_records", "GET"): {"304": {"description": "Nothing modified since `If-Modified-Since`"}},
    ("authorize", "GET"): {"302": {"description": "The consent, approved: to `redirect_uri` with `code`, "
                                                  "`location` and `accounts-server`",
                                   "headers": {"Location": {"schema": {"type": "string"}}}}},
}

SECURITY_SCHEMES = {
    "adminToken": {"type": "http", "scheme": "bearer", "description": (
        "The admin token (`MOCKZOHO_ADMIN_TOKEN`, `mockzoho serve --admin-token`). Without one set, a server that "
        "listens on loopback alone takes control calls from loopback without it; `GET /__admin/health` always "
        "answers, but shows only `status` and `version` to a caller the control API would refuse.")},
    "zohoOAuthToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                       "description": "`Zoho-oauthtoken <access token>`: a fixture's token, or one minted by "
                                      "`/oauth/v2/token` or `POST /__admin/tokens`"},
    "cosmosMasterKey": {"type": "apiKey", "in": "header", "name": "authorization", "description": (
        "The master-key token, url-encoded `type=master&ver=1.0&sig=<base64 HMAC-SHA256 of "
        "verb\\ntype\\nlink\\nx-ms-date\\n\\n>`, with `x-ms-date` within 15 minutes of the server clock "
        "(both unchecked with `MOCKZOHO_COSMOS_VERIFY=false`)")},
}
DESCRIPTION = (
    "A faithful, stateful mock of the Zoho CRM and Bigin APIs, the Zoho accounts server and Azure Cosmos DB, with "
    "a control API under `/__admin` (docs/admin-api.md). The control API's requests are described by the schemas "
    "that validate them, and every one of its answers is JSON. Another method on a served URL is refused: 400 "
    "`INVALID_REQUEST_METHOD` on Zoho's APIs, as Zoho does, 405 elsewhere (with `Allow` on the control API); "
    "HEAD is served wherever GET is. Every call to the vendors' APIs may "
    "also be answered by a fault set through the control API, with whatever status and body it was given.")
ROUTE_PART = re.compile(r"<(?:(?P<converter>[a-zA-Z_]\w*)(?:\((?P<args>.*?)\))?:)?(?P<name>[a-zA-Z_]\w*)>")


class UndocumentedRoute(Exception):
    """A control-API route with no entry in OPERATIONS (or an entry with no route)."""


def document() -> Response:
    """`GET /__admin/openapi.json`: built once per app."""
    return admin_response(app_state().shared("openapi", lambda: build(current_app)))


def register(blueprint: Blueprint) -> None:
    """Serve the document on the control API's blueprint."""
    blueprint.add_url_rule("/openapi.json", endpoint="openapi", view_func=document, methods=["GET"])


def build(app: Flask) -> dict[str, Any]:
    """The whole document, from the app's URL map."""
    from apispec import APISpec  # loaded on first use: the document is asked for rarely
    from apispec.ext.marshmallow import MarshmallowPlugin

    families = app.extensions["mockzoho"].families
    plugin = MarshmallowPlugin()
    spec = APISpec("mockzoho", __version__, "3.1.0", plugins=[plugin], info={"description": DESCRIPTION},
                   servers=[{"url": "/", "description": "this server"}],
                   tags=[{"name": "control", "description": "The control API"},
                         *({"name": f.name, "description": vendor_of(f).about.format(name=f.name)}
                           for f in families if f.journaled)])
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(plain_validators(families.journaled))
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    add_error_components(spec, families)
    admin = families.named("admin")
    ids = operation_ids(app.url_map.iter_rules())
    seen = set()
    for rule in app.url_map.iter_rules():
        owner = next((f for f in families if rule.endpoint.startswith(f"{f.name}.")), None)
        if owner is None or (owner is not admin and not owner.journaled):
            continue  # Flask's own static route, and the dashboard's HTML pages: no API
        path, parameters = openapi_path(app, rule)
        operations = {}
        for method in served_methods(rule):
            if owner is admin:
                key = f"{method} {path.removeprefix(admin.prefixes[0])}"
                seen.add(key)
                operation = admin_operation(key, parameters)
            else:
                operation = vendor_operation(app, owner, rule, method, parameters)
            operations[method.lower()] = {"operationId": ids[rule.rule, method], **operation}
        spec.path(path=path, operations=operations)
    if set(OPERATIONS) - seen:
        raise UndocumentedRoute(f"OPERATIONS lists routes the app does not serve: {sorted(set(OPERATIONS) - seen)}")
    return absent_not_null(spec.to_dict())


def absent_not_null(document: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is given or absent, never null: the null a schema's `load_default=None` allows is its
    absence."""
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                if parameter["in"] == "query" and isinstance(schema.get("type"), list):
                    [schema["type"]] = [kind for kind in schema["type"] if kind != "null"]
                    if schema.get("default", "") is None:
                        del schema["default"]
    return document


def served_methods(rule: Rule) -> list[str]:
    """The methods a rule serves, HEAD left out (it is GET without the body)."""
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def operation_ids(rules: Iterator[Rule]) -> dict[tuple[str, str], str]:
    """An operationId for every rule (by its text) and method: its endpoint, with the method and then the path
    parameters added where that is not enough to tell them apart."""
    pairs = [(rule, method) for rule in rules for method in served_methods(rule)]
    per_endpoint = Counter(rule.endpoint for rule, _ in pairs)
    names = [(rule, method, rule.endpoint if per_endpoint[rule.endpoint] == 1 else f"{rule.endpoint}_{method.lower()}")
             for rule, method in pairs]
    repeated = Counter(name for _, _, name in names)
    return {(rule.rule, method): name if repeated[name] == 1 else "_by_".join([name, *sorted(rule.arguments)])
            for rule, method, name in names}


def openapi_path(app: Flask, rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """The rule as an OpenAPI path, and its path parameters."""
    parameters = []
    for part in ROUTE_PART.finditer(rule.rule):
        args, kwargs = parse_converter_args(part["args"]) if part["args"] else ((), {})
        parameters.append({"in": "path", "name": part["name"], "required": True,
                           **converter_schema(app, part["converter"] or "default", args, kwargs)})
    return ROUTE_PART.sub(lambda part: "{" + part["name"] + "}", rule.rule), parameters


def converter_schema(app: Flask, converter: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """What values a werkzeug converter takes, as a parameter's schema (and description)."""
    if converter == "any":
        return {"schema": {"type": "string", "enum": list(args)}}
    if converter in ("int", "float"):
        bounds = {"minimum": kwargs.get("min", None if kwargs.get("signed") else 0), "maximum": kwargs.get("max")}
        return {"schema": {"type": "integer" if converter == "int" else "number",
                           **{k: v for k, v in bounds.items() if v is not None}}}
    if converter == "uuid":
        return {"schema": {"type": "string", "format": "uuid"}}
    if converter == "path":
        return {"schema": {"type": "string"}, "description": "slashes included"}
    if converter in ("default", "string"):
        lengths = {"minLength": kwargs.get("length", kwargs.get("minlength", 1)),
                   "maxLength": kwargs.get("length", kwargs.get("maxlength"))}
        return {"schema": {"type": "string", **{k: v for k, v in lengths.items() if v is not None}}}
    about = (app.url_map.converters[converter].__doc__ or "").strip().split("\n\n")[0]
    return {"schema": {"type": "string"}, "description": " ".join(about.split())}


def admin_operation(key: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """A control-API operation from its entry in OPERATIONS, with the schemas it names."""
    from . import answers, schemas

    op = OPERATIONS.get(key)
    if op is None:
        raise UndocumentedRoute(f"the control API's {key} has no entry in admin/openapi.py's OPERATIONS")
    parameters = [*parameters, *({"in": "query", "name": name, "schema": {"type": "string"}} for name in op.params)]
    if op.query:
        parameters.append({"in": "query", "schema": getattr(schemas, op.query)})
    # Optional: a server on loopback alone with no admin token set needs none, and `public` calls never do.
    operation: dict[str, Any] = {"summary": op.summary, "tags": ["control"], "security": [{"adminToken": []}, {}]}
    if parameters:
        operation["parameters"] = parameters
    if op.body:
        schema = getattr(schemas, op.body)
        media: dict[str, Any] = {"schema": schema, **({"example": op.example} if op.example else {})}
        operation["requestBody"] = {"required": not takes_nothing(schema), "content": {"application/json": media},
                                    "description": " ".join(("No body is `{}`.", op.rules)).strip()}
    if op.raw:
        operation["requestBody"] = {"required": True, "content": {op.raw: {"schema": {"type": "string"}}}}
    statuses = {*op.errors}
    if op.body or op.query or op.raw:
        statuses |= {400}
    if op.body or op.raw:
        statuses |= {413}
    if not op.public:
        statuses |= {401, 403}
    operation["responses"] = {
        str(op.status): {"description": op.summary,
                         "content": {"application/json": {"schema": getattr(answers, op.answer)}}},
        **{str(status): f"admin{status}" for status in sorted(statuses)}}
    return operation


def vendor_of(family: Family) -> Vendor:
    """How a family answers; UndocumentedRoute if VENDORS does not say."""
    vendor = VENDORS.get(family.name)
    if vendor is None:
        raise UndocumentedRoute(f"family {family.name} has no entry in admin/openapi.py's VENDORS")
    return vendor


def takes_nothing(schema: type) -> bool:
    """Whether the schema takes `{}`, which is what no body at all is."""
    from .schemas import ValidationError

    try:
        schema().load({})
    except ValidationError:
        return False
    return True


def vendor_operation(app: Flask, owner: Family, rule: Rule, method: str,
                     parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """A Zoho, accounts or Cosmos DB operation: its path, credentials and envelopes, as every route has them."""
    vendor = vendor_of(owner)
    view = rule.endpoint.split(".", 1)[1]
    about = (app.view_functions[rule.endpoint].__doc__ or "").strip().split("\n\n")[0]
    responses = {"2XX": {"description": vendor.answer, "content": {"application/json": {"schema": {"type": "object"}}}},
                 "4XX": f"{owner.name}4XX", "5XX": f"{owner.name}5XX", **OTHER_ANSWERS.get((view, method), {})}
    operation: dict[str, Any] = {"summary": " ".join(about.split()) or view.replace("_", " ").capitalize(),
                                 "tags": [owner.name], "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    if vendor.security:
        operation["security"] = [{vendor.security: []}]
    return operation


def add_error_components(spec: APISpec, families: Families) -> None:
    """The error answers operations refer to: the control API's by status, each vendor's 4XX and 5XX."""
    from .answers import ERROR_KINDS, ErrorAnswer

    spec.components.schema("ErrorAnswer", schema=ErrorAnswer)
    for status, about in ERRORS.items():
        schema = {"allOf": [{"$ref": "#/components/schemas/ErrorAnswer"},
                            {"properties": {"error": {"enum": list(ERROR_KINDS[status])}}}]}
        spec.components.response(f"admin{status}", {"description": about,
                                                    "content": {"application/json": {"schema": schema}}})
    for family in (f for f in families if f.journaled):
        vendor = vendor_of(family)
        error = dict(vendor.error)
        if family.error.CATALOGUE is not None:  # the codes it can answer with (a fault's raw answer aside)
            code = {**error["properties"]["code"], "enum": sorted(family.error.CATALOGUE)}
            error["properties"] = {**error["properties"], "code": code}
        spec.components.schema(f"{family.name}Error", error)
        ref = {"$ref": f"#/components/schemas/{family.name}Error"}
        client = ({"anyOf": [ref, {"type": "object", "required": ["data"], "properties": {"data": {"type": "array"}}}]}
                  if vendor is ZOHO else ref)
        for kind, about, schema in (("4XX", vendor.client_error, client), ("5XX", "A server error", ref)):
            spec.components.response(f"{family.name}{kind}", {"description": about,
                                                               "content": {"application/json": {"schema": schema}}})


def plain_validators(journaled: tuple[str, ...]) -> Any:
    """An apispec attribute function: what the plain functions among a field's validators refuse, which apispec
    cannot read from them (`journaled`: the families a fault may name)."""
    from ..fixtures import stubs
    from . import schemas

    def plain_validator_attributes(self: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
        if isinstance(field, schemas.ScopesField):
            scope = {"type": "string", "minLength": 1}
            return {"anyOf": [{**scope, "description": "comma- or space-separated"},
                              {"type": "array", "items": scope, "minItems": 1}]}
        if stubs.check_glob in field.validators or stubs.path_glob in field.validators:
            start = r"[/*?\[]" if stubs.path_glob in field.validators else ""
            return {"maxLength": 512, "pattern": rf"^{start}[^*]*(\*[^*]*){{0,{stubs.MAX_GLOB_STARS}}}$",
                    "description": f"a glob (fnmatch): at most 512 characters and {stubs.MAX_GLOB_STARS} `*`"}
        if stubs.http_method in field.validators:
            return {"description": f"an HTTP method, in any case: {', '.join(stubs.METHODS)}"}
        if schemas.journaled_family in field.validators:
            return {"enum": list(journaled)}
        return {}
    return plain_validator_attributes
