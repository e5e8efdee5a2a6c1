"""The standard field catalogue (`zoho/standard_fields.yaml`): rules that hold for every module of both products,
and a few facts pinned from Zoho's own documents (docs/fidelity.md, "Field catalogue")."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from mockzoho.bigin import BIGIN
from mockzoho.crm import CRM
from mockzoho.zoho.fields import DATA_TYPES, SYSTEM_FIELDS, Field, ModuleFields, RelatedList, standard_fields
from mockzoho.zoho.product import Product

PRODUCTS = {"crm": CRM, "bigin": BIGIN}
LOOKUPS = {"lookup"}
PICKLISTS = {"picklist", "multiselectpicklist"}
NAME_TYPES = {"text", "textarea", "autonumber"}  # what a record's name can be


def raw_catalogue() -> dict:
    """The YAML as written, refusing a repeated key (PyYAML would keep the last one silently)."""

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
        keys = [loader.construct_object(k) for k, _ in node.value]
        repeated = {k for k in keys if keys.count(k) > 1}
        if repeated:
            raise AssertionError(f"repeated keys {sorted(repeated)} at line {node.start_mark.line + 1}")
        return loader.construct_mapping(node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    text = resources.files("mockzoho.zoho").joinpath("standard_fields.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=Strict)  # noqa: S506 (a SafeLoader subclass)


def field_problems(module: str, fields: ModuleFields, product: Product) -> list[str]:
    """What is wrong with one module's fields (empty when nothing is)."""
    problems = []
    names = [f.api_name.lower() for f in fields.fields]
    problems += [f"{module}: {n} listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for f in fields.fields:
        where = f"{module}.{f.api_name}"
        if f.data_type not in DATA_TYPES:
            problems.append(f"{where}: data type {f.data_type!r} is not one the engine stores")
        if (f.data_type in PICKLISTS) != bool(f.picklist):
            problems.append(f"{where}: {f.data_type} with picklist {list(f.picklist)}")
        if any(not isinstance(v, str) or not v for v in f.picklist):
            problems.append(f"{where}: a picklist value that is not a string ({list(f.picklist)})")
        if len(set(f.picklist)) != len(f.picklist):
            problems.append(f"{where}: a picklist value listed twice")
        if f.lookup is not None and f.data_type not in LOOKUPS:
            problems.append(f"{where}: a {f.data_type} field names a lookup module")
        if f.lookup is not None and (product.module(f.lookup) is None or product.module(f.lookup).api_name != f.lookup):
            problems.append(f"{where}: looks up {f.lookup!r}, not a module of {product.name}")
        if f.mandatory and f.read_only:
            problems.append(f"{where}: mandatory and read-only")
        if f.length is not None and f.length <= 0:
            problems.append(f"{where}: length {f.length}")
    by_name = {f.api_name: f for f in fields.fields}
    if fields.name_field not in by_name:
        problems.append(f"{module}: name field {fields.name_field!r} is not one of its fields")
    elif by_name[fields.name_field].data_type not in NAME_TYPES:
        problems.append(f"{module}: name field {fields.name_field} is a {by_name[fields.name_field].data_type}")
    problems += [f"{module}: name part {p!r} is not one of its fields" for p in fields.name_parts if p not in by_name]
    return problems


def related_list_problems(module: str, fields: ModuleFields, product: Product) -> list[str]:
    """What is wrong with one module's related lists: each must list another module's records by a lookup field of
    that module pointing back here (or at any module, as Notes' Parent_Id does)."""
    problems = []
    names = [r.api_name.lower() for r in fields.related_lists]
    problems += [f"{module}: related list {n} listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for rl in fields.related_lists:
        where = f"{module}/{rl.api_name}"
        if rl.field is None:
            continue  # Attachments: served by the engine itself, not a record module
        target = product.module(rl.module)
        if target is None or target.api_name != rl.module:
            problems.append(f"{where}: {rl.module!r} is not a module of {product.name}")
            continue
        lookup = product.fields(target).field(rl.field)
        if lookup is None or lookup.api_name != rl.field:
            problems.append(f"{where}: {rl.module} has no field {rl.field!r}")
        elif lookup.data_type != "lookup" or lookup.lookup not in (None, module):
            problems.append(f"{where}: {rl.module}.{rl.field} ({lookup.data_type} -> {lookup.lookup}) does not "
                            f"point back to {module}")
    return problems


CATALOGUE = [(product, name) for product in ("crm", "bigin") for name in raw_catalogue()[product]]


def module_fields(product: str, name: str) -> ModuleFields:
    p = PRODUCTS[product]
    return p.fields(p.module(name))


def test_the_yaml_has_no_repeated_key() -> None:
    assert set(raw_catalogue()) == {"crm", "bigin"}


@pytest.mark.parametrize("product, name", CATALOGUE)
def test_every_catalogued_module_is_a_module_of_its_product(product: str, name: str) -> None:
    module = PRODUCTS[product].module(name)
    assert module is not None and module.api_name == name and module.api_supported


@pytest.mark.parametrize("product, name", CATALOGUE)
def test_fields_keep_the_catalogue_rules(product: str, name: str) -> None:
    assert field_problems(name, module_fields(product, name), PRODUCTS[product]) == []


@pytest.mark.parametrize("product, name", CATALOGUE)
def test_related_lists_point_back_by_a_lookup(product: str, name: str) -> None:
    assert related_list_problems(name, module_fields(product, name), PRODUCTS[product]) == []


@pytest.mark.parametrize("product, name", CATALOGUE)
def test_system_fields_come_from_the_code_once(product: str, name: str) -> None:
    listed = {f["api_name"] for f in raw_catalogue()[product][name].get("fields", ())}
    system = {s["api_name"] for s in SYSTEM_FIELDS}
    assert not listed & system, "the YAML must not list the system fields"
    served = [f.api_name for f in module_fields(product, name).fields]
    assert all(served.count(s) == 1 for s in system)


@pytest.mark.parametrize("product, name", CATALOGUE)
def test_no_standard_field_is_unique(product: str, name: str) -> None:
    # A fresh org has no unique standard field (Zoho's sample org marks Leads' Email unique: an org setting).
    assert [f.api_name for f in module_fields(product, name).fields if f.unique] == []


def test_every_attachable_crm_and_bigin_module_is_catalogued() -> None:
    for product in PRODUCTS.values():
        records = {m.api_name for m in product.modules if m.api_supported and not m.custom}
        catalogued = {m.lower() for m in raw_catalogue()[product.name]}
        missing = sorted(n for n in records if n.lower() not in catalogued
                         and n not in ("Visits", "Appointments_Rescheduled_History__s"))
        assert missing == [], f"{product.name} modules without standard fields"


def test_the_checks_find_a_broken_catalogue() -> None:
    """The rules above can fail: a module breaking each of them is reported for each."""
    broken = ModuleFields((
        Field("Name", "text"),
        Field("Name", "text"),
        Field("Kind", "formula"),
        Field("Stage", "picklist"),
        Field("Note", "text", picklist=("a",)),
        Field("Flag", "picklist", picklist=(True,)),  # type: ignore[arg-type]  # YAML's bare Yes
        Field("Boss", "lookup", lookup="Potentials"),
        Field("Count", "integer", lookup="Accounts"),
        Field("Code", "text", mandatory=True, read_only=True),
    ), name_field="Title", name_parts=("First",), related_lists=(
        RelatedList("Deals", "Deals", "Contact_Name"),       # Deals.Contact_Name points to Contacts, not here
        RelatedList("Things", "Things", "X"),                # no such module
        RelatedList("Contacts", "Contacts", "No_Such"),      # no such field
    ))
    problems = field_problems("Broken", broken, CRM) + related_list_problems("Accounts", broken, CRM)
    for expected in ("Broken: name listed twice", "'formula'", "Broken.Stage: picklist with picklist []",
                     "Broken.Note: text with", "not a string", "'Potentials', not a module",
                     "a integer field names", "mandatory and read-only", "name field 'Title'", "name part 'First'",
                     "does not point back to Accounts", "'Things' is not a module", "no field 'No_Such'"):
        assert any(expected in p for p in problems), (expected, problems)


# Facts pinned from Zoho's documents.

def test_deal_stages_are_the_standard_pipeline_in_order() -> None:
    stage = module_fields("crm", "Deals").field("Stage")
    assert stage.data_type == "picklist" and stage.mandatory
    assert stage.picklist == ("Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
                              "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won",
                              "Closed Lost", "Closed Lost to Competition")


def test_bigin_pipeline_stages() -> None:
    stage = module_fields("bigin", "Pipelines").field("Stage")
    assert stage.mandatory and stage.picklist == ("Qualification", "Needs Identified", "Proposal/Price Quote",
                                                  "Negotiation/Review", "Closed Won", "Closed Lost")


@pytest.mark.parametrize("product, module, mandatory", [
    ("crm", "Leads", {"Last_Name"}),
    ("crm", "Contacts", {"Last_Name"}),
    ("crm", "Accounts", {"Account_Name"}),
    ("crm", "Deals", {"Deal_Name", "Stage"}),
    ("crm", "Tasks", {"Subject"}),
    ("crm", "Events", {"Event_Title", "Start_DateTime", "End_DateTime"}),
    ("crm", "Calls", {"Subject", "Call_Type", "Call_Start_Time", "Call_Duration"}),
    ("crm", "Cases", {"Subject", "Status", "Case_Origin"}),
    ("crm", "Purchase_Orders", {"Subject", "Vendor_Name"}),
    ("bigin", "Pipelines", {"Deal_Name", "Sub_Pipeline", "Stage"}),
    ("bigin", "Contacts", {"Last_Name"}),
])
def test_system_mandatory_fields(product: str, module: str, mandatory: set[str]) -> None:
    assert {f.api_name for f in module_fields(product, module).fields if f.mandatory} == mandatory


@pytest.mark.parametrize("product, module, field, target", [
    ("crm", "Contacts", "Account_Name", "Accounts"),
    ("crm", "Deals", "Account_Name", "Accounts"),
    ("crm", "Deals", "Contact_Name", "Contacts"),
    ("bigin", "Pipelines", "Account_Name", "Accounts"),
    ("bigin", "Pipelines", "Contact_Name", "Contacts"),
    ("bigin", "Contacts", "Account_Name", "Accounts"),
])
def test_lookups(product: str, module: str, field: str, target: str) -> None:
    lookup = module_fields(product, module).field(field)
    assert (lookup.data_type, lookup.lookup) == ("lookup", target)


@pytest.mark.parametrize("product", ["crm", "bigin"])
def test_a_notes_parent_is_any_module(product: str) -> None:
    parent = module_fields(product, "Notes").field("Parent_Id")
    assert (parent.data_type, parent.lookup) == ("lookup", None)


def test_names() -> None:
    leads = module_fields("crm", "Leads")
    assert (leads.name_field, leads.name_parts) == ("Full_Name", ("First_Name", "Last_Name"))
    assert leads.field("Full_Name").read_only
    assert leads.field("Designation").field_label == "Title"
    assert module_fields("crm", "Events").name_field == "Event_Title"
    assert module_fields("bigin", "Pipelines").name_field == "Deal_Name"


def test_related_lists_of_accounts_and_contacts() -> None:
    def lists(product: str, module: str) -> dict[str, tuple[str, str | None]]:
        return {r.api_name: (r.module, r.field) for r in module_fields(product, module).related_lists}

    assert {"Contacts": ("Contacts", "Account_Name"), "Deals": ("Deals", "Account_Name")}.items() \
        <= lists("crm", "Accounts").items()
    assert lists("crm", "Contacts")["Deals"] == ("Deals", "Contact_Name")
    assert {"Contacts": ("Contacts", "Account_Name"), "Pipelines": ("Pipelines", "Account_Name")}.items() \
        <= lists("bigin", "Accounts").items()
    assert lists("bigin", "Contacts")["Pipelines"] == ("Pipelines", "Contact_Name")
    assert lists("crm", "Leads").keys() == {"Notes", "Attachments"}


def test_picklists_hold_actual_values() -> None:
    # Records carry an option's actual value: Leads' Rating shows "Shut Down" but stores "ShutDown".
    assert "ShutDown" in module_fields("crm", "Leads").field("Rating").picklist
    assert "Network Equipment (Enterprise)" in module_fields("crm", "Leads").field("Industry").picklist


def test_standard_fields_are_keyed_in_lower_case() -> None:
    assert "sales_orders" in standard_fields("crm") and "pipelines" in standard_fields("bigin")


def test_decisions_where_the_sources_disagree() -> None:
    # Each one a line of docs/fidelity.md's "Field catalogue".
    crm = lambda module: module_fields("crm", module)  # noqa: E731
    assert crm("Tasks").field("Subject").data_type == crm("Calls").field("Subject").data_type == "text"
    assert crm("Calls").field("Call_Duration").data_type == "text"
    assert not crm("Deals").field("Closing_Date").mandatory
    pipeline = crm("Deals").field("Pipeline")
    assert pipeline.picklist == ("Standard (Standard)",) and not pipeline.mandatory
    assert {f.api_name for f in crm("Notes").fields if f.mandatory} == {"Note_Content", "Parent_Id"}
    assert module_fields("bigin", "Pipelines").field("Sub_Pipeline").picklist == ("Sales Pipeline Standard",)
    for module, number in (("Quotes", "Quote_Number"), ("Sales_Orders", "SO_Number"), ("Purchase_Orders", "PO_Number"),
                           ("Invoices", "Invoice_Number"), ("Cases", "Case_Number"), ("Solutions", "Solution_Number")):
        assert (crm(module).field(number).data_type, crm(module).field(number).read_only) == ("autonumber", True)
    assert crm("Quotes").field("Grand_Total").read_only and not crm("Quotes").field("Discount").read_only
    for module, left_out in (("Quotes", "Quoted_Items"), ("Tasks", "What_Id"), ("Events", "Participants"),
                             ("Appointments__s", "Appointment_For"), ("Leads", "Tag")):
        assert crm(module).field(left_out) is None
