"""Zoho CRM: its product definition (served by the Zoho engine: `zoho.calls.zoho_family`)."""

from __future__ import annotations

from .zoho.product import CoqlRules, Product, catalogue

_COQL_V2 = CoqlRules(per_call=200, reachable=10_000)
_COQL_V4 = CoqlRules(per_call=2000, reachable=10_000, aggregates=True)
_COQL_V7 = CoqlRules(per_call=2000, reachable=100_000, columns=500, in_values=100, aggregates=True, lookup_names=True)

CRM = Product(
    name="crm",
    prefix="/crm",
    versions=("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"),
    scope_service="ZohoCRM",
    modules=catalogue(
        attachable="Leads Accounts Contacts Deals Campaigns Tasks Cases Events Calls Solutions Products"
                   " Vendors Price_Books Quotes Sales_Orders Purchase_Orders Invoices Appointments__s"
                   " Services__s Notes",
        records_only="Visits Appointments_Rescheduled_History__s",
        unsupported="Home Reports Analytics SalesInbox Feeds Documents Forecasts Social Google_AdWords"
                    " Projects Emails",
        scope_names={"Appointments_Rescheduled_History__s": "appointments_rescheduled_history"},
        module_names={"Events": "Meetings"},
    ),
    modules_all_covers_attachments=True,
    multi_status_versions=frozenset({"v8"}),
    fields_required_versions=frozenset({"v3", "v4", "v5", "v6", "v7", "v8"}),
    page_token_versions=frozenset({"v8"}),
    modern_versions=frozenset({"v3", "v4", "v5", "v6", "v7", "v8"}),
    # Potentials: the v1 name of Deals; Pipelines: Bigin's name for its deals.
    other_names={"Potentials": "Deals", "Pipelines": "Deals"},
    coql={"v2": _COQL_V2, "v2.1": _COQL_V2, "v3": _COQL_V2, "v4": _COQL_V4, "v5": _COQL_V4, "v6": _COQL_V4,
          "v7": _COQL_V7, "v8": _COQL_V7},
)
