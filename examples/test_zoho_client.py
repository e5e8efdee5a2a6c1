"""Testing the client with the mockzoho pytest plugin. Run: pytest examples -n 4 (pytest-xdist)."""

from __future__ import annotations

import pytest

from zoho_client import ZohoClient

LEAD, ATTACHMENT = "2883756000000261075", "2883756000000261017"


@pytest.fixture
def client(mockzoho_server, mockzoho_org):
    return ZohoClient(mockzoho_server.url, mockzoho_server.accounts_url, "1000.MOCKZOHOCLIENT", "mockzoho-secret",
                      mockzoho_org.tokens["1000.mock.refresh.full"])


def test_retries_internal_errors(client, mockzoho_org):
    mockzoho_org.fail_next(2, "INTERNAL_ERROR", method="DELETE")
    assert client.delete_attachment("Leads", LEAD, ATTACHMENT)["data"][0]["code"] == "SUCCESS"
    statuses = [r["status"] for r in reversed(mockzoho_org.requests(method="DELETE"))]
    assert statuses == [500, 500, 200]


def test_refreshes_an_expired_token(mockzoho_own_server):
    # The clock is the server's: a test that moves it takes a server of its own, not the shared one.
    server = mockzoho_own_server
    client = ZohoClient(server.url, server.accounts_url, "1000.MOCKZOHOCLIENT", "mockzoho-secret",
                        "1000.mock.refresh.full")
    client.refresh()
    server.advance_clock(3601)  # every access token issued so far has expired
    assert client.delete_attachment("Leads", LEAD, ATTACHMENT)["data"][0]["code"] == "SUCCESS"
    assert [r["code"] for r in reversed(server.requests(method="DELETE"))] == ["INVALID_TOKEN", "SUCCESS"]


@pytest.mark.parametrize("run", range(8))
def test_each_org_has_its_own_attachments(client, mockzoho_org, run):
    # Every run deletes the same attachment id: in one shared org only the first would succeed.
    assert client.delete_attachment("Leads", LEAD, ATTACHMENT)["data"][0]["code"] == "SUCCESS"
    assert client.delete_attachment("Leads", LEAD, ATTACHMENT)["code"] == "INVALID_DATA"
    assert len(mockzoho_org.requests(method="DELETE")) == 2
