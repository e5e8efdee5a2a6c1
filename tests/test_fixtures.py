"""Fixture loading: the bundled fixtures, the format's rules, and `mockzoho check-fixtures`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Iterable

import pytest
import yaml

from mockzoho.app import create_app
from mockzoho.state import ZOHO_PRODUCTS
from mockzoho.cli import main
from mockzoho.config import bundled_fixtures
from mockzoho.cosmos.rids import child_rid
from mockzoho.fixtures import FixtureError, load_fixtures
from mockzoho.zoho.product import Module, Product

from conftest import REPO
from test_attachments import BAD_LINKS

BROKEN = """\
orgs:
  - id: bad org!
    dc: mars
    time_zone: Nowhere/City
    users:
      - {id: abc, name: X, email: not-an-email}
      - {id: "1", name: Y, email: y@x.example, permissions: [fly]}
    tokens:
      - {token: t1, user: "99", scopes: ""}
    crm:
      records:
        - module: Leadz
          id: "12"
          attachments:
            - {id: "3", file_name: a.txt, content: x, content_base64: eA==}
        - module: Documents
          id: "12"
        - module: Leads
          id: "13"
          attachments: [{id: "3", content: x}]
    bigin:
      records:
        - {module: Calls, id: "1", attachments: [{id: "1", file_name: c.txt}]}
  - id: ok
    users: [{id: "1", name: Z, email: z@x.example, records: ["404"]}]
    tokens: [{token: t1, user: "1", scopes: ZohoCRM.modules.ALL, expires_at: yesterday}]
    crm:
      records:
        - {module: Leads, id: "5", owner: "7", attachments: [{id: "6", path: nope.bin, size: -1}]}
        - {module: Nope, id: abc, owner: "9"}
        - module: Leads
          id: "14"
          attachments:
            - {id: "15", file_name: f, content: x, content_base64: "!!"}
            - {id: "16", file_name: g, size: 99999999999999999999999}
modules:
  crm:
    - {api_name: "bad name"}
  mail:
    - {api_name: Inbox}
"""

EXPECTED = [
    "orgs.0.id: must be 1 to 64 letters, digits, '_', '.' or '-'",
    "orgs.0.dc: unknown data centre 'mars' (data centres: au, ca, cn, eu, in, jp, sa, us)",
    "orgs.0.time_zone: unknown time zone 'Nowhere/City'",
    "orgs.0.users.0.id: must be a numeric id of at most 19 digits",
    "orgs.0.users.0.email: Not a valid email address.",
    "orgs.0.users.1.permissions.0: unknown permission 'fly' (permissions: attachments.create, attachments.delete, "
    "attachments.read, records.create, records.delete, records.edit, records.read)",
    "orgs.0.tokens.0.scopes: must be a non-empty comma-separated string or list of scopes",
    "orgs.0.tokens.0.user: no user 99 in this org",
    "orgs.0.crm.records.0.module: unknown crm module 'Leadz'",
    "orgs.0.crm.records.0.attachments.0: give at most one of content, content_base64, path, link_url "
    "(got content, content_base64)",
    "orgs.0.crm.records.1.module: crm module Documents is not supported in the API",
    "orgs.0.crm.records.1.id: duplicate record id 12",
    "orgs.0.crm.records.2.attachments.0.file_name: Missing data for required field.",
    "orgs.0.crm.records.2.attachments.0.id: duplicate attachment id 3",
    "orgs.0.bigin.records.0.attachments: bigin module Calls has no attachments",
    "orgs.1.users.0.records.0: no record 404 in this org",
    "orgs.1.tokens.0.token: duplicate token",
    "orgs.1.tokens.0.expires_at: Not a valid datetime.",
    "orgs.1.crm.records.0.owner: no user 7 in this org",
    "orgs.1.crm.records.0.attachments.0.size: Must be greater than or equal to 0 and less than or equal to",
    "orgs.1.crm.records.1.id: must be a numeric id of at most 19 digits",
    "orgs.1.crm.records.1.module: unknown crm module 'Nope'",
    "orgs.1.crm.records.1.owner: no user 9 in this org",
    "orgs.1.crm.records.2.attachments.0: give at most one of content, content_base64, path, link_url "
    "(got content, content_base64)",
    "orgs.1.crm.records.2.attachments.0.content_base64: not valid base64",
    "orgs.1.crm.records.2.attachments.1.size: Must be greater than or equal to 0 and less than or equal to",
    "orgs.1.crm.records.0.attachments.0.path: cannot read",
    "modules.crm.0.api_name: must be a letter, then up to 63 letters, digits or '_'",
    "modules.mail.key: unknown product 'mail' (products: bigin, crm)",
]


def test_bundled_fixtures_are_valid_and_ship_in_the_package() -> None:
    fixtures = load_fixtures(bundled_fixtures(), ZOHO_PRODUCTS)
    tokens = {t.token for org in fixtures.orgs for t in org.tokens}
    assert {"1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf", "1000.mock.no-attachments-scope",
            "1000.mock.bigin-modules-all", "1000.mock.expired", "1000.mock.no-permission",
            "1000.mock.no-privilege", "1000.mock.eu"} <= tokens
    us = next(org for org in fixtures.orgs if org.id == "zylker-us")
    leads = {r.id: r for r in us.records["crm"]}
    assert "2883756000000261017" in {a.id for a in leads["2883756000000261075"].attachments}
    pipelines = {r.id: r for r in us.records["bigin"]}
    assert "2034020000000711008" in {a.id for a in pipelines["2034020000000489124"].attachments}


def test_every_problem_is_listed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    with pytest.raises(FixtureError) as caught:
        load_fixtures(broken, ZOHO_PRODUCTS)
    problems = caught.value.problems
    for expected in EXPECTED:
        assert any(p.startswith(f"{broken}: {expected}") for p in problems), (expected, problems)
    assert len(problems) == len(EXPECTED), problems


def test_check_fixtures_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    assert main(["check-fixtures", str(broken)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(EXPECTED) + 1 and out[-1] == f"{len(EXPECTED)} problem(s) found"
    assert main(["check-fixtures", str(bundled_fixtures())]) == 0
    assert "ok (2 orgs" in capsys.readouterr().out


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("orgs:\n  - id: x\n   users: [\n")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(bad, ZOHO_PRODUCTS)
    assert caught.value.problems[0].startswith(f"{bad}: line 3, column 4: not valid YAML")


def test_a_folder_merges_its_files_and_checks_across_them(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("""
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    tokens: [{token: shared, user: "1", scopes: [ZohoCRM.modules.ALL]}]
    crm: {records: [{module: Vehicles, id: "7"}]}
""")
    (tmp_path / "b.yml").write_text("""
modules:
  crm: [{api_name: Vehicles, scope_name: custom}]
orgs:
  - id: two
    users: [{id: "1", name: B, email: b@x.example}]
    tokens: [{token: shared, user: "1", scopes: ZohoCRM.modules.ALL}]
""")
    (tmp_path / "notes.txt").write_text("not a fixture")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path, ZOHO_PRODUCTS)
    assert caught.value.problems == [f"{tmp_path / 'b.yml'}: orgs.0.tokens.0.token: duplicate token 'shared' "
                                     f"(first defined at {tmp_path / 'a.yaml'}: orgs.0.tokens.0.token)"]


def test_cosmos_names_are_unique_within_and_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("""
cosmos:
  accounts:
    - name: one
      databases:
        - id: db
          collections:
            - {id: c, documents: [{id: d}, {id: d}]}
            - {id: other, documents: [{id: d}]}
        - id: db
    - name: one
""")
    (tmp_path / "b.yaml").write_text("cosmos: {accounts: [{name: two}, {name: one}]}\n")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path, ZOHO_PRODUCTS)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    documents = "cosmos.accounts.0.databases.0.collections.0.documents"
    assert caught.value.problems == [
        f"{a}: {documents}.1.id: duplicate id 'd' (first defined at {a}: {documents}.0.id)",
        f"{a}: cosmos.accounts.0.databases.1.id: duplicate id 'db' "
        f"(first defined at {a}: cosmos.accounts.0.databases.0.id)",
        f"{a}: cosmos.accounts.1.name: duplicate account 'one' (first defined at {a}: cosmos.accounts.0.name)",
        f"{b}: cosmos.accounts.1.name: duplicate account 'one' (first defined at {a}: cosmos.accounts.0.name)",
    ]


def test_custom_modules_from_fixtures(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("""
modules:
  crm: [{api_name: Vehicles}, {api_name: Documents, api_supported: true}]
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    tokens:
      - {token: custom-scope, user: "1", scopes: "ZohoCRM.modules.custom.DELETE,ZohoCRM.modules.attachments.DELETE"}
      - {token: settings, user: "1", scopes: "ZohoCRM.settings.modules.READ"}
    crm:
      records:
        - {module: Vehicles, id: "7", attachments: [{id: "8", file_name: v.txt, content: car}]}
""")
    client = create_app({"state": tmp_path / "s.db", "fixtures": tmp_path}).test_client()
    headers = {"Authorization": "Zoho-oauthtoken custom-scope"}
    auth_all = {"Authorization": "Zoho-oauthtoken settings"}
    assert client.delete("/crm/v8/Vehicles/7/Attachments/8", headers=headers).status_code == 200
    assert client.delete("/crm/v8/Leads/7/Attachments/8", headers=headers).json["code"] == "OAUTH_SCOPE_MISMATCH"
    # A redeclared built-in keeps its own scope name; new modules are listed by /settings/modules.
    assert client.delete("/crm/v8/Documents/7/Attachments/8", headers=headers).json["code"] == "OAUTH_SCOPE_MISMATCH"
    modules = {m["api_name"]: m for m in client.get("/crm/v8/settings/modules", headers=auth_all).json["modules"]}
    assert modules["Vehicles"]["api_supported"] and modules["Documents"]["api_supported"]


def test_fixture_notes_show_their_parent_module_and_a_made_up_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("""
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    tokens: [{token: all, user: "1", scopes: "ZohoCRM.modules.ALL"}]
    crm:
      records:
        - {module: Deals, id: "7", values: {Deal_Name: Big, Stage: Qualification}}
        - {module: Notes, id: "8", values: {Note_Content: called, Parent_Id: {id: "7"}}}
""")
    client = create_app({"state": tmp_path / "s.db", "fixtures": tmp_path}).test_client()
    notes = client.get("/crm/v8/Deals/7/Notes?fields=Note_Content,Parent_Id",
                       headers={"Authorization": "Zoho-oauthtoken all"}).json["data"]
    assert [(n["Note_Content"], n["Parent_Id"], n["$se_module"]) for n in notes] == [
        ("called", {"name": "Big", "id": "7"}, "Deals")]
    (tmp_path / "f.yaml").write_text("""
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    crm: {records: [{module: Leads, id: "7", values: {Full_Name: Ada Lovelace}}]}
""")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path, ZOHO_PRODUCTS)
    assert caught.value.problems == [f"{tmp_path / 'f.yaml'}: orgs.0.crm.records.0.values.Full_Name: "
                                     "Full_Name is read-only"]


def test_empty_folder_and_no_orgs(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="no fixture files"):
        load_fixtures(tmp_path, ZOHO_PRODUCTS)
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(FixtureError, match="no org is defined"):
        load_fixtures(tmp_path, ZOHO_PRODUCTS)


def test_content_sources(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "blob.bin").write_bytes(b"\x00\xffbinary")
    (tmp_path / "f.yaml").write_text("""
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    crm:
      records:
        - module: Leads
          id: "7"
          attachments:
            - {id: "1", file_name: a.txt, content: "héllo"}
            - {id: "2", file_name: b.bin, content_base64: AP9iaW5hcnk=}
            - {id: "3", file_name: c.bin, path: files/blob.bin}
            - {id: "4", link_url: "https://www.zohocorp.com"}
            - {id: "5", file_name: big.iso, size: 123456}
""")
    org = load_fixtures(tmp_path / "f.yaml", ZOHO_PRODUCTS).orgs[0]
    a = {x.id: x for x in org.records["crm"][0].attachments}
    assert (a["1"].content, a["1"].size, a["1"].content_type) == ("héllo".encode(), 6, "text/plain")
    assert a["2"].content == a["3"].content == b"\x00\xffbinary"
    assert (a["4"].link_url, a["4"].file_name, a["4"].content) == ("https://www.zohocorp.com",
                                                                  "https://www.zohocorp.com", None)
    assert (a["5"].size, a["5"].content) == (123456, None)


@pytest.mark.parametrize("url", BAD_LINKS)
def test_fixture_links_follow_the_upload_rule(tmp_path: Path, url: str) -> None:
    path = tmp_path / "links.yaml"
    path.write_text(yaml.safe_dump({"orgs": [{"id": "o", "users": [{"id": "1", "name": "U", "email": "u@x.example"}],
                                              "crm": {"records": [{"module": "Leads", "id": "7", "attachments": [
                                                  {"id": "8", "file_name": "l", "link_url": url}]}]}}]}))
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path, ZOHO_PRODUCTS)
    assert caught.value.problems == [f"{path}: orgs.0.crm.records.0.attachments.0.link_url: must be an http or "
                                     "https URL of at most 2048 characters"]


def check_fixtures_output(path: Path, capsys: pytest.CaptureFixture) -> list[str]:
    """What `mockzoho check-fixtures` prints for `path`, which must have problems."""
    assert main(["check-fixtures", str(path)]) == 1
    return capsys.readouterr().out.splitlines()


def test_unknown_names_say_what_was_probably_meant_and_list_the_known_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "names.yaml"
    path.write_text("""
orgz: []
modules: {crn: []}
orgs:
  - id: one
    dc: US
    time_zone: europe/pariss
    users: [{id: "1", name: A, email: a@x.example, permissions: [attachment.read]}]
    crm: {records: [{module: Leads, id: "1", atachments: []}]}
""")
    problems = [
        "orgs.0.dc: unknown data centre 'US': did you mean 'us'? (data centres: au, ca, cn, eu, in, jp, sa, us)",
        "orgs.0.users.0.permissions.0: unknown permission 'attachment.read': did you mean 'attachments.read'? "
        "(permissions: attachments.create, attachments.delete, attachments.read, records.create, records.delete, "
        "records.edit, records.read)",
        "orgs.0.crm.records.0.atachments: unknown field 'atachments': did you mean 'attachments'? "
        "(fields: attachments, created_time, id, modified_time, module, name, owner, values)",
        "orgs.0.time_zone: unknown time zone 'europe/pariss': did you mean 'Europe/Paris'?",
        "modules.crn.key: unknown product 'crn': did you mean 'crm'? (products: bigin, crm)",
        "orgz: unknown field 'orgz': did you mean 'orgs'? (fields: clients, cosmos, modules, orgs, stubs)",
    ]
    expected = [f"{path}: {problem}" for problem in problems]
    assert check_fixtures_output(path, capsys) == [*expected, f"{len(expected)} problem(s) found"]


BIGIN_MODULES = "(bigin modules: Accounts, Calls, Contacts, Events, Notes, Pipelines, Products, Tasks, Vehicles)"
CRM_MODULES = ("(crm modules: Accounts, Appointments__s, Appointments_Rescheduled_History__s, Calls, Campaigns, Cases, "
               "Contacts, Deals, Events, Invoices, Leads, Notes, Price_Books, Products, Purchase_Orders, Quotes, "
               "Sales_Orders, Services__s, Solutions, Tasks, Vendors, Visits)")


def test_an_unknown_module_says_which_was_probably_meant_and_lists_the_product_s(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "modules.yaml"
    path.write_text("""
modules:
  bigin: [{api_name: Vehicles}]
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    bigin:
      records:
        - {module: Leads, id: "1"}
        - {module: Deals, id: "2"}
        - {module: companies, id: "3"}
        - {module: Contatcs, id: "4"}
        - {module: Vehicle, id: "5"}
    crm:
      records:
        - {module: Meetings, id: "1"}
        - {module: Potentials, id: "2"}
        - {module: Zzz, id: "3"}
""")
    problems = [
        f"orgs.0.crm.records.0.module: unknown crm module 'Meetings': did you mean 'Events'? {CRM_MODULES}",
        f"orgs.0.crm.records.1.module: unknown crm module 'Potentials': did you mean 'Deals'? {CRM_MODULES}",
        f"orgs.0.crm.records.2.module: unknown crm module 'Zzz' {CRM_MODULES}",
        f"orgs.0.bigin.records.0.module: unknown bigin module 'Leads': that is a crm module {BIGIN_MODULES}",
        f"orgs.0.bigin.records.1.module: unknown bigin module 'Deals': did you mean 'Pipelines'? {BIGIN_MODULES}",
        f"orgs.0.bigin.records.2.module: unknown bigin module 'companies': did you mean 'Accounts'? {BIGIN_MODULES}",
        f"orgs.0.bigin.records.3.module: unknown bigin module 'Contatcs': did you mean 'Contacts'? {BIGIN_MODULES}",
        f"orgs.0.bigin.records.4.module: unknown bigin module 'Vehicle': did you mean 'Vehicles'? {BIGIN_MODULES}",
    ]
    expected = [f"{path}: {problem}" for problem in problems]
    assert check_fixtures_output(path, capsys) == [*expected, f"{len(expected)} problem(s) found"]


def test_duplicates_name_where_the_first_is_defined_in_any_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("""
modules: {crm: [{api_name: Vehicles}]}
clients: [{id: app, secret: s, redirect_uris: ["http://localhost:*"]}]
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}, {id: "1", name: B, email: b@x.example}]
    tokens: [{token: shared, user: "1", scopes: ZohoCRM.modules.ALL}]
    crm:
      records:
        - {module: Leads, id: "7", attachments: [{id: "8", file_name: a.txt}]}
        - {module: Leads, id: "7", attachments: [{id: "8", file_name: b.txt}]}
""")
    b.write_text("""
modules: {crm: [{api_name: vehicles}]}
clients: [{id: app, secret: s, redirect_uris: ["http://localhost:*"]}]
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    refresh_tokens: [{token: shared, client: app, user: "1", scopes: ZohoCRM.modules.ALL}]
""")
    expected = [
        f"{b}: modules.crm.0.api_name: duplicate crm module 'vehicles' (first defined at {a}: modules.crm.0.api_name)",
        f"{a}: orgs.0.users.1.id: duplicate user id 1 (first defined at {a}: orgs.0.users.0.id)",
        f"{a}: orgs.0.crm.records.1.id: duplicate record id 7 (first defined at {a}: orgs.0.crm.records.0.id)",
        f"{a}: orgs.0.crm.records.1.attachments.0.id: duplicate attachment id 8 "
        f"(first defined at {a}: orgs.0.crm.records.0.attachments.0.id)",
        f"{b}: orgs.0.id: duplicate org id 'one' (first defined at {a}: orgs.0.id)",
        f"{b}: orgs.0.refresh_tokens.0.token: duplicate token 'shared' (first defined at {a}: orgs.0.tokens.0.token)",
        f"{b}: clients.0.id: duplicate client id 'app' (first defined at {a}: clients.0.id)",
    ]
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path, ZOHO_PRODUCTS)
    assert caught.value.problems == expected
    assert check_fixtures_output(tmp_path, capsys) == [*expected, f"{len(expected)} problem(s) found"]


def test_modules_duplicated_up_to_case_are_refused_by_the_command_and_the_control_api(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("""
modules: {crm: [{api_name: Foo}, {api_name: foo}]}
orgs: [{id: a, users: [{id: "1", name: A, email: a@b.example}]}]
""")
    problem = "modules.crm.1.api_name: duplicate crm module 'foo' (first defined at {}: modules.crm.0.api_name)"
    assert check_fixtures_output(path, capsys) == [f"{path}: {problem.format(path)}", "1 problem(s) found"]
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    before = client.get("/__admin/health").json["fixture_digest"]
    response = client.put("/__admin/fixtures", data=path.read_text())
    assert response.status_code == 400
    assert response.json["details"] == [f"request body: {problem.format('request body')}"]
    assert client.get("/__admin/health").json["fixture_digest"] == before


def test_a_long_duplicate_token_is_named_by_its_ends(tmp_path: Path) -> None:
    token = "1000." + "a" * 30 + "." + "b" * 20 + "end"
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"orgs": [
        {"id": org, "users": [{"id": "1", "name": "A", "email": "a@x.example"}],
         "tokens": [{"token": token, "user": "1", "scopes": "ZohoCRM.modules.ALL"}]} for org in ("a", "b")]}))
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path, ZOHO_PRODUCTS)
    assert caught.value.problems == [f"{path}: orgs.1.tokens.0.token: duplicate token '1000.aaaaaaaaaaaaaaa..."
                                     f"bbbbbbbbbend' (first defined at {path}: orgs.0.tokens.0.token)"]


def test_missing_ids_are_reported_as_missing_not_as_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("""
clients: [{secret: s, redirect_uris: ["http://x"]}, {secret: s, redirect_uris: ["http://x"]}]
orgs: [{id: a, users: [{id: "1", name: A, email: a@x.example}], tokens: [{user: "1", scopes: x}, {user: "1", scopes: x}]}]
""")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path, ZOHO_PRODUCTS)
    assert caught.value.problems == [f"{path}: {where}: Missing data for required field." for where in (
        "orgs.0.tokens.0.token", "orgs.0.tokens.1.token", "clients.0.id", "clients.1.id")]


def test_a_duplicate_rid_names_the_first_one_or_the_item_its_rid_was_made_up_for(tmp_path: Path) -> None:
    made_up, given = child_rid("", "dbs", 1), child_rid("", "dbs", 9)
    path = tmp_path / "rids.yaml"
    path.write_text(yaml.safe_dump({"cosmos": {"accounts": [{"name": "acc", "databases": [
        {"id": "a"}, {"id": "b", "rid": made_up}, {"id": "c", "rid": given}, {"id": "d", "rid": given}]}]}}))
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path, ZOHO_PRODUCTS)
    databases = f"{path}: cosmos.accounts.0.databases"
    assert caught.value.problems == [
        f"{databases}.1.rid: duplicate rid {made_up!r} (first defined at {databases}.0)",
        f"{databases}.3.rid: duplicate rid {given!r} (first defined at {databases}.2.rid)",
    ]


def test_a_cosmos_id_may_not_hold_a_path_character_or_nul(tmp_path: Path) -> None:
    path = tmp_path / "ids.yaml"
    path.write_text(yaml.safe_dump({"cosmos": {"accounts": [{"name": "acc", "databases": [
        {"id": "a\0b"}, {"id": "a#b"}, {"id": "a\ufffdb"}]}]}}))
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path, ZOHO_PRODUCTS)
    problem = "must not contain '/', '\\', '?', '#' or NUL"
    databases = f"{path}: cosmos.accounts.0.databases"
    assert caught.value.problems == [f"{databases}.0.id: {problem}", f"{databases}.1.id: {problem}"]


def module_table(products: Iterable[Product]) -> str:
    """The table of built-in modules in docs/fixtures.md, made from the catalogue."""
    def names(modules: Iterable[Module]) -> str:
        return ", ".join(sorted((m.api_name for m in modules), key=str.lower))

    rows = ["| product | versions | with attachments | records only | not supported in the API | other names |",
            "|---|---|---|---|---|---|"]
    for p in products:
        groups = ([m for m in p.modules if m.attachments],
                  [m for m in p.modules if m.api_supported and not m.attachments],
                  [m for m in p.modules if not m.api_supported])
        other = ", ".join(f"{name} → {api_name}" for name, api_name in sorted(p.other_module_names.items()))
        rows.append(f"| `{p.name}` | {', '.join(p.versions)} | {' | '.join(names(g) for g in groups)} | {other} |")
    return "\n".join(rows) + "\n"


def test_the_docs_table_of_modules_is_the_catalogue() -> None:
    table = module_table(ZOHO_PRODUCTS)
    assert table in (REPO / "docs" / "fixtures.md").read_text(), f"docs/fixtures.md should have this table:\n{table}"


# -- docs/fixtures.md's example of record values --------------------------------------------------

EXAMPLE_MARKER = "tests/test_fixtures.py checks this example: `mockzoho check-fixtures` accepts it as it stands"
MISTAKES_MARKER = "tests/test_fixtures.py runs these commands on the example above and compares the output"


def docs_block_below(marker: str) -> str:
    """The fenced block right below an HTML comment of docs/fixtures.md."""
    text = (REPO / "docs" / "fixtures.md").read_text()
    after = text[text.index(f"<!-- {marker} -->"):].split("\n", 1)[1]
    assert after.startswith("```"), f"no block right below {marker!r}"
    return after.split("\n", 1)[1].split("\n```", 1)[0] + "\n"


def test_the_docs_example_of_record_values_is_accepted_and_its_mistakes_give_the_documented_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example as the doc shows it, `mockzoho check-fixtures example.yaml` on it, then the doc's own commands
    that make three mistakes, and the output it shows for them, line for line."""
    example = docs_block_below(EXAMPLE_MARKER)
    (tmp_path / "example.yaml").write_text(example)
    monkeypatch.chdir(tmp_path)
    assert main(["check-fixtures", "example.yaml"]) == 0
    text = (REPO / "docs" / "fixtures.md").read_text()
    shown_ok = text[text.index("$ mockzoho check-fixtures example.yaml\n"):].split("\n")[1]
    assert capsys.readouterr().out.splitlines() == [shown_ok]
    # The three mistakes: the doc's sed command (continuation lines joined), run as it stands, then its output.
    session = docs_block_below(MISTAKES_MARKER).replace("\\\n", " ")
    commands = [line.removeprefix("$ ") for line in session.splitlines() if line.startswith("$ ")]
    shown = [line for line in session.splitlines() if not line.startswith("$ ")]
    sed, check = commands
    assert sed.startswith("sed ") and check == "mockzoho check-fixtures broken.yaml"
    if shutil.which("sed") is None or shutil.which("bash") is None:
        pytest.skip("the doc's commands need sed and bash")
    subprocess.run(["bash", "-c", sed], check=True, timeout=30)
    broken = (tmp_path / "broken.yaml").read_text()
    assert broken != example and broken.count("\n") == example.count("\n")
    assert main(["check-fixtures", "broken.yaml"]) == 1
    assert capsys.readouterr().out.splitlines() == shown
    assert len(shown) == 4 and shown[-1] == "3 problem(s) found"
