"""Generated CRM Leads for the records section of `bench/run.py`: an org whose Leads module holds `count` records
with realistic values (names, a unique-ish email, company, phone, picklists, address), made here rather than
committed. The same seed gives the same records, so the 10,000-record fixture is the first tenth of the
100,000-record one."""

from __future__ import annotations

import json
import random
from pathlib import Path

FIRST_LEAD = 3 * 10**15  # record ids FIRST_LEAD .. FIRST_LEAD + count - 1 (below 2**53: wrk counts in doubles)
SEED = 20261203
FIRST_NAMES = ("Amelia", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko",
               "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor", "Wen",
               "Ximena", "Yusuf", "Zoe", "Aarav", "Bianca", "Carlos", "Dina", "Emil", "Fatima", "Goran", "Hana")
LAST_NAMES = ("Smith", "Johnson", "Garcia", "Müller", "Rossi", "Dubois", "Kowalski", "Nguyen", "Kim", "Sato",
              "Silva", "Novak", "Jensen", "Popescu", "Horvat", "Okafor", "Haddad", "Cohen", "Larsen", "Petrov",
              "O'Brien", "Fernández", "Yilmaz", "Schmidt", "Chen", "Patel", "Santos", "Virtanen", "Ivanova")
COMPANY_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
                 "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Oceanic", "Massive", "Aperture", "Nakatomi")
COMPANY_SUFFIXES = ("Ltd", "GmbH", "Inc.", "SA", "BV", "Oy", "LLC", "plc", "AB", "S.r.l.")
DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "corp.example")
TITLES = ("CEO", "CTO", "Purchasing Manager", "Head of Sales", "Engineer", "Consultant", "Analyst", "Director")
SOURCES = ("Advertisement", "Cold Call", "Employee Referral", "Online Store", "Partner", "Trade Show",
           "Web Download", "Chat")
STATUSES = ("Attempted to Contact", "Contact in Future", "Contacted", "Not Contacted", "Pre-Qualified")
INDUSTRIES = ("ERP (Enterprise Resource Planning)", "Large Enterprise", "Service Provider",
              "Small/Medium Enterprise", "Systems Integrator", "Wireless Industry")
CITIES = (("Berlin", "Berlin", "Germany"), ("Lyon", "Auvergne-Rhône-Alpes", "France"),
          ("Austin", "Texas", "United States"), ("Chennai", "Tamil Nadu", "India"), ("Osaka", "Osaka", "Japan"),
          ("Porto", "Porto", "Portugal"), ("Toronto", "Ontario", "Canada"), ("Leeds", "England", "United Kingdom"))


def lead_values(i: int, rng: random.Random) -> dict[str, object]:
    """The `values:` of the i-th lead; its email is unique (the index i is in it), its name and company are not."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, country = rng.choice(CITIES)
    return {
        "Salutation": rng.choice(("Mr.", "Mrs.", "Ms.", "Dr.")),
        "First_Name": first,
        "Last_Name": last,
        "Email": email(i, first, last),
        "Company": f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}",
        "Designation": rng.choice(TITLES),
        "Phone": f"+1 555 {rng.randrange(1000):03d} {rng.randrange(10000):04d}",
        "Lead_Source": rng.choice(SOURCES),
        "Lead_Status": rng.choice(STATUSES),
        "Industry": rng.choice(INDUSTRIES),
        "No_of_Employees": rng.randrange(1, 5000),
        "Annual_Revenue": float(rng.randrange(10_000, 50_000_000)),
        "Street": f"{rng.randrange(1, 400)} {rng.choice(LAST_NAMES)} Street",
        "City": city, "State": state, "Country": country,
        "Zip_Code": f"{rng.randrange(100000):05d}",
    }


def email(i: int, first: str, last: str) -> str:
    ascii_last = last.encode("ascii", "ignore").decode().replace("'", "").lower()
    return f"{first.lower()}.{ascii_last}.{i}@{DOMAINS[i % len(DOMAINS)]}"


def leads(count: int) -> list[dict[str, object]]:
    """The fixture records of `count` leads (the first `count` of the seeded sequence)."""
    rng = random.Random(SEED)
    return [{"module": "Leads", "id": str(FIRST_LEAD + i), "values": lead_values(i, rng)} for i in range(count)]


def emails(count: int) -> list[str]:
    """The email of every lead of a `count`-lead fixture, in id order."""
    return [str(r["values"]["Email"]) for r in leads(count)]  # type: ignore[index]


def write_fixture(path: Path, count: int, token: str) -> None:
    """An org (one user, one token with every CRM scope) whose Leads hold `count` generated records (JSON, which
    is valid YAML)."""
    document = {"orgs": [{"id": "bench", "users": [{"id": "1", "name": "Bench", "email": "bench@example.com"}],
                          "tokens": [{"token": token, "user": "1", "scopes": "ZohoCRM.modules.ALL,ZohoCRM.org.ALL,"
                                                                             "ZohoCRM.settings.ALL,ZohoCRM.coql.READ"}],
                          "crm": {"records": leads(count)}}]}
    path.write_text(json.dumps(document, ensure_ascii=False))


def new_leads(start: int, count: int = 100) -> dict[str, object]:
    """The body of one insert of `count` new leads, their emails unique from the `start`-th on."""
    rng = random.Random(start)
    data = []
    for i in range(start, start + count):
        values = lead_values(i, rng)
        values["Email"] = f"new.{i}@insert.example"
        data.append(values)
    return {"data": data}
