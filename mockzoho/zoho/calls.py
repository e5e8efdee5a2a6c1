"""What every Zoho route module shares: the blueprint, the product's models, the caller, bulk answers."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..core.context import call
from ..core.datacentres import data_centre_for_host
from ..core.families import Family
from .auth import Principal, authenticate
from .errors import ZohoError, success_entry, zoho_response
from .models import ZohoModels
from .product import Product

BOOLEANS = {"true": True, "false": False}

# One blueprint for CRM and Bigin, registered once per product (`zoho_family`): its views receive the product
# (from the registration's url_defaults) and the version (from its url_prefix).
blueprint = Blueprint("zoho", __name__)


def zoho_family(product: Product) -> Family:
    """The family serving `product` under its prefix, for every version it has."""
    versions = ", ".join(repr(v) for v in product.versions)
    return Family(name=product.name, error=ZohoError, blueprint=blueprint, prefixes=(product.prefix + "/",),
                  options={"url_prefix": f"{product.prefix}/<any({versions}):version>",
                           "url_defaults": {"product": product}},
                  authenticate=lambda: caller().org)


def models(product: Product) -> ZohoModels:
    """The product's models in this app (one per app: they remember which fixtures' modules they synced)."""
    state = call().state
    return state.shared(f"zoho:{product.name}", lambda: ZohoModels(state.store, product))


def principal(engine: ZohoModels) -> Principal:
    """The authenticated caller, with the product's models synced to the fixtures this request sees."""
    engine.sync(call().view().generation)
    return caller()


def caller() -> Principal:
    """The caller of a valid token for this host's data centre: AUTHENTICATION_FAILURE or INVALID_TOKEN if not."""
    current = call()
    view, state = current.view(), current.state
    data_centre = data_centre_for_host(request.host, state.settings.default_dc)
    found = authenticate(request.authorization, data_centre, state.store, view.now, view.credentials)
    current.settle_org(found.org)  # for the journal
    return found


def bulk_answer(product: Product, version: str, ids: list[str], errors: list[ZohoError | None]) -> Response:
    """A `data` array with an entry per id, under the status the version gives a mixed result."""
    failed = sum(e is not None for e in errors)
    data = [success_entry(i) if e is None else e.body() for i, e in zip(ids, errors)]
    return zoho_response({"data": data}, product.bulk_status(version, len(ids) - failed, failed))


def check_wf_trigger() -> None:
    """`wf_trigger`, if given, is true or false."""
    value = request.args.get("wf_trigger")
    if value is not None and value.lower() not in BOOLEANS:
        raise ZohoError("UNABLE_TO_PARSE_DATA_TYPE", details={"param_name": "wf_trigger"})
