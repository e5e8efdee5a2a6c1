"""The SQLite state: seeded once per file even under racing workers, blobs freed and swept, versions checked."""

from __future__ import annotations

import fcntl
import hashlib
import io
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml
from flask.testing import FlaskClient

from mockzoho.app import create_app
from mockzoho.state import ZOHO_PRODUCTS
from mockzoho.config import Settings, bundled_fixtures
from mockzoho.fixtures import load_fixtures
from mockzoho.state import seeding_problem
from mockzoho.store import StagedBlob, StateError, Store, remove_state, blobs
from mockzoho.store.sqlite import SqliteDatabase
from mockzoho.store.schema import SCHEMA_VERSION

from conftest import REPO, SEED_TOKEN, auth


def _seed(path: str, barrier, results) -> None:  # runs in a child process
    fixtures = load_fixtures(bundled_fixtures(), ZOHO_PRODUCTS)
    store = Store(Path(path))
    barrier.wait()
    results.put(store.seed(fixtures))


def test_racing_workers_seed_exactly_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_seed, args=(str(tmp_path / "s.db"), barrier, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sorted(results.get(timeout=5) for _ in workers) == [False, False, False, True]
    count = Store(tmp_path / "s.db").connection().execute("SELECT COUNT(*) FROM attachments").fetchone()[0]
    fixtures = load_fixtures(bundled_fixtures(), ZOHO_PRODUCTS)
    assert count == sum(len(r.attachments) for o in fixtures.orgs for rs in o.records.values() for r in rs)


def test_deleting_frees_unshared_blobs_but_keeps_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("""
orgs:
  - id: one
    users: [{id: "1", name: A, email: a@x.example}]
    tokens: [{token: t, user: "1", scopes: ZohoCRM.modules.ALL}]
    crm:
      records:
        - module: Leads
          id: "7"
          attachments:
            - {id: "1", file_name: a.txt, content: fixture}
""")
    app = create_app({"state": tmp_path / "s.db", "fixtures": tmp_path / "f.yaml"})
    store, client = app.extensions["mockzoho"].store, app.test_client()

    def blob_files() -> list[Path]:
        return [p for p in (tmp_path / "s.db.blobs").rglob("*") if p.is_file()]

    def upload(content: bytes) -> str:
        response = client.post("/crm/v8/Leads/7/Attachments", headers=auth("t"),
                               data={"file": (io.BytesIO(content), "u.txt")})
        return response.json["data"][0]["details"]["id"]

    first = upload(b"shared")
    upload(b"shared")
    assert len(blob_files()) == 2
    assert client.delete(f"/crm/v8/Leads/7/Attachments/{first}", headers=auth("t")).status_code == 200
    assert len(blob_files()) == 2  # still used by the second upload
    assert client.delete("/crm/v8/Leads/7", headers=auth("t")).status_code == 200
    assert [p.read_bytes() for p in blob_files()] == [b"fixture"]  # kept for a reset
    store.reset()
    assert client.get("/crm/v8/Leads/7/Attachments/1", headers=auth("t")).data == b"fixture"


def test_a_state_path_relative_to_the_working_folder_serves_uploads_and_fixtures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    client = create_app({"state": ".mockzoho/state.db"}).test_client()
    assert (tmp_path / ".mockzoho" / "state.db").is_file()
    base = "/crm/v8/Leads/2883756000000261101/Attachments"
    upload = client.post(base, headers=auth(), data={"file": (io.BytesIO(b"relative"), "r.txt")})
    new_id = upload.json["data"][0]["details"]["id"]
    assert client.get(f"{base}/{new_id}", headers=auth()).data == b"relative"
    assert client.get("/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261018",
                      headers=auth()).data.startswith(b"Proposal")


def test_state_of_another_schema_is_refused(tmp_path: Path) -> None:
    create_app({"state": tmp_path / "s.db"})
    Store(tmp_path / "s.db").connection().execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    with pytest.raises(StateError, match="another mockzoho version"):
        create_app({"state": tmp_path / "s.db"})


# What a state of each older layout lacks, undone on a state of this one: schema 13 differs from 14 only on
# PostgreSQL; 12 named three columns as SQL keywords (PostgreSQL reserves them); 11 had no stubs; 10 noted no changed
# records;
# schema 9 had no record values and no custom fields; schema 8 also called the counters table `clock` (and its
# reset_frozen column `seed`).
SCHEMA_13 = "UPDATE meta SET value = '13' WHERE key = 'schema';"
SCHEMA_12 = SCHEMA_13 + ("".join(f"ALTER TABLE {t} RENAME COLUMN user_id TO user; " for t in (
    "user_records", "tokens", "refresh_tokens", "clients", "grant_codes", "fixture_user_records", "fixture_tokens",
    "fixture_refresh_tokens")) + "ALTER TABLE counters RENAME COLUMN shift TO offset; "
    "ALTER TABLE limits RENAME COLUMN span TO window; UPDATE meta SET value = '12' WHERE key = 'schema';")
SCHEMA_11 = SCHEMA_12 + ("DROP TABLE stubs; DROP TABLE fixture_stubs; ALTER TABLE counters DROP COLUMN stubs; "
             "UPDATE meta SET value = '11' WHERE key = 'schema';")
SCHEMA_10 = SCHEMA_11 + ("".join(f"DROP TRIGGER records_changed_{event}; " for event in ("insert", "update", "delete"))
             + "DROP TABLE changed_records; UPDATE meta SET value = '10' WHERE key = 'schema';")
SCHEMA_9 = SCHEMA_10 + ("DROP TABLE record_values; DROP TABLE fixture_record_values; "
                        + "".join(f"ALTER TABLE {t} DROP COLUMN {c}; " for t in ("records", "fixture_records")
                                  for c in ("data", "created_by", "modified_by"))
                        + "ALTER TABLE modules DROP COLUMN fields; UPDATE meta SET value = '9' WHERE key = 'schema';")
SCHEMA_8 = SCHEMA_9 + ("ALTER TABLE counters RENAME COLUMN reset_frozen TO seed; ALTER TABLE counters RENAME TO clock; "
                       "UPDATE meta SET value = '8' WHERE key = 'schema';")


@pytest.mark.parametrize("older", [SCHEMA_8, SCHEMA_9, SCHEMA_10, SCHEMA_11, SCHEMA_12, SCHEMA_13],
                         ids=["schema-8", "schema-9", "schema-10", "schema-11", "schema-12", "schema-13"])
def test_a_state_of_an_older_layout_is_upgraded_in_place(tmp_path: Path, older: str) -> None:
    """A restart on a state of an older layout brings it to this one and keeps everything it holds, its clock and
    its deletes included (before 10 its records then have no field values but their name); its first reset copies
    back every record, as none of its earlier writes was noted."""
    state = tmp_path / "s.db"
    client = create_app({"state": state, "clock": "2031-05-06T07:08:09Z"}).test_client()
    deleted = "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"
    assert client.delete(deleted, headers=auth()).status_code == 200
    inserted = client.post("/crm/v8/Leads", headers=auth(), json={"data": [{"Last_Name": "Before"}]})
    before_upgrade = inserted.json["data"][0]["details"]["id"]
    old = sqlite3.connect(state, isolation_level=None)
    old.executescript(older)
    old.close()
    client = create_app({"state": state}).test_client()
    assert client.delete(deleted, headers=auth()).json["code"] == "INVALID_DATA"  # still deleted
    assert client.get("/__admin/clock").json == {"now": "2031-05-06T07:08:09Z", "frozen": True}
    assert client.post("/__admin/clock/advance", json={"seconds": 60}).json["now"] == "2031-05-06T07:09:09Z"
    assert client.post("/__admin/reset", json={}).status_code == 200  # back to the clock it was seeded with
    assert client.get("/__admin/clock").json["now"] == "2031-05-06T07:08:09Z"
    assert client.get(deleted, headers=auth()).status_code == 200  # and the fixtures' attachment is back
    assert client.get(f"/crm/v8/Leads/{before_upgrade}", headers=auth()).json["code"] == "INVALID_DATA"  # gone
    lead = client.get("/crm/v8/Leads/2883756000000261075", headers=auth())
    without_values = older not in (SCHEMA_10, SCHEMA_11, SCHEMA_12, SCHEMA_13)
    assert lead.status_code == 200 and (lead.json["data"][0]["Last_Name"] is None) == without_values
    created = client.post("/crm/v8/Leads", headers=auth(), json={"data": [{"Last_Name": "Upgraded"}]})
    assert created.status_code == 201, created.json
    check = sqlite3.connect(state)
    assert check.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (SCHEMA_VERSION,)
    assert "clock" not in {name for (name,) in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # Its triggers were renamed with the table: a new token still moves the credentials counter.
    before = check.execute("SELECT credentials FROM counters").fetchone()[0]
    minted = client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001",
                                                  "scopes": ["ZohoCRM.modules.ALL"]})
    assert minted.status_code == 201, minted.json
    assert check.execute("SELECT credentials FROM counters").fetchone()[0] > before


def _record_rows(state: Path) -> dict[str, list[tuple]]:
    """Every live row of the tables a reset restores record by record, sorted."""
    conn = sqlite3.connect(state)
    try:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}")) for table in ("records", "record_values")}
    finally:
        conn.close()


@contextmanager
def _counting_inserts(state: Path) -> Iterator[Callable[[], dict[str, int]]]:
    """Count the rows inserted into `records` and `record_values` by any connection meanwhile (triggers of the
    test's own in the state file, dropped after)."""
    conn = sqlite3.connect(state, isolation_level=None)
    conn.execute("CREATE TABLE test_inserts(tbl TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    for table in ("records", "record_values"):
        conn.execute("INSERT INTO test_inserts VALUES (?, 0)", (table,))
        conn.execute(f"CREATE TRIGGER test_count_{table} AFTER INSERT ON {table} BEGIN "
                     f"UPDATE test_inserts SET n = n + 1 WHERE tbl = '{table}'; END")
    counts: dict[str, int] = {}
    try:
        yield lambda: counts
        counts.update(conn.execute("SELECT tbl, n FROM test_inserts"))
    finally:
        conn.executescript("DROP TRIGGER test_count_records; DROP TRIGGER test_count_record_values; "
                           "DROP TABLE test_inserts;")
        conn.close()


def _changed(state: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(state)
    try:
        return set(conn.execute("SELECT org, id FROM changed_records"))
    finally:
        conn.close()


def test_a_reset_copies_back_exactly_the_records_changed_since_the_last(tmp_path: Path) -> None:
    """Triggers note each record a call inserts, changes or deletes (a lead deleted takes its notes along); a
    reset of one org copies back that org's alone, a reset of everything the rest, and the records are then the
    fixtures' again, row for row."""
    state = tmp_path / "s.db"
    client = create_app({"state": state, "clock": "2031-05-06T07:08:09Z"}).test_client()
    pristine = _record_rows(state)
    assert _changed(state) == set()
    lead, other = "2883756000000261075", "2883756000000261101"
    new = client.post("/crm/v8/Leads", headers=auth(), json={"data": [{"Last_Name": "New"}]}).json
    new_id = new["data"][0]["details"]["id"]
    assert client.put(f"/crm/v8/Leads/{other}", headers=auth(),
                      json={"data": [{"Company": "Changed"}]}).status_code == 200
    clone = client.post("/__admin/orgs", json={"from": "zylker-us"}).json
    assert client.delete(f"/crm/v8/Leads?ids={lead}", headers=auth(clone["tokens"][SEED_TOKEN])).status_code == 200
    assert {("zylker-us", new_id), ("zylker-us", other), (clone["id"], lead)} <= _changed(state)
    assert {org for org, _ in _changed(state)} == {"zylker-us", clone["id"]}
    assert client.post("/__admin/reset", json={"org": clone["id"]}).status_code == 200
    assert {org for org, _ in _changed(state)} == {"zylker-us"}
    assert client.get(f"/crm/v8/Leads/{lead}?fields=Last_Name", headers=auth(clone["tokens"][SEED_TOKEN])).json[
        "data"][0]["id"] == lead  # the clone's lead is back; the fixture org's changes are still there
    assert client.get(f"/crm/v8/Leads/{new_id}", headers=auth()).status_code == 200
    with _counting_inserts(state) as inserted:
        assert client.post("/__admin/reset", json={}).status_code == 200
    assert _changed(state) == set() and _record_rows(state) == pristine
    values = sqlite3.connect(state).execute("SELECT COUNT(*) FROM fixture_record_values WHERE org = 'zylker-us' "
                                            "AND record_id = ?", (other,)).fetchone()[0]
    assert inserted() == {"records": 1, "record_values": values}  # only the changed fixture lead was copied back
    assert client.get(f"/crm/v8/Leads/{new_id}", headers=auth()).json["code"] == "INVALID_DATA"
    found = client.get("/crm/v8/Leads/search?criteria=(Company:equals:Changed)", headers=auth())
    assert found.status_code == 204  # the value index was restored with the record


def test_calls_that_change_nothing_write_nothing_to_the_state(tmp_path: Path) -> None:
    """Every call writes its journal entry, in a file of its own: a commit to the state file would make every
    other worker read the state's pages again."""
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    watcher = sqlite3.connect(tmp_path / "s.db")  # data_version moves when another connection commits
    before = watcher.execute("PRAGMA data_version").fetchone()[0]
    missing = "/crm/v5/Leads/2883756000000261075/Attachments/2883756000000269999"
    assert client.delete(missing, headers=auth()).json["code"] == "INVALID_DATA"
    assert client.get("/crm/v5/Leads/2883756000000261075/Attachments?fields=id", headers=auth()).status_code == 200
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    assert client.get("/__admin/requests/count").json == {"count": 2}
    assert client.delete(missing[:-4] + "1017", headers=auth()).status_code == 200  # a delete does write
    assert watcher.execute("PRAGMA data_version").fetchone()[0] != before
    watcher.close()


def test_a_new_state_starts_with_an_empty_journal(tmp_path: Path) -> None:
    """A state file removed by hand leaves its journal beside it: the state made anew does not take it over,
    and a journal file that is not a database is a state problem, said before any worker starts."""
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    client.get("/crm/v8/org", headers=auth())
    client.application.extensions["mockzoho"].store.close()
    for name in ("s.db", "s.db-wal", "s.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    assert create_app({"state": tmp_path / "s.db"}).test_client().get("/__admin/requests/count").json == {"count": 0}
    (tmp_path / "t.db.requests").write_bytes(b"not a database" * 100)
    problem = seeding_problem(Settings.load({"state": tmp_path / "t.db"}))
    assert problem and "t.db" in problem and "not a database" in problem


def test_a_miss_waits_for_no_writer(tmp_path: Path) -> None:
    """Deleting what is not there is settled by a read: it does not queue behind another worker's write."""
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    missing = "/crm/v5/Leads/2883756000000261075/Attachments/2883756000000269999"
    with open(tmp_path / "s.db.lock", "ab") as lock, ThreadPoolExecutor(1) as pool:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a writer in another worker holds it
        try:
            miss = pool.submit(client.delete, missing, headers=auth())
            assert miss.result(timeout=10).json["code"] == "INVALID_DATA"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def test_other_fixtures_keep_the_state_until_fresh(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "s.db"
    client = create_app({"state": state}).test_client()
    url = "/crm/v5/Leads/2883756000000261075/Attachments/2883756000000261017"
    assert client.delete(url, headers=auth()).status_code == 200
    other = tmp_path / "other.yaml"
    other.write_text((bundled_fixtures() / "demo.yaml").read_text() + "\n# changed\n")
    client = create_app({"state": state, "fixtures": other}).test_client()
    assert "seeded from other fixtures" in caplog.text
    assert client.delete(url, headers=auth()).status_code == 400
    remove_state(state)
    assert list(tmp_path.iterdir()) == [other]  # the journal's file (s.db.requests) and its companions too
    client = create_app({"state": state, "fixtures": other}).test_client()
    assert client.delete(url, headers=auth()).status_code == 200


def _two_workers(tmp_path: Path) -> tuple[FlaskClient, FlaskClient]:
    """Two apps on one state file: what two gunicorn workers are to each other."""
    return (create_app({"state": tmp_path / "s.db"}).test_client(),
            create_app({"state": tmp_path / "s.db"}).test_client())


def _two_workers_and_a_new_token(tmp_path: Path) -> tuple[FlaskClient, FlaskClient, str]:
    """Two workers, and an access token the second has just granted."""
    first, second = _two_workers(tmp_path)
    granted = second.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": "1000.MOCKZOHOCLIENT",
        "client_secret": "mockzoho-secret", "refresh_token": "1000.mock.refresh.full"}).json
    return first, second, granted["access_token"]


SEED_ATTACHMENT = "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"


def test_a_token_revoked_by_another_worker_is_refused_at_once(tmp_path: Path) -> None:
    first, second, access = _two_workers_and_a_new_token(tmp_path)
    listing = "/crm/v8/Leads/2883756000000261075/Attachments?fields=id"
    assert first.get(listing, headers=auth(access)).status_code == 200  # now in the first worker's cache
    assert second.post("/oauth/v2/token/revoke", data={"token": access}).json == {"status": "success"}
    assert first.get(listing, headers=auth(access)).json["code"] == "INVALID_TOKEN"


def test_fixtures_replaced_by_another_worker_change_who_may_do_what(tmp_path: Path) -> None:
    first, second = _two_workers(tmp_path)
    assert first.get("/crm/v8/org", headers=auth()).status_code == 200  # cached with the bundled profile
    document = yaml.safe_load((bundled_fixtures() / "demo.yaml").read_text())
    document["orgs"][0]["users"][0]["permissions"] = []
    assert second.put("/__admin/fixtures", data=yaml.safe_dump(document),
                      content_type="application/yaml").status_code == 200
    response = first.delete(SEED_ATTACHMENT, headers=auth())
    assert (response.status_code, response.json["code"]) == (403, "NO_PERMISSION")
    assert second.post("/__admin/reset", json={}).status_code == 200  # a reset keeps the new fixtures
    document["orgs"][0]["tokens"] = [t for t in document["orgs"][0]["tokens"] if t["token"] != SEED_TOKEN]
    assert second.put("/__admin/fixtures", data=yaml.safe_dump(document),
                      content_type="application/yaml").status_code == 200
    assert first.delete(SEED_ATTACHMENT, headers=auth()).json["code"] == "INVALID_TOKEN"


def modules_fixture(*extra: str) -> str:
    """One org whose token may delete attachments of any module, with custom CRM modules `extra`."""
    modules = ", ".join(f"{{api_name: {name}}}" for name in extra)
    return f"""
modules:
  crm: [{modules}]
orgs:
  - id: one
    users: [{{id: "1", name: A, email: a@x.example}}]
    tokens: [{{token: any-module, user: "1", scopes: "ZohoCRM.modules.ALL"}}]
    crm: {{records: [{{module: Leads, id: "7"}}]}}
"""


def test_modules_follow_every_replacement_of_the_fixtures(tmp_path: Path) -> None:
    """A worker takes in the modules again each time another replaces the fixtures, not only the first."""
    first, second = _two_workers(tmp_path)
    headers = {"Authorization": "Zoho-oauthtoken any-module"}

    def vehicles() -> str:
        return first.delete("/crm/v8/Vehicles/7/Attachments/8", headers=headers).json["code"]

    for extra, code in ((("Vehicles",), "INVALID_DATA"), ((), "INVALID_MODULE"), (("Vehicles",), "INVALID_DATA"),
                        (("Boats",), "INVALID_MODULE")):
        assert second.put("/__admin/fixtures", data=modules_fixture(*extra),
                          content_type="application/yaml").status_code == 200
        assert vehicles() == code, extra


def test_a_seeded_state_serves_without_yaml_or_marshmallow(tmp_path: Path) -> None:
    """`serve` seeds in a child and the server process only opens the state: it must not pay for the
    parsers' imports (a fifth of its start-up), nor for the admin schemas until an admin call needs one, nor for
    COQL's grammar until a query comes."""
    create_app({"state": tmp_path / "s.db"})
    script = ("import sys; from mockzoho.app import create_app; "
              f"client = create_app({{'state': {str(tmp_path / 's.db')!r}}}).test_client(); "
              "print(sorted(m for m in ('marshmallow', 'yaml', 'lark') if m in sys.modules)); "
              "client.post('/__admin/reset', json={}); print('marshmallow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.stdout.split("\n")[:2] == ["[]", "True"], done.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_the_write_ahead_log_stays_bounded_while_requests_write(tmp_path: Path, workers: int) -> None:
    """A passive checkpoint never catches up with busy writers (the checkpoint runs beside them, even with a
    single worker), and SQLite only starts the log over once one has: the log would grow by every page
    written for as long as the load lasts (36 MB here; it is reused from 8 MiB on, about 10 MB)."""
    clients = [create_app({"state": tmp_path / "s.db"}).test_client() for _ in range(workers)]
    wal, largest = tmp_path / "s.db.requests-wal", 0  # what these requests write is their journal entries

    def load(client: FlaskClient) -> None:
        nonlocal largest
        for _ in range(8000 // workers):
            assert client.get("/crm/v8/org", headers=auth()).status_code == 200
            largest = max(largest, wal.stat().st_size)

    with ThreadPoolExecutor(workers) as pool:
        for done in [pool.submit(load, client) for client in clients]:
            done.result()
    assert largest < 18 * 1024 * 1024, largest  # RESTART_FRAMES pages, what came in meanwhile, and slack


def test_checkpoints_run_beside_the_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint waits for the disk: the thread serving requests must not be the one that waits."""
    threads = []
    checkpoint = SqliteDatabase._checkpoint
    monkeypatch.setattr(SqliteDatabase, "_checkpoint", lambda self: (threads.append(threading.current_thread()),
                                                           checkpoint(self)))
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    for _ in range(400):
        assert client.get("/crm/v8/org", headers=auth()).status_code == 200
    client.application.extensions["mockzoho"].store.journal.db._checkpointer.join()  # what they wrote
    assert threads and threading.current_thread() not in threads


def test_seeding_imports_no_flask(tmp_path: Path) -> None:
    """`serve` seeds in a child while the parent imports Flask: the child must not import it too (it is
    the longer of the two, so its imports are the server's start-up)."""
    script = ("import sys; from mockzoho.config import Settings; from mockzoho.state import open_state; "
              f"open_state(Settings.load({{'state': {str(tmp_path / 's.db')!r}}})).close(); "
              "print(sorted(m for m in ('flask', 'werkzeug', 'gunicorn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_token_revoked_while_a_delay_fault_holds_a_request_is_refused(tmp_path: Path) -> None:
    first, second, access = _two_workers_and_a_new_token(tmp_path)
    assert first.get("/crm/v8/org", headers=auth(access)).status_code == 200  # now in the first worker's cache
    second.post("/__admin/faults", json={"match": {"path": "/crm/v8/org"}, "delay_ms": 600, "times": 1})
    revoke = threading.Timer(0.2, lambda: second.post("/oauth/v2/token/revoke", data={"token": access}))
    revoke.start()
    response = first.get("/crm/v8/org", headers=auth(access))
    revoke.join()
    assert (response.status_code, response.json["code"]) == (401, "INVALID_TOKEN")


# -- the sweep of what crashed uploads leave -------------------------------------------------------

UPLOADS = "/crm/v8/Leads/2883756000000261101/Attachments"


class HeldStream:
    """An upload body that gives one chunk, then waits for `release` before it ends: its staging file
    stays open (and locked) meanwhile, as a slow client's does."""

    def __init__(self) -> None:
        self.waiting, self.release, self.sent = threading.Event(), threading.Event(), False

    def read(self, size: int = -1) -> bytes:
        if not self.sent:
            self.sent = True
            return b"first chunk"
        self.waiting.set()
        self.release.wait(30)
        return b""


def _staging_files(store: Store) -> set[Path]:
    return set(store.blobs.glob(".upload-*"))


def _blob_files(store: Store) -> set[Path]:
    return {p for p in store.blobs.glob("??/*") if p.is_file()}


def _stray_blob(store: Store, content: bytes) -> Path:
    """A blob no row refers to: what a worker killed between placing it and its commit leaves."""
    path = store.db.blob_path(hashlib.sha256(content).hexdigest())
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def test_the_sweep_removes_staging_files_nobody_holds_and_keeps_live_ones(tmp_path: Path) -> None:
    store = create_app({"state": tmp_path / "s.db"}).extensions["mockzoho"].store
    orphan = store.blobs / ".upload-left-by-a-killed-worker"
    orphan.write_bytes(b"half an upload")
    stream, staged = HeldStream(), []
    writer = threading.Thread(target=lambda: staged.append(store.stage_blob(stream)))  # type: ignore[arg-type]
    writer.start()
    assert stream.waiting.wait(30)
    [live] = _staging_files(store) - {orphan}
    store.sweep()
    assert _staging_files(store) == {live}
    stream.release.set()
    writer.join()
    store.sweep()
    assert staged[0].path == live and live.read_bytes() == b"first chunk"  # kept while its StagedBlob lives
    staged.clear()  # a request that dropped its staged upload without placing it: the lock goes with it
    store.sweep()
    assert _staging_files(store) == set()


def test_a_staging_file_swept_before_its_writer_locks_it_is_made_again(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = create_app({"state": tmp_path / "s.db"}).extensions["mockzoho"].store
    made, mkstemp = [], blobs.tempfile.mkstemp

    def made_then_swept(**kwargs: object) -> tuple[int, str]:
        fd, name = mkstemp(**kwargs)  # type: ignore[arg-type]
        made.append(name)
        if len(made) == 1:
            store.sweep()  # another worker's, between the creation and the lock
        return fd, name

    monkeypatch.setattr(blobs.tempfile, "mkstemp", made_then_swept)
    staged = store.stage_blob(io.BytesIO(b"bytes"))
    assert len(made) == 2 and not Path(made[0]).exists()
    assert str(staged.path) == made[1] and staged.path.read_bytes() == b"bytes"


def test_the_sweep_and_a_reset_free_blobs_no_row_refers_to(tmp_path: Path) -> None:
    app = create_app({"state": tmp_path / "s.db"})
    store, client = app.extensions["mockzoho"].store, app.test_client()
    upload = client.post(UPLOADS, headers=auth(), data={"file": (io.BytesIO(b"uploaded"), "u.txt")})
    uploaded = upload.json["data"][0]["details"]["id"]
    kept = _blob_files(store)  # the fixtures' (Zoho and Cosmos DB) and the upload's
    strays = [_stray_blob(store, content) for content in (b"one", b"two")]
    store.sweep()
    assert _blob_files(store) == kept and not any(stray.exists() for stray in strays)
    assert client.get(f"{UPLOADS}/{uploaded}", headers=auth()).data == b"uploaded"
    stray = _stray_blob(store, b"three")
    assert client.post("/__admin/reset", json={}).status_code == 200
    assert not stray.exists() and len(_blob_files(store)) == len(kept) - 1  # the upload's went with the reset
    assert client.get(SEED_ATTACHMENT, headers=auth()).status_code == 200


def test_a_blob_placed_but_not_yet_committed_is_not_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app({"state": tmp_path / "s.db"})
    store, client = app.extensions["mockzoho"].store, app.test_client()
    place, sweeps = store.db.place_blob, []

    def place_and_sweep(staged: StagedBlob) -> bool:
        created = place(staged)
        sweeper = threading.Thread(target=store.sweep)  # another worker starting up, between place and commit
        sweeper.start()
        sweeper.join(0.2)
        sweeps.append((sweeper, sweeper.is_alive()))
        return created

    monkeypatch.setattr(store.db, "place_blob", place_and_sweep)
    upload = client.post(UPLOADS, headers=auth(), data={"file": (io.BytesIO(b"being placed"), "p.txt")})
    [(sweeper, waited)] = sweeps
    sweeper.join()
    assert upload.status_code == 200 and waited, "the sweep must wait for the upload's transaction"
    uploaded = upload.json["data"][0]["details"]["id"]
    assert client.get(f"{UPLOADS}/{uploaded}", headers=auth()).data == b"being placed"
