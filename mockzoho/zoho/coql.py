"""COQL, Zoho's query language: a lark grammar and the tree it gives (no fields, no SQL: the models check the
query against the module and the store runs it).

lark (an Earley/LALR parser generator) reads the grammar below with its LALR parser, so that an error names the
line, column and token where the query stops making sense, as Zoho's `SYNTAX_ERROR` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Union

from .errors import ZohoError

if TYPE_CHECKING:  # lark is imported with the first query: a server that never gets one does not load it
    from lark import Lark

MAX_CRITERIA = 25  # conditions in a WHERE, on every version's COQL page
GRAMMAR = r"""
?start: query
query: SELECT select_list FROM name where? group? order? limit? ";"?

select_list: column ("," column)*
column: (function | field) (AS? alias)?
function: NAME "(" (field | STAR) ")"
alias: NAME | STRING
field: name ("." name)* | STRING
name: NAME

where: WHERE condition
?condition: operand | operand (AND | OR) operand -> junction
?operand: "(" condition ")" | predicate
predicate: field COMPARATOR value                                -> compare
         | field NOT? LIKE STRING                                -> like
         | field NOT? IN "(" value ("," value)* ")"              -> among
         | field NOT? BETWEEN value AND value                    -> between
         | field IS NOT? NULL                                    -> null_check
?value: STRING -> text
      | NUMBER -> number
      | NAME -> bare
      | TRUE -> true
      | FALSE -> false

group: GROUP BY field ("," field)*
order: ORDER BY sort ("," sort)*
sort: (function | field) (ASC | DESC)?
limit: LIMIT bound ("," bound | OFFSET bound)?
bound: NUMBER | NAME | STRING

SELECT: "select"i
FROM: "from"i
WHERE: "where"i
AS: "as"i
AND: "and"i
OR: "or"i
NOT: "not"i
LIKE: "like"i
IN: "in"i
BETWEEN: "between"i
IS: "is"i
NULL: "null"i
TRUE: "true"i
FALSE: "false"i
GROUP: "group"i
ORDER: "order"i
BY: "by"i
LIMIT: "limit"i
OFFSET: "offset"i
ASC: "asc"i
DESC: "desc"i
COMPARATOR: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
STAR: "*"
NAME: /[A-Za-z_$][A-Za-z0-9_$]*/
STRING: /'(?:[^'\\]|\\.|'')*'/s | /"(?:[^"\\]|\\.|"")*"/s
NUMBER: /-?[0-9]+(\.[0-9]+)?/

%import common.WS
%ignore WS
"""


@dataclass(frozen=True)
class Path:
    """A field of the module, or (`Account_Name.Account_Name`) a field reached through lookups."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Function:
    """`SUM(Amount)`, ...: the function's name as written (Zoho's are upper case only); `COUNT(*)` has no path."""

    name: str
    path: Path | None

    @property
    def text(self) -> str:
        return f"{self.name}({'*' if self.path is None else self.path.text})"


Expression = Union[Path, Function]


@dataclass(frozen=True)
class Column:
    """One item of the select list, with its alias if given."""

    expression: Expression
    alias: str | None = None

    @property
    def key(self) -> str:
        """The key its value has in a row: the alias, else the text of the expression."""
        return self.expression.text if self.alias is None else self.alias


@dataclass(frozen=True)
class Predicate:
    """`path <operator> values`; operator one of = != < > <= >= like in between null, `negated` for a `not`."""

    path: Path
    operator: str
    values: tuple[Any, ...]
    negated: bool = False


@dataclass(frozen=True)
class Junction:
    """Two conditions joined by `and` or `or` (Zoho takes no third without brackets)."""

    operator: str
    parts: tuple[Condition, Condition]


Condition = Union[Predicate, Junction]


@dataclass(frozen=True)
class Sort:
    """One ORDER BY item."""

    expression: Expression
    descending: bool


@dataclass(frozen=True)
class Query:
    """A parsed select: what it shows, from which module, which records, grouped and sorted how, which rows.
    `limit` and `offset` are the text given (the models judge it), None when absent."""

    columns: tuple[Column, ...]
    module: str
    where: Condition | None
    group_by: tuple[Path, ...]
    order_by: tuple[Sort, ...]
    limit: str | None
    offset: str | None


def parse_query(text: str) -> Query:
    """The query `text` says, or Zoho's SYNTAX_ERROR naming where it stops making sense."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken
    try:
        tree = _parser().parse(text)
    except UnexpectedToken as problem:
        if problem.token.type == "$END":  # the text ended early: point past its last character
            lines = text.split("\n")
            raise syntax_error(len(lines), len(lines[-1]) + 1, "") from None
        raise syntax_error(problem.line, problem.column, str(problem.token)) from None
    except UnexpectedCharacters as problem:
        rest = text[problem.pos_in_stream:].split()
        raise syntax_error(problem.line, problem.column, rest[0] if rest else "") from None
    return _query(tree)


def syntax_error(line: int, column: int, near: str) -> ZohoError:
    """Zoho's answer to a query it cannot parse: where (line, column) and the token there."""
    return ZohoError("SYNTAX_ERROR", "unexpected token", {"line": line, "column": column, "near": near})


@cache
def _parser() -> Lark:
    from lark import Lark
    # The basic lexer reads a keyword as a keyword wherever it stands (`select a, from b` fails at `from`, as in
    # SQL); lark retypes a NAME that spells a keyword, so `Industry` is still a name.
    return Lark(GRAMMAR, parser="lalr", lexer="basic", maybe_placeholders=False)


# -- the tree lark gives, as the dataclasses above ---------------------------------------------------------------

def _is_predicate(node: Any) -> bool:
    return getattr(node, "data", None) in ("compare", "like", "among", "between", "null_check")


def _kind(node: Any) -> str | None:
    """A subtree's rule name or a token's terminal name."""
    return getattr(node, "data", None) or getattr(node, "type", None)


def _query(tree: Any) -> Query:
    parts = {child.data: child for child in tree.children if hasattr(child, "data")}
    columns = tuple(_column(c) for c in parts["select_list"].children)
    if "where" in parts:
        # Counted on lark's tree, without recursion, before the tree is read recursively: a chain of thousands
        # of bracketed conditions is refused by the documented limit, not by Python's stack.
        if sum(map(_is_predicate, parts["where"].iter_subtrees())) > MAX_CRITERIA:
            raise ZohoError("LIMIT_EXCEEDED", "criteria limit exceeded", {"limit": MAX_CRITERIA})
    where = _condition(parts["where"].children[1]) if "where" in parts else None
    group_by = tuple(_path(f) for f in parts["group"].children[2:]) if "group" in parts else ()
    order_by = tuple(_sort(s) for s in parts["order"].children[2:]) if "order" in parts else ()
    limit, offset = _limit(parts["limit"]) if "limit" in parts else (None, None)
    return Query(columns, str(parts["name"].children[0]), where, group_by, order_by, limit, offset)


def _path(tree: Any) -> Path:
    """A field: its names, or those of a quoted one (`'Account_Name.Account_Name'`, `'External'`)."""
    [first, *_] = tree.children
    if _kind(first) == "STRING":
        return Path(tuple(_text(first).split(".")))
    return Path(tuple(str(child.children[0]) for child in tree.children))


def _expression(tree: Any) -> Expression:
    if tree.data == "function":
        name, argument = tree.children
        return Function(str(name), None if _kind(argument) == "STAR" else _path(argument))
    return _path(tree)


def _column(tree: Any) -> Column:
    expression = _expression(tree.children[0])
    alias = next((c for c in tree.children[1:] if _kind(c) == "alias"), None)
    return Column(expression, None if alias is None else _text(alias.children[0]))


def _sort(tree: Any) -> Sort:
    return Sort(_expression(tree.children[0]), any(_kind(c) == "DESC" for c in tree.children[1:]))


def _limit(tree: Any) -> tuple[str, str | None]:
    """`limit n`, `limit n offset m` or `limit m, n`: the text of the count and of the offset."""
    bounds = [_text(c.children[0]) for c in tree.children if _kind(c) == "bound"]
    if len(bounds) == 1:
        return bounds[0], None
    if any(_kind(c) == "OFFSET" for c in tree.children):
        return bounds[0], bounds[-1]
    return bounds[1], bounds[0]


def _text(token: Any) -> str:
    """A token's text; a quoted string without its quotes, a backslash or a doubled quote read as a quote."""
    raw = str(token)
    if _kind(token) != "STRING":
        return raw
    quote, body, result, at = raw[0], raw[1:-1], [], 0
    while at < len(body):
        if body[at] == "\\" and at + 1 < len(body):
            result.append(body[at + 1])
            at += 2
        elif body.startswith(quote * 2, at):
            result.append(quote)
            at += 2
        else:
            result.append(body[at])
            at += 1
    return "".join(result)


class Number(str):
    """An unquoted number, kept as written (`02134` is still that on a text field); its field reads it."""


def _value(tree: Any) -> Any:
    """A literal: text (quoted, or a bare word such as a picklist value), a Number, or a boolean."""
    kind, token = tree.data, tree.children[0]
    if kind in ("text", "bare"):
        return _text(token)
    if kind == "number":
        return Number(token)
    return kind == "true"


def _condition(tree: Any) -> Condition:
    kind = tree.data
    if kind == "junction":
        left, joiner, right = tree.children
        return Junction(str(joiner).lower(), (_condition(left), _condition(right)))
    children = list(tree.children)
    path = _path(children[0])
    negated = any(_kind(c) == "NOT" for c in children)
    values = tuple(_value(c) for c in children[1:] if hasattr(c, "data"))
    if kind == "compare":
        operator = str(children[1])
        return Predicate(path, "!=" if operator == "<>" else operator, values)
    if kind == "like":
        return Predicate(path, "like", (_text(children[-1]),), negated)
    if kind == "among":
        return Predicate(path, "in", values, negated)
    if kind == "between":
        return Predicate(path, "between", values, negated)
    return Predicate(path, "null", (), negated)
