"""COQL's route: `POST /{version}/coql` with `{"select_query": "..."}` (the body; the rules are in coql_models)."""

from __future__ import annotations

from flask import Response

from .calls import blueprint, models, principal
from .errors import ZohoError, zoho_response
from .product import Product
from .records import object_body
from .routes import no_content

MAX_QUERY_BODY = 1 << 20  # a query of 25 conditions and 500 columns is a few kilobytes


def select_query() -> str:
    """The query of a COQL body; Zoho's errors for a body that holds none."""
    body = object_body(MAX_QUERY_BODY)
    if "select_query" not in body:
        raise ZohoError("MANDATORY_NOT_FOUND", "mandatory key not found", {"api_name": "select_query"})
    query = body["select_query"]
    if not isinstance(query, str):
        raise ZohoError("INVALID_DATA", details={"expected_data_type": "text", "api_name": "select_query"})
    return query


@blueprint.post("/coql")
def coql(product: Product, version: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    if version not in product.coql:  # Bigin v1 has no COQL: `coql` is a module name there, and no module's
        raise ZohoError("INVALID_MODULE", details={"resource_path_index": 0})
    engine.require_scope(caller, ("coql",), frozenset({"read"}))
    answer = engine.run_query(caller, version, select_query())
    return no_content() if answer is None else zoho_response(answer)
