"""A small piece of client code of the kind mockzoho exists to test: it refreshes its own access token and
retries Zoho's transient errors."""

from __future__ import annotations

import time

import requests

RETRIED = {"INTERNAL_ERROR", "TOO_MANY_REQUESTS"}


class ZohoClient:
    """Deletes attachments, refreshing its token on INVALID_TOKEN and retrying transient errors."""

    def __init__(self, api_url: str, token_url: str, client_id: str, client_secret: str, refresh_token: str,
                 attempts: int = 4, backoff: float = 0.01) -> None:
        self.api_url, self.token_url = api_url, token_url
        self.credentials = {"client_id": client_id, "client_secret": client_secret, "refresh_token": refresh_token,
                            "grant_type": "refresh_token"}
        self.attempts, self.backoff = attempts, backoff
        self.session = requests.Session()
        self.access_token: str | None = None

    def refresh(self) -> None:
        answer = self.session.post(self.token_url, data=self.credentials, timeout=10).json()
        if "access_token" not in answer:
            raise RuntimeError(f"token refresh failed: {answer}")
        self.access_token = answer["access_token"]

    def delete_attachment(self, module: str, record_id: str, attachment_id: str) -> dict:
        url = f"{self.api_url}/crm/v8/{module}/{record_id}/Attachments/{attachment_id}"
        for attempt in range(self.attempts):
            if self.access_token is None:
                self.refresh()
            response = self.session.delete(url, headers={"Authorization": f"Zoho-oauthtoken {self.access_token}"},
                                           timeout=10)
            code = response.json().get("code")
            if response.status_code == 401 and code == "INVALID_TOKEN":
                self.access_token = None
            elif code in RETRIED:
                time.sleep(self.backoff * 2 ** attempt)
            else:
                return response.json()
        raise RuntimeError(f"gave up after {self.attempts} attempts")
