"""COQL: the documented queries and errors with exact bodies over the bundled fixtures, every version that has it,
and properties checked by hypothesis: generated queries over generated records agree with a plain Python reading
of the same query, and random text only ever gets a 4xx envelope."""

from __future__ import annotations

import json
import random
from typing import Any, Iterator

import pytest
import yaml
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockzoho.app import create_app

from conftest import auth

LEAD = "2883756000000261075"
HARBORVIEW = "2883756000000400001"
# Every product and version with a COQL endpoint (Bigin v1 has none).
COQL_TARGETS = [("crm", v) for v in ("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8")] + [("bigin", "v2")]
NAMED_LOOKUPS = {("crm", "v7"), ("crm", "v8")}
AGGREGATES = {("crm", v) for v in ("v4", "v5", "v6", "v7", "v8")}


def coql(client: FlaskClient, text: str, product: str = "crm", version: str = "v8",
         token: str | None = None) -> tuple[int, Any]:
    response = client.post(f"/{product}/{version}/coql", headers=auth() if token is None else auth(token),
                           json={"select_query": text})
    assert response.content_type == "application/json;charset=utf-8"
    return response.status_code, response.json if response.data else None


def error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "details": details, "message": message, "status": "error"}


# -- the documented shapes, exactly ------------------------------------------------------------------------

def test_a_plain_query_shows_the_selected_fields_then_the_id(client: FlaskClient) -> None:
    assert coql(client, "select Last_Name, First_Name from Leads where Last_Name = 'Marrier'") == (200, {
        "data": [{"Last_Name": "Marrier", "First_Name": "Kris", "id": LEAD}],
        "info": {"count": 1, "more_records": False}})


def test_nothing_matching_is_204_with_no_body(client: FlaskClient) -> None:
    response = client.post("/crm/v8/coql", headers=auth(),
                           json={"select_query": "select Last_Name from Leads where Last_Name = 'Nobody at all'"})
    assert (response.status_code, response.data) == (204, b"")


@pytest.mark.parametrize("product,version", COQL_TARGETS, ids=lambda v: str(v))
def test_every_version_answers_and_shows_lookups_as_it_does(client: FlaskClient, product: str,
                                                            version: str) -> None:
    """v7 and later show a lookup and a user as `{name, id}` (a user's name: the last name), earlier ones `{id}`."""
    module, lookup = ("Contacts", "Account_Name")
    status, body = coql(client, f"select Last_Name, {lookup}, Owner from {module} where id is not null "
                                "order by Last_Name limit 200", product, version)
    assert status == 200
    rows = body["data"]
    assert body["info"] == {"count": len(rows), "more_records": False}
    assert all(list(row) == ["Last_Name", lookup, "Owner", "id"] for row in rows)
    assert [r["Last_Name"] for r in rows] == sorted((r["Last_Name"] for r in rows), key=str.lower)
    linked = next(r for r in rows if r[lookup])
    owner = linked["Owner"]
    if (product, version) in NAMED_LOOKUPS:
        assert set(linked[lookup]) == {"name", "id"} and linked[lookup]["name"]
        assert list(owner) == ["name", "id"] and " " not in owner["name"]
    else:
        assert list(linked[lookup]) == ["id"] and list(owner) == ["id"]


def test_a_field_through_a_lookup_is_a_dotted_key_and_a_condition(client: FlaskClient) -> None:
    status, body = coql(client, "select Last_Name, Account_Name.Account_Name from Contacts where "
                                "Account_Name.Account_Name = 'Harborview Logistics' order by Last_Name")
    assert status == 200 and body["data"]
    assert {r["Account_Name.Account_Name"] for r in body["data"]} == {"Harborview Logistics"}
    listed = client.get(f"/crm/v8/Accounts/{HARBORVIEW}/Contacts?fields=Last_Name", headers=auth()).json["data"]
    assert sorted(r["id"] for r in body["data"]) == sorted(r["id"] for r in listed)


def test_a_users_fields_through_owner(client: FlaskClient) -> None:
    """`Owner.last_name` and the other user fields the users API shows, in SELECT and WHERE, through a lookup too;
    a user field the mock does not model is an unknown column."""
    status, body = coql(client, "select Last_Name, Owner.last_name, Owner.email from Contacts where "
                                "Owner.last_name = 'boyle' and Last_Name = 'Mori'")
    assert (status, body["data"]) == (200, [{"Last_Name": "Mori", "Owner.last_name": "Boyle",
                                             "Owner.email": "patricia.boyle@zylker.example",
                                             "id": "2883756000000410008"}])
    status, body = coql(client, "select Last_Name from Contacts where Account_Name.Owner.full_name like 'Patricia%' "
                                "and Last_Name = 'Mori'")
    assert [r["id"] for r in body["data"]] == ["2883756000000410008"]
    assert coql(client, "select Last_Name from Contacts where Owner.email like '%@nowhere.example'") == (204, None)
    assert coql(client, "select Owner.profile from Contacts where id is not null")[1] == error(
        "INVALID_QUERY", "column given seems to be invalid", {"column_name": "Owner.profile"})
    assert coql(client, "select Last_Name from Contacts where Owner.last_name > 'a'")[1]["details"] == {
        "reason": "invalid operator found", "column_name": "Owner.last_name", "operator": ">"}


def test_aliases_name_the_keys(client: FlaskClient) -> None:
    status, body = coql(client, f"select 'Last_Name' as 'Surname', First_Name first from Leads where id = '{LEAD}'")
    assert (status, body["data"]) == (200, [{"Surname": "Marrier", "first": "Kris", "id": LEAD}])


def test_aggregates_group_count_and_sort(client: FlaskClient) -> None:
    status, body = coql(client, "select COUNT(id), Lead_Source from Leads where Lead_Source in "
                                "('Advertisement', 'Chat') group by Lead_Source order by Lead_Source")
    assert status == 200
    listed = client.get("/crm/v8/Leads?fields=Lead_Source&per_page=200", headers=auth()).json["data"]
    counts = {s: sum(1 for r in listed if r["Lead_Source"] == s) for s in ("Advertisement", "Chat")}
    assert body == {"data": [{"COUNT(id)": counts["Advertisement"], "Lead_Source": "Advertisement"},
                             {"COUNT(id)": counts["Chat"], "Lead_Source": "Chat"}],
                    "info": {"count": 2, "more_records": False}}


def test_limit_and_offset_in_both_spellings(client: FlaskClient) -> None:
    everything = coql(client, "select Last_Name from Leads where id is not null")[1]["data"]
    ids = [r["id"] for r in everything]
    assert ids == sorted(ids)  # by id when no ORDER BY says otherwise
    assert [r["id"] for r in coql(client, "select Last_Name from Leads where id is not null limit 3 offset 2")[1][
        "data"]] == ids[2:5]
    status, body = coql(client, "select Last_Name from Leads where id is not null limit 2, 3")
    assert [r["id"] for r in body["data"]] == ids[2:5] and body["info"]["more_records"] is True


# The samples of Zoho's COQL page (v7, the same on v8), each on the bundled data set: the page's query shape with
# this data's names, and the answer in full.
ORCHARD, BLUEFIN = "2883756000000400009", "2883756000000400002"
PATRICIA = "2883756000000113001"
DOCUMENTED = [
    ("select Last_Name, First_Name, Full_Name from Contacts where Last_Name = 'Lindqvist' and First_Name is not null "
     "limit 2", [{"Last_Name": "Lindqvist", "First_Name": "Avery", "Full_Name": "Avery Lindqvist",
                  "id": "2883756000000410001"}], False),
    ("select Last_Name, First_Name, Full_Name, Lead_Source from Contacts where ((Last_Name = 'Oyelaran') and "
     "(Lead_Source = 'Trade Show')) limit 2",
     [{"Last_Name": "Oyelaran", "First_Name": "Marcus", "Full_Name": "Marcus Oyelaran", "Lead_Source": "Trade Show",
       "id": "2883756000000410002"}], False),
    ("select Last_Name, First_Name, Full_Name, Account_Name from Contacts where ((Last_Name = 'Raman') and "
     "(First_Name is not null)) and (Account_Name.Account_Name = 'Bluefin Analytics') limit 2",
     [{"Last_Name": "Raman", "First_Name": "Priya", "Full_Name": "Priya Raman",
       "Account_Name": {"name": "Bluefin Analytics", "id": BLUEFIN}, "id": "2883756000000410003"}], False),
    ("select Last_Name, Account_Name.Parent_Account, Account_Name.Parent_Account.Account_Name from Contacts where "
     "Last_Name is not null and Account_Name.Parent_Account.Account_Name is not null",
     [{"Last_Name": name, "Account_Name.Parent_Account": {"name": "Bluefin Analytics", "id": BLUEFIN},
       "Account_Name.Parent_Account.Account_Name": "Bluefin Analytics", "id": record}
      for name, record in (("Hale", "2883756000000410013"), ("Quintero", "2883756000000410014"))], False),
    (f"select Last_Name, First_Name, Full_Name, Owner from Contacts where Last_Name = 'Mori' and Owner = "
     f"'{PATRICIA}' limit 3", [{"Last_Name": "Mori", "First_Name": "Kenji", "Full_Name": "Kenji Mori",
                                "Owner": {"name": "Boyle", "id": PATRICIA}, "id": "2883756000000410008"}], False),
    ("select Last_Name, Date_of_Birth, Created_Time from Contacts where (Date_of_Birth between '1970-01-01' and "
     "'1980-12-31') and Created_Time is not null limit 1",
     [{"Last_Name": "Brightwater", "Date_of_Birth": "1979-04-18", "Created_Time": "2023-12-31T16:00:00-08:00",
       "id": "2883756000000410005"}], False),
    ("select Last_Name, First_Name, Full_Name, Email_Opt_Out from Contacts where Email_Opt_Out = 'true' "
     "order by Last_Name limit 2",
     [{"Last_Name": "Achterberg", "First_Name": "Grace", "Full_Name": "Grace Achterberg", "Email_Opt_Out": True,
       "id": "2883756000000410007"},
      {"Last_Name": "Marsh", "First_Name": "Ethan", "Full_Name": "Ethan Marsh", "Email_Opt_Out": True,
       "id": "2883756000000410012"}], True),
    ("select Last_Name, First_Name, Full_Name, Lead_Source from Contacts where (((First_Name = 'Kenji') and "
     "Lead_Source = 'Partner') and Department is null)",
     [{"Last_Name": "Mori", "First_Name": "Kenji", "Full_Name": "Kenji Mori", "Lead_Source": "Partner",
       "id": "2883756000000410008"}], False),
    ("select 'Account_Name' AS 'Account id','Account_Name.Account_Name' as 'Account Name','Account_Name.Parent_Account'"
     " as 'Parent Account id','Account_Name.Parent_Account.Account_Name' As 'Parent Account Name' from Contacts where "
     "(Account_Name.Account_Name = 'Orchard Street Software') order by Account_Name desc limit 2",
     [{"Account id": {"name": "Orchard Street Software", "id": ORCHARD}, "Account Name": "Orchard Street Software",
       "Parent Account id": {"name": "Bluefin Analytics", "id": BLUEFIN}, "Parent Account Name": "Bluefin Analytics",
       "id": record} for record in ("2883756000000410013", "2883756000000410014")], False),
    ("select Account_Name, Parent_Account.Account_Name from Accounts where Parent_Account.Account_Name = "
     "'Bluefin Analytics'", [{"Account_Name": "Orchard Street Software",
                              "Parent_Account.Account_Name": "Bluefin Analytics", "id": ORCHARD}], False),
    ("select SUM(Amount), Stage from Deals where Amount >= 100000 group by Stage",
     [{"SUM(Amount)": 145000, "Stage": "Negotiation/Review"}, {"SUM(Amount)": 310000, "Stage": "Perception Analysis"},
      {"SUM(Amount)": 480000, "Stage": "Qualification"}, {"SUM(Amount)": 230000, "Stage": "Value Proposition"}],
     False),
    ("select MIN(Amount) from Deals where Amount != 0", [{"MIN(Amount)": 18500}], False),
    ("select MAX(Amount), Account_Name from Deals where Amount > 200000 group by Account_Name",
     [{"MAX(Amount)": 480000, "Account_Name": {"name": "Northwind Medical Supply", "id": "2883756000000400004"}},
      {"MAX(Amount)": 230000, "Account_Name": {"name": "Redwood County Transit", "id": "2883756000000400006"}},
      {"MAX(Amount)": 310000, "Account_Name": {"name": "Meridian Wireless", "id": "2883756000000400010"}}], False),
]


@pytest.mark.parametrize("query,rows,more", DOCUMENTED, ids=[q[:60] for q, _, _ in DOCUMENTED])
def test_the_documented_samples(client: FlaskClient, query: str, rows: list[dict[str, Any]], more: bool) -> None:
    status, body = coql(client, query)
    assert (status, json.dumps(body)) == (200, json.dumps({"data": rows, "info": {"count": len(rows),
                                                                                  "more_records": more}}))


# -- errors, exactly ---------------------------------------------------------------------------------------

ERRORS = [
    ("select Last_Name from Leads", error("SYNTAX_ERROR", "missing clause", {"clause": "where"})),
    ("select Last_Name, from Leads where id is not null",
     error("SYNTAX_ERROR", "unexpected token", {"line": 1, "column": 19, "near": "from"})),
    ("select Last_Name from Leads where a = 1 and b = 2 and c = 3",
     error("SYNTAX_ERROR", "unexpected token", {"line": 1, "column": 51, "near": "and"})),
    ("update Leads set Last_Name = 'x' where id = 1",
     error("SYNTAX_ERROR", "unexpected token", {"line": 1, "column": 1, "near": "update"})),
    ("select Last_Name from Nowhere where id is not null",
     error("INVALID_MODULE", "the module name given seems to be invalid", {})),
    ("select Last_Name from Home where id is not null",
     error("INVALID_MODULE", "the given module is not supported in api", {})),
    ("select Last_Name, Testing from Leads where Last_Name is not null",
     error("INVALID_QUERY", "column given seems to be invalid", {"column_name": "Testing"})),
    ("select Last_Name from Leads where Last_Name is not null and No_of_Employees = 'adfkahfd'",
     error("INVALID_QUERY", "value given seems to be invalid for the column", {"column_name": "No_of_Employees"})),
    ("select Last_Name from Leads where Last_Name is not null and Last_Name >= 'adfkahfd'",
     error("INVALID_QUERY", "Invalid query formed",
           {"reason": "invalid operator found", "column_name": "Last_Name", "operator": ">="})),
    ("select Last_Name from Leads where Description = 'x'",
     error("INVALID_QUERY", "unsupported column in criteria", {"column_name": "Description", "operator": "="})),
    ("select Last_Name from Leads where id is not null limit s",
     error("INVALID_QUERY", "limit given seems to be invalid", {"limit": "s"})),
    ("select Last_Name from Leads where id is not null limit 5 offset x",
     error("INVALID_QUERY", "offset given seems to be invalid", {"offset": "x"})),
    ("select Last_Name from Leads where id is not null limit 0",
     error("INVALID_DATA", "limit should be greater than 0", {})),
    ("select Last_Name from Leads where id is not null limit 2001",
     error("LIMIT_EXCEEDED", "limit exceeded", {"limit": 2000})),
    ("select Last_Name from Leads where id is not null limit 2000 offset 98001",
     error("LIMIT_EXCEEDED", "max records limit exceeded", {"limit": 100000})),
    ("select Account_Name.Account_Name, Account_Name.Parent_Account.Parent_Account.Account_Name from Contacts "
     "where id is not null", error("LIMIT_EXCEEDED", "join limit exceeded", {"limit": 2})),
    ("select Last_Name, First_Name, Last_Name from Leads where id is not null",
     error("DUPLICATE_DATA", "duplicate select column", {"column_name": "Last_Name"})),
    ("select id from Leads where id is not null order by id, id",
     error("DUPLICATE_DATA", "duplicate order by column", {"column_name": "id"})),
    ("select MAX(Annual_Revenue), MAX(Annual_Revenue) from Leads where id is not null",
     error("DUPLICATE_DATA", "duplicate aggregate function", {"column_name": "Annual_Revenue", "aggregate": "MAX"})),
    ("select TestFunction(Last_Name) from Leads where id is not null",
     error("INVALID_DATA", "invalid data", {"reason": "unsupported aggregate function",
                                            "column": "TestFunction(Last_Name)"})),
    ("select First_Name as 'Name', Last_Name as 'Name' from Leads where id is not null",
     error("DUPLICATE_ALIAS", "same alias cannot refer more than one column",
           {"referred_columns": ["First_Name", "Last_Name"], "alias": "Name"})),
    ("select First_Name as '' from Leads where id is not null",
     error("INVALID_ALIAS", "alias name cannot be an empty string", {"column_name": "First_Name", "alias": ""})),
    ("select Last_Name from Leads where Last_Name in (" + ", ".join(f"'n{i}'" for i in range(101)) + ")",
     error("LIMIT_EXCEEDED", "in values limit exceeded", {"limit": 100})),
    ("select Last_Name from Leads where " + " and ".join(["(Last_Name = 'a'"] * 25) + ")" * 25 + " and id = '1'",
     error("LIMIT_EXCEEDED", "criteria limit exceeded", {"limit": 25})),
]


@pytest.mark.parametrize("query,expected", ERRORS, ids=[e["code"] + ":" + q[:40] for q, e in ERRORS])
def test_each_documented_error(client: FlaskClient, query: str, expected: dict[str, Any]) -> None:
    assert coql(client, query) == (400, expected)


def test_the_body_must_hold_a_query(client: FlaskClient) -> None:
    answer = client.post("/crm/v8/coql", headers=auth(), json={"query": "select"})
    assert (answer.status_code, answer.json) == (400, error("MANDATORY_NOT_FOUND", "mandatory key not found",
                                                            {"api_name": "select_query"}))
    answer = client.post("/crm/v8/coql", headers=auth(), json={"select_query": 5})
    assert answer.json == error("INVALID_DATA", "invalid data", {"expected_data_type": "text",
                                                                "api_name": "select_query"})
    answer = client.post("/crm/v8/coql", headers=auth(), data=b"select Last_Name from Leads")
    assert (answer.status_code, answer.json["code"]) == (400, "UNABLE_TO_PARSE_DATA_TYPE")


def test_include_meta_adds_the_selected_fields_metadata(client: FlaskClient) -> None:
    query = "select Last_Name, Account_Name.Account_Name, Email from Contacts where Last_Name = 'Mori'"
    answer = client.post("/crm/v8/coql", headers=auth(), json={"select_query": query, "include_meta": ["fields"]}).json
    listed = client.get("/crm/v8/settings/fields?module=Contacts", headers=auth()).json["fields"]
    assert list(answer) == ["data", "fields", "info"]
    assert answer["fields"] == {f["api_name"]: f for f in listed if f["api_name"] in ("Last_Name", "Email")}
    assert list(client.post("/crm/v5/coql", headers=auth(), json={"select_query": query,
                                                                  "include_meta": ["fields"]}).json) == ["data", "info"]
    for meta, details in (("fields", {"expected_data_type": "jsonarray", "api_name": "include_meta",
                                      "json_path": "$.include_meta"}),
                          (["other"], {"api_name": "include_meta", "json_path": "$.include_meta[0]",
                                       "supported_values": ["fields"]}),
                          ([5], {"expected_data_type": "text", "api_name": "include_meta",
                                 "json_path": "$.include_meta[0]", "supported_values": ["fields"]})):
        refused = client.post("/crm/v8/coql", headers=auth(), json={"select_query": query, "include_meta": meta})
        assert (refused.status_code, refused.json) == (400, error("INVALID_DATA", "invalid data", details))
    minted = client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001",
                                                  "scopes": ["ZohoCRM.coql.READ", "ZohoCRM.modules.ALL"]}
                         ).json["access_token"]
    refused = client.post("/crm/v8/coql", headers=auth(minted), json={"select_query": query,
                                                                      "include_meta": ["fields"]})
    assert (refused.status_code, refused.json["code"]) == (401, "OAUTH_SCOPE_MISMATCH")


def test_scopes_coql_read_and_read_on_the_module(client: FlaskClient) -> None:
    """`ZohoCRM.coql.READ` first, then READ on the module the query names."""
    minted = client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001",
                                                  "scopes": ["ZohoCRM.modules.ALL"]}).json["access_token"]
    assert coql(client, "select Last_Name from Leads where id is not null", token=minted)[1]["code"] == \
        "OAUTH_SCOPE_MISMATCH"
    leads_only = client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001",
                                                      "scopes": ["ZohoCRM.coql.READ", "ZohoCRM.modules.leads.READ"]}
                             ).json["access_token"]
    assert coql(client, "select Last_Name from Leads where id is not null limit 1", token=leads_only)[0] == 200
    status, body = coql(client, "select Last_Name from Contacts where id is not null", token=leads_only)
    assert (status, body["code"]) == (401, "OAUTH_SCOPE_MISMATCH")


@pytest.mark.parametrize("product,version", sorted(set(COQL_TARGETS) - AGGREGATES), ids=lambda v: str(v))
def test_versions_before_v4_have_no_aggregates(client: FlaskClient, product: str, version: str) -> None:
    assert coql(client, "select COUNT(id) from Contacts where id is not null", product, version) == (
        400, error("SYNTAX_ERROR", "given coql query not supported", {}))


def test_version_limits(client: FlaskClient) -> None:
    assert coql(client, "select Last_Name from Leads where id is not null limit 201", "crm", "v3")[1][
        "details"] == {"limit": 200}
    assert coql(client, "select Last_Name from Leads where id is not null limit 200 offset 9801", "crm", "v6")[1][
        "details"] == {"limit": 10000}
    assert coql(client, "select Last_Name from Contacts where id is not null limit 201", "bigin", "v2")[1][
        "details"] == {"limit": 200}
    status, body = coql(client, "select Last_Name from Contacts where id is not null", "bigin", "v1")
    assert (status, body["code"]) == (400, "INVALID_MODULE")  # no COQL: `coql` reads as a module name


def test_a_restricted_user_queries_only_the_records_granted(client: FlaskClient) -> None:
    status, body = coql(client, "select Last_Name from Leads where id is not null", token="1000.mock.no-privilege")
    assert status == 200 and [r["id"] for r in body["data"]] == ["2883756000000261099"]


# -- what a review found -------------------------------------------------------------------------------

def insert(client: FlaskClient, module: str, *records: dict[str, Any]) -> list[str]:
    answer = client.post(f"/crm/v8/{module}", headers=auth(), json={"data": list(records)})
    assert answer.status_code == 201, answer.json
    return [entry["details"]["id"] for entry in answer.json["data"]]


@pytest.mark.parametrize("query,code,details", [
    ("select Last_Name from Leads where id is not null limit '\u00b2'", "INVALID_QUERY", {"limit": "\u00b2"}),
    ("select Last_Name from Leads where id is not null limit 1 offset '\uff11'", "INVALID_QUERY",
     {"offset": "\uff11"}),
    ("select Last_Name from Leads where id is not null limit \u0661", "SYNTAX_ERROR",
     {"line": 1, "column": 56, "near": "\u0661"}),
    ("select Last_Name from Leads where id is not null limit 1, 2 offset 3", "SYNTAX_ERROR",
     {"line": 1, "column": 61, "near": "offset"}),
    ("select Last_Name from Leads where", "SYNTAX_ERROR", {"line": 1, "column": 34, "near": ""}),
    ("select Last_Name as First_Name, First_Name from Leads where id is not null", "INVALID_QUERY",
     {"column_name": "First_Name", "alias": "First_Name"}),
    ("select Last_Name as id from Leads where id is not null", "INVALID_QUERY", {"column_name": "id", "alias": "id"}),
    ("select Stage as 'COUNT(id)', COUNT(id) from Deals where id is not null group by Stage", "INVALID_QUERY",
     {"column_name": "COUNT(id)", "alias": "COUNT(id)"}),
])
def test_refused_corners(client: FlaskClient, query: str, code: str, details: dict[str, Any]) -> None:
    status, body = coql(client, json.loads(f'"{query}"'))
    assert (status, body["code"], body["details"]) == (400, code, json.loads(json.dumps(details)))


def test_a_sum_past_64_bits_is_refused_not_rounded(client: FlaskClient) -> None:
    """SQLite's SUM is exact or stops: a running sum past 64 bits is a 400, never a 500 or a rounded total."""
    insert(client, "Deals", {"Deal_Name": "big one", "Stage": "Closed Lost", "Amount": 9223372036854775807},
           {"Deal_Name": "big two", "Stage": "Closed Lost", "Amount": 1})
    assert coql(client, "select SUM(Amount) from Deals where Deal_Name like 'big%'") == (400, error(
        "INVALID_QUERY", "Invalid query formed", {"reason": "sum out of range"}))
    assert coql(client, "select SUM(Amount) from Deals where Deal_Name = 'big two'")[1]["data"] == [
        {"SUM(Amount)": 1}]


def test_groups_by_id_text_without_case_and_unset_booleans_as_false(client: FlaskClient) -> None:
    status, body = coql(client, f"select id, COUNT(id) from Leads where id = '{LEAD}' group by id")
    assert body["data"] == [{"id": LEAD, "COUNT(id)": 1}]
    insert(client, "Leads", {"Last_Name": "Smith"}, {"Last_Name": "SMITH"}, {"Last_Name": "smith"})
    status, body = coql(client, "select Last_Name, COUNT(id) from Leads where Last_Name = 'smith' group by Last_Name")
    assert [r["COUNT(id)"] for r in body["data"]] == [3]
    listed = client.get("/crm/v8/Contacts?fields=Email_Opt_Out&per_page=200", headers=auth()).json["data"]
    unset = sum(1 for r in listed if r["Email_Opt_Out"] is False)
    status, body = coql(client, "select Last_Name from Contacts where Email_Opt_Out = false")
    assert body["info"]["count"] == unset > 0  # shown false, so matched by false
    status, body = coql(client, "select Email_Opt_Out, COUNT(id) from Contacts where id is not null "
                                "group by Email_Opt_Out")
    assert body["data"] == [{"Email_Opt_Out": False, "COUNT(id)": unset},
                            {"Email_Opt_Out": True, "COUNT(id)": len(listed) - unset}]


def test_a_lookup_reaches_only_modules_the_token_reads(client: FlaskClient) -> None:
    contacts_only = client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001", "scopes": [
        "ZohoCRM.coql.READ", "ZohoCRM.modules.contacts.READ"]}).json["access_token"]
    query = "select Last_Name from Contacts where Account_Name.Annual_Revenue > 0"
    status, body = coql(client, query, token=contacts_only)
    assert (status, body["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
    status, body = coql(client, "select Last_Name from Contacts where Account_Name.Bogus = 1", token=contacts_only)
    assert (status, body["code"]) == (400, "INVALID_QUERY")  # the path is judged before the scopes
    assert coql(client, "select Last_Name from Contacts where Last_Name = 'Mori'", token=contacts_only)[0] == 200


def test_an_unquoted_number_keeps_its_text_on_a_text_field_and_is_a_number_elsewhere(client: FlaskClient) -> None:
    [record] = insert(client, "Leads", {"Last_Name": "007"})
    assert coql(client, "select Last_Name from Leads where Last_Name = 007")[1]["data"] == [
        {"Last_Name": "007", "id": record}]
    assert coql(client, f"select Last_Name from Leads where id in (0{LEAD})")[1]["data"] == [
        {"Last_Name": "Marrier", "id": LEAD}]
    assert coql(client, "select Last_Name from Leads where Last_Name = 'Marrier' and "
                        "Owner = 02883756000000113001")[0] == 200
    assert coql(client, "select Account_Name from Accounts where Annual_Revenue >= "
                        "1.123456789012345678901234567890 and Account_Name = 'Bluefin Analytics'")[0] == 200


def test_the_in_limit_holds_for_user_fields_too(client: FlaskClient) -> None:
    values = ", ".join(f"'u{i}@x.example'" for i in range(51))
    assert coql(client, f"select Last_Name from Leads where Owner.email in ({values})", "crm", "v2")[1] == error(
        "LIMIT_EXCEEDED", "in values limit exceeded", {"limit": 50})


def test_group_by_a_multi_select_is_refused(widgets: tuple[FlaskClient, dict[str, dict]]) -> None:
    client, _ = widgets
    assert coql(client, "select Tags, COUNT(id) from Widgets where id is not null group by Tags",
                token="1000.widgets")[1] == error("INVALID_QUERY", "data type not supported",
                                                  {"column_name": "Tags", "clause": "group by"})


# -- properties --------------------------------------------------------------------------------------------

WORDS = ("alpha", "Alpha", "beta", "Gamma", "delta", "omega", "beta max")
COLOURS = ("Red", "Green", "Blue")
RECORDS = 40


def _widgets() -> list[dict[str, Any]]:
    """Generated records (the same each run): each field but the boolean (never empty in Zoho) empty now and
    then."""
    rng = random.Random(16)
    records = []
    for i in range(RECORDS):
        values: dict[str, Any] = {"Name": f"w{i:02d}", "Active": rng.random() < 0.5}
        for name, make in (("Word", lambda: rng.choice(WORDS)), ("Size", lambda: rng.randrange(-5, 20)),
                           ("Price", lambda: rng.choice((0.5, 1.25, 3.0, 10.0, 99.5))),
                           ("Colour", lambda: rng.choice(COLOURS)),
                           ("Made", lambda: f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}")):
            if rng.random() < 0.8:
                values[name] = make()
        records.append({"module": "Widgets", "id": str(9100000000000000000 + i), "values": values})
    return records


@pytest.fixture(scope="module")
def widgets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FlaskClient, dict[str, dict]]]:
    folder = tmp_path_factory.mktemp("coql-widgets")
    fields = [{"api_name": "Word", "data_type": "text"}, {"api_name": "Size", "data_type": "integer"},
              {"api_name": "Price", "data_type": "double"},
              {"api_name": "Colour", "data_type": "picklist", "picklist": list(COLOURS)},
              {"api_name": "Active", "data_type": "boolean"}, {"api_name": "Made", "data_type": "date"},
              {"api_name": "Tags", "data_type": "multiselectpicklist", "picklist": ["a", "b"]}]
    records = _widgets()
    (folder / "fixtures").mkdir()
    (folder / "fixtures" / "widgets.yaml").write_text(yaml.safe_dump({
        "modules": {"crm": [{"api_name": "Widgets", "fields": fields}]},
        "orgs": [{"id": "widgets", "users": [{"id": "1", "name": "Wendy Widget", "email": "w@example.com"}],
                  "tokens": [{"token": "1000.widgets", "user": "1", "scopes": "ZohoCRM.modules.ALL,ZohoCRM.coql.READ"}],
                  "crm": {"records": records}}]}))
    client = create_app({"state": folder / "s.db", "fixtures": folder / "fixtures"}).test_client()
    yield client, {r["id"]: r["values"] for r in records}


def _literal(field: str, value: Any) -> str:
    if field in ("Size", "Price"):
        return repr(value)
    if field == "Active":
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


FIELD_VALUES = {"Word": WORDS + ("zeta",), "Size": (-5, 0, 3, 7, 19, 25), "Price": (0.5, 1.25, 3.0, 50.0),
                "Colour": COLOURS, "Active": (True, False), "Made": ("2024-01-10", "2024-05-15", "2024-09-19")}
OPERATORS = {"Word": ("=", "!=", "like", "in", "null"), "Colour": ("=", "!=", "in", "null"),
             "Size": ("=", "!=", "<", ">", "<=", ">=", "between", "in", "null"),
             "Price": ("<", ">=", "between", "null"), "Made": ("=", "<", ">", "between", "in"), "Active": ("=",)}


@st.composite
def predicates(draw: st.DrawFn) -> tuple[str, Any]:
    """A condition as COQL text, and how Python decides it for a record's values."""
    field = draw(st.sampled_from(sorted(OPERATORS)))
    operator = draw(st.sampled_from(OPERATORS[field]))
    negated = draw(st.booleans()) and operator in ("like", "in", "between", "null")
    pick = st.sampled_from(FIELD_VALUES[field])
    key = str.lower if field in ("Word", "Colour") else (lambda v: v)
    if operator == "null":
        return f"{field} is {'not ' if negated else ''}null", lambda r: (r.get(field) is not None) == negated
    if operator == "like":
        word = draw(st.sampled_from(("al", "ta", "be", "ga", "pha", "x")))
        shape = "contains" if negated else draw(st.sampled_from(("starts", "ends", "contains")))
        pattern = {"starts": f"{word}%", "ends": f"%{word}", "contains": f"%{word}%"}[shape]
        test = {"starts": str.startswith, "ends": str.endswith, "contains": lambda v, w: w in v}[shape]
        return (f"{field} {'not ' if negated else ''}like '{pattern}'",
                lambda r: r.get(field) is not None and test(r[field].lower(), word) != negated)
    if operator == "in":
        chosen = draw(st.lists(pick, min_size=1, max_size=3, unique=True))
        listed = {key(v) for v in chosen}
        return (f"{field} {'not ' if negated else ''}in ({', '.join(_literal(field, v) for v in chosen)})",
                lambda r: r.get(field) is not None and (key(r[field]) in listed) != negated)
    if operator == "between":
        low, high = sorted(draw(st.lists(pick, min_size=2, max_size=2)), key=key)
        return (f"{field} {'not ' if negated else ''}between {_literal(field, low)} and {_literal(field, high)}",
                lambda r: r.get(field) is not None and (key(low) <= key(r[field]) <= key(high)) != negated)
    value = draw(pick)
    compare = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
               ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}[operator]
    return (f"{field} {operator} {_literal(field, value)}",
            lambda r: r.get(field) is not None and compare(key(r[field]), key(value)))


@st.composite
def conditions(draw: st.DrawFn, depth: int = 2) -> tuple[str, Any]:
    if depth == 0 or draw(st.booleans()):
        return draw(predicates())
    (left, a), (right, b) = draw(conditions(depth - 1)), draw(conditions(depth - 1))
    joiner = draw(st.sampled_from(("and", "or", "AND", "Or")))
    test = (lambda r: a(r) and b(r)) if joiner.lower() == "and" else (lambda r: a(r) or b(r))
    return f"({left}) {joiner} ({right})", test


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=conditions(), order=st.sampled_from((None, "Size", "Word", "Made", "Price")),
       descending=st.booleans(), limit=st.integers(1, 50), offset=st.integers(0, 45))
def test_generated_queries_agree_with_python(widgets: tuple[FlaskClient, dict[str, dict]], where: tuple[str, Any],
                                             order: str | None, descending: bool, limit: int, offset: int) -> None:
    client, records = widgets
    text, test = where
    ordering = f" order by {order} {'desc' if descending else 'asc'}" if order else ""
    query = f"select Name, Size from Widgets where {text}{ordering} limit {limit} offset {offset}"
    status, body = coql(client, query, token="1000.widgets")
    expected = sorted((i for i, values in records.items() if test(values)))
    if order:
        def sort_key(i: str) -> tuple[bool, Any]:
            value = records[i].get(order)
            return (value is not None, value.lower() if isinstance(value, str) else value)
        expected = sorted(expected, key=sort_key, reverse=descending)  # stable: ties stay by id
    page = expected[offset:offset + limit]
    assert status == (200 if page else 204), (query, body)
    got = [r["id"] for r in body["data"]] if body else []
    assert got == page, query
    if body:
        assert body["info"] == {"count": len(page), "more_records": len(expected) > offset + limit}
        assert all(r["Size"] == records[r["id"]].get("Size") for r in body["data"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(group=st.sampled_from(("Colour", "Active", "Word")), function=st.sampled_from(("COUNT", "SUM", "MIN", "MAX")),
       where=conditions(1))
def test_generated_aggregates_agree_with_python(widgets: tuple[FlaskClient, dict[str, dict]], group: str,
                                                function: str, where: tuple[str, Any]) -> None:
    client, records = widgets
    text, test = where
    field = "Size" if function == "COUNT" else "Price"
    status, body = coql(client, f"select {group}, {function}({field}) from Widgets where {text} group by {group}",
                        token="1000.widgets")
    chosen = [values for values in records.values() if test(values)]
    groups: dict[Any, list[Any]] = {}
    fold = lambda v: v.lower() if isinstance(v, str) else v  # noqa: E731 - text groups without case
    for values in chosen:
        groups.setdefault(fold(values.get(group)), []).append(values.get(field))
    reduce = {"COUNT": lambda vs: sum(v is not None for v in vs), "SUM": lambda vs: _sum(vs),
              "MIN": lambda vs: min((v for v in vs if v is not None), default=None),
              "MAX": lambda vs: max((v for v in vs if v is not None), default=None)}[function]
    expected = {json.dumps(g): reduce(vs) for g, vs in groups.items()}
    if not expected:
        assert (status, body) == (204, None)
        return
    got = {json.dumps(fold(r[group])): r[f"{function}({field})"] for r in body["data"]}
    assert got == pytest.approx(expected) if function == "SUM" else got == expected


def _sum(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["select", "from", "where", "Leads", "Last_Name", "id", "=", "'x'", "(", ")", ",",
                              "and", "or", "not", "in", "like", "is", "null", "limit", "offset", "5", "-1", "'",
                              "order", "by", "group", "COUNT(id)", "Account_Name.Account_Name", "between", "\\",
                              "\x00", "\ud800", "9" * 30, "desc", "as", "*"]), max_size=14).map(" ".join)))
def test_random_text_only_gets_4xx_envelopes(client: FlaskClient, text: str) -> None:
    response = client.post("/crm/v8/coql", headers=auth(), data=json.dumps({"select_query": text}),
                           content_type="application/json")
    assert response.status_code in (200, 204) or 400 <= response.status_code < 500, (text, response.data[:300])
    if response.status_code >= 400:
        assert set(response.json) == {"code", "details", "message", "status"}, text

