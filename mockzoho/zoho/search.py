"""The search API's rules: a parsed criteria, or an `email`, `phone` or `word`, becomes a typed filter over a
module's fields (no SQL: the store turns the filter into its query)."""

from __future__ import annotations

from ..store.search import AllOf, AnyOf, Filter, Match
from .criteria import CRM_OPERATORS, OPERATORS, Condition, Criterion, invalid_query, parse_criteria
from .fields import Field, ModuleFields
from .values import NUMBER_TYPES, REFERENCE_TYPES, TEXT_TYPES, FieldProblem, search_value

SEARCH_PARAMS = ("criteria", "email", "phone", "word")
ORDERED = frozenset({"equals", "not_equal", "greater_than", "greater_equal", "less_than", "less_equal", "between",
                     "in"})
# Which operators each kind of field takes (Zoho's search docs list them per data type).
TYPE_OPERATORS: dict[str, frozenset[str]] = {
    **{t: frozenset({"equals", "not_equal", "starts_with", "in"}) for t in TEXT_TYPES},
    **{t: ORDERED for t in (*NUMBER_TYPES, "integer", "bigint", "date", "datetime")},
    "boolean": frozenset({"equals", "not_equal"}),
    "multiselectpicklist": frozenset({"equals", "not_equal", "starts_with", "in"}),
    **{t: frozenset({"equals", "not_equal", "in"}) for t in REFERENCE_TYPES},
}
WORD_TYPES = frozenset({"text", "textarea", "email", "phone", "website", "picklist", "multiselectpicklist"})
NOT_SEARCHABLE = "the field is not available for search"


def operators_for(product: str, version: str) -> frozenset[str]:
    """The operators a version's criteria may use (CRM's first versions document fewer)."""
    return CRM_OPERATORS.get(version, OPERATORS) if product == "crm" else OPERATORS


def criteria_filter(fields: ModuleFields, text: str, operators: frozenset[str]) -> Filter:
    """The filter a `criteria` parameter describes, each value in the form its field is indexed by."""
    return _typed(fields, parse_criteria(text, operators))


def _typed(fields: ModuleFields, criterion: Criterion) -> Filter:
    if not isinstance(criterion, Condition):
        parts = tuple(_typed(fields, part) for part in criterion.parts)
        return AllOf(parts) if criterion.operator == "and" else AnyOf(parts)
    field = fields.field(criterion.field)
    if field is None:
        raise invalid_query(NOT_SEARCHABLE, api_name=criterion.field)
    if criterion.operator not in TYPE_OPERATORS[field.data_type]:
        raise invalid_query("invalid operator found", api_name=field.api_name, operator=criterion.operator)
    return Match(field.api_name.lower(), criterion.operator,
                 tuple(_value(field, criterion.operator, v) for v in criterion.values))


def _value(field: Field, operator: str, text: str) -> str | int | float:
    try:
        value = search_value(field, text)
    except FieldProblem:
        value = None
    if value is None or (operator == "starts_with" and not isinstance(value, str)):
        raise invalid_query("invalid value found", api_name=field.api_name, value=text)
    return value


def typed_filter(fields: ModuleFields, kind: str, text: str) -> Filter:
    """The filter of an `email` or `phone` search (that value in any field of the type) or a `word` search (the
    word inside any text field)."""
    wanted = text.strip().lower()
    if kind == "word":
        return AnyOf(tuple(Match(f.api_name.lower(), "contains", (wanted,)) for f in fields.fields
                           if f.data_type in WORD_TYPES))
    return AnyOf(tuple(Match(f.api_name.lower(), "equals", (wanted,)) for f in fields.fields if f.data_type == kind))
