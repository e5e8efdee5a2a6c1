"""The family registry: which family owns a path, whose envelope an error takes, and adding a family."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from flask import Blueprint, Response, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

import mockzoho.app
from mockzoho.app import create_app
from mockzoho.cli import add_fault_flags
from mockzoho.core.errors import ApiError
from mockzoho.core.families import Families, Family
from mockzoho.core.responses import json_response
from mockzoho.core.routing import Route
from mockzoho.families import FAMILIES

SEED_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"
SEED_ATTACHMENT = "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"


@pytest.mark.parametrize(("path", "owner"), [
    ("/crm/v8/Leads", "crm"), ("/bigin/v2/Contacts", "bigin"), ("/oauth/v2/token", "accounts"),
    ("/", "cosmos"), ("/dbs/x", "cosmos"), ("/media/x", "cosmos"), ("/__admin/health", "admin"),
    ("/crmx", None), ("/nowhere", None), ("", None)])
def test_each_path_has_the_owner_its_prefix_says(path: str, owner: str | None) -> None:
    found = FAMILIES.owner(path)
    assert (found.name if found else None) == owner
    assert (found or FAMILIES.default).name == (owner or "crm")  # a path nobody owns answers in Zoho CRM's terms


def test_every_family_name_is_unique_and_the_control_api_alone_is_not_journaled() -> None:
    names = [f.name for f in FAMILIES]
    assert len(names) == len(set(names))
    assert FAMILIES.journaled == ("crm", "bigin", "accounts", "cosmos")


def test_the_cli_offers_the_families_a_fault_can_hit() -> None:
    """`mockzoho fault --product` offers the journaled families: it must not drift from the registry."""
    fault = argparse.ArgumentParser()
    add_fault_flags(fault)
    product = next(action for action in fault._actions if action.dest == "product")
    assert tuple(product.choices) == FAMILIES.journaled


class ToyError(ApiError):
    """A toy family's error, in an envelope no real family uses."""

    CATALOGUE = {"Broken": (418, "broken")}

    def __init__(self, code: str, status: int = 418) -> None:
        super().__init__(code)
        self.code, self.status = code, status

    def response(self) -> Response:
        return json_response({"toy_error": self.code, "code": self.code}, self.status, "application/json")

    @classmethod
    def from_http(cls, exc: HTTPException) -> ToyError:
        return cls(f"http{exc.code}", exc.code or 400)

    @classmethod
    def internal(cls) -> ToyError:
        return cls("bug", 500)

    @classmethod
    def from_code(cls, code: str) -> ToyError:
        return cls(code)


toy = Blueprint("toy", __name__)


@toy.get("/hello")
def hello() -> Response:
    return json_response({"hello": "toy"}, 200, "application/json")


@toy.get("/fail")
def fail() -> Response:
    raise RuntimeError("a bug in the toy family")


def test_a_family_is_one_registration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new family registered beside the others is routed, journaled, faulted and answers errors in its own
    envelope, with no other change anywhere."""
    family = Family(name="toy", error=ToyError, blueprint=toy, prefixes=("/toy/",), options={"url_prefix": "/toy"})
    monkeypatch.setattr(mockzoho.app, "FAMILIES", Families((*FAMILIES, family)))
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    assert client.get("/toy/hello").json == {"hello": "toy"}
    for method, path, status, code in (("GET", "/toy/missing", 404, "http404"), ("POST", "/toy/hello", 405, "http405"),
                                       ("GET", "/toy/fail", 500, "bug")):
        answer = client.open(path, method=method)
        assert (answer.status_code, answer.json) == (status, {"toy_error": code, "code": code})
    journal = client.get("/__admin/requests", query_string={"path": "/toy/*"}).json["requests"]
    assert {(e["path"], e["status"], e["product"], e["code"]) for e in journal} == {
        ("/toy/hello", 200, "toy", None), ("/toy/missing", 404, "toy", "http404"),
        ("/toy/hello", 405, "toy", "http405"), ("/toy/fail", 500, "toy", "bug")}
    fault = client.post("/__admin/faults", json={"match": {"product": "toy"}, "respond": {"code": "Broken"}})
    assert fault.status_code == 201, fault.json
    faulted = client.get("/toy/hello")
    assert (faulted.status_code, faulted.json) == (418, {"toy_error": "Broken", "code": "Broken"})
    # A code of another family's catalogue never fires on it.
    refused = client.post("/__admin/faults", json={"match": {"product": "toy"}, "respond": {"code": "NotFound"}})
    assert refused.status_code == 400 and refused.json["error"] == "matches_nothing"
    # The other families are untouched.
    deleted = client.delete(SEED_ATTACHMENT, headers={"Authorization": f"Zoho-oauthtoken {SEED_TOKEN}"})
    assert (deleted.status_code, deleted.json["data"][0]["code"]) == (200, "SUCCESS")


def test_every_rule_builds_its_url_as_werkzeugs_own_rule_does(app) -> None:
    """The app's rules compile their URL builders on first use (making an app costs a seventh of what it did):
    each builds what werkzeug's own rule builds from the same values."""
    rules = list(app.url_map.iter_rules())
    assert rules and all(isinstance(rule, Route) for rule in rules)
    plain = Map([Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods) for rule in rules],
                merge_slashes=False, converters=app.url_map.converters)
    built = 0
    for rule, twin in zip(rules, plain.iter_rules()):
        values = {name: sorted(getattr(converter, "items", [str(7 + n)]))[0]  # an `any(...)` takes one of its own
                  for n, (name, converter) in enumerate(sorted(rule._converters.items()))}
        for append_unknown in (False, True):
            assert rule.build(values, append_unknown) == twin.build(values, append_unknown), rule.rule
            built += rule.build(values, append_unknown) is not None
    assert built == 2 * len(rules)
    with app.test_request_context():
        assert url_for("admin.health") == "/__admin/health"
        assert url_for("admin.health", extra="1") == "/__admin/health?extra=1"
