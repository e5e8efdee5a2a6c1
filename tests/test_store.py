"""The SQLite state: seeded once per file even under racing workers, blobs freed, versions checked."""

from __future__ import annotations

import io
import multiprocessing
from pathlib import Path

import pytest

from mockzoho.app import PRODUCTS, create_app
from mockzoho.config import bundled_fixtures
from mockzoho.fixtures import load_fixtures
from mockzoho.store import StateError, Store, remove_state

from conftest import auth


def _seed(path: str, barrier, results) -> None:  # runs in a child process
    fixtures = load_fixtures(bundled_fixtures(), PRODUCTS)
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
    fixtures = load_fixtures(bundled_fixtures(), PRODUCTS)
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
    store, client = app.extensions["mockzoho"]["store"], app.test_client()

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


def test_state_of_another_schema_is_refused(tmp_path: Path) -> None:
    create_app({"state": tmp_path / "s.db"})
    Store(tmp_path / "s.db").connection().execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    with pytest.raises(StateError, match="another mockzoho version"):
        create_app({"state": tmp_path / "s.db"})


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
    assert not state.exists() and not (tmp_path / "s.db.blobs").exists()
    client = create_app({"state": state, "fixtures": other}).test_client()
    assert client.delete(url, headers=auth()).status_code == 200
