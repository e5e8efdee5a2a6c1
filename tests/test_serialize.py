"""The record serializer: what one record of a page costs beyond its own values."""

from __future__ import annotations

from mockzoho.store import RecordRow
from mockzoho.crm import CRM
from mockzoho.zoho.fields import ModuleFields
from mockzoho.zoho.serialize import RecordView, record_json


class CountedFields(tuple):
    """A module's fields that count how often they are gone through."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        CountedFields.walks += 1
        return super().__iter__()


def test_a_page_works_out_its_fields_once() -> None:
    # A 200-record page with `fields=` went through the module's 38 fields (lower-casing each name) for every
    # record: a third of the page's time in bench/run.py's records rows.
    leads = CRM.fields(CRM.module("Leads"))
    counted = ModuleFields(CountedFields(leads.fields), leads.name_field, leads.name_parts)
    view = RecordView(counted, {}, {}, "UTC", frozenset({"last_name", "email"}))
    rows = [RecordRow(str(i), "Leads", "n", None, None, None, 0, 0, {"Last_Name": f"L{i}", "Email": f"{i}@x.example",
                                                                      "Company": "C"}) for i in range(200)]
    CountedFields.walks = 0
    shown = [record_json(row, view) for row in rows]
    assert CountedFields.walks == 1
    assert shown[7] == {"Last_Name": "L7", "Email": "7@x.example", "$approved": True, "$editable": True,
                        "$state": "save", "$process_flow": False, "id": "7"}


def test_every_field_without_fields_asked() -> None:
    leads = CRM.fields(CRM.module("Leads"))
    view = RecordView(leads, {}, {}, "UTC")
    shown = record_json(RecordRow("1", "Leads", "n", None, None, None, 0, 0, {"Last_Name": "L"}), view)
    assert [k for k in shown if not k.startswith("$") and k != "id"] == [f.api_name for f in leads.fields]
