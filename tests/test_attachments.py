"""The attachment lifecycle (upload, list, download, delete) on CRM and Bigin, every version."""

from __future__ import annotations

import hashlib
import io
import random
import re
from pathlib import Path

import pytest
import requests
import werkzeug.wsgi
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.http.wsgi import FileWrapper

from conftest import TARGETS, Target, auth
from mockzoho.app import create_app

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
ALL_KEYS = ["Owner", "Modified_By", "Created_By", "File_Name", "Size", "Created_Time", "Modified_Time",
            "Parent_Id", "$file_id", "$type", "$se_module", "$link_url", "$state", "$editable",
            "$attachment_type", "id"]
INFO_KEYS = ["per_page", "next_page_token", "count", "page", "previous_page_token", "page_token_expiry",
             "more_records"]


def fields_needed(target: Target) -> bool:
    return target.product == "crm" and target.version not in ("v2", "v2.1")


def list_url(target: Target, record: str | None = None, query: str = "") -> str:
    fields = "fields=id,File_Name,Size&" if fields_needed(target) else ""
    return target.url(target.module, record or target.record, "Attachments") + f"?{fields}{query}"


def upload(client: FlaskClient, target: Target, content: bytes, name: str, token: str | None = None,
           record: str | None = None, **extra: object):
    data = {"file": (io.BytesIO(content), name), **extra}
    return client.post(target.url(target.module, record or target.record, "Attachments"), data=data,
                       headers=auth(token) if token else auth())


def listed_ids(client: FlaskClient, target: Target, record: str | None = None) -> list[str]:
    response = client.get(list_url(target, record, "per_page=200"), headers=auth())
    return [] if response.status_code == 204 else [a["id"] for a in response.json["data"]]


# -- the full cycle ------------------------------------------------------------------------------

def test_a_download_whose_file_went_meanwhile_is_204(tmp_path: Path) -> None:
    """A blob unlinked between the lookup and the read (a concurrent delete) is answered as a deleted one."""
    app = create_app({"state": tmp_path / "s.db"})
    client, [target] = app.test_client(), [t for t in TARGETS if (t.product, t.version) == ("crm", "v8")]
    new_id = upload(client, target, b"gone soon", "g.txt").json["data"][0]["details"]["id"]
    url = target.url(target.module, target.record, "Attachments", new_id)
    assert client.get(url, headers=auth()).data == b"gone soon"
    app.extensions["mockzoho"].store.db.blob_path(hashlib.sha256(b"gone soon").hexdigest()).unlink()
    gone = client.get(url, headers=auth())
    assert (gone.status_code, gone.data, gone.content_type) == (204, b"", "application/json;charset=utf-8")


def test_upload_list_download_delete_cycle(client: FlaskClient, target: Target) -> None:
    content = bytes(range(256)) * 1000 + "ü".encode()
    record = target.bulk_records[0]
    assert client.get(list_url(target, record), headers=auth()).status_code == 204

    response = upload(client, target, content, "report ü.pdf", record=record)
    assert response.status_code == 200
    [entry] = response.json["data"]
    assert list(entry) == ["code", "details", "message", "status"]
    assert (entry["code"], entry["message"], entry["status"]) == ("SUCCESS", "attachment uploaded successfully",
                                                                  "success")
    details = entry["details"]
    assert list(details) == ["Modified_Time", "Modified_By", "Created_Time", "id", "Created_By"]
    assert TIME.match(details["Created_Time"]) and details["Created_Time"] == details["Modified_Time"]
    assert details["Created_By"] == details["Modified_By"] == {"name": "Patricia Boyle", "id": "2883756000000113001"}
    new_id = details["id"]
    assert re.fullmatch(r"\d{19}", new_id)

    listing = client.get(list_url(target, record), headers=auth())
    assert listing.status_code == 200
    [item] = listing.json["data"]
    assert item["id"] == new_id and item["File_Name"] == "report ü.pdf" and item["Size"] == str(len(content))

    download = client.get(target.url(target.module, record, "Attachments", new_id), headers=auth())
    assert download.status_code == 200
    assert hashlib.sha256(download.data).digest() == hashlib.sha256(content).digest()
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == "attachment;filename*=UTF-8''report%20%C3%BC.pdf"
    assert download.headers["Content-Length"] == str(len(content))

    deleted = client.delete(target.url(target.module, record, "Attachments", new_id), headers=auth())
    assert deleted.status_code == 200
    after = client.get(list_url(target, record), headers=auth())
    assert (after.status_code, after.data, after.headers["Content-Type"]) == (204, b"", "application/json;charset=utf-8")
    assert client.get(target.url(target.module, record, "Attachments", new_id), headers=auth()).status_code == 204


def test_new_ids_are_deterministic_per_seed(tmp_path: Path) -> None:
    def ids(state: str, seed: int) -> list[str]:
        client = create_app({"state": tmp_path / state, "id_seed": seed}).test_client()
        target = Target("crm", "v8", "Leads", "2883756000000261075", "", (), "", "", "", "", ())
        return [upload(client, target, b"x", f"{i}.txt").json["data"][0]["details"]["id"] for i in range(3)]

    first = ids("a.db", 7)
    assert first == ids("b.db", 7)
    assert len(set(first)) == 3 and first != ids("c.db", 8)


# -- upload variants and refusals ----------------------------------------------------------------

def link_upload(client: FlaskClient, target: Target, how: str, url: str = "https://www.example.com/page",
                title: str | None = None):
    base = target.url(target.module, target.record, "Attachments")
    params = {"attachmentUrl": url, **({"title": title} if title else {})}
    if how == "query":
        return client.post(base, query_string=params, headers=auth())
    if how == "multipart":
        return client.post(base, data=params, content_type="multipart/form-data", headers=auth())
    return client.post(base, data=params, headers=auth())  # urlencoded


@pytest.mark.parametrize("how", ["query", "multipart", "urlencoded"])
def test_link_attachment(client: FlaskClient, target: Target, how: str) -> None:
    response = link_upload(client, target, how, title="Example page")
    assert response.status_code == 200
    new_id = response.json["data"][0]["details"]["id"]
    listing = client.get(target.url(target.module, target.record, "Attachments") + "?fields=File_Name,$link_url,"
                         "$type,$file_id,$attachment_type,Size", headers=auth())
    item = next(a for a in listing.json["data"] if a["id"] == new_id)
    assert item == {"File_Name": "Example page", "Size": "0", "$file_id": None, "$type": "Link URL",
                    "$link_url": "https://www.example.com/page", "$attachment_type": 3, "id": new_id}
    download = client.get(target.url(target.module, target.record, "Attachments", new_id), headers=auth())
    assert (download.status_code, download.json) == (400, {
        "code": "INVALID_DATA", "details": {}, "message": "As it is a linked attachment, you can not download it",
        "status": "error"})
    again = link_upload(client, target, how)
    assert (again.status_code, again.json) == (400, {
        "code": "DUPLICATE_DATA", "details": {"param_name": "attachmentUrl"},
        "message": "Attachment link already exists", "status": "error"})


def test_link_without_title_is_named_by_its_url(client: FlaskClient, target: Target) -> None:
    new_id = link_upload(client, target, "query").json["data"][0]["details"]["id"]
    download = client.get(list_url(target), headers=auth())
    assert next(a for a in download.json["data"] if a["id"] == new_id)["File_Name"] == "https://www.example.com/page"


BAD_LINKS = ["ftp://example.com/x", "example.com", "javascript:alert(1)", "https://", "https://[::1/x",
             "https://e.com/" + "a" * 2100, "http://:80/x", "http://@/", "http://example.com:abc/",
             "https://exa mple.com/", " http://example.com", "http://example.com/\n", "http://exa\tmple.com/"]


@pytest.mark.parametrize("url", BAD_LINKS)
def test_bad_links(client: FlaskClient, target: Target, url: str) -> None:
    response = link_upload(client, target, "query", url=url)
    assert (response.status_code, response.json["code"], response.json["details"]) == (
        400, "INVALID_DATA", {"param_name": "attachmentUrl"})


def test_file_and_link_together(client: FlaskClient, target: Target) -> None:
    response = upload(client, target, b"x", "a.txt", attachmentUrl="https://www.example.com")
    assert (response.status_code, response.json["code"]) == (400, "INVALID_DATA")
    assert "not both" in response.json["message"]


def test_file_beside_an_empty_part_and_a_link(client: FlaskClient, target: Target) -> None:
    data = {"file": [(io.BytesIO(b""), "file"), (io.BytesIO(b"x"), "a.txt")], "attachmentUrl": "https://e.com/"}
    response = client.post(target.url(target.module, target.record, "Attachments"), data=data, headers=auth())
    assert (response.status_code, response.json["code"]) == (400, "INVALID_DATA")
    assert "not both" in response.json["message"]


def legacy_sdk_body(**fields: str) -> tuple[bytes, str]:
    """The body and Content-Type of zcrmsdk 2.x's link upload: requests' `files={'file': ''}` beside the form."""
    prepared = requests.Request("POST", "http://127.0.0.1/", files={"file": ""}, data=fields).prepare()
    assert b'name="file"; filename="file"\r\n\r\n\r\n' in prepared.body  # a named part without a byte
    return prepared.body, prepared.headers["Content-Type"]


def blob_files(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "state.db.blobs").rglob("*") if p.is_file())


def post_parts(client: FlaskClient, url: str, parts: list[tuple[bytes, str]] | None, **fields: str):
    """POST `file` parts, each (bytes, file name), beside `fields`; None posts the legacy SDK's own body."""
    if parts is None:
        body, content_type = legacy_sdk_body(**fields)
        return client.post(url, data=body, content_type=content_type, headers=auth())
    return client.post(url, data={"file": [(io.BytesIO(c), n) for c, n in parts], **fields}, headers=auth())


EMPTY_PARTS = {"nameless": [(b"", "")], "nameless-with-bytes": [(b"x", "")], "zero-byte-named": [(b"", "a.txt")],
               "two-empty": [(b"", ""), (b"", "file")]}


@pytest.mark.parametrize("parts", [None, *EMPTY_PARTS.values()], ids=["legacy-sdk", *EMPTY_PARTS])
def test_empty_file_part_beside_a_link_is_a_link_upload(client: FlaskClient, target: Target, tmp_path: Path,
                                                        parts: list[tuple[bytes, str]] | None) -> None:
    url, before = target.url(target.module, target.record, "Attachments"), blob_files(tmp_path)
    response = post_parts(client, url, parts, attachmentUrl="https://e.com/x")
    assert response.status_code == 200, response.json
    new_id = response.json["data"][0]["details"]["id"]
    listing = client.get(url + "?fields=File_Name,Size,$type,$link_url&per_page=200", headers=auth())
    item = next(a for a in listing.json["data"] if a["id"] == new_id)
    assert item == {"File_Name": "https://e.com/x", "Size": "0", "$type": "Link URL",
                    "$link_url": "https://e.com/x", "id": new_id}
    assert blob_files(tmp_path) == before  # the discarded part was never staged


@pytest.mark.parametrize("parts,code,message", [
    (None, "INVALID_DATA", "the request does not contain any file"),
    ([(b"", "")], "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing"),
    ([(b"", "a.txt")], "INVALID_DATA", "the request does not contain any file"),
], ids=["legacy-sdk", "nameless", "zero-byte-named"])
def test_empty_file_part_without_a_link_is_refused(client: FlaskClient, target: Target, tmp_path: Path,
                                                   parts: list[tuple[bytes, str]] | None, code: str,
                                                   message: str) -> None:
    url, before = target.url(target.module, target.record, "Attachments"), blob_files(tmp_path)
    response = post_parts(client, url, parts)
    assert (response.status_code, response.json["code"], response.json["message"]) == (400, code, message)
    assert blob_files(tmp_path) == before


@pytest.mark.parametrize("kwargs", [
    {}, {"data": b"", "content_type": "multipart/form-data; boundary=x"},
    {"data": b'{"file": "x"}', "content_type": "application/json"},
    {"data": {"file": "just a field"}},
    {"data": lambda: {"file": (io.BytesIO(b"x"), "")}},
    {"data": b"garbage", "content_type": "multipart/form-data"},
], ids=["nothing", "empty-multipart", "json", "field-not-file", "no-filename", "no-boundary"])
def test_nothing_to_upload(client: FlaskClient, target: Target, kwargs: dict) -> None:
    kwargs = {k: v() if callable(v) else v for k, v in kwargs.items()}  # a fresh stream for every run
    response = client.post(target.url(target.module, target.record, "Attachments"), headers=auth(), **kwargs)
    assert (response.status_code, response.json) == (400, {
        "code": "REQUIRED_PARAM_MISSING", "details": {"param_name": "file"},
        "message": "One of the expected parameter is missing", "status": "error"})


@pytest.mark.parametrize("name,status,message", [
    ("setup.exe", 415, "invalid file type"), ("SETUP.EXE", 415, "invalid file type"),
    ("setup.exe.", 415, "invalid file type"), ("a\x00b.txt", 400, "invalid file name"),
    ("x" * 252 + ".txt", 400, "invalid file name"),
])
def test_refused_file_names(app: Flask, client: FlaskClient, target: Target, name: str, status: int,
                            message: str) -> None:
    before = listed_ids(client, target)
    response = upload(client, target, b"MZ binary", name)
    assert (response.status_code, response.json) == (status, {
        "code": "INVALID_DATA", "details": {"param_name": "file"}, "message": message, "status": "error"})
    assert listed_ids(client, target) == before


def test_empty_file_is_refused(client: FlaskClient, target: Target) -> None:
    response = upload(client, target, b"", "empty.txt")
    assert (response.status_code, response.json["message"]) == (400, "the request does not contain any file")


def test_two_files_are_refused(client: FlaskClient, target: Target) -> None:
    data = {"file": [(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"b"), "b.txt")]}
    response = client.post(target.url(target.module, target.record, "Attachments"), data=data, headers=auth())
    assert (response.status_code, response.json["code"]) == (400, "INVALID_DATA")


@pytest.mark.parametrize("name", ["../../etc/passwd", "C:/Windows/evil.ini", "/abs/path.txt", "名前.txt", "a" * 255])
def test_file_names_are_data_not_paths(app: Flask, client: FlaskClient, target: Target, tmp_path: Path,
                                       name: str) -> None:
    response = upload(client, target, b"payload", name)
    assert response.status_code == 200
    new_id = response.json["data"][0]["details"]["id"]
    listing = client.get(list_url(target, query="per_page=200"), headers=auth())
    assert next(a for a in listing.json["data"] if a["id"] == new_id)["File_Name"] == name
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert all(str(p).startswith("state.db") for p in written), written


def test_size_cap(tmp_path: Path) -> None:
    app = create_app({"state": tmp_path / "state.db", "max_upload_bytes": 1000})
    client = app.test_client()
    target = Target("crm", "v8", "Leads", "2883756000000261075", "", (), "", "", "", "", ())
    before = listed_ids(client, target)
    blobs_before = sorted(p.name for p in (tmp_path / "state.db.blobs").rglob("*"))
    assert upload(client, target, b"x" * 1000, "fits.bin").status_code == 200
    for size in (1001, 5 << 20):  # just over: found after reading; far over: refused from Content-Length
        response = upload(client, target, b"x" * size, "big.bin")
        assert (response.status_code, response.json) == (413, {
            "code": "FILE_SIZE_MORE_THAN_ALLOWED_SIZE", "details": {},
            "message": "Please check if the size of the file is in the correct range", "status": "error"})
    assert len(listed_ids(client, target)) == len(before) + 1
    blobs_after = sorted(p.name for p in (tmp_path / "state.db.blobs").rglob("*"))
    assert len(blobs_after) == len(blobs_before) + 2  # the one new blob and its fan-out folder; no temp files


def test_upload_to_a_missing_record(client: FlaskClient, target: Target) -> None:
    response = upload(client, target, b"x", "a.txt", record="1234")
    assert (response.status_code, response.json["code"], response.json["message"]) == (
        400, "INVALID_DATA", "the related id given seems to be invalid")


def test_content_type_is_kept_or_guessed(client: FlaskClient, target: Target) -> None:
    base = target.url(target.module, target.record, "Attachments")
    declared = client.post(base, data={"file": (io.BytesIO(b"{}"), "data.bin", "application/json")}, headers=auth())
    guessed = upload(client, target, b"<html/>", "page.html")
    unknown = upload(client, target, b"??", "noext")
    for response, expected in ((declared, "application/json"), (guessed, "text/html"),
                               (unknown, "application/octet-stream")):
        new_id = response.json["data"][0]["details"]["id"]
        assert client.get(f"{base}/{new_id}", headers=auth()).headers["Content-Type"] == expected


# -- listing -------------------------------------------------------------------------------------

def test_fields_rule_per_version(client: FlaskClient, target: Target) -> None:
    response = client.get(target.url(target.module, target.record, "Attachments"), headers=auth())
    if fields_needed(target):
        assert (response.status_code, response.json) == (400, {
            "code": "REQUIRED_PARAM_MISSING", "details": {"param_name": "fields"},
            "message": "One of the expected parameter is missing", "status": "error"})
    else:
        assert response.status_code == 200
        assert list(response.json["data"][0]) == ALL_KEYS
        assert list(response.json["info"]) == INFO_KEYS


def test_fields_select_keys_in_canonical_order(client: FlaskClient, target: Target) -> None:
    url = target.url(target.module, target.record, "Attachments") + "?fields=Parent_Id,Created_Time,File_Name,Owner,Nope"
    items = client.get(url, headers=auth()).json["data"]
    assert all(list(item) == ["Owner", "File_Name", "Created_Time", "Parent_Id", "id"] for item in items)
    first = items[0]
    assert first["Owner"] == {"name": "Patricia Boyle", "id": "2883756000000113001",
                              "email": "patricia.boyle@zylker.example"}
    assert first["Parent_Id"]["id"] == target.record and TIME.match(first["Created_Time"])


def test_attachment_object_types(client: FlaskClient, target: Target) -> None:
    url = target.url(target.module, target.record, "Attachments") + "?fields=" + ",".join(ALL_KEYS)
    for item in client.get(url, headers=auth()).json["data"]:
        assert list(item) == ALL_KEYS
        assert isinstance(item["id"], str) and item["Size"].isdigit()
        assert TIME.match(item["Created_Time"]) and TIME.match(item["Modified_Time"])
        assert set(item["Created_By"]) == {"name", "id", "email"} and list(item["Parent_Id"]) == ["id", "name"]
        assert item["$se_module"] == target.module and item["$state"] == "save" and item["$editable"] is True
        assert isinstance(item["$attachment_type"], int)


def test_times_are_in_the_org_time_zone(client: FlaskClient) -> None:
    url = "/crm/v8/Leads/2883756000000261075/Attachments?fields=Created_Time"
    us = client.get(url, headers=auth()).json["data"]
    eu = client.get(url, headers={**auth("1000.mock.eu"), "Host": "www.zohoapis.eu"}).json["data"]
    assert us[0]["Created_Time"] == "2024-05-02T10:30:00-07:00"  # America/Los_Angeles
    assert eu[0]["Created_Time"] == "2024-01-01T01:00:00+01:00"  # Europe/Berlin


def test_paging(client: FlaskClient, target: Target) -> None:
    record = target.bulk_records[0]
    uploaded = [upload(client, target, f"{i}".encode(), f"{i}.txt", record=record).json["data"][0]["details"]["id"]
                for i in range(5)]
    seen, page = [], 1
    while True:
        response = client.get(list_url(target, record, f"per_page=2&page={page}"), headers=auth())
        if response.status_code == 204:
            break
        info = response.json["info"]
        assert (info["per_page"], info["page"], info["count"]) == (2, page, len(response.json["data"]))
        assert info["more_records"] == (page < 3)
        seen += [a["id"] for a in response.json["data"]]
        page += 1
    assert page == 4 and sorted(seen) == sorted(uploaded) and len(set(seen)) == 5
    big = client.get(list_url(target, record, "per_page=500"), headers=auth()).json["info"]
    assert (big["per_page"], big["count"], big["more_records"]) == (200, 5, False)


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=-1", "per_page=0", "page=1.5", "page=٣"])
def test_bad_paging_parameters(client: FlaskClient, target: Target, query: str) -> None:
    response = client.get(list_url(target, query=query), headers=auth())
    assert (response.status_code, response.json["code"]) == (400, "INVALID_DATA")
    assert response.json["details"]["param_name"] == query.split("=")[0]


@pytest.mark.parametrize("query", ["page=99999999999999999999", "per_page=2&page=1000001"])
def test_pages_beyond_any_listing_are_refused(client: FlaskClient, target: Target, query: str) -> None:
    response = client.get(list_url(target, query=query), headers=auth())
    assert (response.status_code, response.json["code"]) == (400, "INVALID_DATA")
    assert response.json["details"] == {"param_name": "page", "expected_data_type": "integer"}


def test_page_tokens_on_v8(client: FlaskClient) -> None:
    target = Target("crm", "v8", "Leads", "2883756000000261075", "", (), "", "", "", "", ())
    url = list_url(target, query="per_page=1")
    first = client.get(url, headers=auth()).json
    assert first["info"]["next_page_token"] and first["info"]["previous_page_token"] is None
    assert TIME.match(first["info"]["page_token_expiry"])
    seen = [first["data"][0]["id"]]
    token = first["info"]["next_page_token"]
    while token:
        page = client.get(list_url(target, query=f"page_token={token}"), headers=auth()).json
        seen.append(page["data"][0]["id"])
        token = page["info"]["next_page_token"]
    everything = client.get(list_url(target), headers=auth()).json["data"]
    assert seen == [a["id"] for a in everything]
    other_record = list_url(target, record="2883756000000261099", query=f"page_token={first['info']['next_page_token']}")
    assert client.get(other_record, headers=auth()).json["details"] == {"param_name": "page_token"}
    assert client.get(list_url(target, query="page_token=garbage!"), headers=auth()).json["code"] == "INVALID_DATA"


@pytest.mark.parametrize("target", [t for t in TARGETS if (t.product, t.version) != ("crm", "v8")], ids=str)
def test_no_page_tokens_before_v8(client: FlaskClient, target: Target) -> None:
    info = client.get(list_url(target, query="per_page=1"), headers=auth()).json["info"]
    assert (info["next_page_token"], info["previous_page_token"], info["page_token_expiry"]) == (None, None, None)
    assert client.get(list_url(target, query="per_page=1&page_token=garbage"), headers=auth()).status_code == 200


# -- download ------------------------------------------------------------------------------------

def test_download_fixture_content(client: FlaskClient, target: Target) -> None:
    response = client.get(target.url(target.module, target.record, "Attachments", target.more_attachments[0]),
                          headers=auth())
    assert response.status_code == 200 and response.data.startswith((b"Proposal", b"Quote"))
    ranged = client.get(target.url(target.module, target.record, "Attachments", target.more_attachments[0]),
                        headers={**auth(), "Range": "bytes=0-3"})
    assert (ranged.status_code, ranged.data) == (206, response.data[:4])


def test_download_of_a_size_only_fixture_is_zeros(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("""
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    tokens: [{token: t, user: "1", scopes: ZohoCRM.modules.ALL}]
    crm: {records: [{module: Leads, id: "7", attachments: [{id: "8", file_name: big.iso, size: 200000}]}]}
""")
    client = create_app({"state": tmp_path / "s.db", "fixtures": tmp_path}).test_client()
    response = client.get("/crm/v8/Leads/7/Attachments/8", headers=auth("t"))
    assert (response.status_code, response.data, response.headers["Content-Type"]) == (
        200, bytes(200000), "application/x-iso9660-image")


def test_download_unknown_attachment_is_204(client: FlaskClient, target: Target) -> None:
    response = client.get(target.url(target.module, target.record, "Attachments", "1"), headers=auth())
    assert (response.status_code, response.data) == (204, b"")


# -- scopes and permissions per operation --------------------------------------------------------

def test_read_only_scopes(client: FlaskClient, target: Target) -> None:
    token = "1000.mock.read-only"
    assert client.get(list_url(target), headers=auth(token)).status_code == 200
    assert client.get(target.attachment_url, headers=auth(token)).status_code == 200
    assert upload(client, target, b"x", "a.txt", token=token).json["code"] == "OAUTH_SCOPE_MISMATCH"
    assert client.delete(target.attachment_url, headers=auth(token)).json["code"] == "OAUTH_SCOPE_MISMATCH"


def test_no_attachments_scope_cannot_list(client: FlaskClient, target: Target) -> None:
    token = "1000.mock.no-attachments-scope"
    assert client.get(list_url(target), headers=auth(token)).json["code"] == "OAUTH_SCOPE_MISMATCH"
    assert client.get(target.attachment_url, headers=auth(token)).json["code"] == "OAUTH_SCOPE_MISMATCH"


def test_profile_permissions_per_operation(client: FlaskClient, target: Target) -> None:
    token = "1000.mock.no-permission"  # may read attachments, not upload or delete them
    assert client.get(list_url(target), headers=auth(token)).status_code == 200
    response = upload(client, target, b"x", "a.txt", token=token)
    assert (response.status_code, response.json["message"], response.json["details"]) == (
        403, "Permission denied to upload attachment", {"permissions": ["Crm_Implied_Create_Attachments"]})


def test_record_access_per_operation(client: FlaskClient, target: Target) -> None:
    token = "1000.mock.no-privilege"
    listing = client.get(list_url(target), headers=auth(token))
    assert (listing.status_code, listing.json["message"]) == (
        400, "User does not have sufficient privilege to read attachments")
    assert client.get(target.attachment_url, headers=auth(token)).json["message"] == \
        "User does not have sufficient privilege to download attachments"
    assert upload(client, target, b"x", "a.txt", token=token).json["message"] == \
        "User does not have sufficient privilege to upload attachments"
    assert upload(client, target, b"x", "a.txt", token=token, record=target.lena_record).status_code == 200


def test_deleted_record_hides_its_attachments(client: FlaskClient, target: Target) -> None:
    assert client.delete(target.url(target.module, target.record), headers=auth()).status_code == 200
    for response in (client.get(list_url(target), headers=auth()),
                     client.get(target.url(target.module, target.record, "Attachments", target.more_attachments[0]),
                                headers=auth()),
                     upload(client, target, b"x", "a.txt")):
        assert (response.status_code, response.json["message"]) == (400, "the related id given seems to be invalid")


def test_a_range_seeks_to_its_start_under_gunicorns_file_wrapper(backend_app: Flask,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's file wrapper cannot seek: werkzeug would read and drop every byte before a range's start (of a
    file, or of PostgreSQL's parts). A ranged download takes werkzeug's own, which seeks."""
    client = backend_app.test_client()
    client.environ_base["wsgi.file_wrapper"] = FileWrapper
    content = random.Random(5).randbytes(2 * 1024 * 1024 + 3)
    base = "/crm/v8/Leads/2883756000000261075/Attachments"
    uploaded = client.post(base, headers=auth(), data={"file": (io.BytesIO(content), "two.bin")})
    url = f"{base}/{uploaded.json['data'][0]['details']['id']}"
    sought: list[tuple] = []
    seek = werkzeug.wsgi.FileWrapper.seek
    monkeypatch.setattr(werkzeug.wsgi.FileWrapper, "seek", lambda wrapper, *args: sought.append(args) or
                        seek(wrapper, *args))
    ranged = client.get(url, headers={**auth(), "Range": "bytes=2097150-"})
    assert (ranged.status_code, b"".join(ranged.response), sought) == (206, content[2097150:], [(2097150,)])
    whole = client.get(url, headers=auth())
    assert (whole.status_code, b"".join(whole.response)) == (200, content)
