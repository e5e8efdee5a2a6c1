"""The dashboard in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
Selenium, against the README's `mockzoho serve`. Each test saves a screenshot in its temporary folder."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from conftest import auth
from servers import Server, free_port, serve_command

SEED = "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state, port = tmp_path_factory.mktemp("dashboard") / "state.db", free_port()
    with Server(serve_command("--port", str(port), "--state", str(state), "--no-access-log"), port) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("no Chromium here: install Debian's chromium and chromium-driver (.ci/run does)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(autouse=True)
def fresh(server: Server) -> None:
    requests.post(f"{server.url}/__admin/reset", json={})


def shot(browser: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 1000
    return path


def wait_for(condition: Any, seconds: float = 2.0) -> Any:
    """The condition's first true value within `seconds` (polled every 50 ms), or an AssertionError."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found or time.monotonic() > deadline:
            assert found, f"not within {seconds} s"
            return found
        time.sleep(0.05)


def text_of(browser: Any, selector: str) -> str:
    """The element's text, or "" while the page it is on is still being replaced (after a form is sent)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    try:
        return browser.find_element(By.CSS_SELECTOR, selector).text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def test_the_overview_shows_the_bundled_orgs(browser: Any, server: Server, tmp_path: Path) -> None:
    browser.get(f"{server.url}/__admin/ui/")
    orgs = text_of(browser, "#orgs")
    assert "zylker-us" in orgs and "zylker-eu" in orgs and "fixture" in orgs
    assert "Leads" in orgs and text_of(browser, "#health") == "ok"
    shot(browser, tmp_path, "overview")


def test_the_seeds_crm_record_shows_its_attachments(browser: Any, server: Server, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/__admin/ui/")
    browser.find_element(By.CSS_SELECTOR, 'tr[data-org="zylker-us"] a[href$="/crm/Leads"]').click()
    wait_for(lambda: "2883756000000261075" in text_of(browser, "#records"))
    browser.find_element(By.LINK_TEXT, "2883756000000261075").click()
    listed = wait_for(lambda: text_of(browser, "#attachments"))
    assert "Image.jpg" in listed and "image/jpeg" in listed
    rows = browser.find_elements(By.CSS_SELECTOR, "#attachments tr[data-id]")
    assert "2883756000000261017" in [row.get_attribute("data-id") for row in rows]
    link = browser.find_element(By.LINK_TEXT, "Image.jpg").get_attribute("href")
    assert requests.get(link).content == requests.get(server.url + SEED, headers=auth()).content
    shot(browser, tmp_path, "record")


def test_a_delete_sent_through_the_api_appears_in_the_journal_without_a_reload(browser: Any, server: Server,
                                                                             tmp_path: Path) -> None:
    browser.get(f"{server.url}/__admin/ui/requests")
    time.sleep(0.3)  # the page has polled once
    sent = time.monotonic()
    assert requests.delete(server.url + SEED, headers=auth()).status_code == 200
    wait_for(lambda: SEED in text_of(browser, "#journal"), 2.0)
    assert time.monotonic() - sent < 2.0
    row = text_of(browser, "#journal tbody tr.entry")
    assert "DELETE" in row and "SUCCESS" in row and "route crm.delete_attachment" in row
    assert "/favicon.ico" not in text_of(browser, "#journal")  # the pages ask for no icon of the API's
    shot(browser, tmp_path, "journal")


def test_a_reset_from_the_dashboard_brings_the_attachment_back(browser: Any, server: Server, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    assert requests.delete(server.url + SEED, headers=auth()).status_code == 200
    assert requests.get(server.url + SEED, headers=auth()).status_code == 204  # gone: no content
    browser.get(f"{server.url}/__admin/ui/")
    browser.find_element(By.ID, "reset-all").click()
    wait_for(lambda: "reset all" in text_of(browser, "#done"))
    assert requests.get(server.url + SEED, headers=auth()).status_code == 200
    shot(browser, tmp_path, "reset")


def test_a_fault_added_from_the_form_fires_on_the_next_call(browser: Any, server: Server, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/__admin/ui/rules")
    browser.find_element(By.ID, "fault-path").send_keys("/crm/v8/Leads/*")
    browser.find_element(By.ID, "fault-code").send_keys("INTERNAL_ERROR")
    browser.find_element(By.ID, "fault-times").send_keys("1")
    browser.find_element(By.CSS_SELECTOR, "#fault-form button").click()
    wait_for(lambda: "INTERNAL_ERROR" in text_of(browser, "#faults"))
    answer = requests.get(f"{server.url}/crm/v8/Leads/2883756000000261075", headers=auth())
    assert (answer.status_code, answer.json()["code"]) == (500, "INTERNAL_ERROR")
    assert requests.get(f"{server.url}/crm/v8/Leads/2883756000000261075", headers=auth()).status_code == 200
    shot(browser, tmp_path, "fault")


def test_a_form_error_is_shown_at_its_field_and_changes_nothing(browser: Any, server: Server,
                                                               tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/__admin/ui/rules")
    browser.find_element(By.ID, "stub-path").send_keys("crm/v8/no-slash")
    browser.find_element(By.ID, "stub-json").send_keys('{"ok": true}')
    browser.find_element(By.CSS_SELECTOR, "#stub-form button").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "stub-path-error"))
    assert "paths start with '/'" in error[0].text
    assert browser.find_element(By.ID, "stub-path").get_attribute("value") == "crm/v8/no-slash"  # kept
    assert requests.get(f"{server.url}/__admin/stubs").json() == {"stubs": []}
    shot(browser, tmp_path, "form-error")


# -- the control API's rules, in process --------------------------------------------------------------

def test_with_an_admin_token_the_dashboard_asks_for_it_once(tmp_path: Path) -> None:
    from mockzoho.app import create_app

    client = create_app({"state": tmp_path / "s.db", "admin_token": "s3cret"}).test_client()
    assert client.get("/__admin/ui/").headers["Location"] == "/__admin/ui/login"
    page = client.get("/__admin/ui/login")
    csrf = page.headers.getlist("Set-Cookie")[0].split(";")[0].split("=", 1)[1]
    wrong = client.post("/__admin/ui/login", data={"token": "nope", "csrf": csrf})
    assert wrong.status_code == 401 and b"that is not the admin token" in wrong.data
    logged = client.post("/__admin/ui/login", data={"token": "s3cret", "csrf": csrf})
    assert logged.status_code == 303
    cookie = next(c for c in logged.headers.getlist("Set-Cookie") if c.startswith("mockzoho_admin="))
    assert "Path=/__admin" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/__admin/ui/").status_code == 200
    assert client.get("/__admin/faults").status_code == 401  # the JSON API still wants the bearer token


def test_every_form_needs_its_csrf_token(client: Any) -> None:
    page = client.get("/__admin/ui/rules")
    assert page.status_code == 200
    for form in ({}, {"csrf": "forged"}):
        refused = client.post("/__admin/ui/reset", data=form)
        assert (refused.status_code, refused.json["error"]) == (403, "csrf")
    csrf = client.get_cookie("mockzoho_csrf", path="/__admin").value
    assert client.post("/__admin/ui/reset", data={"csrf": csrf}).status_code == 303


def test_a_dashboard_beyond_loopback_without_a_token_is_closed(tmp_path: Path) -> None:
    from mockzoho.app import create_app
    from mockzoho.exposure import LISTENERS

    client = create_app({"state": tmp_path / "s.db"}).test_client()
    client.environ_base[LISTENERS] = (("0.0.0.0", 8000),)
    answer = client.get("/__admin/ui/")
    assert (answer.status_code, answer.json["error"]) == (403, "control_api_closed")


def test_the_journal_feed_is_the_journals_filters(client: Any) -> None:
    client.get("/crm/v8/org", headers=auth())
    client.get("/crm/v8/nowhere/at/all/x", headers=auth())
    feed = client.get("/__admin/ui/requests.json", query_string={"after": 0, "order": "asc", "unmatched": "true"})
    assert [e["path"] for e in feed.json["requests"]] == ["/crm/v8/nowhere/at/all/x"]
    assert client.get("/__admin/ui/requests.json", query_string={"order": "up"}).status_code == 400


def test_a_token_minted_from_the_form_works(client: Any) -> None:
    client.get("/__admin/ui/tokens")
    csrf = client.get_cookie("mockzoho_csrf", path="/__admin").value
    page = client.post("/__admin/ui/tokens", data={"csrf": csrf, "org": "zylker-us", "user": "2883756000000113001",
                                                  "scopes": "ZohoCRM.org.READ"})
    assert page.status_code == 200
    token = page.data.split(b'id="access-token">')[1].split(b"<")[0].decode()
    assert client.get("/crm/v8/org", headers=auth(token)).status_code == 200
    missing = client.post("/__admin/ui/tokens", data={"csrf": csrf, "org": "zylker-us", "user": "1", "scopes": "x"})
    assert missing.status_code == 404 and b'id="token-user-error"' in missing.data


def test_records_are_searched_as_the_api_searches(client: Any) -> None:
    base = "/__admin/ui/orgs/zylker-us/crm/Leads"
    ids = lambda page: re.findall(r'/Leads/(\d+)">', page.get_data(as_text=True))  # noqa: E731
    assert len(ids(client.get(base))) == 25
    assert ids(client.get(base, query_string={"word": "marrier"})) == ["2883756000000261075"]
    assert ids(client.get(base, query_string={"criteria": "(Last_Name:equals:Marrier)"})) == ["2883756000000261075"]
    bad = client.get(base, query_string={"criteria": "(Nope:equals:x)"})
    assert bad.status_code == 400 and b"the field is not available for search" in bad.data
    assert client.get("/__admin/ui/orgs/zylker-us/crm/Nothing").json["error"] == "not_found"


def test_a_record_shows_its_field_types_and_serves_its_attachments(client: Any) -> None:
    base = "/__admin/ui/orgs/zylker-us/crm/Leads/2883756000000261075"
    page = client.get(base).get_data(as_text=True)
    assert re.search(r'data-field="Last_Name"><td>Last_Name</td><td>text</td><td>Marrier', page)
    download = client.get(f"{base}/attachments/2883756000000261017")
    assert download.data == client.get(SEED, headers=auth()).data
    assert download.headers["Content-Disposition"] == "attachment; filename*=UTF-8''Image.jpg"
    assert download.headers["Content-Security-Policy"] == "sandbox"
    inline = client.get(f"{base}/attachments/2883756000000261017", query_string={"inline": "1"})
    assert inline.headers["Content-Disposition"].startswith("inline;")
    assert client.get(f"{base}/attachments/1").json["error"] == "not_found"


def csrf_of(client: Any) -> str:
    client.get("/__admin/ui/rules")
    return client.get_cookie("mockzoho_csrf", path="/__admin").value


@pytest.mark.parametrize("headers", [{"Origin": "http://localhost:3000"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_a_form_sent_by_a_page_of_another_origin_is_refused(client: Any, headers: dict[str, str]) -> None:
    csrf = csrf_of(client)
    refused = client.post("/__admin/ui/reset", data={"csrf": csrf}, headers=headers)
    assert (refused.status_code, refused.json["error"]) == (403, "csrf")
    same = client.post("/__admin/ui/reset", data={"csrf": csrf},
                       headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 303


def test_a_csrf_cookie_another_page_set_is_not_one_this_state_signed(client: Any) -> None:
    client.set_cookie("mockzoho_csrf", "attacker-chosen", path="/__admin")
    refused = client.post("/__admin/ui/reset", data={"csrf": "attacker-chosen"})
    assert (refused.status_code, refused.json["error"]) == (403, "csrf")
    client.get("/__admin/ui/")  # the page gives a signed token in its place
    assert client.get_cookie("mockzoho_csrf", path="/__admin").value != "attacker-chosen"


def test_odd_dashboard_input_is_never_a_500(client: Any) -> None:
    csrf = csrf_of(client)
    assert client.get("/__admin/ui/orgs/zylker-us/crm/Leads?page=\u00b2").status_code == 200
    assert client.get("/__admin/ui/orgs/nobody/crm/Leads").json["error"] == "not_found"
    deep = client.post("/__admin/ui/stubs", data={"csrf": csrf, "path": "/x", "json": "[" * 100_000})
    assert deep.status_code == 400 and b'id="stub-json-error"' in deep.data
    blank = client.post("/__admin/ui/stubs", data={"csrf": csrf})
    assert blank.status_code == 400 and b"give a path or a method" in blank.data
    for kind in ("faults", "stubs"):
        assert client.post(f"/__admin/ui/{kind}/{10**24}/delete", data={"csrf": csrf}).status_code == 404
    assert client.get("/__admin/stubs").json == {"stubs": []}


def test_the_journal_feed_without_the_token_is_401(tmp_path: Path) -> None:
    from mockzoho.app import create_app

    client = create_app({"state": tmp_path / "s.db", "admin_token": "s3cret"}).test_client()
    answer = client.get("/__admin/ui/requests.json")
    assert (answer.status_code, answer.json["error"]) == (401, "unauthorized")


def test_the_stub_form_takes_what_the_control_api_takes(client: Any) -> None:
    csrf = csrf_of(client)
    nobody = client.post("/__admin/ui/stubs", data={"csrf": csrf, "path": "/x", "org": "nobody"})
    assert nobody.status_code == 400 and b'id="stub-org-error"' in nobody.data and b"there is no org" in nobody.data
    fault = client.post("/__admin/ui/faults", data={"csrf": csrf, "path": "/bigin/*", "code": "NoSuchCode"})
    assert fault.status_code == 400 and b'id="fault-path-error"' in fault.data
    assert client.get("/__admin/stubs").json == {"stubs": []} and client.get("/__admin/faults").json == {"faults": []}
