"""COQL's route: `POST /{version}/coql` with `{"select_query": "..."}` (the body; the rules are in coql_models)."""

from __future__ import annotations

from flask import Response

from .calls import blueprint, models, principal
from .errors import ZohoError, zoho_response
from .models import READ
from .product import Product
from .records import object_body
from .routes import no_content

MAX_QUERY_BODY = 256 << 10  # 25 conditions of 100 `in` values, 500 columns: about 100 KB at most
INCLUDE_META_VERSIONS = frozenset({"v7", "v8"})  # `include_meta` came with v7; earlier versions take no such key


def coql_body() -> tuple[str, bool]:
    """The query of a COQL body, and whether it asks for the fields' metadata (`include_meta: ["fields"]`);
    Zoho's errors for a body that holds no query or a wrong `include_meta`."""
    body = object_body(MAX_QUERY_BODY)
    if "select_query" not in body:
        raise ZohoError("MANDATORY_NOT_FOUND", "mandatory key not found", {"api_name": "select_query"})
    query = body["select_query"]
    if not isinstance(query, str):
        raise ZohoError("INVALID_DATA", details={"expected_data_type": "text", "api_name": "select_query"})
    if "include_meta" not in body:
        return query, False
    meta = body["include_meta"]
    if not isinstance(meta, list) or len(meta) != 1:
        raise ZohoError("INVALID_DATA", details={"expected_data_type": "jsonarray", "api_name": "include_meta",
                                                 "json_path": "$.include_meta"})
    if meta != ["fields"]:
        kind = {} if isinstance(meta[0], str) else {"expected_data_type": "text"}
        raise ZohoError("INVALID_DATA", details={**kind, "api_name": "include_meta", "json_path": "$.include_meta[0]",
                                                 "supported_values": ["fields"]})
    return query, True


@blueprint.post("/coql")
def coql(product: Product, version: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    if version not in product.coql:  # Bigin v1 has no COQL: `coql` is a module name there, and no module's
        raise ZohoError("INVALID_MODULE", details={"resource_path_index": 0})
    engine.require_scope(caller, ("coql",), READ)
    query, include_fields = coql_body()
    include_fields = include_fields and version in INCLUDE_META_VERSIONS
    if include_fields:  # the fields' metadata needs what `GET /settings/fields` needs
        engine.require_scope(caller, ("settings", "settings.fields"), READ)
    answer = engine.run_query(caller, version, query, include_fields)
    return no_content() if answer is None else zoho_response(answer)
