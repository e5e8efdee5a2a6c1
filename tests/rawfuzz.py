"""A raw-socket fuzzer for a running mockzoho: seeded hostile HTTP/1.1 requests to every family of URLs,
each answer classified (status, JSON or not, no answer), worker restarts watched.

    python tests/rawfuzz.py --url http://127.0.0.1:8000 --requests 50000 --seed 1 [--workers-pid-of MASTERPID]

werkzeug's test client never sends these bytes (framing lies, raw non-UTF-8 bytes, junk request lines), so
this talks to a real gunicorn over plain sockets. Standard library only: it runs outside the venv too.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import random
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import quote, urlencode, urlsplit

SEED_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"
FIXTURE_TOKENS = (SEED_TOKEN, "1000.mock.no-attachments-scope", "1000.mock.bigin-modules-all", "1000.mock.read-only",
                  "1000.mock.no-permission", "1000.mock.no-privilege")
FAILING_TOKENS = ("1000.mock.expired", "1000.mock.revoked", "1000.mock.eu", "1000.nope", "", "x" * 300)
REFRESH_TOKENS = ("1000.mock.refresh.full", "1000.mock.refresh.no-attachments-scope")
CLIENT, SECRET = "1000.MOCKZOHOCLIENT", "mockzoho-secret"
COSMOS_KEYS = ("C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==",
               "bW9ja3pvaG8tc2Vjb25kYXJ5LWtleS1mb3ItdGhlLWNvc21vcy1hY2NvdW50LTEyMzQ1Njc4OTA=")
WRONG_KEY = base64.b64encode(b"not the key of this account").decode()
SEED_DOC = "dbs/volcanodb/colls/volcano1/docs/c3bb1fef-fcb1-56e3-0389-f88583c3ce0d"
USER = "2883756000000113001"
# A path no generated request ever has: faults the fuzz registers match only it, so they never fire.
FAULT_PATH = "/crm/v2/RawfuzzNeverRequested/*"

# What every numeric parameter and header gets: huge, negative, non-numeric, and what int() accepts oddly.
NUMBERS = ("100000000000000000000", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "-1",
           "0", "1", "2", "200", "201", "1e3", "1.5", "NaN", "inf", "abc", "", " 1", "+1", "1_0", "0x10",
           "\u0661\u0662", "\uff10", "9" * 40)
JSON_NUMBERS = ("100000000000000000000", "9223372036854775807", "-9223372036854775809", "-1", "0", "1", "1e308",
                "1e999", "-1e999", "1.5", "NaN", "Infinity", "\"5\"", "true", "null", "[]", "9" * 400)
RECORDS = {
    "crm": {"Leads": {"2883756000000261075": ("2883756000000261017", "2883756000000261018",
                                              "2883756000000261019", "2883756000000261020"),
                      "2883756000000261099": ("2883756000000261091",), "2883756000000261101": (),
                      "2883756000000261102": (), "2883756000000261103": ()},
            "Contacts": {"2883756000000270001": ("2883756000000270011",)}},
    "bigin": {"Pipelines": {"2034020000000489124": ("2034020000000711008", "2034020000000711009",
                                                    "2034020000000711010"),
                            "2034020000000489199": ("2034020000000711091",), "2034020000000489201": (),
                            "2034020000000489202": ()},
              "Contacts": {"2034020000000490001": ("2034020000000490011",)}},
}
VERSIONS = {"crm": ("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"), "bigin": ("v1", "v2")}
JUNK_SEGMENTS = ("0", "-1", "100000000000000000000", "abc", "%00", "%ff", "%2F", "..", "", "\u0661\u0662",
                 "9223372036854775808", "Le%C3%A9ads", "leads", "Deals")
HOSTS = (b"[::1]", b"[::1]:8000", b"[::1", b"::1", b"[fe80::1%25eth0]:80", b"[::ffff:127.0.0.1]", b"a:b:c",
         b"", b"www.zohoapis.eu", b"www.zohoapis.com.au:443", b"contosomarketing.documents.azure.com",
         b"localhost:100000000000000000000", b"h\xe9st", b"bad host", b"x" * 300, b"127.0.0.1:-1")
AUTH_BYTES = (b"Basic \xe9", b"Zoho-oauthtoken \xff\xfe\xfd", b"Bearer \xc3(", b"\xe9", b"Basic",
              b"Basic " + base64.b64encode(b"\xe9:\xff"), b"Basic !!!", b"Basic " + base64.b64encode(b"user"),
              b"Digest \xe9\xe9", b"Zoho-oauthtoken", b"Zoho-oauthtoken  " + SEED_TOKEN.encode(),
              b"zoho-oauthtoken " + SEED_TOKEN.encode(), b"Basic =", b"Bearer " + b"\x80" * 40)
VERSIONS_JUNK = (b"HTTP/1.0", b"HTTP/0.9", b"HTTP/2.0", b"HTTP/1.10", b"HTTP/9.9", b"HTTPS/1.1", b"http/1.1",
                 b"HTTP/1.1x", b"", b"HTTP/1.1 extra", b"HTTP/\xe9", b"HTTP/01.1")
CHUNK_SIZES = (b"zz", b"-1", b"100000000000000000000", b"ffffffffffffffffffff", b"0x10", b"", b" 5", b"\xe9",
               b"5;ext=\xe9", b"+5", b"1_0")
TRANSFER_CODINGS = (b"gzip", b"identity", b"chunked, gzip", b"gzip, chunked", b"Chunked", b"chunked\x0b", b"\xe9",
                    b"compress", b"chunked, chunked", b"")
HUGE_LENGTHS = (b"100000000000000000000", b"9223372036854775807", b"9223372036854775808", b"18446744073709551616")
BAD_LENGTHS = (b"-1", b"-100000000000000000000", b"abc", b"", b"1.5", b"0x10", b"+5", b" 5 ", b"5, 5",
               b"\xd9\xa1\xd9\xa2", b"1_0")


@dataclass(frozen=True)
class Sign:
    """How a Cosmos DB request is signed when it is sent: the signed verb, type and link, a key, a date."""

    verb: str
    resource_type: str
    link: str
    key: str
    date: str = "now"  # now, old, none, junk


@dataclass(frozen=True)
class Case:
    """One request, drawn from the seed; rendered to bytes only when sent (dates, the isolated org's tokens)."""

    index: int
    family: str
    route: str
    labels: tuple[str, ...]
    method: bytes
    target: bytes
    version: bytes = b"HTTP/1.1"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    framing: tuple[str, bytes] = ("auto", b"")
    host: bytes | None = b"{{host}}"
    sign: Sign | None = None
    download: bool = False    # a 2xx answer is the attachment's bytes, not JSON
    raw: bytes | None = None  # sent exactly as it is (placeholders aside)
    silent_ok: bool = False   # the head never ends: gunicorn closes without an answer
    eol: bytes = b"\r\n"


@dataclass
class Context:
    """What rendering needs from the live server: its address, the isolated org's tokens, a media id."""

    host: str
    port: int
    org_tokens: dict[str, str] = field(default_factory=dict)
    media: str = "AAAAAAAAAAAAAAAAAAAAAAAAAAE="
    clock_offset: float = 0.0


@dataclass
class Answer:
    """What came back: the status and head (None if nothing did), the decoded body, transport trouble."""

    status: int | None
    head: bytes
    body: bytes
    error: str | None = None     # reset, timeout, eof-in-head
    truncated: bool = False      # fewer body bytes than its framing announced

    @property
    def status_line(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]

    def header(self, name: bytes) -> bytes | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name:
                return value.strip()
        return None


# -- drawing requests ------------------------------------------------------------------------------------------

def enc(value: str | bytes) -> bytes:
    """Percent-encoded for a URL path segment or query value."""
    return quote(value, safe="").encode()


def query(rng: random.Random, pairs: Iterable[tuple[str, str | bytes]]) -> bytes:
    """`?k=v&...`, percent-encoded, or now and then with raw bytes left in."""
    items = [(k, v) for k, v in pairs]
    if not items:
        return b""
    raw = rng.random() < 0.08
    parts = [k.encode() + b"=" + (v if isinstance(v, bytes) else v.encode()) if raw else
             enc(k) + b"=" + enc(v) for k, v in items]
    return b"?" + b"&".join(parts)


def number(rng: random.Random) -> str:
    return rng.choice(NUMBERS)


def zoho_token(rng: random.Random, destructive: bool) -> bytes:
    """A token for a Zoho call: deletes act on the isolated org only (or fail to authenticate)."""
    roll = rng.random()
    if roll < 0.6:
        return ("{{org:%s}}" % rng.choice(FIXTURE_TOKENS)).encode()
    if roll < 0.8 and not destructive:
        return rng.choice(FIXTURE_TOKENS).encode()
    return rng.choice(FAILING_TOKENS).encode()


def multipart(rng: random.Random) -> tuple[bytes, bytes, str]:
    """A multipart body of some shape (content type, body, label): files, empty or nameless parts, truncations."""
    boundary = rng.choice([b"b", b"----fuzz" + str(rng.randrange(10**6)).encode(), b"x" * 70, b"\xe9"])
    content = rng.randbytes(rng.choice([0, 1, 100, 4096, 65536]))
    shape = rng.choice(["file", "file", "two-files", "empty-file", "nameless", "no-disposition", "link",
                        "truncated", "no-boundary", "wrong-boundary", "filename-bytes", "filename-star",
                        "part-type-bytes", "preamble", "no-final-crlf"])
    name = b'name="file"; filename="f.txt"'
    parts: list[tuple[bytes, bytes]] = [(b"Content-Disposition: form-data; " + name, content)]
    if shape == "two-files":
        parts.append((b'Content-Disposition: form-data; name="file"; filename="g.bin"', content[:10]))
    elif shape == "empty-file":
        parts = [(b'Content-Disposition: form-data; name="file"; filename=""', b"")]
    elif shape == "nameless":
        parts = [(b'Content-Disposition: form-data; filename="a.txt"', content)]
    elif shape == "no-disposition":
        parts = [(b"Content-Type: text/plain", content)]
    elif shape == "link":
        parts = [(b'Content-Disposition: form-data; name="attachmentUrl"',
                  rng.choice([b"https://www.zohocorp.com", b"", b"javascript:1", b"\xe9\xff", b"x" * 3000])),
                 (b'Content-Disposition: form-data; name="title"', rng.choice([b"t", b"\xff", b""]))]
    elif shape == "filename-bytes":
        parts = [(b'Content-Disposition: form-data; name="file"; filename="\xe9\xff\x00.txt"', content)]
    elif shape == "filename-star":
        parts = [(b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''%e9%ff%00", content)]
    elif shape == "part-type-bytes":
        parts[0] = (parts[0][0] + b"\r\nContent-Type: \xe9/\xff; charset=\xfe", content)
    body = b"".join(b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts)
    body += b"--" + boundary + b"--\r\n"
    ctype = b"multipart/form-data; boundary=" + boundary
    if shape == "truncated":
        body = body[:rng.randrange(1, max(2, len(body) - 1))]
    elif shape == "no-boundary":
        ctype = b"multipart/form-data"
    elif shape == "wrong-boundary":
        ctype = b"multipart/form-data; boundary=other"
    elif shape == "preamble":
        body = b"junk \xff preamble\r\n" + body + b"epilogue \xfe"
    elif shape == "no-final-crlf":
        body = body[:-2]
    return ctype, body, f"multipart:{shape}"


def json_body(rng: random.Random) -> tuple[bytes, str]:
    """A JSON-ish body: deep nesting, huge numbers, NaN, lone surrogates, not JSON at all."""
    shape = rng.choice(["nested-list", "nested-object", "numbers", "surrogate", "not-json", "bom", "utf16",
                        "empty-object", "array", "dupe-keys"])
    if shape == "nested-list":
        depth = rng.choice([1000, 100000])
        return b"[" * depth + b"]" * depth, f"json:{shape}{depth}"
    if shape == "nested-object":
        depth = rng.choice([1000, 50000])
        return b'{"a":' * depth + b"1" + b"}" * depth, f"json:{shape}{depth}"
    if shape == "numbers":
        return b'{"id":' + rng.choice(JSON_NUMBERS).encode() + b',"n":' + rng.choice(JSON_NUMBERS).encode() + b"}", \
            f"json:{shape}"
    if shape == "surrogate":
        return b'{"id":"\\ud800","x":"\\udfff\\u0000"}', f"json:{shape}"
    if shape == "bom":
        return b'\xef\xbb\xbf{"id":"bom"}', f"json:{shape}"
    if shape == "utf16":
        return '{"id":"u16"}'.encode("utf-16"), f"json:{shape}"
    if shape == "array":
        return b"[1,2,3]", f"json:{shape}"
    if shape == "dupe-keys":
        return b'{"id":"a","id":"b"}', f"json:{shape}"
    if shape == "empty-object":
        return b"{}", f"json:{shape}"
    return rng.choice([b"{", b"\xff\xfe\x00", b"null", b"nul", b"{'a':1}", b"1" * 5000]), f"json:{shape}"


@dataclass
class Draft:
    """A request before its framing and header mutations."""

    family: str
    route: str
    method: str
    path: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    labels: list[str] = field(default_factory=list)
    sign: Sign | None = None
    download: bool = False
    fragile: bool = False  # the body decides what it does (an admin reset): no framing tricks on it


def zoho_draft(rng: random.Random, org: str) -> Draft:
    """A CRM or Bigin request: every served route, the seeds' and junk ids, numbers in every parameter."""
    product = "crm" if rng.random() < 0.65 else "bigin"
    version = rng.choice(VERSIONS[product]) if rng.random() < 0.92 else rng.choice(["v9", "v1", "V2", "v2.2", ""])
    module = rng.choice(list(RECORDS[product])) if rng.random() < 0.9 else rng.choice(JUNK_SEGMENTS)
    records = RECORDS[product].get(module) or {"1": ()}
    record = rng.choice(list(records)) if rng.random() < 0.85 else rng.choice(JUNK_SEGMENTS)
    attachments = records.get(record) or ("2883756000000261017",)
    attachment = rng.choice(attachments) if rng.random() < 0.8 else rng.choice(JUNK_SEGMENTS)
    base = f"/{product}/{version}"
    shape = rng.choice(["list", "list", "download", "download", "upload", "upload", "delete-one", "delete-many",
                        "delete-record", "delete-records", "users", "org", "modules", "coql", "coql", "other"])
    params: list[tuple[str, str | bytes]] = []
    method, path = "GET", f"{base}/{module}/{record}/Attachments"
    if shape == "list":
        params = [("fields", rng.choice(["id,File_Name,Size", "id", "", "\u00e9", "x" * 500]))] * (rng.random() < 0.8)
        params += [(k, number(rng)) for k in ("page", "per_page", "page_token") if rng.random() < 0.5]
    elif shape == "download":
        path = f"{path}/{attachment}"
    elif shape == "upload":
        method = "POST"
    elif shape == "delete-one":
        method, path = "DELETE", f"{path}/{attachment}"
    elif shape == "delete-many":
        method = "DELETE"
        params = [("ids", ",".join(rng.choice([*attachments, number(rng)]) for _ in range(rng.randrange(0, 5))))]
    elif shape == "delete-record":
        method, path = "DELETE", f"{base}/{module}/{record}"
        params = [("wf_trigger", rng.choice(["true", "false", "TRUE", "1", "\u00e9"]))] * (rng.random() < 0.5)
    elif shape == "delete-records":
        method, path = "DELETE", f"{base}/{module}"
        ids = [rng.choice([*records, number(rng)]) for _ in range(rng.choice([0, 1, 3, 101]))]
        params = [("ids", ",".join(ids))] + [("ids", number(rng))] * (rng.random() < 0.2)
    elif shape == "coql":
        method, path = "POST", f"{base}/coql"
    elif shape in ("users", "org", "modules"):
        path = f"{base}/{'settings/modules' if shape == 'modules' else shape}"
        params = [("type", rng.choice(["CurrentUser", "AllUsers", "\u00e9", ""]))] * (shape == "users")
        params += [("page", number(rng)), ("per_page", number(rng))] * (rng.random() < 0.3)
    else:
        path = "/" + "/".join(rng.choice(JUNK_SEGMENTS + (product, version, module, "Attachments"))
                              for _ in range(rng.randrange(1, 7)))
    if rng.random() < 0.12:
        method = rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND"])
    token = zoho_token(rng, destructive=method == "DELETE")
    # An attachment's URL read with GET is a download, whichever shape drew it.
    download = shape in ("download", "delete-one") and method in ("GET", "HEAD")
    draft = Draft("zoho", f"zoho:{shape}", method, path.encode() + query(rng, params),
                  [(b"Authorization", b"Zoho-oauthtoken " + token)], download=download)
    if shape == "coql" and method == "POST":
        coql_body(rng, draft)
    elif method in ("POST", "PUT", "PATCH"):
        upload_body(rng, draft)
    if rng.random() < 0.1:
        draft.headers.append((b"Host", rng.choice([b"www.zohoapis.eu", b"www.zohoapis.in", b"zohoapis.jp:443"])))
    if shape == "download" and rng.random() < 0.2:
        draft.headers.append((b"Range", rng.choice([b"bytes=100000000000000000000-", b"bytes=-1", b"bytes=0-0,1-1",
                                                    b"bytes=5-2", b"bytes=\xe9", b"bytes=0-"])))
    return draft


COQL_WORDS = ("select", "from", "where", "Leads", "Contacts", "Pipelines", "Last_Name", "Account_Name.Account_Name",
              "id", "=", "!=", ">=", "'x'", "'it''s'", "'\\'", "(", ")", ",", "and", "or", "not", "in", "like", "'%a%'",
              "is", "null", "between", "limit", "offset", "order", "by", "group", "desc", "COUNT(id)", "SUM(Amount)",
              "as", "*", "\\u0000", "\\ud800", "\\u00e9", "9" * 30, "-1", "1.5", ";", "#", "\"")


def coql_body(rng: random.Random, draft: Draft) -> None:
    """A COQL body: a query of COQL's words in random order (a valid one now and then), or any JSON body."""
    if rng.random() < 0.25:
        body, label = json_body(rng)
    else:
        words = (["select", "Last_Name", "from", "Leads", "where", "id", "is", "not", "null"]
                 if rng.random() < 0.3 else [])
        words += [rng.choice(COQL_WORDS) for _ in range(rng.randrange(0, 30))]
        body, label = ('{"select_query": "' + " ".join(words) + '"}').encode(), "coql:words"
    draft.headers.append((b"Content-Type", b"application/json"))
    draft.body, draft.labels = body, [*draft.labels, label]


def upload_body(rng: random.Random, draft: Draft) -> None:
    """An upload's body: multipart mostly, else a form or JSON."""
    roll = rng.random()
    if roll < 0.75:
        ctype, body, label = multipart(rng)
    elif roll < 0.9:
        ctype, label = b"application/x-www-form-urlencoded", "form"
        body = rng.choice([b"attachmentUrl=https%3A%2F%2Fwww.zohocorp.com&title=t", b"attachmentUrl=%ff%fe",
                           b"attachmentUrl=\xe9\xff", b"a=" + b"%" * 100, b"attachmentUrl"])
    else:
        body, label = json_body(rng)
        ctype = b"application/json"
    draft.headers.append((b"Content-Type", ctype))
    draft.body, draft.labels = body, [*draft.labels, label]


def oauth_draft(rng: random.Random, org: str) -> Draft:
    """The accounts server: token grants, revocations (of the isolated org's tokens only), the consent page."""
    shape = rng.choice(["token", "token", "token", "revoke", "auth", "auth", "other"])
    params: list[tuple[str, str | bytes]]
    if shape == "token":
        params = [("grant_type", rng.choice(["refresh_token", "authorization_code", "client_credentials", "x", ""])),
                  ("client_id", rng.choice([CLIENT, CLIENT, "1000.nope", "\u00e9"])),
                  ("client_secret", rng.choice([SECRET, SECRET, "bad"])),
                  ("refresh_token", rng.choice([*REFRESH_TOKENS, "{{org:1000.mock.refresh.full}}", "1000.x"])),
                  ("code", rng.choice(["1000.code", "", "\u00e9" * 3])),
                  ("scope", rng.choice(["ZohoCRM.modules.ALL", "", "x " * 100])),
                  ("redirect_uri", rng.choice(["http://127.0.0.1/cb", "http://evil.example", "\u00e9"])),
                  ("expires_in", number(rng))]
        params = [p for p in params if rng.random() < 0.8]
        path, method = "/oauth/v2/token", "POST"
    elif shape == "revoke":
        given = rng.choice(["{{org:%s}}" % rng.choice(FIXTURE_TOKENS), "{{org:1000.mock.refresh.full}}",
                            "1000.nope", "", "\u00e9"])
        params, path, method = [("token", given)] * rng.randrange(0, 3), "/oauth/v2/token/revoke", "POST"
    elif shape == "auth":
        params = [("client_id", rng.choice([CLIENT, CLIENT, "1000.nope"])),
                  ("redirect_uri", rng.choice(["http://127.0.0.1:9/cb", "http://localhost/x?y=1", "http://evil.example",
                                               "http://127.0.0.1:100000000000000000000/", "http://localhost/\u00e9",
                                               "http://[::1]/", "\u00e9"])),
                  ("scope", rng.choice(["ZohoCRM.modules.ALL", "ZohoCRM.modules.ALL,ZohoBigin.modules.ALL", ""])),
                  ("response_type", rng.choice(["code", "code", "token", ""])),
                  ("state", rng.choice(["s", "\u00e9" * 5, "x" * 2000])), ("access_type", "offline"),
                  ("prompt", "consent")]
        params = [p for p in params if rng.random() < 0.85]
        path, method = "/oauth/v2/auth", "GET"
    else:
        params, method = [], rng.choice(["GET", "POST"])
        path = rng.choice(["/oauth/v2/x", "/oauth/v3/token", "/oauth/v2/token/", "/oauth/v2/token/revoke/x", "/oauth"])
    if rng.random() < 0.1:
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "HEAD"])
    draft = Draft("oauth", f"oauth:{shape}", method, path.encode())
    placement = rng.choice(["query", "form", "form", "multipart"]) if method == "POST" else "query"
    if placement == "query":
        draft.path += query(rng, params)
    elif placement == "form":
        draft.body = urlencode([(k, v) for k, v in params]).encode() if rng.random() < 0.9 else \
            b"&".join(k.encode() + b"=\xe9\xff" for k, _ in params)
        draft.headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
    else:
        boundary = b"oauthb"
        draft.body = b"".join(b"--oauthb\r\nContent-Disposition: form-data; name=\"" + k.encode() + b"\"\r\n\r\n" +
                              str(v).encode() + b"\r\n" for k, v in params) + b"--oauthb--\r\n"
        draft.headers.append((b"Content-Type", b"multipart/form-data; boundary=" + boundary))
    draft.labels.append(f"params:{placement}")
    return draft


def cosmos_draft(rng: random.Random, org: str, seed: int) -> Draft:
    """Cosmos DB: the account, the seeds' tree (read; writes signed wrong) and the fuzz's own tree (anything)."""
    own_db = f"rawfuzz-{seed}"
    roll = rng.random()
    if roll < 0.12:
        return media_draft(rng)
    if roll < 0.2:
        draft = Draft("cosmos", "cosmos:account", "GET", b"/")
        return signed(rng, draft, "", "", own=True)
    own = rng.random() < 0.5
    if own:
        chain = ["dbs", own_db, "colls", "c", "docs", f"d{rng.randrange(4)}", "attachments", f"a{rng.randrange(4)}"]
    elif rng.random() < 0.7:
        chain = [*SEED_DOC.split("/"), "attachments", "image_id_2"]
    else:
        chain = ["dbs", "hUwBcw==", "colls", "hUwBc+gfDX4=", "docs", "hUwBc+gfDX4DAAAAAAAAAA==", "attachments", "x"]
    depth = rng.randrange(1, 9)
    segments = chain[:depth]
    is_feed = depth % 2 == 1
    method = rng.choice(["GET", "POST"]) if is_feed else rng.choice(["GET", "GET", "PUT", "DELETE"])
    if rng.random() < 0.05:
        method = rng.choice(["PATCH", "HEAD", "OPTIONS", "POST", "PUT"])
    rid_based = segments[1:2] == ["hUwBcw=="]
    owner = segments if not is_feed else segments[:-1]
    link = (owner[-1].lower() if rid_based else "/".join(owner)) if owner else ""
    path = "/" + "/".join(segments)
    path = rng.choice([path, path, path + "/", "/" + path, path.replace("/", "//", 2)])
    draft = Draft("cosmos", f"cosmos:{'feed' if is_feed else 'item'}:{method}", method, path.encode())
    feed_headers(rng, draft)
    if method in ("POST", "PUT"):
        cosmos_body(rng, draft, segments[-1] if is_feed else segments[-2])
    # The seeds' items are only ever changed with a wrong signature: the rest of the run needs them.
    return signed(rng, draft, segments[-1] if is_feed else segments[-2], link, own=own or method in ("GET", "POST"))


def feed_headers(rng: random.Random, draft: Draft) -> None:
    """Paging and option headers, numbers and junk in them."""
    if rng.random() < 0.5:
        draft.headers.append((b"x-ms-max-item-count", number(rng).encode()))
    if rng.random() < 0.4:
        draft.headers.append((b"x-ms-continuation", number(rng).encode()))
    for name, values in ((b"x-ms-documentdb-is-upsert", (b"true", b"True", b"\xe9")),
                         (b"If-Match", (b'"x"', b"*", b"\xff")), (b"x-ms-activity-id", (b"a", b"\xe9" * 3, b"x" * 500)),
                         (b"x-ms-documentdb-isquery", (b"true",)), (b"x-ms-version", (b"2018-12-31", b"\xe9"))):
        if rng.random() < 0.1:
            draft.headers.append((name, rng.choice(values)))


def cosmos_body(rng: random.Random, draft: Draft, kind: str) -> None:
    """A resource body (JSON) or, for attachments, now and then raw media with a Slug."""
    if kind == "attachments" and rng.random() < 0.4:
        draft.headers += [(b"Content-Type", rng.choice([b"image/png", b"application/octet-stream", b"\xe9/\xff"])),
                          (b"Slug", rng.choice([b"m%d" % rng.randrange(4), b"\xe9", b"a/b", b"x" * 300]))]
        draft.body = rng.randbytes(rng.choice([0, 10, 4096]))
        draft.labels.append("media-body")
        return
    if rng.random() < 0.6:
        new_id = rng.choice([f"d{rng.randrange(4)}", f"a{rng.randrange(4)}", "c", "x/y", "\u00e9", "", "x" * 300])
        body = {"id": new_id, "n": rng.randrange(100)}
        if kind == "attachments":
            body.update({"contentType": "image/jpg", "media": rng.choice(["www.bing.com", "", "\u00e9"])})
        draft.body, label = json.dumps(body).encode(), "json:resource"
    else:
        draft.body, label = json_body(rng)
    draft.headers.append((b"Content-Type", rng.choice([b"application/json", b"application/json",
                                                       b"application/query+json", b"text/plain; charset=\xff"])))
    draft.labels.append(label)


def media_draft(rng: random.Random) -> Draft:
    """`/media/{id}`: the fuzz's own media (read, replaced) or junk ids."""
    media = rng.choice(["{{media}}", "{{media}}", "{{media}}", "AAAA", "%ff", "", "x" * 200, "\u00e9",
                        "{{media}}/extra", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
    method = rng.choice(["GET", "GET", "PUT", "DELETE", "POST"])
    draft = Draft("cosmos", f"cosmos:media:{method}", method, f"/media/{media}".encode(),
                  download=method == "GET")
    if method == "PUT":
        draft.headers.append((b"Content-Type", rng.choice([b"image/png", b"", b"\xe9"])))
        draft.body = rng.randbytes(rng.choice([0, 7, 10000]))
    return signed(rng, draft, "media", "{{media_signed}}", own=True)


def signed(rng: random.Random, draft: Draft, resource_type: str, link: str, own: bool) -> Draft:
    """Sign half the requests correctly (own resources only); the others as a careless or hostile client."""
    if own and rng.random() < 0.5:
        draft.sign = Sign(draft.method, resource_type, link, rng.choice(COSMOS_KEYS))
        draft.labels.append("signed")
        return draft
    how = rng.choice(["wrong-key", "wrong-link", "old-date", "no-date", "junk-date", "junk-auth", "no-auth"])
    draft.labels.append(f"sign:{how}")
    if how in ("wrong-key", "wrong-link", "old-date", "no-date", "junk-date"):
        draft.sign = Sign(draft.method, resource_type, link + "x" * (how == "wrong-link"),
                          WRONG_KEY if how == "wrong-key" else COSMOS_KEYS[0],
                          {"old-date": "old", "no-date": "none", "junk-date": "junk"}.get(how, "now"))
    elif how == "junk-auth":
        draft.headers.append((b"authorization", rng.choice([b"type%3dmaster%26ver%3d1.0%26sig%3d", b"%zz%ff",
                                                            b"\xe9\xff", b"type=master&ver=1.0&sig=\xe9",
                                                            b"type=resource&ver=1.0&sig=abc", b"&&&=="])))
        draft.headers.append((b"x-ms-date", b"{{now}}"))  # dated when sent: the sequence is the seed's alone
    return draft


def admin_draft(rng: random.Random, org: str) -> Draft:
    """The control API, minus what would make the rest meaningless (a whole reset, clock moves, real faults)."""
    shape = rng.choice(["health", "requests", "count", "clear-journal", "faults", "add-fault", "add-fault",
                        "delete-fault", "limits", "set-limit", "set-limit", "delete-limit", "reset", "fixtures",
                        "fixtures", "tokens", "orgs", "clock", "other"])
    orgs = [org, org, "zylker-eu", "rawfuzz-nobody", number(rng)]
    draft = Draft("admin", f"admin:{shape}", "GET", b"/__admin/" + shape.encode())
    if shape == "health":
        draft.path = b"/__admin/health"
    elif shape in ("requests", "count"):
        params = [(k, v) for k, v in (("status", number(rng)), ("limit", number(rng)), ("since", number(rng)),
                                      ("path", rng.choice(["/crm/*", "[", "*" * 9, "\u00e9"])), ("org", org),
                                      ("method", "DELETE"), ("tag", "\u00e9")) if rng.random() < 0.4]
        draft.path = b"/__admin/requests" + b"/count" * (shape == "count") + query(rng, params)
    elif shape == "clear-journal":
        draft.method, draft.path = "DELETE", b"/__admin/requests" + query(rng, [("org", org)] * (rng.random() < 0.5))
    elif shape == "faults":
        draft.path = b"/__admin/faults" + query(rng, [("org", rng.choice(orgs))] * (rng.random() < 0.5))
    elif shape == "add-fault":
        draft.method, draft.path, draft.body = "POST", b"/__admin/faults", fault_spec(rng)
    elif shape == "delete-fault":
        draft.method, draft.path = "DELETE", b"/__admin/faults/" + enc(number(rng))
    elif shape == "limits":
        draft.path = b"/__admin/limits"
    elif shape == "set-limit":
        target = rng.choice([org, "rawfuzz-nobody", number(rng)])
        spec = {k: rng.choice(JSON_NUMBERS) for k in ("calls", "window_seconds", "concurrency") if rng.random() < 0.6}
        draft.method, draft.path = "PUT", b"/__admin/limits/" + enc(target)
        draft.body = ("{" + ",".join(f'"{k}":{v}' for k, v in spec.items()) + "}").encode()
    elif shape == "delete-limit":
        draft.method, draft.path = "DELETE", b"/__admin/limits/" + enc(rng.choice([org, "rawfuzz-nobody"]))
    elif shape == "reset":
        # Never an empty body, never framing tricks: either would reset every org.
        draft.method, draft.path, draft.fragile = "POST", b"/__admin/reset", True
        draft.body = json.dumps({"org": rng.choice(orgs)}).encode() if rng.random() < 0.9 else b'{"org":1e999}'
    elif shape == "fixtures":
        draft.method, draft.path, draft.body = "PUT", b"/__admin/fixtures", junk_yaml(rng)
    elif shape == "tokens":
        spec = (f'{{"org":"{org}","user":"{USER}","scopes":"ZohoCRM.modules.ALL",'
                f'"expires_in":{rng.choice(JSON_NUMBERS)}}}')
        draft.method, draft.path, draft.body = "POST", b"/__admin/tokens", spec.encode()
    elif shape == "orgs":
        draft.path = b"/__admin/orgs"
    elif shape == "clock":
        draft.path = b"/__admin/clock"
    else:
        draft.path = rng.choice([b"/__admin/faults/abc", b"/__admin/nothing", b"/__admin", b"/__admin/orgs/%ff"])
    if draft.body and not draft.fragile and rng.random() < 0.1:
        draft.body, label = json_body(rng)
        draft.labels.append(label)
    if rng.random() < 0.05 and not draft.fragile:
        draft.method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
    return draft


def fault_spec(rng: random.Random) -> bytes:
    """A fault body with numbers fuzzed; it can only match FAULT_PATH, which is never requested."""
    respond = rng.choice(['{"code":"INTERNAL_ERROR"}', f'{{"status":{rng.choice(JSON_NUMBERS)},"body":{{}}}}',
                          '{"status":503,"body":' + "[" * 1000 + "]" * 1000 + "}"])
    extra = ",".join(f'"{k}":{rng.choice(JSON_NUMBERS)}' for k in ("times", "delay_ms", "probability", "seed")
                     if rng.random() < 0.4)
    return (f'{{"match":{{"product":"crm","path":"{FAULT_PATH}"}},"respond":{respond}'
            + ("," + extra if extra else "") + "}").encode()


def junk_yaml(rng: random.Random) -> bytes:
    """YAML the fixtures endpoint must refuse: it starts with an unknown key (so a prefix of it is refused
    too), then an alias bomb, deep nesting, bad types, raw bytes."""
    head = b"rawfuzz_unknown_key: 1\n"
    shape = rng.choice(["bomb", "nested", "types", "bytes", "tags", "anchors-in-orgs"])
    if shape == "bomb":
        levels = [b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        levels += [b"a%d: &a%d [%s]" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 6)]
        return head + b"\n".join(levels) + b"\norgs: *a5\n"
    if shape == "nested":
        depth = rng.choice([1000, 100000])
        return head + b"orgs: " + b"[" * depth + b"]" * depth + b"\n"
    if shape == "types":
        return head + b"orgs: [{id: 100000000000000000000, users: 1e999, tokens: [{token: null}]}]\n"
    if shape == "tags":
        return head + b"orgs: !!python/object/apply:os.system [true]\nx: !!binary \xe9\n"
    if shape == "anchors-in-orgs":
        return head + b"orgs:\n  - &o {id: o, users: [{id: '1', name: n, email: e@x.com}]}\n  - *o\n  - <<: *o\n"
    return head + rng.randbytes(rng.choice([10, 1000]))


def garbage_case(rng: random.Random) -> tuple[bytes, str, bool]:
    """Not HTTP, or barely: raw bytes, other protocols' openings, heads that never end."""
    shape = rng.choice(["not-a-request", "binary", "tls-hello", "http2-preface", "empty", "truncated-head",
                        "bare-lf", "only-crlf", "long-method", "tab-separated", "space-in-target", "star",
                        "no-target", "huge-target"])
    table = {
        "not-a-request": (b"NOT A REQUEST\r\n\r\n", False),
        "binary": (rng.randbytes(200) + b"\r\n\r\n", False),
        "tls-hello": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + rng.randbytes(100), True),
        "http2-preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", False),
        "empty": (b"", True),
        "truncated-head": (b"GET /__admin/health HTTP/1.1\r\nHost: {{host}}\r\n", True),
        "bare-lf": (b"GET /__admin/health HTTP/1.1\nHost: {{host}}\n\n", False),
        "only-crlf": (b"\r\n\r\n\r\n", True),
        "long-method": (b"A" * 100 + b" / HTTP/1.1\r\nHost: {{host}}\r\n\r\n", False),
        "tab-separated": (b"GET\t/__admin/health\tHTTP/1.1\r\nHost: {{host}}\r\n\r\n", False),
        "space-in-target": (b"GET /crm/v8/Le ads HTTP/1.1\r\nHost: {{host}}\r\n\r\n", False),
        "star": (b"OPTIONS * HTTP/1.1\r\nHost: {{host}}\r\n\r\n", False),
        "no-target": (b"GET HTTP/1.1\r\nHost: {{host}}\r\n\r\n", False),
        "huge-target": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: {{host}}\r\n\r\n", False),
    }
    raw, silent = table[shape]
    return raw, f"garbage:{shape}", silent


FAMILIES: tuple[tuple[str, float], ...] = (("zoho", 0.44), ("oauth", 0.12), ("cosmos", 0.24), ("admin", 0.14),
                                           ("garbage", 0.06))


def draw_case(rng: random.Random, index: int, seed: int) -> Case:
    """The index-th request of the run."""
    org = isolated_org(seed)
    family = rng.choices([f for f, _ in FAMILIES], [w for _, w in FAMILIES])[0]
    if family == "garbage":
        raw, route, silent = garbage_case(rng)
        return Case(index, family, route, (route,), b"", b"", raw=raw, silent_ok=silent)
    draft = {"zoho": zoho_draft, "oauth": oauth_draft, "admin": admin_draft,
             "cosmos": lambda r, o: cosmos_draft(r, o, seed)}[family](rng, org)
    return mutate(rng, index, draft)


def mutate(rng: random.Random, index: int, draft: Draft) -> Case:
    """Apply what a hostile client does to the framing, the headers and the request line."""
    labels = list(draft.labels)
    headers = list(draft.headers)
    host: bytes | None = b"{{host}}"
    framing: tuple[str, bytes] = ("auto", b"")
    if not draft.fragile and rng.random() < 0.3:
        framing = draw_framing(rng)
        labels.append(f"framing:{framing[0]}")
    if rng.random() < 0.3:
        host = header_mutation(rng, headers, labels, host, draft.fragile)
    method, target, version = draft.method.encode(), draft.path, b"HTTP/1.1"
    if rng.random() < 0.12:
        method, target, version = line_mutation(rng, method, target, version, labels)
    download = draft.download and method in (b"GET", b"HEAD")
    return Case(index, draft.family, draft.route, tuple(labels), method, target, version, tuple(headers),
                draft.body, framing, host, draft.sign, download)


def draw_framing(rng: random.Random) -> tuple[str, bytes]:
    """Content-Length and Transfer-Encoding lies."""
    kind = rng.choice(["cl-huge", "cl-bad", "cl-short", "cl-long", "cl-twice", "chunked", "chunked", "chunked-bad",
                       "chunked-short", "chunked-no-last", "chunked-no-crlf", "chunked-trailer", "te-unknown",
                       "cl-and-te", "te-twice", "cl-zero"])
    arg = {"cl-huge": rng.choice(HUGE_LENGTHS), "cl-bad": rng.choice(BAD_LENGTHS),
           "chunked-bad": rng.choice(CHUNK_SIZES),
           "te-unknown": rng.choice(TRANSFER_CODINGS), "cl-short": str(rng.randrange(1, 50)).encode(),
           "cl-long": str(rng.randrange(1, 5000)).encode(), "cl-twice": rng.choice([b"0", b"1", b"5"])}.get(kind, b"")
    return kind, arg


def header_mutation(rng: random.Random, headers: list[tuple[bytes, bytes]], labels: list[str], host: bytes | None,
                    fragile: bool) -> bytes | None:
    """One odd header (or none where one belongs): raw bytes, size, count, Host forms."""
    kind = rng.choice(["auth-bytes", "auth-bytes", "host", "host", "no-host", "long-header", "many-headers",
                       "name-bytes", "value-nul", "obs-fold", "no-colon", "space-before-colon", "tag-bytes",
                       "content-type", "expect", "duplicate-auth", "empty-name"])
    labels.append(f"header:{kind}")
    if kind == "auth-bytes":
        headers[:] = [h for h in headers if h[0].lower() != b"authorization"]
        headers.append((b"Authorization", rng.choice(AUTH_BYTES)))
    elif kind == "host":
        return rng.choice(HOSTS)
    elif kind == "no-host":
        return None
    elif kind == "long-header":
        headers.append((b"X-Long", b"a" * rng.choice([4000, 8000, 8190, 9000])))
    elif kind == "many-headers":
        headers += [(b"X-H%d" % i, b"v") for i in range(rng.choice([50, 99, 101, 500]))]
    elif kind == "name-bytes":
        headers.append((b"X-\xe9\xff", b"1"))
    elif kind == "value-nul":
        headers.append((b"X-Nul", b"a\x00b"))
    elif kind == "obs-fold":
        headers.append((b"", b"X-Fold: a\r\n b"))
    elif kind == "no-colon":
        headers.append((b"", b"NoColonHere"))
    elif kind == "space-before-colon":
        headers.append((b"", b"X-Space : 1"))
    elif kind == "tag-bytes":
        headers.append((b"X-Mockzoho-Tag", b"\xe9\xff" * rng.choice([1, 2000])))
    elif kind == "content-type" and not fragile:
        headers[:] = [h for h in headers if h[0].lower() != b"content-type"]
        headers.append((b"Content-Type", rng.choice([b"multipart/form-data", b"multipart/form-data; boundary=",
                                                     b"multipart/form-data; boundary=\xe9",
                                                     b"application/json; charset=\xff",
                                                     b"application/x-www-form-urlencoded; charset=utf-16",
                                                     b"text/plain; charset=nope", b"\xe9"])))
    elif kind == "expect":
        headers.append((b"Expect", rng.choice([b"100-continue", b"\xe9"])))
    elif kind == "duplicate-auth":
        headers.append((b"Authorization", b"Zoho-oauthtoken " + SEED_TOKEN.encode()))
    elif kind == "empty-name":
        headers.append((b"", b": empty name"))
    return host


def line_mutation(rng: random.Random, method: bytes, target: bytes, version: bytes,
                  labels: list[str]) -> tuple[bytes, bytes, bytes]:
    """The request line: versions, method case, absolute form, raw bytes, dot segments."""
    kind = rng.choice(["version", "lowercase", "absolute", "absolute-ipv6", "raw-bytes", "percent-junk",
                       "dot-segments", "double-slash", "fragment", "query-bytes", "junk-method"])
    labels.append(f"line:{kind}")
    if kind == "version":
        version = rng.choice(VERSIONS_JUNK)
    elif kind == "lowercase":
        method = method.lower()
    elif kind == "absolute":
        target = b"http://{{host}}" + target
    elif kind == "absolute-ipv6":
        target = rng.choice([b"http://[::1]", b"https://www.zohoapis.eu", b"http://[::1]:8000", b"//x"]) + target
    elif kind == "raw-bytes":
        cut = rng.randrange(1, max(2, len(target)))
        target = target[:cut] + rng.choice([b"\xff", b"\xe9", b"\xc3\x28", b"\x00", b"\x7f"]) + target[cut:]
    elif kind == "percent-junk":
        target += rng.choice([b"%", b"%zz", b"%ff%fe", b"%c0%af", b"%00"])
    elif kind == "dot-segments":
        target = target.replace(b"/", b"/./", 1) + rng.choice([b"/..", b"/../__admin/health", b"/."])
    elif kind == "double-slash":
        target = b"/" + target
    elif kind == "fragment":
        target += b"#frag\xe9"
    elif kind == "query-bytes":
        target += (b"&" if b"?" in target else b"?") + rng.choice([b"page=\xff", b"\xe9=1", b"a=%ff", b";=;", b"=&&="])
    else:
        method = rng.choice([b"GE\xe9T", b"DELETE\x00", b"M-SEARCH", b"GET/", b"123"])
    return method, target, version


def isolated_org(seed: int) -> str:
    return f"rawfuzz-{seed}"


def generate(seed: int, count: int) -> list[Case]:
    """The run's whole request sequence, from the seed alone."""
    rng = random.Random(seed)
    return [draw_case(rng, i, seed) for i in range(count)]


# -- rendering and sending -----------------------------------------------------------------------------------

PLACEHOLDER = re.compile(rb"\{\{([a-z_]+)(?::([^}]*))?\}\}")


def substitute(data: bytes, ctx: Context) -> bytes:
    """Fill `{{host}}`, `{{org:<fixture token>}}`, `{{media}}`, `{{now}}` (the server's time, as x-ms-date) in."""
    def one(match: re.Match[bytes]) -> bytes:
        name, arg = match.group(1), (match.group(2) or b"").decode()
        if name == b"host":
            return f"{ctx.host}:{ctx.port}".encode()
        if name == b"org":
            return ctx.org_tokens.get(arg, arg).encode()
        if name == b"media":
            return ctx.media.encode()
        if name == b"media_signed":
            return media_signed_link(ctx.media).encode()
        if name == b"now":
            return formatdate(time.time() + ctx.clock_offset, usegmt=True).encode()
        return match.group(0)
    return PLACEHOLDER.sub(one, data) if b"{{" in data else data


def media_signed_link(media: str) -> str:
    """The link SDKs sign for a media id: its first 20 bytes re-encoded (`+-`), lower case."""
    try:
        raw = base64.b64decode(media, altchars=b"+-", validate=True)
    except ValueError:
        return media.lower()
    return (base64.b64encode(raw[:20], altchars=b"+-").decode() if len(raw) > 20 else media).lower()


def cosmos_headers(sign: Sign, ctx: Context) -> list[tuple[bytes, bytes]]:
    """x-ms-date and a master-key token, as the README's snippet makes them."""
    now = time.time() + ctx.clock_offset
    date = {"now": formatdate(now, usegmt=True), "old": formatdate(now - 3600, usegmt=True),
            "junk": "Tue, 99 Dec 2015 99:99:99 GMT", "none": ""}[sign.date]
    link = substitute(sign.link.encode(), ctx).decode()
    text = f"{sign.verb.lower()}\n{sign.resource_type}\n{link}\n{date.lower()}\n\n"
    sig = base64.b64encode(hmac.new(base64.b64decode(sign.key), text.encode(), hashlib.sha256).digest()).decode()
    token = quote(f"type=master&ver=1.0&sig={sig}", "-_.!~*'()")
    return [(b"x-ms-date", date.encode())] * bool(date) + [(b"authorization", token.encode())]


def frame(framing: tuple[str, bytes], body: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The framing headers and the bytes after the head."""
    kind, arg = framing
    length = str(len(body)).encode()
    if kind == "auto":
        return ([(b"Content-Length", length)] if body else []), body
    if kind in ("cl-huge", "cl-bad"):
        return [(b"Content-Length", arg)], body
    if kind == "cl-zero":
        return [(b"Content-Length", b"0")], body
    if kind == "cl-short":
        return [(b"Content-Length", str(max(0, len(body) - int(arg))).encode())], body
    if kind == "cl-long":
        return [(b"Content-Length", str(len(body) + int(arg)).encode())], body
    if kind == "cl-twice":
        return [(b"Content-Length", length), (b"Content-Length", arg)], body
    te = [(b"Transfer-Encoding", b"chunked")]
    if kind == "te-unknown":
        return [(b"Transfer-Encoding", arg)], body
    if kind == "te-twice":
        return te + [(b"Transfer-Encoding", b"gzip")], chunked(body)
    if kind == "cl-and-te":
        return [(b"Content-Length", length)] + te, chunked(body)
    return te, chunked(body, kind.removeprefix("chunked").lstrip("-") or "ok", arg)


def chunked(body: bytes, how: str = "ok", size: bytes = b"") -> bytes:
    """A chunked body, well formed or broken in one way."""
    half = len(body) // 2
    pieces = [p for p in (body[:half], body[half:]) if p]
    if how == "bad":
        return size + b"\r\n" + body + b"\r\n0\r\n\r\n"
    if how == "short":
        return b"%x\r\n" % (len(body) + 100) + body
    if how == "no-last":
        return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    if how == "no-crlf":
        return b"".join(b"%x\r\n%s" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    trailer = b"X-Trailer: \xe9\r\nno colon\r\n" if how == "trailer" else b""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n" + trailer + b"\r\n"


def render(case: Case, ctx: Context) -> bytes:
    """The exact bytes sent for a case."""
    if case.raw is not None:
        return substitute(case.raw, ctx)
    body = substitute(case.body, ctx)
    headers = [(name, substitute(value, ctx)) for name, value in case.headers]
    if case.sign is not None:
        headers += cosmos_headers(case.sign, ctx)
    if case.host is not None:
        headers.insert(0, (b"Host", substitute(case.host, ctx)))
    framing, payload = frame(case.framing, body)
    line = case.method + b" " + substitute(case.target, ctx) + (b" " + case.version if case.version else b"")
    lines = [line, *(value if not name else name + b": " + value for name, value in headers + framing),
             b"Connection: close"]
    return case.eol.join(lines) + case.eol * 2 + payload


MAX_ANSWER = 16 << 20


def exchange(ctx: Context, data: bytes, timeout: float, head_request: bool) -> Answer:
    """Send the bytes on a fresh connection, half-close it (a short body then ends, not hangs) and read all."""
    received: list[bytes] = []
    error = None
    try:
        with socket.create_connection((ctx.host, ctx.port), timeout=timeout) as sock:
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError:  # the server answered (and closed) before reading it all: read what it said
                pass
            deadline = time.monotonic() + timeout * 2
            while time.monotonic() < deadline and sum(map(len, received)) < MAX_ANSWER:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received.append(chunk)
    except socket.timeout:
        error = "timeout"
    except ConnectionResetError:
        error = "reset"
    except OSError as exc:
        error = f"oserror:{exc.errno}"
    return parse_answer(b"".join(received), error, head_request)


def parse_answer(raw: bytes, error: str | None, head_request: bool) -> Answer:
    """Status, head and body (de-chunked) of the final answer; interim 1xx answers skipped."""
    while re.match(rb"HTTP/\d\.\d 1\d\d", raw) and b"\r\n\r\n" in raw:
        raw = raw.split(b"\r\n\r\n", 1)[1]
    head, sep, rest = raw.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/\d\.\d (\d{3})", head)
    if not sep or match is None:
        return Answer(None, head, rest, error or ("eof" if not raw else "eof-in-head"))
    status = int(match.group(1))
    answer = Answer(status, head, rest, error)
    if head_request or status in (204, 304):
        return answer
    if (answer.header(b"transfer-encoding") or b"").lower() == b"chunked":
        answer.body, answer.truncated = dechunk(rest)
    elif answer.header(b"content-length") is not None:
        length = int(answer.header(b"content-length") or b"0")
        answer.body, answer.truncated = rest[:length], len(rest) < length
    return answer


def dechunk(data: bytes) -> tuple[bytes, bool]:
    """A chunked body's bytes, and whether it ended before its last chunk."""
    out, position = [], 0
    while True:
        end = data.find(b"\r\n", position)
        if end < 0:
            return b"".join(out), True
        size = int(data[position:end].split(b";")[0] or b"0", 16)
        if size == 0:
            return b"".join(out), False
        out.append(data[end + 2:end + 2 + size])
        position = end + 4 + size


# -- classifying ----------------------------------------------------------------------------------------------

def non_json_allowed(case: Case, answer: Answer) -> bool:
    """The answers that may carry no JSON: empty 204/304 and HEAD answers, the consent page's empty 302, and
    the bytes of a successful attachment download or media read. Every other answer must be JSON."""
    assert answer.status is not None
    if answer.status in (204, 304) or case.method == b"HEAD":
        return answer.body == b""
    if answer.status == 302 and case.route == "oauth:auth":
        return answer.body == b"" and answer.header(b"location") is not None
    return case.download and answer.status in (200, 206)


def is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def json_typed(answer: Answer) -> bool:
    """A JSON body says so in its Content-Type (an HTML or text type would make clients choke anyway)."""
    return b"json" in (answer.header(b"content-type") or b"").lower()


def classify(case: Case, answer: Answer) -> str:
    """ok, 5xx, non-json, silent (no answer where gunicorn rightly gives none) or no-answer."""
    if answer.status is None:
        return "silent" if case.silent_ok else "no-answer"
    if answer.status >= 500:
        return "5xx"
    if non_json_allowed(case, answer):
        return "ok"
    if answer.truncated or not is_json(answer.body) or not json_typed(answer):
        return "non-json"
    return "ok"


# -- the run --------------------------------------------------------------------------------------------------

@dataclass
class Result:
    case: Case
    sent: bytes
    answer: Answer
    outcome: str
    seconds: float


@dataclass
class Summary:
    """Figures of one run, and the first reproducers of each kind of failure."""

    seed: int
    results: list[Result]
    duration: float
    workers_before: list[int] | None = None
    workers_after: list[int] | None = None
    workers_seen: list[int] | None = None
    digest_before: str | None = None
    digest_after: str | None = None
    faults_registered: list[int] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.results)

    @property
    def restarted(self) -> bool:
        if self.workers_before is None:
            return False
        return set(self.workers_before) != set(self.workers_after or []) or \
            set(self.workers_seen or []) - set(self.workers_before) != set()

    @property
    def failed(self) -> bool:
        return bool(self.count("5xx") or self.count("non-json") or self.restarted or
                    self.digest_before != self.digest_after)

    def of(self, outcome: str) -> list[Result]:
        return [r for r in self.results if r.outcome == outcome]


def server_json(ctx: Context, method: str, path: str, body: object = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, object]:
    """A well-formed call for setting up and tearing down (http.client: no fuzz here)."""
    conn = http.client.HTTPConnection(ctx.host, ctx.port, timeout=30)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, json.loads(payload) if payload else None


def cosmos_setup_call(ctx: Context, method: str, path: str, rtype: str, link: str, body: bytes,
                      ctype: str = "application/json", extra: dict[str, str] | None = None) -> tuple[int, object]:
    headers = {name.decode(): value.decode() for name, value in cosmos_headers(Sign(method, rtype, link,
                                                                                    COSMOS_KEYS[0]), ctx)}
    return server_json(ctx, method, path, headers={**headers, "Content-Type": ctype, **(extra or {})}, raw=body)


def setup(ctx: Context, seed: int) -> str | None:
    """The isolated org (its tokens), the fuzz's own Cosmos tree and media; the fixture digest."""
    status, health = server_json(ctx, "GET", "/__admin/health")
    assert status == 200, health
    status, clock = server_json(ctx, "GET", "/__admin/clock")
    if status == 200 and isinstance(clock, dict):
        server_now = time.mktime(time.strptime(clock["now"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        ctx.clock_offset = server_now - time.time()
    org = isolated_org(seed)
    server_json(ctx, "DELETE", f"/__admin/orgs/{org}")
    status, created = server_json(ctx, "POST", "/__admin/orgs", {"id": org})
    assert status == 201, created
    ctx.org_tokens = created["tokens"]  # type: ignore[index]
    db = f"rawfuzz-{seed}"
    for path, rtype, link, new in (("/dbs", "dbs", "", db), (f"/dbs/{db}/colls", "colls", f"dbs/{db}", "c"),
                                   (f"/dbs/{db}/colls/c/docs", "docs", f"dbs/{db}/colls/c", "d0")):
        cosmos_setup_call(ctx, "POST", path, rtype, link, json.dumps({"id": new}).encode())
    status, media = cosmos_setup_call(ctx, "POST", f"/{SEED_DOC}/attachments", "attachments", SEED_DOC,
                                      b"rawfuzz media", "image/png",
                                      {"Slug": f"rawfuzz-media-{seed}", "x-ms-documentdb-is-upsert": "true"})
    if status in (200, 201) and isinstance(media, dict):
        ctx.media = str(media["media"]).rsplit("/", 1)[-1]
    return health["fixture_digest"]  # type: ignore[index]


def teardown(ctx: Context, seed: int, faults: Iterable[int]) -> str | None:
    """Remove what the run registered (faults, limits, the org); the fixture digest after the run."""
    for fault_id in faults:
        server_json(ctx, "DELETE", f"/__admin/faults/{fault_id}")
    server_json(ctx, "DELETE", "/__admin/limits")
    server_json(ctx, "DELETE", f"/__admin/orgs/{isolated_org(seed)}")
    return server_json(ctx, "GET", "/__admin/health")[1]["fixture_digest"]  # type: ignore[index]


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children."""
    try:
        return sorted(map(int, Path(f"/proc/{master}/task/{master}/children").read_text().split()))
    except OSError:
        return []


class WorkerWatch:
    """Every worker pid the master has had during the run, sampled a few times a second."""

    def __init__(self, master: int) -> None:
        self.master, self.seen, self.stop = master, set(worker_pids(master)), threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self) -> None:
        while not self.stop.wait(0.2):
            self.seen.update(worker_pids(self.master))

    def __enter__(self) -> WorkerWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def send_all(cases: Sequence[Case], ctx: Context, concurrency: int, timeout: float) -> list[Result]:
    """Send every case, `concurrency` connections at a time; threads take the next case in order."""
    results: list[Result | None] = [None] * len(cases)
    cursor = iter(range(len(cases)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            results[index] = run_case(cases[index], ctx, timeout)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def run_case(case: Case, ctx: Context, timeout: float) -> Result:
    data = render(case, ctx)
    began = time.monotonic()
    answer = exchange(ctx, data, timeout, case.method == b"HEAD")
    return Result(case, data, answer, classify(case, answer), time.monotonic() - began)


def registered_faults(results: Iterable[Result]) -> list[int]:
    """Ids of the faults the run's POST /__admin/faults created (harmless: they match FAULT_PATH only)."""
    ids = []
    for result in results:
        if result.case.route == "admin:add-fault" and result.answer.status == 201 and is_json(result.answer.body):
            ids.append(json.loads(result.answer.body)["id"])
    return ids


def run(url: str, count: int, seed: int, concurrency: int = 8, timeout: float = 5.0,
        master: int | None = None, only: Sequence[int] | None = None) -> Summary:
    """Fuzz the server at `url` with `count` requests drawn from `seed`."""
    parts = urlsplit(url)
    ctx = Context(parts.hostname or "127.0.0.1", parts.port or 80)
    cases = generate(seed, count)
    if only:
        cases = [cases[i] for i in only]
    digest_before = setup(ctx, seed)
    before = worker_pids(master) if master else None
    began = time.monotonic()
    if master:
        with WorkerWatch(master) as watch:
            results = send_all(cases, ctx, concurrency, timeout)
        seen: list[int] | None = sorted(watch.seen)
    else:
        results, seen = send_all(cases, ctx, concurrency, timeout), None
    duration = time.monotonic() - began
    time.sleep(0.5 if master else 0)  # a worker that died on the last request is replaced within this
    after = worker_pids(master) if master else None
    faults = registered_faults(results)
    digest_after = teardown(ctx, seed, faults)
    return Summary(seed, results, duration, before, after, seen, digest_before, digest_after, faults)


# -- reporting ------------------------------------------------------------------------------------------------

def shown(data: bytes, limit: int = 600) -> str:
    """repr of bytes, cut to a readable length."""
    return repr(data) if len(data) <= limit else f"{data[:limit]!r}... (+{len(data) - limit} bytes)"


def reproducer(result: Result) -> str:
    answer = result.answer
    return (f"  #{result.case.index} {result.case.route} {' '.join(result.case.labels)}\n"
            f"    sent: {shown(result.sent)}\n"
            f"    got:  {shown(answer.status_line, 200)} {shown(answer.body, 300)}"
            + (f" [{answer.error}]" if answer.error else "") + (" [truncated]" if answer.truncated else ""))


def report(summary: Summary, show: int = 5) -> str:
    """The printed summary."""
    results = summary.results
    classes = Counter(f"{r.answer.status // 100}xx" if r.answer.status else "none" for r in results)
    lines = [f"rawfuzz seed={summary.seed}: {len(results)} requests in {summary.duration:.1f}s "
             f"({len(results) / max(summary.duration, 1e-9):.0f}/s)",
             "by status class: " + ", ".join(f"{k}={v}" for k, v in sorted(classes.items())),
             "by family: " + ", ".join(f"{k}={v}" for k, v in sorted(Counter(r.case.family for r in results).items())),
             "statuses: " + ", ".join(f"{k}={v}" for k, v in sorted(Counter(
                 r.answer.status for r in results if r.answer.status).items())),
             f"5xx: {summary.count('5xx')}   non-JSON: {summary.count('non-json')}   "
             f"no answer: {summary.count('no-answer')} (+{summary.count('silent')} where the head never ended)",
             f"fixtures unchanged: {summary.digest_before == summary.digest_after}   "
             f"faults registered (match {FAULT_PATH} only; removed): {len(summary.faults_registered)}"]
    if summary.workers_before is not None:
        lines.append(f"workers before: {summary.workers_before}  after: {summary.workers_after}  "
                     f"seen: {summary.workers_seen}  restarted: {summary.restarted}")
    slowest = sorted(results, key=lambda r: -r.seconds)[:3]
    lines.append("slowest: " + ", ".join(f"#{r.case.index} {r.case.route} {r.seconds:.2f}s" for r in slowest))
    for outcome in ("5xx", "non-json", "no-answer"):
        failures = summary.of(outcome)
        if not failures:
            continue
        lines.append(f"{outcome}: {len(failures)}, by route: " + ", ".join(
            f"{k}={v}" for k, v in Counter(r.case.route for r in failures).most_common()))
        lines += [reproducer(r) for r in failures[:show]]
    return "\n".join(lines)


def save_failures(summary: Summary, path: Path) -> None:
    """Every 5xx, non-JSON answer and missing answer as a JSON line: index, outcome, bytes sent and received."""
    with path.open("w") as out:
        for result in summary.results:
            if result.outcome in ("5xx", "non-json", "no-answer"):
                out.write(json.dumps({"index": result.case.index, "outcome": result.outcome,
                                      "route": result.case.route, "labels": result.case.labels,
                                      "sent": repr(result.sent), "status": result.answer.status_line.decode("latin-1"),
                                      "body": result.answer.body[:2000].decode("latin-1")}) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per socket operation")
    parser.add_argument("--workers-pid-of", type=int, dest="master", help="the gunicorn master's pid")
    parser.add_argument("--only", type=int, nargs="*", help="send only these case indices (to reproduce)")
    parser.add_argument("--show", type=int, default=5, help="reproducers shown per kind of failure")
    parser.add_argument("--save", type=Path, help="write every failure to this file, one JSON line each")
    args = parser.parse_args(argv)
    summary = run(args.url, args.requests, args.seed, args.concurrency, args.timeout, args.master, args.only)
    print(report(summary, args.show))
    if args.save:
        save_failures(summary, args.save)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
