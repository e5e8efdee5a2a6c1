"""Several hosts, one state: two `mockzoho serve` processes (two "hosts", on two ports) on one PostgreSQL
database see one another's writes, split a race between them exactly once, and lose no acknowledged write when
one of them is killed; plus the PostgreSQL store's own rules (the SQL it is given, the layout, its refusals)."""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import psycopg
import pytest
import requests
from gunicorn.http.wsgi import FileWrapper

from conftest import auth
from postgres import Cluster
from servers import Server, free_port, serve_command

from mockzoho.app import create_app
from mockzoho.config import bundled_fixtures
from mockzoho.fixtures import load_fixtures
from mockzoho.state import ZOHO_PRODUCTS
from mockzoho.store import StagedBlob, StateError, Store
from mockzoho.store.journal import COLUMNS
from mockzoho.store.schema import SCHEMA_VERSION
from mockzoho.store.postgres import BLOB_PART, STATE_LOCK, PostgresDatabase, _placeholders, schema, table_ddl

ATTACHMENTS = "/crm/v8/Leads/2883756000000261075/Attachments"
SEEDED_ATTACHMENT = f"{ATTACHMENTS}/2883756000000261017"
RACERS = 32


def host(url: str, *flags: str) -> Server:
    port = free_port()
    return Server(serve_command("--port", str(port), "--state", url, "--workers", "2", *flags), port)


@pytest.fixture
def database(postgres: Cluster) -> str:
    """A new, empty database of the test's own."""
    return postgres.create_database(f"t{uuid.uuid4().hex}")


@pytest.fixture
def seeded_store(database: str) -> Iterator[Store]:
    """A store on the test's own database, seeded from the bundled fixtures."""
    store = Store(database)
    store.seed(load_fixtures(bundled_fixtures(), ZOHO_PRODUCTS))
    yield store
    store.close()


@pytest.fixture(scope="module")
def started_hosts(postgres: Cluster) -> Iterator[tuple[Server, Server]]:
    """Two hosts started at once on an empty database: one of them seeds it, the other waits and keeps it. They
    serve every test of the module (two servers a test would cost more than the tests)."""
    url = postgres.create_database(f"t{uuid.uuid4().hex}")
    first, second = host(url), host(url)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda server: server.start(timeout=60), (first, second)))
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def hosts(started_hosts: tuple[Server, Server]) -> tuple[Server, Server]:
    """The two hosts, their state reset to the fixtures (through the second: the first must see it too)."""
    assert requests.post(started_hosts[1].url + "/__admin/reset", json={}, timeout=30).status_code == 200
    return started_hosts


def test_a_delete_through_one_host_is_seen_by_the_other(hosts: tuple[Server, Server]) -> None:
    a, b = hosts
    assert requests.get(b.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 200
    assert requests.delete(a.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).json()["data"][0]["code"] == \
        "SUCCESS"
    again = requests.delete(b.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10)
    assert (again.status_code, again.json()["code"]) == (400, "INVALID_DATA")
    assert requests.get(b.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 204  # gone there too


def test_two_hosts_starting_at_once_seed_the_state_once(hosts: tuple[Server, Server]) -> None:
    a, b = hosts
    orgs = [requests.get(server.url + "/__admin/orgs", timeout=10).json() for server in hosts]
    assert orgs[0] == orgs[1] and len({o["id"] for o in orgs[0]["orgs"]}) == len(orgs[0]["orgs"])
    listing = requests.get(a.url + ATTACHMENTS + "?fields=id", headers=auth(), timeout=10).json()["data"]
    assert len(listing) == len({item["id"] for item in listing}) == 4  # the fixtures' four, not eight


def test_concurrent_deletes_split_across_both_hosts_succeed_exactly_once(hosts: tuple[Server, Server]) -> None:
    barrier = threading.Barrier(RACERS)

    def race(i: int) -> int:
        server = hosts[i % 2]
        barrier.wait()
        return requests.delete(server.url + SEEDED_ATTACHMENT, headers=auth(), timeout=30).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = sorted(pool.map(race, range(RACERS)))
    assert statuses == [200] + [400] * (RACERS - 1)


def test_an_upload_through_one_host_downloads_byte_for_byte_through_the_other(hosts: tuple[Server, Server]) -> None:
    a, b = hosts
    content = random.Random(19).randbytes(3 * 1024 * 1024 + 17)
    uploaded = requests.post(a.url + ATTACHMENTS, headers=auth(), files={"file": ("blob.bin", content)}, timeout=30)
    assert uploaded.status_code == 200, uploaded.text
    new_id = uploaded.json()["data"][0]["details"]["id"]
    download = requests.get(f"{b.url}{ATTACHMENTS}/{new_id}", headers=auth(), timeout=30)
    assert download.status_code == 200 and download.content == content
    for asked, part in (("10-19", content[10:20]), ("1048570-1048585", content[1048570:1048586]),  # two parts
                        ("-5", content[-5:]), ("3145700-", content[3145700:])):
        ranged = requests.get(f"{b.url}{ATTACHMENTS}/{new_id}", headers={**auth(), "Range": f"bytes={asked}"},
                              timeout=30)
        assert (ranged.status_code, ranged.content) == (206, part), asked
    assert requests.delete(f"{b.url}{ATTACHMENTS}/{new_id}", headers=auth(), timeout=10).status_code == 200
    assert requests.get(f"{a.url}{ATTACHMENTS}/{new_id}", headers=auth(), timeout=10).status_code == 204


def test_a_reset_a_fault_and_a_clock_move_through_one_host_apply_on_the_other(
        hosts: tuple[Server, Server]) -> None:
    a, b = hosts
    assert requests.delete(a.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 200
    assert requests.post(b.url + "/__admin/reset", json={}, timeout=30).status_code == 200
    assert requests.get(a.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 200  # back
    fault = requests.post(a.url + "/__admin/faults", timeout=10, json={
        "match": {"method": "GET", "path": "/crm/v8/Leads/*"}, "respond": {"code": "INTERNAL_ERROR"}, "times": 1})
    assert fault.status_code == 201, fault.text
    assert requests.get(b.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 500
    assert requests.get(a.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 200  # spent on b
    frozen = requests.put(a.url + "/__admin/clock", json={"now": "2031-01-02T03:04:05Z", "frozen": True}, timeout=10)
    assert frozen.status_code == 200, frozen.text
    assert requests.post(a.url + "/__admin/clock/advance", json={"seconds": 60}, timeout=10).status_code == 200
    assert requests.get(b.url + "/__admin/clock", timeout=10).json() == {"now": "2031-01-02T03:05:05Z",
                                                                         "frozen": True}


def test_the_journal_read_through_either_host_lists_the_calls_both_answered(hosts: tuple[Server, Server]) -> None:
    a, b = hosts
    for server, tag in ((a, "on-a"), (b, "on-b")):
        requests.get(server.url + ATTACHMENTS + "?fields=id", headers={**auth(), "X-Mockzoho-Tag": tag}, timeout=10)
    for server in hosts:
        entries = requests.get(server.url + "/__admin/requests", timeout=10).json()["requests"]
        assert {"on-a", "on-b"} <= {e["tag"] for e in entries}


def test_killing_a_host_mid_write_loses_no_acknowledged_write(database: str) -> None:
    """Writers insert leads through host a until it is killed (SIGKILL, every process of it at once); every insert
    it acknowledged can be read through host b afterwards."""
    a, b = host(database).start(timeout=60), host(database).start(timeout=60)
    acknowledged: list[str] = []
    stop = threading.Event()

    def write(i: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                answer = requests.post(a.url + "/crm/v8/Leads", headers=auth(), timeout=10,
                                       json={"data": [{"Last_Name": f"Writer {i}-{n}"}]})
            except requests.RequestException:  # the host is gone: what it never answered is not acknowledged
                return
            if answer.status_code == 201:
                acknowledged.append(answer.json()["data"][0]["details"]["id"])

    try:
        with ThreadPoolExecutor(8) as pool:
            for i in range(8):
                pool.submit(write, i)
            while len(acknowledged) < 200:
                threading.Event().wait(0.02)
            _kill_all(a)
            stop.set()
        assert len(acknowledged) >= 200
        for start in range(0, len(acknowledged), 100):
            ids = ",".join(acknowledged[start:start + 100])
            found = requests.get(f"{b.url}/crm/v8/Leads?ids={ids}&fields=Last_Name", headers=auth(), timeout=30)
            assert found.status_code == 200, found.text
            assert sorted(r["id"] for r in found.json()["data"]) == sorted(acknowledged[start:start + 100])
    finally:
        stop.set()
        a.stop()
        b.stop()


def _kill_all(server: Server) -> None:
    """SIGKILL a `mockzoho serve` and its workers at once, as a host that loses power would stop."""
    pids = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout.split()
    for pid in [server.process.pid, *map(int, pids)]:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait(timeout=10)


# -- the store's own rules -------------------------------------------------------------------------------------

@pytest.mark.parametrize("sqlite, postgres, numbered", [
    ("SELECT 1 FROM t WHERE a = ? AND b = ?", "SELECT 1 FROM t WHERE a = %s AND b = %s", False),
    ("DELETE FROM t WHERE ?1 IS NULL OR org = ?1", "DELETE FROM t WHERE %(p1)s IS NULL OR org = %(p1)s", True),
    ("SELECT 'a?b', \"c?\" FROM t WHERE x LIKE '5%' AND y % 2 = ?", "SELECT 'a?b', \"c?\" FROM t WHERE x LIKE "
     "'5%%' AND y %% 2 = %s", False),
])
def test_sqlite_placeholders_become_psycopgs(sqlite: str, postgres: str, numbered: bool) -> None:
    assert _placeholders(sqlite) == (postgres, numbered)


def test_the_layout_is_the_sqlite_one_in_postgresqls_words() -> None:
    statements = "\n".join(schema())
    assert "AUTOINCREMENT" not in statements and "WITHOUT ROWID" not in statements
    assert " INTEGER" not in statements and " REAL" not in statements
    values = next(s for s in schema() if "CREATE TABLE IF NOT EXISTS record_values(" in s)
    assert "value JSONB NOT NULL" in values and "rowid" not in values
    users = table_ddl("CREATE TABLE IF NOT EXISTS users(org TEXT NOT NULL, id TEXT NOT NULL)")
    assert users.endswith("rowid BIGINT GENERATED BY DEFAULT AS IDENTITY)")  # lists keep their insertion order
    copy = table_ddl("CREATE TABLE IF NOT EXISTS fixture_users AS SELECT * FROM users WHERE 0")
    assert copy == "CREATE TABLE IF NOT EXISTS fixture_users (LIKE users INCLUDING DEFAULTS INCLUDING IDENTITY)"


def test_a_database_that_does_not_sort_text_by_code_point_is_refused(postgres: Cluster) -> None:
    postgres.sql("CREATE DATABASE t_c_utf8 TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")
    taken = Store(postgres.url("t_c_utf8"))
    taken.seeded_digest()  # C.UTF-8 orders by code point too: taken
    taken.close()
    postgres.sql("CREATE DATABASE t_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C'")
    done = subprocess.run(serve_command("--port", str(free_port()), "--state", postgres.url("t_icu")),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "mockzoho needs the C collation" in done.stderr, done.stderr


def test_a_database_that_does_not_exist_is_one_line_not_a_traceback(postgres: Cluster) -> None:
    done = subprocess.run(serve_command("--port", str(free_port()), "--state", postgres.url("nothing_there")),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_a_wrong_password_or_host_is_one_line_not_a_traceback(postgres: Cluster) -> None:
    url = f"postgresql://mockzoho:wrong@127.0.0.1:{free_port()}/postgres"
    done = subprocess.run(serve_command("--port", str(free_port()), "--state", url), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot use the state postgresql://mockzoho:***@127.0.0.1" in done.stderr and "wrong" not in done.stderr
    with pytest.raises(StateError):
        create_app({"state": url})


def test_fresh_drops_the_state_and_seeds_it_again(database: str) -> None:
    with host(database) as server:
        assert requests.delete(server.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 200
    with host(database, "--fresh") as server:
        assert requests.get(server.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 200


def test_the_state_survives_a_restart_of_every_host(database: str) -> None:
    with host(database) as server:
        assert requests.delete(server.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 200
    with host(database) as server:
        assert requests.delete(server.url + SEEDED_ATTACHMENT, headers=auth(), timeout=10).status_code == 400


def test_journal_appends_beside_clears_never_deadlock(seeded_store: Store) -> None:
    """Appends take the journal's lock shared inside their INSERT, so they hold the table first; a clear (the lock
    alone) must then take no lock on the table that they hold against it (no DDL, no ALTER TABLE)."""
    store = seeded_store
    store.journal.open(100)
    entry = {c: None for c in COLUMNS} | {"time": 1.0, "method": "GET", "path": "/x", "query": "", "headers": {},
                                          "body_size": 0, "body_preview": "", "status": 200, "duration_ms": 1.0,
                                          "response_headers": {}, "response_size": 0, "response_preview": "",
                                          "unmatched": False}
    errors: list[str] = []

    def append() -> None:
        for _ in range(150):
            try:
                store.journal.record(entry)
            except Exception as exc:  # noqa: BLE001 (each kind is reported)
                errors.append(type(exc).__name__)

    def clear() -> None:
        for _ in range(20):
            try:
                store.journal.clear()
                store.journal.open(100)
            except Exception as exc:  # noqa: BLE001
                errors.append(type(exc).__name__)

    threads = [threading.Thread(target=append) for _ in range(6)] + [threading.Thread(target=clear)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


SAME_ANSWERS_WRITES = [
    {"Last_Name": "Émile", "Email_Opt_Out": False, "No_of_Employees": 5, "Annual_Revenue": 1e20},
    {"Last_Name": "émile", "Email_Opt_Out": True, "Annual_Revenue": 0.1, "Description": "long " * 700},
    {"Last_Name": "ÉMILE", "No_of_Employees": -3},
]
SAME_ANSWERS_QUERIES = [
    "select Last_Name, No_of_Employees from Leads where Last_Name is not null order by No_of_Employees asc",
    "select Last_Name, No_of_Employees from Leads where Last_Name is not null order by No_of_Employees desc",
    "select City, COUNT(id) from Leads where Last_Name is not null group by City",
    "select Email_Opt_Out, COUNT(id) from Leads where Last_Name is not null group by Email_Opt_Out",
    "select Last_Name, COUNT(id) from Leads where Last_Name like '%mile' group by Last_Name",
    "select MAX(Created_Time), MIN(Modified_Time) from Leads where id is not null",
    "select AVG(Annual_Revenue) from Leads where id is not null",
]


def test_both_databases_answer_alike(tmp_path, fresh_postgres_app) -> None:
    """The same writes, then the same reads, on a SQLite state and a PostgreSQL one: the same bytes (NULLs sorted
    first, a long indexed text, booleans grouped with an empty field, case folded in ASCII alone, MAX of a time)."""
    clients = [create_app({"state": tmp_path / "s.db", "clock": "2031-01-02T03:04:05Z"}).test_client(),
               fresh_postgres_app.test_client()]
    fresh_postgres_app.extensions["mockzoho"].store.set_clock(1925089445.0, 0)
    for lead in SAME_ANSWERS_WRITES:
        for client in clients:
            assert client.post("/crm/v8/Leads", headers=auth(), json={"data": [lead]}).status_code == 201
    for query in SAME_ANSWERS_QUERIES:
        sqlite, postgres = (c.post("/crm/v8/coql", headers=auth(), json={"select_query": query}) for c in clients)
        assert (postgres.status_code, postgres.json) == (sqlite.status_code, sqlite.json), query
    sqlite, postgres = (c.get("/crm/v8/Leads?fields=Last_Name,Annual_Revenue&per_page=200", headers=auth())
                        for c in clients)
    assert [r["Annual_Revenue"] for r in postgres.json["data"]] == [r["Annual_Revenue"] for r in sqlite.json["data"]]


def test_a_nul_in_a_field_value_is_answered_not_a_500(fresh_postgres_app) -> None:
    """PostgreSQL's json cannot give a NUL back as text: a record holding one is read with U+FFFD in its place."""
    client = fresh_postgres_app.test_client()
    assert client.post("/crm/v8/Leads", headers=auth(),
                       json={"data": [{"Last_Name": "nul", "Company": "a\u0000b"}]}).status_code == 201
    assert client.get("/crm/v8/Leads?fields=Company&per_page=200", headers=auth()).status_code == 200
    for query in ("select Company, COUNT(id) from Leads where Last_Name = 'nul' group by Company",
                  "select Company from Leads where Last_Name = 'nul' order by Company"):
        answer = client.post("/crm/v8/coql", headers=auth(), json={"select_query": query})
        assert answer.status_code == 200 and answer.json["data"][0]["Company"] == "a\ufffdb", query


def test_a_role_that_may_not_create_the_tables_is_one_line_not_a_traceback(postgres: Cluster) -> None:
    for statement in ("CREATE ROLE cannot_create LOGIN", "CREATE DATABASE t_cannot_create"):
        postgres.sql(statement)
    url = postgres.url("t_cannot_create").replace(f"//{'mockzoho'}@", "//cannot_create@")
    import psycopg

    with psycopg.connect(postgres.url("t_cannot_create"), autocommit=True) as conn:
        conn.execute("REVOKE CREATE ON DATABASE t_cannot_create FROM PUBLIC")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    done = subprocess.run(serve_command("--port", str(free_port()), "--state", url), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "permission denied" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def _parts(store: Store, digest: str | None = None) -> list[tuple[int, int]]:
    """The parts of a blob (of every blob) as (part, bytes)."""
    return store.connection().execute(
        "SELECT part, length(content) FROM blob_parts WHERE digest = coalesce(?, digest) ORDER BY digest, part",
        (digest,)).fetchall()


def _staged(store: Store, size: int, seed: int) -> tuple[bytes, StagedBlob]:
    content = random.Random(seed).randbytes(size)
    return content, store.stage_blob(io.BytesIO(content))


def test_a_large_blob_is_kept_in_parts_copied_in_while_another_host_holds_the_writers_lock(
        database: str, seeded_store: Store) -> None:
    """No row holds more than a part (bytea holds 1 GB at most); the parts of a large upload go in before its
    transaction, so a writer of another host holding the lock does not hold them up; its transaction then waits."""
    store = seeded_store
    content, staged = _staged(store, 2 * BLOB_PART + 5, 1)
    other = psycopg.connect(database, autocommit=True)
    other.execute("BEGIN")
    other.execute("SELECT pg_advisory_xact_lock(%s)", (STATE_LOCK,))  # another host's write transaction
    placed = threading.Event()

    def place() -> None:
        with store.write_blobs(staged):
            pass  # the rows naming it, which the store's callers write
        placed.set()

    writer = threading.Thread(target=place)
    writer.start()
    try:
        for _ in range(300):  # the parts arrive while the lock is held...
            if len(_parts(store, staged.digest)) == 3:
                break
            threading.Event().wait(0.1)
        assert _parts(store, staged.digest) == [(0, BLOB_PART), (1, BLOB_PART), (2, 5)]
        assert not placed.is_set()  # ...and the blob is no one's until the lock is given up
        assert store.blob_source(staged.digest) is None
    finally:
        other.execute("COMMIT")
        writer.join(30)
    assert placed.is_set()
    assert store.blob_source(staged.digest).read() == content
    other.close()


def test_a_sweep_between_the_copy_and_the_transaction_costs_the_upload_nothing(
        seeded_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store = seeded_store
    content, staged = _staged(store, BLOB_PART + 1, 2)
    copy = PostgresDatabase._copy_parts

    def copy_then_sweep(db: PostgresDatabase, blob: StagedBlob) -> None:
        copy(db, blob)
        assert len(_parts(store, blob.digest)) == 2
        store.sweep()  # another host starting: the parts are no blob's yet, and go
        assert _parts(store, blob.digest) == []

    monkeypatch.setattr(PostgresDatabase, "_copy_parts", copy_then_sweep)
    with store.write_blobs(staged):
        pass
    assert store.blob_source(staged.digest).read() == content  # put in again under the lock


def test_a_refused_upload_leaves_no_parts_behind(seeded_store: Store) -> None:
    store = seeded_store
    _, staged = _staged(store, 3 * BLOB_PART, 3)
    with pytest.raises(ZeroDivisionError), store.write_blobs(staged):
        raise ZeroDivisionError  # what a refusal inside the transaction (a quota, a record gone) is to the store
    assert _parts(store, staged.digest) == [] and store.db.stored_blobs() == []


def test_a_blob_deleted_while_it_is_read(seeded_store: Store) -> None:
    """A blob of one part is read whole when it is opened; a larger one deleted meanwhile ends short, with an
    error (its connection closes), never with other bytes."""
    store = seeded_store
    readers = []
    for size, seed in ((1000, 4), (BLOB_PART + 1000, 5)):
        content, staged = _staged(store, size, seed)
        with store.write_blobs(staged):
            pass
        reader = store.blob_source(staged.digest)
        readers.append((content, reader, reader.read(BLOB_PART) if size > BLOB_PART else b""))  # one under way
        with store.write_blobs() as (_, dropped):
            dropped.add(staged.digest)  # no row names it: freed
        assert store.blob_source(staged.digest) is None
    (small, small_reader, small_start), (large, large_reader, large_start) = readers
    assert small_start == b"" and small_reader.read() == small  # read when it was opened
    assert large_start == large[:BLOB_PART]
    with pytest.raises(OSError, match="deleted while it was sent"):
        large_reader.read(10)


def test_a_state_of_layout_13_keeps_its_blobs_whole_in_parts(postgres: Cluster, database: str) -> None:
    """Layout 13 kept a blob in one bytea; a restart on such a state moves its bytes into parts."""
    app = create_app({"state": database})
    client = app.test_client()
    content = random.Random(6).randbytes(BLOB_PART) + b"mockzoho" * (BLOB_PART // 8) + b"end"  # half compressible
    uploaded = client.post(ATTACHMENTS, headers=auth(), data={"file": (io.BytesIO(content), "old.bin")})
    new_id = uploaded.json["data"][0]["details"]["id"]
    seeded = client.get(SEEDED_ATTACHMENT, headers=auth()).data
    app.extensions["mockzoho"].store.close()
    with psycopg.connect(database, autocommit=True) as old:  # back to layout 13
        old.execute("ALTER TABLE blobs ADD COLUMN content BYTEA")
        old.execute("UPDATE blobs b SET content = coalesce((SELECT string_agg(p.content, ''::bytea ORDER BY p.part) "
                    "FROM blob_parts p WHERE p.digest = b.digest), ''::bytea)")
        old.execute("ALTER TABLE blobs DROP COLUMN size")
        old.execute("DROP TABLE blob_parts")
        old.execute("UPDATE meta SET value = '13' WHERE key = 'schema'")
    app = create_app({"state": database})
    client = app.test_client()
    assert client.get(f"{ATTACHMENTS}/{new_id}", headers=auth()).data == content
    assert client.get(SEEDED_ATTACHMENT, headers=auth()).data == seeded  # a fixture's, of one part
    store = app.extensions["mockzoho"].store
    assert store.connection().execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (SCHEMA_VERSION,)
    assert [size for _, size in _parts(store, hashlib.sha256(content).hexdigest())] == [BLOB_PART, BLOB_PART, 3]
    store.close()


def test_a_range_under_gunicorns_file_wrapper_reads_only_the_parts_it_sends(
        fresh_postgres_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's file wrapper cannot seek: werkzeug would read (from the database) and drop every part before a
    range's start. A HEAD reads none."""
    client = fresh_postgres_app.test_client()
    client.environ_base["wsgi.file_wrapper"] = FileWrapper
    content = random.Random(7).randbytes(3 * BLOB_PART + 5)
    uploaded = client.post(ATTACHMENTS, headers=auth(), data={"file": (io.BytesIO(content), "four.bin")})
    url = f"{ATTACHMENTS}/{uploaded.json['data'][0]['details']['id']}"
    read: list[int] = []
    part = PostgresDatabase.read_part
    monkeypatch.setattr(PostgresDatabase, "read_part", lambda db, digest, n: read.append(n) or part(db, digest, n))
    for asked, sent, parts in (("-5", content[-5:], [3]), ("1048570-1048585", content[1048570:1048586], [0, 1]),
                               (f"{2 * BLOB_PART}-", content[2 * BLOB_PART:], [2, 3])):
        read.clear()
        ranged = client.get(url, headers={**auth(), "Range": f"bytes={asked}"})
        assert (ranged.status_code, b"".join(ranged.response)) == (206, sent)
        assert read == parts, asked
    read.clear()
    assert client.head(url, headers=auth()).headers["Content-Length"] == str(len(content)) and read == []


def test_an_uploads_own_error_is_raised_when_freeing_its_parts_fails(
        seeded_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store = seeded_store
    _, staged = _staged(store, 2 * BLOB_PART, 8)

    def unreachable(conn, digest) -> None:
        raise psycopg.OperationalError("the database is gone")

    monkeypatch.setattr(PostgresDatabase, "_free", staticmethod(unreachable))
    with pytest.raises(ZeroDivisionError), store.write_blobs(staged):
        raise ZeroDivisionError  # the refusal the caller must see
    monkeypatch.undo()
    assert len(_parts(store, staged.digest)) == 2  # left...
    store.sweep()
    assert _parts(store, staged.digest) == []  # ...to the sweep
