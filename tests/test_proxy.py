"""Forwarding what nothing models to a real API (here a second mockzoho), and recording its answers as stubs."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml
from flask import Flask

from conftest import auth
from mockzoho.admin import answering, proxy
from mockzoho.admin.proxy import literal, redacted
from mockzoho.app import create_app
from mockzoho.config import bundled_fixtures
from servers import Server, free_port, serve_command, serve_in_thread

CONVERT = "/crm/v8/Leads/2883756000000261075/actions/convert"
UPSTREAM_ANSWER = {"data": [{"code": "SUCCESS", "status": "success", "message": "converted",
                             "details": {"Contacts": {"id": "{{ new_id() }}", "Email": "kris@example.com",
                                                      "Owner": {"name": "Patricia Boyle", "id": "2883756000000113001",
                                                                "email": "p@zylker.example"},
                                                      "Full_Name": "Kris Marrier", "Phone": "555-0100"},
                                         "note": "{% raw %}{{ not a template here }}{% endraw %}"}}]}


@pytest.fixture
def upstream(tmp_path: Path):
    """A second mockzoho standing in for the real API, with a stub for convert (its journal shows what came)."""
    app = create_app({"state": tmp_path / "upstream.db"})
    added = app.test_client().post("/__admin/stubs", data=json.dumps({
        "match": {"method": "POST", "path": "/crm/v8/Leads/*/actions/convert"},
        "respond": {"status": 200, "json": UPSTREAM_ANSWER, "headers": {"X-Upstream": "yes"}}}),
        content_type="application/json")
    assert added.status_code == 201, added.json
    with serve_in_thread(app) as url:
        yield url, app


def front(tmp_path: Path, **settings: object) -> Flask:
    return create_app({"state": tmp_path / "front.db", **settings})


def test_calls_nothing_models_are_forwarded_and_answered_as_upstream(tmp_path: Path, upstream) -> None:
    url, upstream_app = upstream
    client = front(tmp_path, proxy_to=url).test_client()
    answer = client.post(f"{CONVERT}?trigger=workflow", data=b'{"data":[{}]}', content_type="application/json",
                         headers={**auth(), "X-Mockzoho-Tag": "t1"})
    assert answer.status_code == 200 and answer.headers["X-Upstream"] == "yes"
    assert answer.json["data"][0]["details"]["Contacts"]["Email"] == "kris@example.com"
    assert "X-Mockzoho-Unmatched" not in answer.headers
    entry = client.get("/__admin/requests?limit=1").json["requests"][0]
    assert (entry["matched"], entry["unmatched"], entry["tag"], entry["code"]) == (f"proxy {url}", False, "t1",
                                                                                  "SUCCESS")
    seen = upstream_app.test_client().get("/__admin/requests?limit=1").json["requests"][0]
    assert (seen["path"], seen["query"], seen["body_preview"]) == (CONVERT, "trigger=workflow", '{"data":[{}]}')
    assert seen["headers"]["Authorization"].endswith(auth()["Authorization"][-4:])
    modelled = client.get("/crm/v8/Leads/2883756000000261075", headers=auth())  # modelled: answered here
    assert modelled.status_code == 200
    assert client.get("/__admin/requests?limit=1").json["requests"][0]["matched"] == "route crm.get_record"
    assert client.get("/__admin/stubs").json == {"stubs": []}  # not recording


def test_recorded_answers_replay_offline_redacted(tmp_path: Path, upstream) -> None:
    url, _ = upstream
    recorder = front(tmp_path, proxy_to=url, record=True).test_client()
    live = [recorder.post(CONVERT, data=b"{}", content_type="application/json", headers=auth()) for _ in range(2)]
    ids = [a.json["data"][0]["details"]["Contacts"]["id"] for a in live]
    assert ids[0] != ids[1]  # each call went to the upstream (recordings are not replayed while recording)
    [stub] = recorder.get("/__admin/stubs").json["stubs"]  # the later recording replaced the first
    assert (stub["source"], stub["match"], stub["auth"]) == ("recorded", {"method": "POST", "path": CONVERT}, True)
    assert stub["respond"]["headers"]["Content-Type"] == "application/json;charset=utf-8"
    assert recorder.post("/__admin/reset", json={}).status_code == 200  # a capture outlives resets
    offline = front(tmp_path, proxy_to=f"http://127.0.0.1:{free_port()}").test_client()
    replay = offline.post(CONVERT, data=b"{}", content_type="application/json", headers=auth())
    assert replay.status_code == 200
    contact = replay.json["data"][0]["details"]["Contacts"]
    assert contact == {"id": ids[1], "Email": "redacted@example.com",
                       "Owner": {"name": "[redacted]", "id": "2883756000000113001", "email": "redacted@example.com"},
                       "Full_Name": "[redacted]", "Phone": "[redacted]"}
    assert replay.json["data"][0]["details"]["note"] == "{{ not a template here }}"
    assert offline.post(CONVERT, data=b"{}", content_type="application/json").json["code"] == "AUTHENTICATION_FAILURE"
    gone = offline.post(CONVERT.replace("convert", "other"), data=b"{}", content_type="application/json",
                        headers=auth())
    assert (gone.status_code, gone.json["error"]) == (502, "proxy_failed")
    assert "did not answer" in gone.json["message"]


def test_a_stub_can_send_its_calls_to_a_proxy(tmp_path: Path, upstream) -> None:
    url, _ = upstream
    client = front(tmp_path).test_client()
    client.post("/__admin/stubs", json={"match": {"path": "/crm/v8/Leads/*/actions/*"}, "respond": {"proxy": url}})
    answer = client.post(CONVERT, data=b"{}", content_type="application/json", headers=auth())
    assert answer.status_code == 200 and answer.headers["X-Upstream"] == "yes"
    assert client.get("/__admin/requests?limit=1").json["requests"][0]["matched"] == f"proxy {url}"


def test_redaction_keeps_ids_and_shapes() -> None:
    assert redacted({"id": "1", "Last_Name": "X", "Mailing_Street": "1 Road", "count": 3, "Email_Opt_Out": False,
                     "access_token": "1000.a.b", "list": ["a@b.example", "plain"]}) == {
        "id": "1", "Last_Name": "[redacted]", "Mailing_Street": "[redacted]", "count": 3, "Email_Opt_Out": False,
        "access_token": "[redacted]", "list": ["redacted@example.com", "plain"]}
    assert literal({"a": ["{{ x }}", "y"]}) == {"a": ["{% raw %}{{ x }}{% endraw %}", "y"]}


def test_the_proxy_never_reaches_further_than_asked(tmp_path: Path) -> None:
    port = free_port()
    client = front(tmp_path, proxy_to=f"http://127.0.0.1:{port}/base").test_client()
    answer = client.get("/crm/v8/Leads/1/actions/photo", headers=auth())
    assert (answer.status_code, answer.json["error"]) == (502, "proxy_failed")
    assert f"http://127.0.0.1:{port}/base did not answer" in answer.json["message"]


def test_record_from_a_second_mockzoho_then_replay_without_it(tmp_path: Path) -> None:
    """As a team would: `serve --proxy-to UPSTREAM --record` while tests run, then `serve` on that state offline."""
    fixtures = tmp_path / "upstream-fixtures"
    shutil.copytree(bundled_fixtures(), fixtures)
    (fixtures / "stubs.yaml").write_text(yaml.safe_dump({"stubs": [{
        "match": {"method": "POST", "path": "/crm/v8/Leads/*/actions/convert"},
        "respond": {"json": UPSTREAM_ANSWER, "headers": {"X-Upstream": "yes"}}}]}))
    up_port, front_port = free_port(), free_port()
    front_state = tmp_path / "front.db"
    with Server(serve_command("--port", str(up_port), "--state", str(tmp_path / "up.db"), "--fixtures", str(fixtures)),
                up_port) as up:
        with Server(serve_command("--port", str(front_port), "--state", str(front_state), "--proxy-to", up.url,
                                  "--record", "--no-access-log"), front_port) as front_server:
            live = requests.post(front_server.url + CONVERT, json={"data": [{}]}, headers=auth())
            assert live.status_code == 200 and live.headers["X-Upstream"] == "yes"
            recorded = requests.get(f"{front_server.url}/__admin/stubs").json()["stubs"]
            assert [(s["source"], s["match"]["path"]) for s in recorded] == [("recorded", CONVERT)]
    with Server(serve_command("--port", str(front_port), "--state", str(front_state), "--no-access-log"),
                front_port) as offline:
        replay = requests.post(offline.url + CONVERT, json={"data": [{}]}, headers=auth())
        assert replay.status_code == 200 and "X-Mockzoho-Unmatched" not in replay.headers
        contact = replay.json()["data"][0]["details"]["Contacts"]
        assert (contact["id"], contact["Email"]) == (live.json()["data"][0]["details"]["Contacts"]["id"],
                                                     "redacted@example.com")
        entry = requests.get(f"{offline.url}/__admin/requests?limit=1").json()["requests"][0]
        assert entry["matched"] == f"stub {recorded[0]['id']}"


def test_a_proxy_that_leads_back_to_itself_is_a_loop_not_a_hang(tmp_path: Path) -> None:
    app = front(tmp_path)
    with serve_in_thread(app) as url:
        app.extensions["mockzoho"].settings = dataclasses.replace(app.extensions["mockzoho"].settings, proxy_to=url)
        answer = requests.post(url + CONVERT, data=b"{}", headers=auth(), timeout=30)
    assert (answer.status_code, answer.json()["error"]) == (508, "proxy_loop")
    paths = [e["matched"] for e in app.test_client().get("/__admin/requests").json["requests"]]
    assert paths == [f"proxy {url}", f"proxy {url}"]  # once in, once back: then refused


class FakeUpstream:
    """A socket that answers every connection with the same bytes, and keeps what it was sent."""

    def __init__(self, answer: bytes) -> None:
        self.answer, self.received = answer, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                declared = re.search(rb"(?i)content-length: (\d+)", head)
                length = int(declared[1]) if declared else 0
                while len(body) < length:
                    body += conn.recv(65536)
                self.received.append(head)
                conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("path", ["/crm/v8/x/a%20b/c/d", "/crm/v8/x/%C3%A9/c/d", "/crm/v8/x/a%2Fb/c/d"])
def test_the_proxy_forwards_the_path_as_the_client_sent_it(tmp_path: Path, path: str) -> None:
    upstream = FakeUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    try:
        client = front(tmp_path, proxy_to=upstream.url).test_client()
        answer = client.get(path, headers={**auth(), "Connection": "X-Hop", "X-Hop": "1", "X-Kept": "2"})
        assert answer.status_code == 200, answer.json
        [head] = upstream.received
        assert head.startswith(f"GET {path} HTTP/1.1\r\n".encode())
        assert b"X-Hop" not in head and b"X-Kept: 2" in head and b"Via: 1.1 mockzoho-" in head
        assert b"Content-Length" not in head  # a GET with no body says none
    finally:
        upstream.close()


def test_a_garbage_answer_upstream_is_passed_on_cleaned_never_a_500(tmp_path: Path) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    upstream = FakeUpstream(b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nBad Name: x\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(deep) + deep)
    try:
        client = front(tmp_path, proxy_to=upstream.url, record=True).test_client()
        answer = client.get("/crm/v8/x/y/z/deep", headers=auth())
        assert (answer.status_code, answer.data, answer.headers["X-A"]) == (200, deep, "a b")
        assert "Bad Name" not in answer.headers
        assert client.get("/__admin/stubs").json == {"stubs": []}  # too deep to keep: not recorded
    finally:
        upstream.close()


def test_a_body_past_the_proxys_cap_is_413(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answering, "MAX_ANSWER", 1000)
    client = front(tmp_path, proxy_to=f"http://127.0.0.1:{free_port()}").test_client()
    answer = client.post("/crm/v8/x/y/z/big", data=b"x" * 2000, headers=auth())
    assert answer.status_code == 413 and answer.json["code"] == "FILE_SIZE_MORE_THAN_ALLOWED_SIZE"


def test_concurrent_recordings_of_one_call_keep_one_stub_with_its_org(tmp_path: Path, upstream) -> None:
    url, _ = upstream
    app = front(tmp_path, proxy_to=url, record=True)
    apps = [create_app({"state": app.extensions["mockzoho"].settings.state, "proxy_to": url, "record": True})
            for _ in range(4)]
    barrier = threading.Barrier(16)

    def call(index: int) -> int:
        barrier.wait()
        return apps[index % 4].test_client().post(CONVERT, data=b"{}", content_type="application/json",
                                                  headers=auth()).status_code

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(call, range(16))) == [200] * 16
    stubs = app.test_client().get("/__admin/stubs").json["stubs"]
    assert [(s["source"], s["org"]) for s in stubs] == [("recorded", "zylker-us")]


def test_a_recorded_redirect_keeps_no_grant_code(tmp_path: Path) -> None:
    upstream = FakeUpstream(b"HTTP/1.1 302 Found\r\nLocation: https://app.example/cb?code=1000.secretgrant&state=s\r\n"
                            b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    try:
        client = front(tmp_path, proxy_to=upstream.url, record=True).test_client()
        assert client.get("/crm/v8/x/y/z/redirect", headers=auth()).status_code == 302
        [stub] = client.get("/__admin/stubs").json["stubs"]
        assert stub["respond"]["headers"]["Location"] == "https://app.example/cb?code=****rant&state=s"
    finally:
        upstream.close()


def test_the_loop_mark_is_the_states_own_and_shared_by_its_workers(tmp_path: Path) -> None:
    first = front(tmp_path).extensions["mockzoho"].store.instance_mark()
    again = create_app({"state": tmp_path / "front.db"}).extensions["mockzoho"].store.instance_mark()
    other = create_app({"state": tmp_path / "other.db"}).extensions["mockzoho"].store.instance_mark()
    assert first == again != other and len(first) == 12


def test_an_upstream_that_trickles_its_head_is_cut_at_the_deadline(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proxy, "DEADLINE", 1)
    sock = socket.create_server(("127.0.0.1", 0))

    def trickle() -> None:
        conn, _ = sock.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: yes\r\n":
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.2)

    threading.Thread(target=trickle, daemon=True).start()
    client = front(tmp_path, proxy_to=f"http://127.0.0.1:{sock.getsockname()[1]}").test_client()
    began = time.monotonic()
    answer = client.get("/crm/v8/x/y/z/slow", headers=auth())
    assert (answer.status_code, answer.json["error"]) == (502, "proxy_failed")
    assert "took longer than 1 s" in answer.json["message"] and time.monotonic() - began < 5
    sock.close()


def test_a_nan_upstream_is_passed_on_and_recorded_as_text(tmp_path: Path) -> None:
    upstream = FakeUpstream(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n"
                            b"Connection: close\r\n\r\n{\"a\": NaN}")
    try:
        client = front(tmp_path, proxy_to=upstream.url, record=True).test_client()
        for path in ("/crm/v8/x/y/z/nan", "/crm/v8/x/y/z/caf%C3%A9?q=%C3%A9&b=1", "/crm/v8/x/y/z/caf%C3%A9?b=1&q=%C3%A9"):
            assert client.get(path, headers=auth()).status_code == 200
        recorded = client.get("/__admin/stubs").json["stubs"]
        assert [(s["match"]["path"], s["respond"].get("body")) for s in recorded] == [
            ("/crm/v8/x/y/z/nan", '{"a": NaN}'), ("/crm/v8/x/y/z/caf\xe9", '{"a": NaN}')]  # one per call
    finally:
        upstream.close()


def test_a_proxied_head_says_the_upstreams_length(tmp_path: Path) -> None:
    upstream = FakeUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
    try:
        client = front(tmp_path, proxy_to=upstream.url).test_client()
        answer = client.head("/crm/v8/x/y/z/head", headers=auth())
        assert (answer.status_code, answer.headers["Content-Length"], answer.data) == (200, "5", b"")
    finally:
        upstream.close()
