"""Zoho Bigin: its product definition (served by the Zoho engine: `zoho.calls.zoho_family`)."""

from __future__ import annotations

from .zoho.product import CoqlRules, Product, catalogue

BIGIN = Product(
    name="bigin",
    prefix="/bigin",
    versions=("v1", "v2"),
    scope_service="ZohoBigin",
    modules=catalogue(
        attachable="Pipelines Contacts Accounts Products Tasks Events Notes",
        records_only="Calls",
        unsupported="Home Reports Documents Projects Feeds",
    ),
    modules_all_covers_attachments=False,
    modern_versions=frozenset({"v2"}),
    # Deals: the v1 name of Pipelines; Companies: the name Bigin shows for Accounts (Bigin's own docs).
    other_names={"Deals": "Pipelines", "Companies": "Accounts"},
    coql={"v2": CoqlRules(per_call=200, reachable=10_000)},  # Bigin's COQL pages: v2 only, no aggregates
)
