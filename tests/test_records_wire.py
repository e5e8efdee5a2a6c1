"""Hostile bodies to the record write routes over a raw socket: each gets a 4xx in Zoho's envelope, never a 5xx,
and nothing is written."""

from __future__ import annotations

import json
import socket
from typing import Iterator

import pytest
import requests

from conftest import SEED_TOKEN, auth
from servers import Server, free_port, serve_command

ZOHO_AUTH = f"Authorization: Zoho-oauthtoken {SEED_TOKEN}\r\n".encode()
ROUTES = [("POST", "/crm/v8/Leads"), ("PUT", "/crm/v8/Leads"), ("PUT", "/crm/v8/Leads/2883756000000261101"),
          ("POST", "/crm/v8/Leads/upsert"), ("POST", "/crm/v2/Leads"), ("POST", "/bigin/v2/Contacts"),
          ("POST", "/crm/v8/Leads/2883756000000261101/Notes")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state, port = tmp_path_factory.mktemp("records-wire") / "state.db", free_port()
    with Server(serve_command("--port", str(port), "--state", str(state)), port) as running:
        yield running


def send(server: Server, head: str, body: bytes = b"", raw_head: bytes = b"",
         hang_up: bool = False) -> tuple[int, dict]:
    request = f"{head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode("latin-1") + raw_head + b"\r\n" + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):  # answered (and closed) before the body was all sent
            pass
        if hang_up:  # the body ends here: the server reads end-of-file, not a stall
            sock.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def snapshot(server: Server) -> dict[str, object]:
    """Every record (with its values) the routes could touch."""
    seen = {}
    for url in ("/crm/v8/Leads", "/bigin/v2/Contacts", "/crm/v8/Notes"):
        response = requests.get(server.url + url, headers=auth(), timeout=30,
                                params={"fields": "Last_Name,First_Name,Note_Content,Email,Modified_Time"})
        seen[url] = None if response.status_code == 204 else response.json()["data"]
    return seen


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def entry(fields: bytes) -> bytes:
    return b'{"data": [{"Last_Name": "Hostile", "Note_Content": "n", ' + fields + b"}]}"


BODIES = {
    "invalid-utf8": entry(b'"First_Name": "\xff\xfe\xc0\xaf"'),
    "invalid-utf8-key": b'{"data": [{"Last_Name\xff": "x"}]}',
    "lone-surrogate": entry(b'"First_Name": "\\ud800"'),
    "deep-nesting": b'{"data": [{"Last_Name": "x", "Description": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
    "deep-objects": b'{"data": [' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"]}",
    "nan": entry(b'"Unknown_Field": NaN'),
    "infinity": entry(b'"Annual_Revenue": Infinity'),
    "minus-infinity": entry(b'"Unknown_Field": -Infinity'),
    "duplicate-keys": b'{"data": [{"Last_Name": "Hostile", "Last_Name": "Twice", "Note_Content": "n"}]}',
    "duplicate-data": b'{"data": [], "data": [{"Last_Name": "Hostile", "Note_Content": "n"}]}',
    "huge-number": entry(b'"No_of_Employees": 1' + b"0" * 5000),
    "trailing-garbage": entry(b'"First_Name": "x"') + b" {}",
    "nul-bytes": b"\x00" * 64,
}


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize("name", list(BODIES))
def test_hostile_json_is_4xx_and_writes_nothing(server: Server, method: str, path: str, name: str) -> None:
    before = snapshot(server)
    body = BODIES[name]
    status, answer = send(server, f"{method} {path} HTTP/1.1", body, ZOHO_AUTH +
                          b"Content-Type: application/json\r\n" + f"Content-Length: {len(body)}\r\n".encode())
    assert 400 <= status < 500, (status, answer)
    assert answer.get("status") == "error" or all(e["status"] == "error" for e in answer["data"]), answer
    assert snapshot(server) == before


@pytest.mark.parametrize("method,path", ROUTES[:4], ids=[f"{m} {p}" for m, p in ROUTES[:4]])
def test_a_9_mb_body_is_413_and_writes_nothing(server: Server, method: str, path: str) -> None:
    before = snapshot(server)
    body = b'{"data": [{"Last_Name": "Big", "Description": "' + b"x" * (9 << 20) + b'"}]}'
    status, answer = send(server, f"{method} {path} HTTP/1.1", body, ZOHO_AUTH +
                          b"Content-Type: application/json\r\n" + f"Content-Length: {len(body)}\r\n".encode())
    assert (status, answer["code"]) == (413, "FILE_SIZE_MORE_THAN_ALLOWED_SIZE")
    status, answer = send(server, f"{method} {path} HTTP/1.1", chunked(*[body[i:i + 65536] for i in
                                                                          range(0, len(body), 65536)]),
                          ZOHO_AUTH + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
    assert (status, answer["code"]) == (413, "FILE_SIZE_MORE_THAN_ALLOWED_SIZE")
    assert snapshot(server) == before


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize("broken", [b"zz\r\nabc\r\n0\r\n\r\n", b"ff\r\n" + entry(b'"First_Name": "cut"')[:40]],
                         ids=["bad-size", "cut-short"])
def test_a_truncated_chunked_body_is_400_and_writes_nothing(server: Server, method: str, path: str,
                                                           broken: bytes) -> None:
    before = snapshot(server)
    status, answer = send(server, f"{method} {path} HTTP/1.1", broken, ZOHO_AUTH +
                          b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", hang_up=True)
    assert 400 <= status < 500 and answer["status"] == "error", (status, answer)
    assert snapshot(server) == before


def test_a_short_content_length_body_is_400(server: Server) -> None:
    """A body that stops before its declared length (the client hangs up)."""
    before = snapshot(server)
    body = entry(b'"First_Name": "short"')
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST /crm/v8/Leads HTTP/1.1\r\nHost: x\r\n" + ZOHO_AUTH +
                     f"Content-Length: {len(body) + 100}\r\nContent-Type: application/json\r\n\r\n".encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    assert answer == b"" or answer.split()[1].startswith(b"4"), answer[:200]
    assert snapshot(server) == before


def test_a_well_formed_body_still_writes(server: Server) -> None:
    """The control: the same route, a clean body, one record more."""
    before = snapshot(server)["/crm/v8/Leads"] or []
    body = entry(b'"First_Name": "Clean"')
    status, answer = send(server, "POST /crm/v8/Leads HTTP/1.1", body, ZOHO_AUTH +
                          b"Content-Type: application/json\r\n" + f"Content-Length: {len(body)}\r\n".encode())
    assert status == 201, answer
    assert len(snapshot(server)["/crm/v8/Leads"]) == len(before) + 1
    requests.delete(f"{server.url}/crm/v8/Leads/{answer['data'][0]['details']['id']}", headers=auth(), timeout=30)


def query(text: bytes) -> bytes:
    return b'{"select_query": "' + text + b'"}'


COQL_BODIES = {
    **{name: BODIES[name] for name in ("invalid-utf8-key", "deep-nesting", "deep-objects", "nan", "duplicate-keys",
                                       "trailing-garbage", "nul-bytes")},
    "invalid-utf8-query": query(b"select Last_Name from Leads where Last_Name = '\xff\xfe'"),
    "lone-surrogate-query": query(b"select Last_Name from Leads where Last_Name = '\\ud800'"),
    "nul-in-query": query(b"select Last_Name from Leads where \\u0000 = 'x'"),
    "deep-brackets": query(b"select Last_Name from Leads where " + b"(" * 50_000 + b"id is not null" + b")" * 49_999),
    "long-chain": query(b"select Last_Name from Leads where " + b"(" * 3000 + b"id = '1'" +
                        b" and id = '1')" * 3000),
    "huge-limit": query(b"select Last_Name from Leads where id is not null limit " + b"9" * 5000),
    "huge-value": query(b"select Last_Name from Leads where No_of_Employees = " + b"9" * 5000),
    "exponent": query(b"select Last_Name from Leads where No_of_Employees = 1e400"),
    "unterminated": query(b"select Last_Name from Leads where Last_Name = 'x"),
    "not-a-string": b'{"select_query": ["select"]}',
}


@pytest.mark.parametrize("name", list(COQL_BODIES))
def test_hostile_coql_bodies_are_4xx(server: Server, name: str) -> None:
    """COQL reads and writes nothing, but its body and query text still must never reach a 5xx."""
    body = COQL_BODIES[name]
    status, answer = send(server, "POST /crm/v8/coql HTTP/1.1", body, ZOHO_AUTH +
                          b"Content-Type: application/json\r\n" + f"Content-Length: {len(body)}\r\n".encode())
    assert 400 <= status < 500 and answer["status"] == "error", (status, answer)


def test_a_coql_query_over_the_wire_answers(server: Server) -> None:
    """The control: a clean query on the same socket path, its one condition in 20,000 brackets."""
    body = query(b"select Last_Name from Leads where " + b"(" * 20_000 + b"Last_Name = 'Marrier'" + b")" * 20_000)
    status, answer = send(server, "POST /crm/v8/coql HTTP/1.1", body, ZOHO_AUTH +
                          b"Content-Type: application/json\r\n" + f"Content-Length: {len(body)}\r\n".encode())
    assert (status, answer["data"]) == (200, [{"Last_Name": "Marrier", "id": "2883756000000261075"}])
