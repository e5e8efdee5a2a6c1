"""The OpenAPI document at /__admin/openapi.json: valid OpenAPI 3.1 with every route in it, its request schemas
the ones that validate, and the live control API held to it by schemathesis."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

import jsonschema_rs
import pytest
import requests
import schemathesis
from flask import Flask
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from mockzoho.admin import openapi
from mockzoho.app import create_app
from servers import Server, free_port, serve_command

DOCUMENT = "/__admin/openapi.json"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = create_app({"state": tmp_path_factory.mktemp("openapi") / "s.db"})
    return app.test_client().get(DOCUMENT).json


def live_server(folder: Path) -> Iterator[str]:
    """`mockzoho serve` on fresh state of its own, on a real socket: its URL."""
    port = free_port()
    with Server(serve_command("--port", str(port), "--state", str(folder / "s.db"), "--fresh"), port) as server:
        yield server.url


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from live_server(tmp_path_factory.mktemp("live"))


def schemas_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every Schema Object of a document: under `schema` keys and in components/schemas."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                yield value
            elif key == "schemas" and isinstance(value, dict):
                yield from value.values()
            yield from schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_in(value)


# -- the document ----------------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(document)] == []
    found = list(schemas_in(document))
    assert len(found) > 50
    for schema in found:  # the OpenAPI meta-schema leaves Schema Objects to JSON Schema 2020-12
        jsonschema_rs.meta.validate(schema)


def test_every_route_is_in_it(document: dict[str, Any], tmp_path: Path) -> None:
    app = create_app({"state": tmp_path / "s.db"})
    # Every API route: the dashboard's HTML pages (admin_ui) are no API, and are left out.
    families = [f"{f.name}." for f in app.extensions["mockzoho"].families if f.name != "admin_ui"]
    served = {(re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith(tuple(families))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == served
    assert {"/__admin/openapi.json", "/crm/{version}/{module}/{record_id}/Attachments/{attachment_id}",
            "/bigin/{version}/coql", "/oauth/v2/token", "/dbs{rest}", "/media{rest}", "/"} <= set(document["paths"])
    ids = [operation["operationId"] for item in document["paths"].values() for operation in item.values()]
    assert len(ids) == len(set(ids)) == len(served)


def test_paths_and_parameters_follow_the_converters(document: dict[str, Any]) -> None:
    paths = document["paths"]
    version = paths["/crm/{version}/coql"]["post"]["parameters"][0]
    assert version["schema"]["enum"] == ["v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"]
    [fault_id] = paths["/__admin/faults/{fault_id}"]["delete"]["parameters"]
    assert fault_id["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    assert "slashes" in paths["/dbs{rest}"]["get"]["parameters"][0]["description"]
    assert paths["/crm/{version}/{module}"]["get"]["security"] == [{"zohoOAuthToken": []}]
    assert paths["/dbs{rest}"]["delete"]["security"] == [{"cosmosMasterKey": []}]
    assert paths["/__admin/reset"]["post"]["security"] == [{"adminToken": []}, {}]
    schemes = document["components"]["securitySchemes"]
    assert (schemes["adminToken"]["scheme"], schemes["zohoOAuthToken"]["name"]) == ("bearer", "Authorization")


def test_vendor_errors_are_their_envelopes(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["crmError"]["required"] == ["code", "details", "message", "status"]
    assert "INVALID_URL_PATTERN" in schemas["crmError"]["properties"]["code"]["enum"]
    assert "TooManyRequests" in schemas["cosmosError"]["properties"]["code"]["enum"]
    assert schemas["accountsError"]["required"] == ["error"]
    responses = document["paths"]["/bigin/{version}/{module}"]["delete"]["responses"]
    assert responses["4XX"] == {"$ref": "#/components/responses/bigin4XX"}


def test_journal_entries_hold_the_answer(document: dict[str, Any]) -> None:
    entry = document["components"]["schemas"]["JournalEntry"]
    new = {"response_headers", "response_size", "response_preview", "matched", "unmatched"}
    assert new <= set(entry["properties"]) and new <= set(entry["required"])
    assert entry["properties"]["matched"]["type"] == ["string", "null"]


def test_it_follows_the_control_apis_trust_rules(tmp_path: Path) -> None:
    client = create_app({"state": tmp_path / "s.db", "admin_token": "s3cret"}).test_client()
    assert client.get(DOCUMENT).status_code == 401
    answer = client.get(DOCUMENT, headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 200 and answer.json["info"]["title"] == "mockzoho"


def test_a_405_names_the_methods_the_url_takes(tmp_path: Path) -> None:
    """What schemathesis's unsupported_method check found: RFC 9110 requires `Allow` on a 405."""
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    answer = client.open("/__admin/clock", method="TRACE")
    assert (answer.status_code, answer.json["error"], answer.headers["Allow"]) == (405, "invalid_request",
                                                                                   "GET, HEAD, PUT")


def test_it_is_built_once_per_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    first = client.get(DOCUMENT).json
    monkeypatch.setattr(openapi, "build", lambda app: pytest.fail("built again"))
    assert client.get(DOCUMENT).json == first


# -- no route goes undocumented --------------------------------------------------------------------

def fresh_app(tmp_path: Path) -> Flask:
    return create_app({"state": tmp_path / "s.db"})


def test_a_control_route_without_an_entry_fails_the_build(tmp_path: Path) -> None:
    app = fresh_app(tmp_path)
    app.add_url_rule("/__admin/widgets/<int:widget_id>", endpoint="admin.delete_widget",
                     view_func=lambda widget_id: "", methods=["DELETE"])
    with pytest.raises(openapi.UndocumentedRoute, match=re.escape("DELETE /widgets/{widget_id} has no entry")):
        openapi.build(app)


def test_an_entry_without_its_route_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(openapi.OPERATIONS, "GET /widgets", openapi.Op("The widgets", "IdAnswer"))
    with pytest.raises(openapi.UndocumentedRoute, match=re.escape("does not serve: ['GET /widgets']")):
        openapi.build(fresh_app(tmp_path))


def test_a_family_without_a_vendor_entry_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(openapi.VENDORS, "cosmos")
    with pytest.raises(openapi.UndocumentedRoute, match="family cosmos has no entry"):
        openapi.build(fresh_app(tmp_path))


# -- the request schemas are the validating ones ---------------------------------------------------

def body_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """The JSON Schema of an operation's body, its references resolvable."""
    media = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    return {**media["schema"], "components": document["components"]}


# (method, path, body, whether the document takes it, the status the API answers a body the document takes)
BODIES = [
    ("put", "/__admin/clock", {"now": "2030-01-01T00:00:00Z", "frozen": True}, True, 200),
    ("put", "/__admin/clock", {"frozen": True}, False, None),
    ("put", "/__admin/clock", {"now": "2030-01-01T00:00:00Z", "when": "soon"}, False, None),
    ("post", "/__admin/clock/advance", {"seconds": 10 * 365 * 86400 + 1}, False, None),
    ("post", "/__admin/tokens", {"org": "zylker-us", "user": "2883756000000113001", "scopes": "ZohoCRM.users.READ"},
     True, 201),
    ("post", "/__admin/tokens", {"org": "zylker-us", "user": "2883756000000113001", "scopes": []}, False, None),
    ("post", "/__admin/tokens", {"org": "zylker-us", "user": "1", "scopes": "a", "expires_in": 0}, False, None),
    ("put", "/__admin/limits/zylker-us", {"concurrency": 50}, True, 200),
    ("put", "/__admin/limits/zylker-us", {"calls": 0, "window_seconds": 1}, False, None),
    ("post", "/__admin/orgs", {"id": "contract-org"}, True, 201),
    ("post", "/__admin/orgs", {"id": "not an id!"}, False, None),
    ("post", "/__admin/faults", {"match": {"product": "crm", "path": "/crm/v9/*"}, "respond": {"code": "INVALID_DATA"},
                                 "times": 1}, True, 201),
    ("post", "/__admin/faults", {"match": {"product": "zoho"}, "respond": {"code": "INVALID_DATA"}}, False, None),
    ("post", "/__admin/faults", {"match": {"path": "/" + "*/" * 9}, "drop": True}, False, None),
    # What JSON Schema cannot say: a rule across fields (in the body's description), a range of times.
    ("post", "/__admin/faults", {"respond": {"code": "INVALID_DATA", "status": 500}}, True, 400),
    ("put", "/__admin/clock", {"now": "1900-01-01T00:00:00Z"}, True, 400),
]


@pytest.mark.parametrize(("method", "path", "body", "valid", "status"), BODIES)
def test_the_document_refuses_what_the_api_refuses(document: dict[str, Any], live: str, method: str, path: str,
                                                   body: dict[str, Any], valid: bool, status: int | None) -> None:
    template = path.replace("/zylker-us", "/{org}")
    assert jsonschema_rs.validator_for(body_schema(document, template, method)).is_valid(body) is valid
    answer = requests.request(method, live + path, json=body, timeout=10)
    assert answer.status_code == (status if valid else 400)
    if answer.status_code == 400:
        assert answer.json()["error"] == "invalid_request"


QUERIES = [("status", "200", True), ("status", "1000", False), ("limit", "0", False), ("since", "yesterday", False),
           ("limit", "5", True)]


@pytest.mark.parametrize(("name", "value", "valid"), QUERIES)
def test_the_journals_query_is_the_validating_one(document: dict[str, Any], live: str, name: str, value: str,
                                                  valid: bool) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/__admin/requests"]["get"]["parameters"]}
    typed = int(value) if parameters[name]["schema"]["type"] == "integer" else value
    validator = jsonschema_rs.validator_for(parameters[name]["schema"], validate_formats=True)
    assert validator.is_valid(typed) is valid
    answer = requests.get(f"{live}/__admin/requests", params={name: value}, timeout=10)
    assert answer.status_code == (200 if valid else 400)


# -- schemathesis against a live server ------------------------------------------------------------

# Bounded and deterministic: a few examples per operation, the same every run, no example database.
FUZZ = schemathesis.Config.from_dict({
    "seed": 17, "generation": {"max-examples": 8, "deterministic": True, "database": "none", "mode": "all"},
    "phases": {"stateful": {"enabled": False}}})
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance,
          unsupported_method]


def offline_document() -> dict[str, Any]:
    """The document, built on an app of its own: it does not depend on the server that serves it."""
    with tempfile.TemporaryDirectory() as folder:
        return create_app({"state": Path(folder) / "s.db"}).test_client().get(DOCUMENT).json


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A server of its own: the fuzzer replaces its fixtures, moves its clock and removes its orgs.
    yield from live_server(tmp_path_factory.mktemp("fuzzed"))


control_api = schemathesis.openapi.from_dict(offline_document(), config=FUZZ).include(tag="control")


@control_api.parametrize()
def test_the_control_api_keeps_to_its_document(case: schemathesis.Case, fuzzed_server: str) -> None:
    case.call_and_validate(base_url=fuzzed_server, checks=CHECKS)
