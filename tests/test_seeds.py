"""Each seed document's sample request, sent as written, answers exactly the documented response."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

SEEDS = Path(__file__).parent / "seeds"


def sample(document: str) -> tuple[str, str, str, bytes]:
    """Method, URL, token and the documented response (compact, key order kept) of a seed document."""
    text = (SEEDS / document).read_text()
    url = re.search(r'curl "([^"]+)"', text).group(1)
    method = re.search(r"-X (\w+)", text).group(1)
    token = re.search(r'-H "Authorization: Zoho-oauthtoken ([^"]+)"', text).group(1)
    response = text[text.rindex("Copied{") + len("Copied"):]
    documented = json.dumps(json.loads(response), separators=(",", ":")).encode()
    return method, url, token, documented


@pytest.mark.parametrize("document", ["003_ed1353e55de57132.txt", "004_dc0922e39d035d28.txt"])
def test_seed_sample_byte_for_byte(client: FlaskClient, document: str) -> None:
    method, url, token, documented = sample(document)
    parts = urlsplit(url)
    response = client.open(parts.path, method=method, base_url=f"{parts.scheme}://{parts.netloc}",
                           headers={"Authorization": f"Zoho-oauthtoken {token}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert response.data == documented
    again = client.open(parts.path, method=method, base_url=f"{parts.scheme}://{parts.netloc}",
                        headers={"Authorization": f"Zoho-oauthtoken {token}"})
    assert again.status_code == 400


def test_samples_are_what_the_documents_say() -> None:
    """Guards the parser above: it must find the documented URLs and ids."""
    assert sample("003_ed1353e55de57132.txt")[1] == \
        "https://www.zohoapis.com/crm/v5/Leads/2883756000000261075/Attachments/2883756000000261017"
    assert b'"id":"2034020000000711008"' in sample("004_dc0922e39d035d28.txt")[3]
