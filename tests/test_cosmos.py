"""Cosmos DB attachments: master-key auth, the seeds' samples, resources, media, errors, and azure-cosmos 3.2.0."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import socket
from email.utils import formatdate
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.http.errors import InvalidChunkSize, NoMoreData
from werkzeug.exceptions import ClientDisconnected
from werkzeug.test import TestResponse

from conftest import auth
from mockzoho.app import create_app
from mockzoho.state import ZOHO_PRODUCTS
from mockzoho.cosmos.auth import payload, sign
from mockzoho.cosmos.limits import MAX_DOCUMENT_BYTES
from mockzoho.fixtures import FixtureError, load_fixtures
from servers import Server, free_port, gunicorn_command, serve_in_thread

KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
SECONDARY = "bW9ja3pvaG8tc2Vjb25kYXJ5LWtleS1mb3ItdGhlLWNvc21vcy1hY2NvdW50LTEyMzQ1Njc4OTA="
DOC = "dbs/volcanodb/colls/volcano1/docs/c3bb1fef-fcb1-56e3-0389-f88583c3ce0d"
RID_DOC = "dbs/hUwBcw==/colls/hUwBc+gfDX4=/docs/hUwBc+gfDX4DAAAAAAAAAA=="
NOW = "2030-01-01T00:00:00Z"
NOW_HTTP = "Tue, 01 Jan 2030 00:00:00 GMT"
SEEDS = Path(__file__).parent / "seeds"


def headers(method: str, resource_type: str, link: str, key: str = KEY, date: str = NOW_HTTP,
            upper_hex: bool = True, **extra: str) -> dict[str, str]:
    """What an SDK sends: x-ms-date and the url-encoded master-key token."""
    token = f"type=master&ver=1.0&sig={sign(key, payload(method, resource_type, link, date))}"
    encoded = quote(token, "-_.!~*'()")
    if not upper_hex:
        encoded = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)
    return {"x-ms-date": date, "authorization": encoded, **extra}


@pytest.fixture
def cosmos_app(tmp_path: Path) -> Flask:
    return create_app({"state": tmp_path / "state.db", "clock": NOW})


@pytest.fixture
def cosmos(cosmos_app: Flask) -> FlaskClient:
    return cosmos_app.test_client()


# -- authentication ------------------------------------------------------------------------------

def test_the_documents_test_vector() -> None:
    key = "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw=="
    text = payload("GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
    assert text == "get\ndbs\ndbs/ToDoList\nthu, 27 apr 2017 00:51:12 gmt\n\n"
    assert sign(key, text) == "c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c="


@pytest.mark.parametrize("key,upper", [(KEY, True), (KEY, False), (SECONDARY, True)])
def test_signed_requests_pass(cosmos: FlaskClient, key: str, upper: bool) -> None:
    response = cosmos.get(f"/{DOC}/attachments", headers=headers("GET", "attachments", DOC, key, upper_hex=upper))
    assert response.status_code == 200 and response.json["_count"] == 1


def test_rid_links_are_signed_in_lower_case(cosmos: FlaskClient) -> None:
    url = f"/{RID_DOC}/attachments/"
    link = "hUwBc+gfDX4DAAAAAAAAAA==".lower()
    assert cosmos.get(url, headers=headers("GET", "attachments", link)).status_code == 200
    assert cosmos.get(url, headers=headers("GET", "attachments", "hUwBc+gfDX4DAAAAAAAAAA==")).status_code == 401


@pytest.mark.parametrize("change", ["wrong-key", "wrong-verb"])
def test_bad_signatures_are_401_showing_the_payload(cosmos: FlaskClient, change: str) -> None:
    if change == "wrong-key":  # a key the account does not have
        sent = headers("GET", "attachments", DOC, key=base64.b64encode(b"wrong").decode())
    else:
        sent = headers("POST", "attachments", DOC)
    response = cosmos.get(f"/{DOC}/attachments", headers=sent)
    assert response.status_code == 401 and response.json["code"] == "Unauthorized"
    assert f"payload to sign: 'get\nattachments\n{DOC}\n{NOW_HTTP.lower()}\n\n'" in response.json["message"]


WRONG_KEY = base64.b64encode(b"wrong").decode()
MISSING = "Required Header authorization is missing"
MALFORMED = "Authorization header doesn't confirm to the required format"


@pytest.mark.parametrize("token,date,status,message", [
    # the token is checked first: missing or malformed is 401 whatever the date says
    (None, None, 401, MISSING), ("", NOW_HTTP, 401, MISSING), (None, "Mon, 31 Dec 2029 23:00:00 GMT", 401, MISSING),
    ("%%%", None, 401, MALFORMED), ("garbage", "soon", 401, MALFORMED),
    ("type=resource&ver=1.0&sig=abc", "Mon, 31 Dec 2029 23:00:00 GMT", 401, MALFORMED),
    ("type=master&ver=1.0&sig=", NOW_HTTP, 401, MALFORMED),
    # then the date, before the signature: a wrong key with a date off the clock is 403
    ("wrong-key", None, 403, "not valid at the current time"), ("wrong-key", "soon", 403, "not valid at the current"),
    ("wrong-key", "Mon, 31 Dec 2029 23:00:00 GMT", 403, "not valid at the current time"),
    # and last the signature
    ("wrong-key", NOW_HTTP, 401, "payload to sign"),
])
def test_the_order_of_the_checks(cosmos: FlaskClient, token: str | None, date: str | None, status: int,
                                 message: str) -> None:
    sent = headers("GET", "attachments", DOC, key=WRONG_KEY, date=date or NOW_HTTP)
    if token != "wrong-key":
        sent.pop("authorization")
        if token is not None:
            sent["authorization"] = token
    if date is None:
        del sent["x-ms-date"]
    response = cosmos.get(f"/{DOC}/attachments", headers=sent)
    assert (response.status_code, response.json["code"]) == (status, {401: "Unauthorized", 403: "Forbidden"}[status])
    assert message in response.json["message"]


@pytest.mark.parametrize("date", [None, "Tue, 01 Jan 2030 00:16:00 GMT", "Mon, 31 Dec 2029 23:44:00 GMT", "soon"])
def test_dates_off_the_clock_are_403(cosmos: FlaskClient, date: str | None) -> None:
    sent = headers("GET", "attachments", DOC, date=date or NOW_HTTP)
    if date is None:
        del sent["x-ms-date"]
    response = cosmos.get(f"/{DOC}/attachments", headers=sent)
    assert (response.status_code, response.json["code"]) == (403, "Forbidden")
    near = headers("GET", "attachments", DOC, date="Tue, 01 Jan 2030 00:14:00 GMT")
    assert cosmos.get(f"/{DOC}/attachments", headers=near).status_code == 200


def test_verification_is_on_unless_turned_off(tmp_path: Path) -> None:
    on = create_app({"state": tmp_path / "a.db"}).test_client()
    assert on.get("/").status_code == 401
    off = create_app({"state": tmp_path / "b.db", "cosmos_verify": False}).test_client()
    assert off.get("/").status_code == 200


# -- the seeds' samples, replayed with verification off ------------------------------------------

def sample_request(document: str) -> list[tuple[str, str, dict[str, str], bytes]]:
    """Method, path, headers and body of each sample request in a seed document."""
    text = (SEEDS / document).read_text()
    found = []
    for match in re.finditer(r"(POST|DELETE) https://contosomarketing\.documents\.azure\.com(\S+) HTTP/1\.1\s*\n"
                             r"((?:[A-Za-z-]+: .*\n)+)\s*(\{[^\n]*\}|\{[\s\S]*?\}\s*\n)?", text):
        method, path, head, body = match.groups()
        sent = dict(line.strip().split(": ", 1) for line in head.strip().splitlines())
        sent.pop("Content-Length", None)
        found.append((method, path, sent, (body or "").strip().encode()))
    return found


@pytest.fixture
def replay(tmp_path: Path) -> FlaskClient:
    return create_app({"state": tmp_path / "state.db", "cosmos_verify": False}).test_client()


def test_seed_000_delete_attachment(replay: FlaskClient) -> None:
    [(method, path, sent, _)] = sample_request("000_8650b262686c4704.txt")
    response = replay.open(path, method=method, headers=sent, base_url="https://contosomarketing.documents.azure.com")
    assert (response.status_code, response.data) == (204, b"")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Location"] == f"https://contosomarketing.documents.azure.com{path}"
    assert response.headers["x-ms-alt-content-path"] == DOC
    assert response.headers["x-ms-content-path"] == "Sl8fALN4sw4CAAAAAAAAAA=="
    assert re.fullmatch(r"0:-1#\d+", response.headers["x-ms-session-token"])
    for header in ("x-ms-request-charge", "x-ms-activity-id", "x-ms-schemaversion",
                   "x-ms-max-media-storage-usage-mb", "x-ms-media-storage-usage-mb"):
        assert response.headers[header]
    again = replay.open(path, method=method, headers=sent)
    assert (again.status_code, again.json["code"]) == (404, "NotFound")


def test_seed_001_create_attachment(replay: FlaskClient) -> None:
    [(method, path, sent, body)] = sample_request("001_f99cfb9d807748dc.txt")
    response = replay.open(path, method=method, headers=sent, data=body)
    assert response.status_code == 201
    created = response.json
    documented = json.loads(re.search(r'HTTP/1.1 201 Created[\s\S]*?(\{[\s\S]*?\})\s*```', (
        SEEDS / "001_f99cfb9d807748dc.txt").read_text()).group(1))
    assert list(created) == list(documented)
    assert {k: created[k] for k in ("id", "contentType", "media")} == {
        k: documented[k] for k in ("id", "contentType", "media")}
    assert created["_self"] == f"dbs/Sl8fAA==/colls/Sl8fALN4sw4=/docs/Sl8fALN4sw4CAAAAAAAAAA==/attachments/{created['_rid']}"
    assert base64.b64decode(created["_rid"]).startswith(base64.b64decode("Sl8fALN4sw4CAAAAAAAAAA=="))
    assert len(base64.b64decode(created["_rid"])) == 20 and isinstance(created["_ts"], int)
    assert response.headers["etag"] == created["_etag"] and re.fullmatch(r'"[0-9a-f-]{36}"', created["_etag"])
    assert replay.open(path, method=method, headers=sent, data=body).status_code == 409


def test_seed_002_raw_media_and_metadata_by_rid(replay: FlaskClient) -> None:
    samples = sample_request("002_9c55c4d0ec0931dc.txt")
    assert [p for _, p, _, _ in samples] == [f"/{RID_DOC}/attachments"] * 2
    (method, path, media_headers, _), (_, _, meta_headers, meta_body) = samples
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    created = replay.open(path, method=method, headers=media_headers, data=image)
    assert created.status_code == 201
    body = created.json
    assert (body["id"], body["contentType"]) == ("brush.png", "image/png")
    media_id = body["media"].removeprefix("/media/")
    assert len(base64.b64decode(media_id, altchars=b"+-")) == 21 and len(media_id) == 28
    media = replay.get(body["media"])
    assert (media.status_code, media.data, media.headers["Content-Type"]) == (200, image, "image/png")
    metadata = replay.open(path, method=method, headers=meta_headers, data=meta_body)
    assert (metadata.status_code, metadata.json["media"]) == (201, "www.bing.com")
    assert replay.open(path, method=method, headers=media_headers, data=image).status_code == 409  # Slug taken


# -- resources, errors and headers ---------------------------------------------------------------

def signed(client: FlaskClient, method: str, path: str, **kwargs: object):
    """A request signed as the SDKs sign it, with the type and link derived from the path."""
    parts = [p for p in path.split("/") if p]
    extra = kwargs.pop("extra", {})
    if parts and parts[0] == "media":
        raw = base64.b64decode(parts[1], altchars=b"+-")[:20]
        resource_type, link = "media", base64.b64encode(raw, altchars=b"+-").decode().lower()
    elif len(parts) % 2:
        resource_type, link = parts[-1], "/".join(parts[:-1])
    else:
        resource_type, link = (parts[-2], "/".join(parts)) if parts else ("", "")
    return client.open(path, method=method, headers=headers(method, resource_type, link, **extra), **kwargs)


def test_database_account_points_at_this_server(cosmos: FlaskClient) -> None:
    response = signed(cosmos, "GET", "/", base_url="http://127.0.0.1:8123")
    assert response.json["writableLocations"] == [{"name": "mockzoho",
                                                   "databaseAccountEndpoint": "http://127.0.0.1:8123/"}]
    assert response.json["readableLocations"] == response.json["writableLocations"]
    assert response.headers["x-ms-max-media-storage-usage-mb"] == "2048"


def test_create_read_list_replace_delete(cosmos: FlaskClient) -> None:
    assert signed(cosmos, "POST", "/dbs", json={"id": "shop"}).status_code == 201
    assert signed(cosmos, "POST", "/dbs/shop/colls", json={"id": "orders"}).status_code == 201
    doc = signed(cosmos, "POST", "/dbs/shop/colls/orders/docs", json={"id": "o1", "total": 5})
    assert doc.status_code == 201 and doc.json["total"] == 5
    upsert = signed(cosmos, "POST", "/dbs/shop/colls/orders/docs", json={"id": "o1", "total": 7},
                    extra={"x-ms-documentdb-is-upsert": "True"})
    assert (upsert.status_code, upsert.json["total"], upsert.json["_rid"]) == (200, 7, doc.json["_rid"])
    base = "/dbs/shop/colls/orders/docs/o1/attachments"
    etags = set()
    for i in range(5):
        created = signed(cosmos, "POST", base, json={"id": f"a{i}", "contentType": "text/plain", "media": "x"})
        etags.add(created.headers["etag"])
    assert len(etags) == 5
    page = signed(cosmos, "GET", base, extra={"x-ms-max-item-count": "2"})
    assert [a["id"] for a in page.json["Attachments"]] == ["a0", "a1"] and page.headers["x-ms-continuation"] == "2"
    rest = signed(cosmos, "GET", base, extra={"x-ms-max-item-count": "10", "x-ms-continuation": "2"})
    assert [a["id"] for a in rest.json["Attachments"]] == ["a2", "a3", "a4"] and "x-ms-continuation" not in rest.headers
    assert rest.json["_rid"] == doc.json["_rid"] and rest.json["_count"] == 3 and rest.headers["x-ms-item-count"] == "3"
    exact = signed(cosmos, "GET", base, extra={"x-ms-max-item-count": "3", "x-ms-continuation": "2"})
    assert exact.json["_count"] == 3 and "x-ms-continuation" not in exact.headers  # a full last page ends the feed
    middle = signed(cosmos, "GET", base, extra={"x-ms-max-item-count": "2", "x-ms-continuation": "2"})
    assert [a["id"] for a in middle.json["Attachments"]] == ["a2", "a3"] and middle.headers["x-ms-continuation"] == "4"
    item = signed(cosmos, "GET", f"{base}/a0/")
    stale = signed(cosmos, "PUT", f"{base}/a0", json={"id": "a0", "contentType": "image/png", "media": "y"},
                   extra={"If-Match": '"00000000-0000-0000-0000-000000000000"'})
    assert (stale.status_code, stale.json["code"]) == (412, "PreconditionFailed")
    fresh = signed(cosmos, "PUT", f"{base}/a0", json={"id": "a0", "contentType": "image/png", "media": "y"},
                   extra={"If-Match": item.json["_etag"]})
    assert fresh.status_code == 200 and fresh.json["_etag"] != item.json["_etag"] and fresh.json["media"] == "y"
    assert signed(cosmos, "DELETE", f"{base}/a0").status_code == 204
    assert signed(cosmos, "GET", f"{base}/a0").status_code == 404
    assert signed(cosmos, "DELETE", "/dbs/shop").status_code == 204
    assert signed(cosmos, "GET", "/dbs/shop/colls/orders/docs/o1").status_code == 404


@pytest.mark.parametrize("body,problem", [
    (b"{not json", "not valid JSON"), (b"[1, 2]", "a JSON object"), (b'{"contentType": "x"}', "'id; '"),
    (json.dumps({"id": "a" * 256}).encode(), "at most 255"), (json.dumps({"id": "a/b"}).encode(), "no '/'"),
    (json.dumps({"id": "a#b"}).encode(), "no '/'"),
])
def test_bad_bodies_are_400(cosmos: FlaskClient, body: bytes, problem: str) -> None:
    response = signed(cosmos, "POST", f"/{DOC}/attachments", data=body, content_type="application/json")
    assert (response.status_code, response.json["code"]) == (400, "BadRequest") and problem in response.json["message"]


def test_an_id_with_a_nul_is_refused_and_names_nothing(backend_app: Flask) -> None:
    """On both databases: PostgreSQL's text cannot hold NUL (it would be kept as U+FFFD), so no id may hold one,
    and a link naming one finds nothing, not the resource whose id holds U+FFFD there."""
    client = backend_app.test_client()
    assert client.put("/__admin/clock", json={"now": NOW, "frozen": True}).status_code == 200
    attachments = f"/{DOC}/attachments"
    for made in ("a\0b", "\0"):
        refused = signed(client, "POST", attachments, json={"id": made, "contentType": "x/y", "media": "m"})
        assert (refused.status_code, refused.json["code"]) == (400, "BadRequest") and "NUL" in refused.json["message"]
    kept = signed(client, "POST", attachments, json={"id": "a\ufffdb", "contentType": "x/y", "media": "m"})
    assert kept.status_code == 201, kept.json
    assert signed(client, "GET", f"{attachments}/a\ufffdb").json["id"] == "a\ufffdb"
    assert signed(client, "GET", f"{attachments}/a\0b").status_code == 404
    assert signed(client, "DELETE", f"{attachments}/a\0b").status_code == 404
    assert signed(client, "GET", f"{attachments}/a\ufffdb").status_code == 200  # still there


def test_paths_tolerate_doubled_and_trailing_slashes(cosmos: FlaskClient) -> None:
    link = DOC
    response = cosmos.get("/", environ_overrides={"PATH_INFO": f"//{DOC.replace('/', '//')}//attachments/"},
                          headers=headers("GET", "attachments", link))
    assert response.status_code == 200 and response.json["_count"] == 1


def media_account(tmp_path: Path, max_media_bytes: int) -> FlaskClient:
    """An app whose one Cosmos DB account takes media of up to `max_media_bytes` each, and 1 MB in all."""
    (tmp_path / "f.yaml").write_text(f"""
cosmos:
  accounts:
    - name: small
      max_media_bytes: {max_media_bytes}
      media_quota_mb: 1
      databases: [{{id: d, collections: [{{id: c, documents: [{{id: x}}]}}]}}]
""")
    return create_app({"state": tmp_path / "s.db", "fixtures": tmp_path, "clock": NOW}).test_client()


def test_media_limits(tmp_path: Path) -> None:
    client = media_account(tmp_path, 100)
    path = "/dbs/d/colls/c/docs/x/attachments"
    ok = signed(client, "POST", path, data=b"a" * 100, content_type="application/pdf", extra={"Slug": "ok.pdf"})
    assert ok.status_code == 201
    big = signed(client, "POST", path, data=b"a" * 101, content_type="application/pdf", extra={"Slug": "big.pdf"})
    assert (big.status_code, big.json["code"]) == (413, "RequestEntityTooLarge")
    replaced = signed(client, "PUT", ok.json["media"], data=b"b" * 50, content_type="text/plain")
    assert replaced.status_code == 200
    media = signed(client, "GET", ok.json["media"])
    assert (media.data, media.headers["Content-Type"]) == (b"b" * 50, "text/plain")
    assert signed(client, "DELETE", f"{path}/ok.pdf").status_code == 204
    assert signed(client, "GET", ok.json["media"]).status_code == 404


def test_media_replaced_counts_once_against_the_quota(tmp_path: Path) -> None:
    """The quota counts the media an account keeps: bytes that replace an attachment's own are weighed without
    the bytes they replace, whether by a media PUT or an upsert."""
    client = media_account(tmp_path, 1024 * 1024)
    path, size = "/dbs/d/colls/c/docs/x/attachments", 700 * 1024
    first = signed(client, "POST", path, data=b"a" * size, content_type="application/pdf", extra={"Slug": "a.pdf"})
    assert first.status_code == 201
    assert signed(client, "PUT", first.json["media"], data=b"b" * size, content_type="text/plain").status_code == 200
    upsert = signed(client, "POST", path, data=b"c" * size, content_type="application/pdf",
                    extra={"Slug": "a.pdf", "x-ms-documentdb-is-upsert": "true"})
    assert upsert.status_code == 200
    other = signed(client, "POST", path, data=b"d" * size, content_type="application/pdf", extra={"Slug": "b.pdf"})
    assert (other.status_code, other.json["code"]) == (413, "RequestEntityTooLarge")  # 1400 KiB kept: over 1 MB


def test_activity_id_is_echoed(cosmos: FlaskClient) -> None:
    ok = signed(cosmos, "GET", f"/{DOC}/attachments", extra={"x-ms-activity-id": "abc-123"})
    missing = signed(cosmos, "GET", f"/{DOC}/attachments/nope", extra={"x-ms-activity-id": "abc-456"})
    assert ok.headers["x-ms-activity-id"] == "abc-123" and missing.headers["x-ms-activity-id"] == "abc-456"
    assert missing.json["message"].endswith("ActivityId: abc-456")
    # An error's body is ASCII, whatever the request echoed into it: other characters are escaped.
    accented = signed(cosmos, "GET", f"/{DOC}/attachments/nope", extra={"x-ms-activity-id": "caf\u00e9"})
    assert accented.data.endswith(b'ActivityId: caf\\u00e9"}') and accented.data.isascii()


def test_reset_journal_and_faults_cover_cosmos(cosmos: FlaskClient) -> None:
    assert signed(cosmos, "DELETE", f"/{DOC}/attachments/image_id_2").status_code == 204
    [entry] = cosmos.get("/__admin/requests?path=/dbs/*").json["requests"]
    assert (entry["product"], entry["status"], entry["method"]) == ("cosmos", 204, "DELETE")
    assert cosmos.post("/__admin/reset", json={"org": "zylker-us"}).status_code == 200
    assert signed(cosmos, "GET", f"/{DOC}/attachments/image_id_2").status_code == 404  # Cosmos DB is of no org
    cosmos.post("/__admin/reset", json={})
    assert signed(cosmos, "GET", f"/{DOC}/attachments/image_id_2").status_code == 200
    fault = cosmos.post("/__admin/faults", json={"match": {"product": "cosmos"}, "respond": {"code": "TooManyRequests"},
                                                 "times": 1})
    assert fault.status_code == 201
    throttled = signed(cosmos, "GET", f"/{DOC}/attachments")
    assert (throttled.status_code, throttled.json["code"]) == (429, "TooManyRequests")
    assert throttled.headers["x-ms-retry-after-ms"]
    assert cosmos.post("/__admin/faults", json={"match": {"product": "crm"}, "respond": {"code": "TooManyRequests"}}
                       ).status_code == 400


def test_unknown_methods_and_paths(cosmos: FlaskClient) -> None:
    assert signed(cosmos, "PATCH", "/dbs").json["code"] == "MethodNotAllowed"
    assert signed(cosmos, "GET", "/dbs/volcanodb/tables").json["code"] == "NotFound"
    assert signed(cosmos, "GET", "/media/!!!").json["code"] == "NotFound"


# -- azure-cosmos 3.2.0, unchanged -----------------------------------------------------------------

def test_azure_cosmos_client(tmp_path: Path) -> None:
    import azure.cosmos.cosmos_client as cosmos_client
    import azure.cosmos.documents as documents
    import azure.cosmos.errors as errors

    app = create_app({"state": tmp_path / "s.db"})
    with serve_in_thread(app) as url:
        policy = documents.ConnectionPolicy()
        policy.MediaReadMode = documents.MediaReadMode.Streamed  # bytes that are not UTF-8 come back as they are
        client = cosmos_client.CosmosClient(url, {"masterKey": KEY}, policy)
        database = client.CreateDatabase({"id": "sdkdb"})
        container = client.CreateContainer(database["_self"], {"id": "things"})
        item = client.CreateItem(container["_self"], {"id": "thing-1", "colour": "red"})
        linked = client.CreateAttachment(item["_self"], {"id": "link", "contentType": "text/html",
                                                         "media": "https://www.example.com"})
        payload_bytes = bytes(range(256)) * 4
        managed = client.CreateAttachmentAndUploadMedia(item["_self"], io.BytesIO(payload_bytes),
                                                        {"slug": "blob.bin", "contentType": "application/octet-stream"})
        assert hashlib.sha256(client.ReadMedia(managed["media"]).read()).digest() == \
            hashlib.sha256(payload_bytes).digest()
        assert sorted(a["id"] for a in client.ReadAttachments(item["_self"])) == ["blob.bin", "link"]
        with pytest.raises(errors.HTTPFailure) as stale:
            client.ReplaceAttachment(linked["_self"], {"id": "link", "contentType": "text/plain", "media": "x"},
                                     {"accessCondition": {"type": "IfMatch", "condition": '"stale"'}})
        assert stale.value.status_code == 412
        client.DeleteAttachment(linked["_self"])
        with pytest.raises(errors.HTTPFailure) as gone:
            client.DeleteAttachment(linked["_self"])
        assert gone.value.status_code == 404
        with pytest.raises(errors.HTTPFailure) as refused:
            cosmos_client.CosmosClient(url, {"masterKey": base64.b64encode(b"not the key").decode()}).ReadDatabase(
                "dbs/sdkdb")
        assert refused.value.status_code == 401
        assert client.ReadAttachment(managed["_self"])["contentType"] == "application/octet-stream"
        assert hmac.compare_digest(client.ReadItem(item["_self"])["colour"], "red")


def test_real_clock_dates_work(tmp_path: Path) -> None:
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    now = formatdate(usegmt=True)
    assert client.get(f"/{DOC}/attachments", headers=headers("GET", "attachments", DOC, date=now)).status_code == 200


# -- found in review -----------------------------------------------------------------------------

def test_names_beyond_latin1(cosmos: FlaskClient) -> None:
    assert signed(cosmos, "POST", "/dbs/volcanodb/colls/volcano1/docs", json={"id": "文档"}).status_code == 201
    created = signed(cosmos, "POST", "/dbs/volcanodb/colls/volcano1/docs/文档/attachments",
                     json={"id": "附件", "contentType": "text/plain", "media": "x"})
    assert created.status_code == 201
    assert created.headers["x-ms-alt-content-path"] == "dbs/volcanodb/colls/volcano1/docs/%E6%96%87%E6%A1%A3"
    listing = signed(cosmos, "GET", "/dbs/volcanodb/colls/volcano1/docs/文档/attachments")
    assert listing.status_code == 200 and listing.json["Attachments"][0]["id"] == "附件"


def test_refused_slug_stores_nothing(cosmos_app: Flask, cosmos: FlaskClient) -> None:
    response = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"x" * 1000, content_type="image/png",
                      extra={"Slug": "a/b"})
    assert response.status_code == 400
    assert not list(cosmos_app.extensions["mockzoho"].store.blobs.rglob(".upload-*"))


@pytest.mark.parametrize("body", [b'{"id": "n1", "x": NaN}', b'{"id": "n2", "x": 1e400}', b"[" * 100_000])
def test_what_is_not_json_is_400(cosmos: FlaskClient, body: bytes) -> None:
    response = signed(cosmos, "POST", "/dbs/volcanodb/colls/volcano1/docs", data=body, content_type="application/json")
    assert (response.status_code, response.json["code"]) == (400, "BadRequest")


def test_every_answer_has_the_common_headers(cosmos: FlaskClient) -> None:
    created = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"bytes", content_type="text/plain",
                     extra={"Slug": "m.txt"})
    for response in (signed(cosmos, "GET", f"/{DOC}/attachments/nope"), signed(cosmos, "GET", created.json["media"]),
                     cosmos.get(f"/{DOC}/attachments")):
        for header in ("x-ms-activity-id", "x-ms-request-charge", "x-ms-session-token", "x-ms-schemaversion",
                       "x-ms-max-media-storage-usage-mb", "x-ms-media-storage-usage-mb"):
            assert response.headers.get(header), (response.status_code, header)
        assert "Content-Disposition" not in response.headers


def test_media_put_keeps_the_type_and_if_match_is_checked(cosmos: FlaskClient) -> None:
    created = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"one", content_type="text/plain",
                     extra={"Slug": "m.txt"}).json
    stale = signed(cosmos, "PUT", created["media"], data=b"two", content_type="image/x",
                   extra={"If-Match": '"stale"'})
    assert stale.status_code == 412
    put = signed(cosmos, "PUT", created["media"], data=b"two", content_type="image/x",
                 extra={"If-Match": created["_etag"]})
    assert put.json["contentType"] == "image/x"
    assert signed(cosmos, "GET", f"/{DOC}/attachments/m.txt").json["contentType"] == "image/x"
    assert signed(cosmos, "DELETE", f"/{DOC}/attachments/m.txt", extra={"If-Match": '"stale"'}).status_code == 412
    assert signed(cosmos, "DELETE", f"/{DOC}/attachments/m.txt", extra={"If-Match": put.json["_etag"]}).status_code == 204


def test_media_whose_file_went_meanwhile_is_not_found(cosmos_app: Flask, cosmos: FlaskClient) -> None:
    """A blob unlinked between the lookup and the read (a concurrent delete) is 404, not a 500."""
    created = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"gone soon", content_type="text/plain",
                     extra={"Slug": "g.txt"}).json
    assert signed(cosmos, "GET", created["media"]).data == b"gone soon"
    cosmos_app.extensions["mockzoho"].store.db.blob_path(hashlib.sha256(b"gone soon").hexdigest()).unlink()
    missing = signed(cosmos, "GET", created["media"])
    assert (missing.status_code, missing.json["code"]) == (404, "NotFound")


def test_a_raw_429_fault_carries_the_retry_header(cosmos: FlaskClient) -> None:
    cosmos.post("/__admin/faults", json={"match": {"product": "cosmos"}, "times": 1,
                                         "respond": {"status": 429, "body": {"code": "TooManyRequests"}}})
    response = signed(cosmos, "GET", f"/{DOC}/attachments")
    assert response.status_code == 429 and response.headers["x-ms-retry-after-ms"]


def test_fixture_resources_have_their_own_etags(cosmos: FlaskClient) -> None:
    etags = {signed(cosmos, "GET", path).json["_etag"] for path in (
        "/dbs/volcanodb", "/dbs/volcanodb/colls/volcano1", f"/{DOC}", f"/{DOC}/attachments/image_id_2")}
    assert len(etags) == 4


# -- hostile input: never a 5xx, never a change -------------------------------------------------

@pytest.mark.parametrize("feed", [f"/{DOC}/attachments", "/dbs"])
@pytest.mark.parametrize("name,value", [
    ("x-ms-max-item-count", "9223372036854775807"), ("x-ms-max-item-count", "99999999999999999999"),
    ("x-ms-max-item-count", "-2147483649"), ("x-ms-max-item-count", "ten"), ("x-ms-continuation", "-1"),
    ("x-ms-continuation", "2147483648"), ("x-ms-continuation", "100000000000000000000"),
])
def test_feed_numbers_beyond_32_bits_are_400(cosmos: FlaskClient, feed: str, name: str, value: str) -> None:
    response = signed(cosmos, "GET", feed, extra={name: value})
    assert (response.status_code, response.json["code"]) == (400, "BadRequest") and name in response.json["message"]


def test_feed_numbers_at_the_32_bit_bounds(cosmos: FlaskClient) -> None:
    feed = f"/{DOC}/attachments"
    for limit in ("2147483647", "-1", "-2147483648"):
        everything = signed(cosmos, "GET", feed, extra={"x-ms-max-item-count": limit})
        assert everything.json["_count"] == 1 and "x-ms-continuation" not in everything.headers
    past_the_end = signed(cosmos, "GET", feed, extra={"x-ms-continuation": "2147483647"})
    assert (past_the_end.status_code, past_the_end.json["_count"]) == (200, 0)


@pytest.mark.parametrize("host,url", [("[::1]", "http://[::1]"), ("[::1]:8000", "http://[::1]:8000"),
                                      ("", "http://localhost"), ("junk host!", "http://localhost"),
                                      ("[::1", "http://localhost"), ("h:99999", "http://localhost")])
def test_every_host_gets_urls_that_work(cosmos: FlaskClient, host: str, url: str) -> None:
    account = signed(cosmos, "GET", "/", extra={"Host": host})
    assert account.status_code == 200
    assert account.json["writableLocations"][0]["databaseAccountEndpoint"] == f"{url}/"
    assert account.headers["Content-Location"] == f"{url}/"
    feed = signed(cosmos, "GET", f"/{DOC}/attachments", extra={"Host": host})
    assert (feed.status_code, feed.headers["Content-Location"]) == (200, f"{url}/{DOC}/attachments")


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example"])
def test_hosts_idna_refuses_are_400(cosmos: FlaskClient, host: str) -> None:
    for path in ("/", f"/{DOC}/attachments"):
        response = signed(cosmos, "GET", path, extra={"Host": host})
        assert (response.status_code, response.json["code"]) == (400, "BadRequest")


class BrokenStream(io.RawIOBase):
    """A request body that breaks after its first bytes, raising what a server's stream raises."""

    def __init__(self, error: Exception) -> None:
        self.error, self.sent = error, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:
        if self.sent:
            raise self.error
        self.sent = True
        buffer[:3] = b"abc"
        return 3


def state_of(client: FlaskClient) -> tuple[str, list[str]]:
    """What a refused request must leave as it was: the write counter and the seed document's attachments."""
    listing = signed(client, "GET", f"/{DOC}/attachments")
    return listing.headers["x-ms-session-token"], [a["id"] for a in listing.json["Attachments"]]


@pytest.mark.parametrize("error", [InvalidChunkSize(b"zz"), NoMoreData(), OSError("reset"), ValueError("closed"),
                                   ClientDisconnected()])
@pytest.mark.parametrize("method,path,content_type", [
    ("POST", f"/{DOC}/attachments", "image/png"), ("POST", f"/{DOC}/attachments", "application/json"),
    ("PUT", "/media/new", "image/png")])
def test_a_body_that_breaks_is_400_and_changes_nothing(cosmos_app: Flask, cosmos: FlaskClient, error: Exception,
                                                       method: str, path: str, content_type: str) -> None:
    if path == "/media/new":
        path = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"one", content_type="text/plain",
                      extra={"Slug": "m.txt"}).json["media"]
    before = state_of(cosmos)
    response = signed(cosmos, method, path, content_type=content_type,
                      extra={"Slug": "broken.png", "Transfer-Encoding": "chunked"},
                      environ_overrides={"wsgi.input": BrokenStream(error), "wsgi.input_terminated": True})
    assert (response.status_code, response.json["code"]) == (400, "BadRequest")
    assert "could not be read" in response.json["message"]
    assert state_of(cosmos) == before
    assert not list(cosmos_app.extensions["mockzoho"].store.blobs.rglob(".upload-*"))


def _cosmos_upload(client: FlaskClient) -> TestResponse:
    return signed(client, "POST", f"/{DOC}/attachments", data=b"placed, then rolled back", content_type="image/png",
                  extra={"Slug": "failed.png"})


def _zoho_upload(client: FlaskClient) -> TestResponse:
    return client.post("/crm/v8/Leads/2883756000000261101/Attachments", headers=auth(),
                       data={"file": (io.BytesIO(b"placed, then rolled back"), "failed.txt")})


@pytest.mark.parametrize(("upload", "step"), [(_cosmos_upload, "_new_rid"), (_zoho_upload, "_next_id")])
def test_a_write_that_fails_after_placing_its_blob_leaves_no_file(
        cosmos_app: Flask, cosmos: FlaskClient, monkeypatch: pytest.MonkeyPatch,
        upload: Callable[[FlaskClient], TestResponse], step: str) -> None:
    """Cosmos DB media and Zoho uploads place a staged blob by one rule: a transaction that fails once the blob
    is placed takes the blob it made with it (a crash would leave it to the sweep), and the staging file goes."""
    store = cosmos_app.extensions["mockzoho"].store
    files = {path for path in store.blobs.rglob("*") if path.is_file()}

    def broken(*args: object) -> None:
        raise RuntimeError("a write that fails")

    monkeypatch.setattr(store, step, broken)
    assert upload(cosmos).status_code == 500
    assert {path for path in store.blobs.rglob("*") if path.is_file()} == files


@pytest.fixture(scope="module")
def gunicorn_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Dockerfile's gunicorn on a fresh state with the clock at NOW, for what only raw sockets can send."""
    port, state = free_port(), tmp_path_factory.mktemp("gunicorn") / "state.db"
    with Server(gunicorn_command(port, workers=1), port, env={"MOCKZOHO_STATE": str(state),
                                                              "MOCKZOHO_CLOCK": NOW}) as server:
        yield server.url


def raw_request(url: str, method: str, path: str, sent: dict[str, str], body: bytes = b"") -> tuple[int, dict]:
    """Send bytes as they are (werkzeug's client cannot send a broken chunked body); the status and JSON body."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": host, **sent, "Connection": "close"}.items())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode("latin-1") + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2] or b"{}")


@pytest.mark.parametrize("content_type", ["image/png", "application/json"])
def test_a_malformed_chunked_body_over_the_wire_is_400(gunicorn_url: str, content_type: str) -> None:
    feed = f"/{DOC}/attachments"
    sent = {**headers("POST", "attachments", DOC), "Content-Type": content_type, "Slug": "chunked.png",
            "Transfer-Encoding": "chunked"}
    status, body = raw_request(gunicorn_url, "POST", feed, sent, b"zz\r\nabc\r\n0\r\n\r\n")
    assert (status, body["code"]) == (400, "BadRequest")
    status, listing = raw_request(gunicorn_url, "GET", feed, headers("GET", "attachments", DOC))
    assert (status, [a["id"] for a in listing["Attachments"]]) == (200, ["image_id_2"])


@pytest.mark.parametrize("content_type", ["junt/test", "image", "image/", "/png", "a/b/c", "image/ png",
                                          "x-custom/thing", "text/plain/extra; charset=utf-8"])
def test_uploads_that_name_no_media_type_are_400(cosmos_app: Flask, cosmos: FlaskClient, content_type: str) -> None:
    before = state_of(cosmos)
    created = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"bytes", content_type=content_type,
                     extra={"Slug": "typed.bin"})
    assert (created.status_code, created.json["code"]) == (400, "BadRequest") and "media type" in created.json["message"]
    assert state_of(cosmos) == before
    media = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"one", content_type="text/plain",
                   extra={"Slug": "m.txt"}).json["media"]
    replaced = signed(cosmos, "PUT", media, data=b"two", content_type=content_type)
    assert (replaced.status_code, replaced.json["code"]) == (400, "BadRequest")
    assert signed(cosmos, "GET", media).data == b"one"
    assert not list(cosmos_app.extensions["mockzoho"].store.blobs.rglob(".upload-*"))


@pytest.mark.parametrize("content_type", ["application/text", "Image/PNG", "application/vnd.ms-excel",
                                          "text/plain; charset=utf-8", "model/gltf+json", "font/woff2"])
def test_uploads_of_registered_top_level_types_pass(cosmos: FlaskClient, content_type: str) -> None:
    created = signed(cosmos, "POST", f"/{DOC}/attachments", data=b"bytes", content_type=content_type,
                     extra={"Slug": "typed.bin"})
    assert (created.status_code, created.json["contentType"]) == (201, content_type)
    assert signed(cosmos, "PUT", created.json["media"], data=b"two", content_type=content_type).status_code == 200


def test_azure_cosmos_refuses_junt_test_as_its_suite_expects(tmp_path: Path) -> None:
    import azure.cosmos.cosmos_client as cosmos_client
    import azure.cosmos.errors as errors

    with serve_in_thread(create_app({"state": tmp_path / "s.db"})) as url:
        client = cosmos_client.CosmosClient(url, {"masterKey": KEY})
        with pytest.raises(errors.HTTPFailure) as refused:
            client.CreateAttachmentAndUploadMedia(DOC, io.BytesIO(b"first chunk"),
                                                  {"slug": "attachment name", "contentType": "junt/test"})
        assert refused.value.status_code == 400 and '"code":"BadRequest"' in refused.value._http_error_message
        valid = client.CreateAttachmentAndUploadMedia(DOC, io.BytesIO(b"first chunk"),
                                                      {"slug": "attachment id", "contentType": "application/text"})
        assert valid["contentType"] == "application/text"


def test_azure_cosmos_without_a_key_gets_401_as_its_suite_expects(tmp_path: Path) -> None:
    import azure.cosmos.cosmos_client as cosmos_client
    import azure.cosmos.errors as errors

    with serve_in_thread(create_app({"state": tmp_path / "s.db"})) as url:
        with pytest.raises(errors.HTTPFailure) as refused:
            list(cosmos_client.CosmosClient(url, {}).ReadDatabases())
        assert refused.value.status_code == 401 and MISSING in refused.value._http_error_message


def padded(size: int, **fields: object) -> bytes:
    """A JSON document of exactly `size` bytes, compact, padded in a `pad` string."""
    bare = json.dumps({**fields, "pad": ""}, separators=(",", ":")).encode()
    return json.dumps({**fields, "pad": "x" * (size - len(bare))}, separators=(",", ":")).encode()


@pytest.mark.parametrize("path", ["/dbs/volcanodb/colls/volcano1/docs", f"/{DOC}/attachments"])
def test_documents_are_held_to_2_mb(cosmos: FlaskClient, path: str) -> None:
    extra = {"contentType": "text/plain", "media": "x"} if path.endswith("attachments") else {}
    before = state_of(cosmos)
    over = signed(cosmos, "POST", path, data=padded(MAX_DOCUMENT_BYTES + 1, id="big", **extra),
                  content_type="application/json")
    assert (over.status_code, over.json["code"]) == (413, "RequestEntityTooLarge")
    # a body within 2 MB whose document is not: 1e5 is served as 100000.0
    numbers = json.dumps({"id": "long", "v": [1e5] * (MAX_DOCUMENT_BYTES // 5)}, separators=(",", ":"))
    numbers = numbers.replace("100000.0", "1e5").encode()
    assert len(numbers) < MAX_DOCUMENT_BYTES
    served_longer = signed(cosmos, "POST", path, data=numbers, content_type="application/json")
    assert (served_longer.status_code, served_longer.json["code"]) == (413, "RequestEntityTooLarge")
    assert "maximum allowable document size is 2 MB" in served_longer.json["message"]
    assert state_of(cosmos) == before
    exact = signed(cosmos, "POST", path, data=padded(MAX_DOCUMENT_BYTES, id="max", **extra),
                   content_type="application/json")
    assert exact.status_code == 201
    replaced = signed(cosmos, "PUT", f"{path}/max", data=numbers.replace(b'"long"', b'"max"'),
                      content_type="application/json")
    assert (replaced.status_code, replaced.json["code"]) == (413, "RequestEntityTooLarge")


@pytest.mark.parametrize("body", [b'{"id": "\\ud800"}', b'{"id": "v", "v": "\\udfff"}', b'{"id": "k", "\\udfff": 1}'])
def test_lone_surrogates_are_400_and_stored_nowhere(cosmos: FlaskClient, body: bytes) -> None:
    before = signed(cosmos, "GET", "/dbs").json["Databases"]
    response = signed(cosmos, "POST", "/dbs", data=body, content_type="application/json")
    assert (response.status_code, response.json["code"]) == (400, "BadRequest") and "surrogate" in response.json["message"]
    listing = signed(cosmos, "GET", "/dbs")  # a stored one could never be served again
    assert (listing.status_code, listing.json["Databases"]) == (200, before)


def test_fixture_documents_are_json_within_2_mb(tmp_path: Path) -> None:
    big = "x" * MAX_DOCUMENT_BYTES
    (tmp_path / "f.yaml").write_text(f"""
cosmos:
  accounts:
    - name: limits
      databases:
        - id: d
          collections:
            - id: c
              documents:
                - {{id: big, properties: {{pad: {big}}}}}
                - {{id: nan, properties: {{n: .nan}}}}
                - id: fine
                  properties: {{pad: {"x" * (MAX_DOCUMENT_BYTES - 100)}}}
                  attachments: [{{id: a, media: m, properties: {{pad: {big}}}}}]
""")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path, ZOHO_PRODUCTS)
    at = f"{tmp_path / 'f.yaml'}: cosmos.accounts.0.databases.0.collections.0.documents"
    over = "over Cosmos DB's 2 MB document limit (2097152 bytes)"
    document = len(json.dumps({"id": "big", "pad": big}, separators=(",", ":")))
    attachment = len(json.dumps({"id": "a", "contentType": "application/octet-stream", "pad": big, "media": "m"},
                                separators=(",", ":")))
    assert caught.value.problems == [
        f"{at}.0.properties: the document has {document} bytes, {over}",
        f"{at}.1.properties: must be JSON: Out of range float values are not JSON compliant",
        f"{at}.2.attachments.0.properties: the document has {attachment} bytes, {over}",
    ]


def test_a_content_length_beyond_64_bits_is_no_500(cosmos: FlaskClient) -> None:
    response = signed(cosmos, "POST", "/dbs", content_type="application/json",
                      environ_overrides={"CONTENT_LENGTH": "99999999999999999999"})
    assert (response.status_code, response.json["code"]) == (413, "RequestEntityTooLarge")
    [entry] = cosmos.get("/__admin/requests?path=/dbs").json["requests"]
    assert entry["body_size"] == 2**63 - 1


def test_fixture_media_quota_fits_sqlite(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("cosmos: {accounts: [{name: huge, media_quota_mb: 99999999999999999999}]}\n")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path, ZOHO_PRODUCTS)
    [problem] = caught.value.problems
    assert problem.startswith(f"{tmp_path / 'f.yaml'}: cosmos.accounts.0.media_quota_mb: ") and "1099511627776" in problem


@pytest.mark.parametrize("host,endpoint", [("[::1]", "http://[::1]/"), ("[::1]:8000", "http://[::1]:8000/")])
def test_an_ipv6_host_over_the_wire(gunicorn_url: str, host: str, endpoint: str) -> None:
    status, account = raw_request(gunicorn_url, "GET", "/", {**headers("GET", "", ""), "Host": host})
    assert (status, account["writableLocations"][0]["databaseAccountEndpoint"]) == (200, endpoint)


def test_media_of_exactly_the_largest_size_is_taken_over_the_wire(gunicorn_url: str) -> None:
    """Under gunicorn werkzeug bounded the body by the cap, not by its Content-Length, and refused one byte
    more read than there was: a body of exactly max_media_bytes (2 MiB) was a 413."""
    body = b"m" * (2 * 1024 * 1024)
    sent = {**headers("POST", "attachments", DOC), "Content-Type": "image/png", "Slug": "exact.png",
            "Content-Length": str(len(body))}
    status, created = raw_request(gunicorn_url, "POST", f"/{DOC}/attachments", sent, body)
    assert (status, created["id"]) == (201, "exact.png")
    sent["Content-Length"], sent["Slug"] = str(len(body) + 1), "over.png"
    # Refused on the declared length alone: no body is sent, which the server would not read (and a reset
    # for unread bytes could swallow its answer).
    status, refused = raw_request(gunicorn_url, "POST", f"/{DOC}/attachments", sent)
    assert (status, refused["code"]) == (413, "RequestEntityTooLarge")
