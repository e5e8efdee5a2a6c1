"""Zoho data centres and the API hosts that name them."""

from __future__ import annotations

from functools import lru_cache

# Top-level domain of www.zohoapis.<tld> for each data centre (Zoho's "multi DC" docs).
API_DOMAINS: dict[str, str] = {
    "us": "com",
    "eu": "eu",
    "in": "in",
    "au": "com.au",
    "cn": "com.cn",
    "jp": "jp",
    "ca": "ca",
    "sa": "sa",
}
DATA_CENTRES = frozenset(API_DOMAINS)
# The accounts (OAuth) host of each data centre; Canada's is zohocloud.ca, not zoho.ca.
ACCOUNTS_DOMAINS = {dc: "zohocloud.ca" if dc == "ca" else f"zoho.{tld}" for dc, tld in API_DOMAINS.items()}
_DC_BY_DOMAIN = {**{f"zohoapis.{tld}": dc for dc, tld in API_DOMAINS.items()},
                 **{f"accounts.{domain}": dc for dc, domain in ACCOUNTS_DOMAINS.items()}}


@lru_cache(maxsize=256)
def data_centre_for_host(host: str, default: str) -> str:
    """The data centre a Host header names: `*.zohoapis.<tld>` or `accounts.zoho.<tld>`, else `default`."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    for domain, dc in _DC_BY_DOMAIN.items():
        if name == domain or name.endswith("." + domain):
            return dc
    return default
