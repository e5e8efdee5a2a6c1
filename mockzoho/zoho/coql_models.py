"""COQL's rules: a parsed query checked against the module's fields and the version's limits, turned into the
store's filter, order and limits, and its rows shown as Zoho shows them (no SQL, no request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..store import Group, RecordRow, Store, SumOverflow, UserRef
from ..store.search import AllOf, AnyOf, Filter, Match, Not, Through
from .actions import READ_RECORDS
from .auth import Principal
from .coql import Column, Condition, Expression, Function, Number, Path, Predicate, Query, Sort, parse_query
from .errors import MODULE_NOT_SUPPORTED, ZohoError
from .fields import Field
from .metadata import Metadata
from .product import CoqlRules, Module, Product
from .serialize import SYSTEM_TIMES, SYSTEM_USERS, RecordView, field_reader, user_names, zoho_time
from .values import NUMBER_TYPES, REFERENCE_TYPES, TEXT_TYPES, FieldProblem, search_value

MAX_JOINS = 2
MAX_ORDER = 10
MAX_GROUPS = 4
MAX_FUNCTIONS = 5
FUNCTIONS = ("COUNT", "SUM", "MIN", "MAX", "AVG")
ID = Field("id", "id", system=True)  # every module's record id, queried like a lookup
_ORDERED = frozenset({"=", "!=", "<", ">", "<=", ">=", "between", "in", "null"})
_TEXTUAL = frozenset({"=", "!=", "like", "in", "null"})
_REFERENCE = frozenset({"=", "!=", "in", "null"})
# Which operators each type of field takes in a WHERE (Zoho's COQL page lists them per type).
TYPE_OPERATORS: dict[str, frozenset[str]] = {
    **{t: _TEXTUAL for t in TEXT_TYPES}, "multiselectpicklist": _TEXTUAL,
    **{t: _ORDERED for t in (*NUMBER_TYPES, "integer", "bigint", "date", "datetime")},
    "boolean": frozenset({"="}), **{t: _REFERENCE for t in REFERENCE_TYPES}, "id": _REFERENCE,
    "user_attribute": _TEXTUAL,
}
_STORE_OPERATORS = {"=": "equals", "<": "less_than", ">": "greater_than", "<=": "less_equal", ">=": "greater_equal",
                "in": "in", "between": "between"}
# Which types each function takes (COUNT: "only for number, lookup, and picklist fields", and the id).
FUNCTION_TYPES = {
    "COUNT": frozenset({*NUMBER_TYPES, "integer", "bigint", "picklist", "lookup", "ownerlookup", "userlookup", "id"}),
    "SUM": frozenset({*NUMBER_TYPES, "integer", "bigint"}), "AVG": frozenset({*NUMBER_TYPES, "integer", "bigint"}),
    "MIN": frozenset({*NUMBER_TYPES, "integer", "bigint", "date", "datetime"}),
    "MAX": frozenset({*NUMBER_TYPES, "integer", "bigint", "date", "datetime"}),
}
USER_TYPES = frozenset({"ownerlookup", "userlookup"})
USER_ATTRIBUTES = ("id", "first_name", "last_name", "full_name", "email")  # what `Owner.<name>` reaches


def invalid_query(message: str, **details: Any) -> ZohoError:
    return ZohoError("INVALID_QUERY", message, details)


def unknown_column(path: Path) -> ZohoError:
    return invalid_query("column given seems to be invalid", column_name=path.text)


def limit_exceeded(limit: int, message: str = "limit exceeded") -> ZohoError:
    return ZohoError("LIMIT_EXCEEDED", message, {"limit": limit})


@dataclass(frozen=True)
class Step:
    """One field of a path, in the module it belongs to."""

    module: Module
    field: Field


@dataclass(frozen=True)
class Shown:
    """A select column: the key it has in a row and how its value is worked out from a record."""

    key: str
    steps: tuple[Step, ...]


class CoqlModels:
    """The COQL half of a product's models (mixed into ZohoModels, which holds the store and product)."""

    store: Store
    product: Product
    authorize_module: Callable[[Principal, Module, Any], None]
    view: Callable[..., RecordView]

    def run_query(self, principal: Principal, version: str, text: str,
                  include_fields: bool = False) -> dict[str, Any] | None:
        """`{"data","info"}` for a COQL query (`{"data","fields","info"}` with the selected fields' metadata if
        `include_fields`), None when no record matches; ZohoError for any refusal."""
        rules = self.product.coql[version]
        query = parse_query(text)
        if query.where is None:
            raise ZohoError("SYNTAX_ERROR", "missing clause", {"clause": "where"})
        module = self.product.module(query.module)
        if module is None:
            raise ZohoError("INVALID_MODULE")
        if not module.api_supported:
            raise ZohoError("INVALID_MODULE", MODULE_NOT_SUPPORTED)
        self.authorize_module(principal, module, READ_RECORDS)
        limit, offset = _window(rules, query)
        where = self._typed(principal, module, rules, query.where)
        grouped = bool(query.group_by) or any(isinstance(c.expression, Function) for c in query.columns)
        if len(query.columns) > rules.columns:
            raise limit_exceeded(rules.columns, "select columns limit exceeded")
        if grouped:
            if not rules.aggregates:
                raise ZohoError("SYNTAX_ERROR", "given coql query not supported")
            rows, more = self._grouped(principal, version, rules, module, query, where, limit, offset)
        else:
            rows, more = self._plain(principal, version, rules, module, query, where, limit, offset)
        if not rows:
            return None
        answer: dict[str, Any] = {"data": rows}
        if include_fields:
            names = [c.expression.parts[0] for c in query.columns
                     if isinstance(c.expression, Path) and len(c.expression.parts) == 1]
            own = [field.api_name for name in names if (field := self.product.fields(module).field(name))]
            answer["fields"] = Metadata(self.store, self.product, version).fields_named(module, own)
        answer["info"] = {"count": len(rows), "more_records": more}
        return answer

    # -- paths and the WHERE ------------------------------------------------------------------------------

    def _steps(self, principal: Principal, module: Module, path: Path) -> tuple[Step, ...]:
        """The fields a path goes through, each in its module: lookups to other modules' records, then a field.
        Each module reached needs READ as the queried one does: a lookup is no way around the scopes."""
        if len(path.parts) > MAX_JOINS + 1:
            raise limit_exceeded(MAX_JOINS, "join limit exceeded")
        steps, current = [], module
        for at, name in enumerate(path.parts):
            field = self._field_of(current, name, path)
            steps.append(Step(current, field))
            if at < len(path.parts) - 1 and _is_user(field):  # `Owner.last_name`: a user's, and the path's end
                attribute = path.parts[at + 1].lower()
                if at + 2 != len(path.parts) or attribute not in USER_ATTRIBUTES:
                    raise unknown_column(path)
                steps.append(Step(current, Field(attribute, "user_attribute")))
                break
            if at < len(path.parts) - 1:
                target = self.product.module(field.lookup or "") if field.data_type == "lookup" else None
                if target is None:
                    raise unknown_column(path)
                current = target
        for step in steps[1:]:  # once the whole path is known: an unknown column is that, scopes or not
            if step.module is not module:
                self.authorize_module(principal, step.module, READ_RECORDS)
        return tuple(steps)

    def _field_of(self, module: Module, name: str, path: Path) -> Field:
        """A field of the module by API name (any case), `id` included; an unknown column else."""
        field = ID if name.lower() == "id" else self.product.fields(module).field(name)
        if field is None:
            raise unknown_column(path)
        return field

    def _own_field(self, module: Module, path: Path, clause: str) -> Field:
        """A field of the queried module itself, as GROUP BY, ORDER BY and the functions take them."""
        if len(path.parts) > 1:
            raise invalid_query("unsupported column", column_name=path.text, clause=clause)
        return self._field_of(module, path.parts[0], path)

    def _typed(self, principal: Principal, module: Module, rules: CoqlRules, condition: Condition) -> Filter:
        if not isinstance(condition, Predicate):
            parts = tuple(self._typed(principal, module, rules, part) for part in condition.parts)
            return AllOf(parts) if condition.operator == "and" else AnyOf(parts)
        steps = self._steps(principal, module, condition.path)
        if condition.operator == "in" and len(condition.values) > rules.in_values:
            raise limit_exceeded(rules.in_values, "in values limit exceeded")
        lookups = steps[:-1]
        if steps[-1].field.data_type == "user_attribute":
            # The org's few users are matched here; the records are selected by the ids of those that match.
            user_field, lookups = steps[-2].field, steps[:-2]
            matches = _user_test(steps[-1].field.api_name, condition)
            ids = tuple(u.id for u in self.store.users(principal.org) if matches(u))
            tree: Filter = Match(user_field.api_name.lower(), "in", ids) if ids else AnyOf(())
        else:
            tree = _predicate(steps[-1].field, condition, rules)
        for at in reversed(range(len(lookups))):  # through each lookup, innermost first
            tree = Through(lookups[at].field.api_name.lower(), steps[at + 1].module.api_name, tree)
        return tree

    # -- plain queries ------------------------------------------------------------------------------------

    def _columns(self, principal: Principal, module: Module, query: Query) -> list[Shown]:
        shown, seen = [], set()
        for column in query.columns:
            assert isinstance(column.expression, Path)
            steps = self._steps(principal, module, column.expression)
            name = ".".join(s.field.api_name for s in steps)
            if name.lower() in seen:
                raise ZohoError("DUPLICATE_DATA", "duplicate select column", {"column_name": name})
            seen.add(name.lower())
            shown.append(Shown(_key(column, name), steps))
        _check_aliases(query.columns, [c.steps and ".".join(s.field.api_name for s in c.steps) for c in shown],
                       reserved="id")
        return shown

    def _plain(self, principal: Principal, version: str, rules: CoqlRules, module: Module, query: Query,
               where: Filter, limit: int, offset: int) -> tuple[list[dict[str, Any]], bool]:
        columns = self._columns(principal, module, query)
        order = [(self._own_field(module, _path(_aliased(query, sort.expression)), "order by").api_name.lower(),
                  sort.descending) for sort in query.order_by]
        _check_order(query.order_by, [name for name, _ in order])
        keys = sorted({c.steps[0].field.api_name for c in columns if not c.steps[0].field.system} | {"$se_module"})
        rows = self.store.list_records(
            principal.org, self.product.name, module.api_name, sort_by="id", descending=False, offset=offset,
            limit=limit + 1, where=where, restricted_user=principal.user if principal.restricted else None,
            only=keys, order_by=order)
        more, rows = len(rows) > limit, rows[:limit]
        values = {c.key: self._column_values(principal, version, rules, c, rows) for c in columns}
        result = []
        for i, row in enumerate(rows):
            shown = {key: column[i] for key, column in values.items()}
            if "id" not in shown:
                shown["id"] = row.id
            result.append(shown)
        return result, more

    def _column_values(self, principal: Principal, version: str, rules: CoqlRules, column: Shown,
                       rows: Sequence[RecordRow]) -> list[Any]:
        """One column's value in each row: through its lookups, a batch of records a step."""
        current: list[RecordRow | None] = list(rows)
        steps = column.steps
        attribute = steps[-1].field.api_name if steps[-1].field.data_type == "user_attribute" else None
        for step in steps[:-2] if attribute else steps[:-1]:
            ids = sorted({row.data[step.field.api_name] for row in current
                          if row is not None and row.data.get(step.field.api_name)})
            target = self.product.module(step.field.lookup or "")
            assert target is not None
            found = self.store.get_records(principal.org, self.product.name, target.api_name, ids)
            current = [None if row is None else found.get(row.data.get(step.field.api_name) or "")
                       for row in current]
        if attribute is not None:
            users = self.store.users_by_id(principal.org)
            field = steps[-2].field
            return [None if row is None or (user := users.get(_user_id(field, row) or "")) is None
                    else user_attribute(user, attribute) for row in current]
        last = steps[-1]
        present = [row for row in current if row is not None]
        view = self.view(principal, last.module, present, version)
        show = coql_reader(last.field, rules)
        return [None if row is None else show(row, view) for row in current]

    # -- grouped queries ----------------------------------------------------------------------------------

    def _grouped(self, principal: Principal, version: str, rules: CoqlRules, module: Module, query: Query,
                 where: Filter, limit: int, offset: int) -> tuple[list[dict[str, Any]], bool]:
        if len(query.group_by) > MAX_GROUPS:
            raise limit_exceeded(MAX_GROUPS, "group by limit exceeded")
        groups = [self._own_field(module, path, "group by") for path in query.group_by]
        for group in groups:
            if group.data_type in ("multiselectpicklist", "textarea"):
                raise invalid_query("data type not supported", column_name=group.api_name, clause="group by")
        group_names = [g.api_name.lower() for g in groups]
        functions: list[tuple[Column, Function, Field | None]] = []
        plain: list[tuple[Column, Field]] = []
        for column in query.columns:
            expression = column.expression
            if isinstance(expression, Function):
                functions.append((column, expression, self._function_field(module, expression)))
            else:
                field = self._own_field(module, expression, "select")
                if any(field is other for _, other in plain):
                    raise ZohoError("DUPLICATE_DATA", "duplicate select column", {"column_name": field.api_name})
                if field.api_name.lower() not in group_names:
                    raise invalid_query("column given in select should be present in group by",
                                        column_name=field.api_name)
                plain.append((column, field))
        if len(functions) > MAX_FUNCTIONS:
            raise limit_exceeded(MAX_FUNCTIONS, "aggregate limit exceeded")
        _check_functions([f for _, f, _ in functions])
        _check_aliases(query.columns, [c.expression.text if isinstance(c.expression, Function) else
                                       self._own_field(module, c.expression, "select").api_name
                                       for c in query.columns])
        order = [(self._grouped_sort(query, sort, groups, functions), sort.descending) for sort in query.order_by]
        _check_order(query.order_by, [str(i) for i, _ in order])
        try:
            rows = self.store.aggregate_records(
                principal.org, self.product.name, module.api_name, groups=[_group(g) for g in groups],
                functions=[(f.name.lower(), None if field is None else field.api_name) for _, f, field in functions],
                order_by=order, offset=offset, limit=limit + 1, where=where,
                restricted_user=principal.user if principal.restricted else None)
        except SumOverflow:
            raise invalid_query("Invalid query formed", reason="sum out of range") from None
        more, rows = len(rows) > limit, rows[:limit]
        return self._grouped_rows(principal, version, rules, module, query, rows, groups, plain, functions), more

    def _grouped_rows(self, principal: Principal, version: str, rules: CoqlRules, module: Module, query: Query,
                      rows: list[tuple[Any, ...]], groups: list[Field], plain: list[tuple[Column, Field]],
                      functions: list[tuple[Column, Function, Field | None]]) -> list[dict[str, Any]]:
        """Each group as a row, keys in the select's order: its group fields shown as a record's would be, and
        each function's value."""
        records = [_group_record(module, groups, row) for row in rows]
        view = self.view(principal, module, records, version)
        shown = []
        for row, record in zip(rows, records):
            values: dict[int, tuple[str, Any]] = {}
            for column, field in plain:
                values[id(column)] = (_key(column, field.api_name), coql_reader(field, rules)(record, view))
            for at, (column, function, field) in enumerate(functions):
                value = row[len(groups) + at]
                if field is not None and field.data_type == "datetime" and value is not None and \
                        function.name in ("MIN", "MAX"):
                    value = zoho_time(value, principal.time_zone)
                values[id(column)] = (_key(column, function.text), value)
            shown.append(dict(values[id(column)] for column in query.columns))
        return shown

    def _function_field(self, module: Module, function: Function) -> Field | None:
        if function.name not in FUNCTIONS:
            raise ZohoError("INVALID_DATA", details={"reason": "unsupported aggregate function",
                                                     "column": function.text})
        if function.path is None:
            if function.name != "COUNT":
                raise invalid_query("column given seems to be invalid", column_name=function.text)
            return None
        field = self._own_field(module, function.path, "select")
        if field.data_type not in FUNCTION_TYPES[function.name]:
            raise invalid_query("data type not supported", column_name=field.api_name, aggregate=function.name)
        return field

    @staticmethod
    def _grouped_sort(query: Query, sort: Sort, groups: list[Field],
                      functions: list[tuple[Column, Function, Field | None]]) -> int:
        """The result column a grouped query's ORDER BY names: a group field, or a function of the select."""
        expression = _aliased(query, sort.expression)
        for at, group in enumerate(groups):
            if isinstance(expression, Path) and expression.text.lower() == group.api_name.lower():
                return at
        for at, (_, function, _) in enumerate(functions):
            if isinstance(expression, Function) and expression.text.lower() == function.text.lower():
                return len(groups) + at
        raise invalid_query("unsupported column", column_name=expression.text, clause="order by")


# -- helpers -----------------------------------------------------------------------------------------------

def coql_reader(field: Field, rules: CoqlRules) -> Callable[[RecordRow, RecordView], Any]:
    """How a COQL row shows a field: as a record listing would, but a lookup or user as `{id}` before v7
    (`{name, id}` after, a user's name its last name), and the record id as it is."""
    if field is ID:
        return lambda row, view: row.id
    name = field.api_name
    if _is_user(field):
        def user(row: RecordRow, view: RecordView) -> Any:
            value = _user_id(field, row)
            if not value:
                return None
            if not rules.lookup_names:
                return {"id": value}
            found = view.users.get(value)
            return {"name": None if found is None else user_names(found)[1], "id": value}
        return user
    if field.data_type == "lookup":
        def lookup(row: RecordRow, view: RecordView) -> Any:
            value = row.data.get(name)
            if not value:
                return None
            if not rules.lookup_names:
                return {"id": value}
            found = view.names.get(value)
            return {"name": None if found is None else found[0], "id": value}
        return lookup
    return field_reader(field)


def _group_record(module: Module, groups: list[Field], row: tuple[Any, ...]) -> RecordRow:
    """A record holding one group's values, so that they are shown by the same readers as a record's."""
    data, system = {}, {}
    for field, value in zip(groups, row):
        column = "id" if field is ID else SYSTEM_USERS.get(field.api_name) or SYSTEM_TIMES.get(field.api_name)
        if column is not None:
            system[column] = value
        else:
            data[field.api_name] = value
    return RecordRow(id=system.get("id", ""), module=module.api_name, name="", owner=system.get("owner"),
                     created_by=system.get("created_by"), modified_by=system.get("modified_by"),
                     created_time=system.get("created_time") or 0, modified_time=system.get("modified_time") or 0,
                     data=data)


def _predicate(field: Field, predicate: Predicate, rules: CoqlRules) -> Filter:
    """The filter one condition on one field makes, its values in the form the index holds them."""
    operator = predicate.operator
    if field.data_type == "textarea":
        raise invalid_query("unsupported column in criteria", column_name=predicate.path.text,
                            operator=_operator_text(predicate))
    _check_operator(field.data_type, predicate)
    key = field.api_name.lower()
    present = Match(key, "present", ())
    if operator == "null":
        return present if predicate.negated else Not(present)
    if field.data_type == "boolean" and not _value(field, predicate, predicate.values[0]):
        return Not(Match(key, "equals", (1,)))  # a boolean never set is false, as Zoho shows it
    if operator == "like":
        match = _like(field, predicate)
    elif operator == "!=":
        return AllOf((present, Not(Match(key, "equals", (_value(field, predicate, predicate.values[0]),)))))
    else:
        match = Match(key, _STORE_OPERATORS[operator], tuple(_value(field, predicate, v) for v in predicate.values))
    # A negation matches the records holding some other value: none, as in SQL, is not "not equal".
    return AllOf((present, Not(match))) if predicate.negated else match


def _check_operator(data_type: str, predicate: Predicate) -> None:
    """INVALID_QUERY unless a field of this type takes the condition's operator."""
    if predicate.operator not in TYPE_OPERATORS.get(data_type, frozenset()):
        raise invalid_query("Invalid query formed", reason="invalid operator found", column_name=predicate.path.text,
                            operator=_operator_text(predicate))


def _like_pattern(predicate: Predicate) -> tuple[str, str]:
    """What a `like` asks: `'x%'` starts_with, `'%x'` ends_with, `'%x%'` contains, `'x'` equals (`not like`
    takes only `'%x%'`), and the text between the wildcards."""
    pattern = predicate.values[0]
    leading, trailing = pattern.startswith("%"), len(pattern) > 1 and pattern.endswith("%")
    core = pattern[int(leading):len(pattern) - int(trailing)]
    if not core or "%" in core or (predicate.negated and not (leading and trailing)):
        raise _invalid_value(predicate)
    return ("contains" if leading and trailing else "ends_with" if leading else
            "starts_with" if trailing else "equals"), core


def _like(field: Field, predicate: Predicate) -> Match:
    operator, core = _like_pattern(predicate)
    value = _value(field, predicate, core)
    if not isinstance(value, str):
        raise _invalid_value(predicate)
    return Match(field.api_name.lower(), operator, (value,))


def _is_user(field: Field) -> bool:
    return field.api_name in SYSTEM_USERS or field.data_type in USER_TYPES


def _user_id(field: Field, row: RecordRow) -> str | None:
    """The id of the user a user field of a record names."""
    column = SYSTEM_USERS.get(field.api_name)
    return getattr(row, column) if column else row.data.get(field.api_name)


def user_attribute(user: UserRef, attribute: str) -> str | None:
    """One of USER_ATTRIBUTES of a user, as `GET /users` shows it."""
    first, last = user_names(user)
    return {"id": user.id, "first_name": first, "last_name": last, "full_name": user.name,
            "email": user.email}[attribute]


_LIKE_TESTS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, core: core in value, "starts_with": str.startswith, "ends_with": str.endswith,
    "equals": lambda value, core: value == core}


def _user_test(attribute: str, predicate: Predicate) -> Callable[[UserRef], bool]:
    """Whether a user's attribute meets a condition, compared without case as text is."""
    operator, negated = predicate.operator, predicate.negated
    _check_operator("user_attribute", predicate)

    def value(user: UserRef) -> str | None:
        found = user_attribute(user, attribute)
        return None if found is None else found.lower()
    if operator == "null":
        return lambda user: (value(user) is not None) == negated
    if operator == "like":
        kind, core = _like_pattern(predicate)
        test = _LIKE_TESTS[kind]
        return lambda user: (v := value(user)) is not None and test(v, core.lower()) != negated
    wanted = {str(v).lower() for v in predicate.values}
    if operator == "!=":
        return lambda user: (v := value(user)) is not None and v not in wanted
    return lambda user: (v := value(user)) is not None and (v in wanted) != negated


def _value(field: Field, predicate: Predicate, value: Any) -> Any:
    """A literal as the index holds the field's values; INVALID_QUERY if the field cannot hold it."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Number) and field.data_type not in TEXT_TYPES:
        text = _number_text(value)  # a number as a number: `007` is 7, `1.50` is 1.5
    else:
        text = str(value)
    if field is ID:
        if not (text.isascii() and text.isdigit()):
            raise _invalid_value(predicate)
        return text
    try:
        found = search_value(field, text)
    except FieldProblem:
        found = None
    if found is None:
        raise _invalid_value(predicate)
    return found


def _number_text(number: str) -> str:
    """An unquoted number written the shortest way (beyond a hundred digits no field holds it: left as is)."""
    if len(number) > 100:
        return number
    return str(int(number)) if "." not in number else repr(float(number))


def _invalid_value(predicate: Predicate) -> ZohoError:
    return invalid_query("value given seems to be invalid for the column", column_name=predicate.path.text)


def _operator_text(predicate: Predicate) -> str:
    """The operator as Zoho names it in an error: `not like`, `is not null`, ..."""
    if predicate.operator == "null":
        return "is not null" if predicate.negated else "is null"
    return f"not {predicate.operator}" if predicate.negated else predicate.operator


def _window(rules: CoqlRules, query: Query) -> tuple[int, int]:
    """The LIMIT (default 200) and OFFSET of a query, checked against the version's limits."""
    limit = 200 if query.limit is None else _bound(query.limit, "limit")
    offset = 0 if query.offset is None else _bound(query.offset, "offset")
    if limit == 0:
        raise ZohoError("INVALID_DATA", "limit should be greater than 0")
    if limit > rules.per_call:
        raise limit_exceeded(rules.per_call)
    if offset + limit > rules.reachable:
        raise ZohoError("LIMIT_EXCEEDED", details={"limit": rules.reachable})
    return limit, offset


def _bound(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise invalid_query(f"{name} given seems to be invalid", **{name: text})
    return int(text)


def _path(expression: Expression) -> Path:
    """An ORDER BY item as a path; a function there names no field of a plain query."""
    if isinstance(expression, Function):
        raise invalid_query("unsupported column", column_name=expression.text, clause="order by")
    return expression


def _group(field: Field) -> Group:
    """How the store groups by a field: text without case, as WHERE compares it; an unset boolean as false."""
    return Group(field.api_name, fold_case=field.data_type in TEXT_TYPES,
                 empty=0 if field.data_type == "boolean" else None)


def _key(column: Column, name: str) -> str:
    return name if column.alias is None else column.alias


def _aliased(query: Query, expression: Expression) -> Expression:
    """What an ORDER BY names: a select column's expression when it names the column's alias."""
    if isinstance(expression, Path) and len(expression.parts) == 1:
        for column in query.columns:
            if column.alias is not None and column.alias.lower() == expression.parts[0].lower():
                return column.expression
    return expression


def _check_aliases(columns: Sequence[Column], names: Sequence[str], reserved: str | None = None) -> None:
    """An alias is not empty, names one column, and is no other column's name (nor `reserved`, the key every
    row adds): each key of a row is one column's. `names` are the columns' names without their aliases."""
    referred: dict[str, list[str]] = {}
    for column in columns:
        if column.alias is None:
            continue
        if not column.alias.strip():
            raise ZohoError("INVALID_ALIAS", details={"column_name": column.expression.text, "alias": column.alias})
        referred.setdefault(column.alias.lower(), []).append(column.expression.text)
    for alias, referring in referred.items():
        if len(referring) > 1:
            original = next(c.alias for c in columns if c.alias is not None and c.alias.lower() == alias)
            raise ZohoError("DUPLICATE_ALIAS", details={"referred_columns": referring, "alias": original})
    plain = {name.lower(): name for column, name in zip(columns, names) if column.alias is None}
    if reserved is not None:
        plain.setdefault(reserved, reserved)
    for column in columns:
        if column.alias is not None and column.alias.lower() in plain:
            raise invalid_query("column name or property name given in select columns without alias name cannot be "
                                "an alias name for other select columns",
                                column_name=plain[column.alias.lower()], alias=column.alias)


def _check_order(sorts: Sequence[Sort], names: Sequence[str]) -> None:
    """At most ten ORDER BY fields, none twice."""
    if len(sorts) > MAX_ORDER:
        raise limit_exceeded(MAX_ORDER, "order by limit exceeded")
    seen: set[str] = set()
    for sort, name in zip(sorts, names):
        if name in seen:
            raise ZohoError("DUPLICATE_DATA", "duplicate order by column", {"column_name": sort.expression.text})
        seen.add(name)


def _check_functions(functions: Sequence[Function]) -> None:
    """No function of one field twice."""
    seen: set[str] = set()
    for function in functions:
        if function.text.lower() in seen:
            raise ZohoError("DUPLICATE_DATA", "duplicate aggregate function", {
                "column_name": function.path.text if function.path else "*", "aggregate": function.name})
        seen.add(function.text.lower())
