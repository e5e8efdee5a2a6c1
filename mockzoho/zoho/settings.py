"""CRM's and Bigin's metadata routes: the org, modules, fields, layouts and related lists (URLs, parameters,
answers; the shapes are in `zoho.metadata`)."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from .calls import blueprint, models, principal
from .errors import zoho_response
from .metadata import Metadata
from .models import READ
from .product import Product
from .routes import no_content


def metadata(product: Product, version: str, scope: str) -> tuple[Metadata, Any]:
    """The product's metadata for this version and the caller, once `settings.<scope>` (or `settings`) allows it."""
    engine = models(product)
    caller = principal(engine)
    engine.require_scope(caller, scope_names(scope), READ)
    return Metadata(engine.store, engine.product, version), caller


def scope_names(scope: str) -> tuple[str, ...]:
    return (scope,) if scope == "org" else ("settings", f"settings.{scope}")


def answer(payload: dict[str, Any] | None) -> Response:
    return no_content() if payload is None else zoho_response(payload)


@blueprint.get("/org")
def org(product: Product, version: str) -> Response:
    meta, caller = metadata(product, version, "org")
    return zoho_response(meta.org(caller))


@blueprint.get("/settings/modules")
def modules(product: Product, version: str) -> Response:
    meta, _ = metadata(product, version, "modules")
    return zoho_response(meta.modules())


@blueprint.get("/settings/modules/<api_name>")
def module(product: Product, version: str, api_name: str) -> Response:
    meta, _ = metadata(product, version, "modules")
    return zoho_response(meta.module_detail(api_name))


@blueprint.get("/settings/fields")
def fields(product: Product, version: str) -> Response:
    meta, _ = metadata(product, version, "fields")
    return zoho_response(meta.fields(meta.module(request.args.get("module"))))


@blueprint.get("/settings/fields/<field_id>")
def field(product: Product, version: str, field_id: str) -> Response:
    meta, _ = metadata(product, version, "fields")
    return answer(meta.field(meta.module(request.args.get("module")), field_id))


@blueprint.get("/settings/layouts")
def layouts(product: Product, version: str) -> Response:
    meta, caller = metadata(product, version, "layouts")
    return zoho_response(meta.layouts(meta.module(request.args.get("module")), caller))


@blueprint.get("/settings/layouts/<layout_id>")
def layout(product: Product, version: str, layout_id: str) -> Response:
    meta, caller = metadata(product, version, "layouts")
    return answer(meta.layout(meta.module(request.args.get("module")), caller, layout_id))


@blueprint.get("/settings/related_lists")
def related_lists(product: Product, version: str) -> Response:
    meta, _ = metadata(product, version, "related_lists")
    return zoho_response(meta.related_lists(meta.module(request.args.get("module"))))


@blueprint.get("/settings/related_lists/<related_list_id>")
def related_list(product: Product, version: str, related_list_id: str) -> Response:
    meta, _ = metadata(product, version, "related_lists")
    return answer(meta.related_list(meta.module(request.args.get("module")), related_list_id))
