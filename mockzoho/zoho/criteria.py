"""The search API's `criteria` parameter: a tokenizer and a recursive-descent parser, giving a tree of conditions.

Grammar (whitespace is allowed between tokens; `and`/`or` in any case; `and` binds tighter than `or`):

    criteria    := condition END | disjunction END
    disjunction := conjunction ("or" conjunction)*
    conjunction := group ("and" group)*
    group       := "(" (condition | disjunction) ")"
    condition   := field ":" operator ":" values    -- one token: everything up to an unescaped "(" or ")"
    values      := value ("," value)*               -- "\\(", "\\)", "\\," and "\\\\" are the escapes

Fields are not checked here: the models hold the module's fields and check them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Union

from .errors import ZohoError

OPERATORS = frozenset({"equals", "not_equal", "starts_with", "in", "greater_than", "greater_equal", "less_than",
                       "less_equal", "between"})
_BASIC = frozenset({"equals", "starts_with"})
# The operators each CRM version's Search Records page documents (v2: equals and starts_with; v2.1 adds `in`;
# v4 onwards lists all nine). Bigin and versions not listed take OPERATORS.
CRM_OPERATORS: dict[str, frozenset[str]] = {"v2": _BASIC, "v2.1": _BASIC | {"in"}, "v3": _BASIC | {"in"}}
MAX_CONDITIONS = 10  # "You can search for a maximum of 10 criteria", on every version's page
MAX_IN_VALUES = 100  # "The in operator supports upto 100 values"
MAX_DEPTH = 32  # ten conditions never need more; it keeps the recursion far from Python's own limit
ESCAPABLE = "(),\\"
IN_LIMIT_MESSAGE = f'Only {MAX_IN_VALUES} values are allowed in "IN" criteria'


@dataclass(frozen=True)
class Condition:
    """One `(field:operator:value)`; `values` holds one value, or the list of `in` and the two of `between`."""

    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Junction:
    """Two or more criteria joined by one operator."""

    operator: Literal["and", "or"]
    parts: tuple[Criterion, ...]


Criterion = Union[Condition, Junction]


@dataclass(frozen=True)
class Token:
    """A lexical unit: `(`, `)`, `and`, `or`, `condition` (the raw text of one condition) or `end`."""

    kind: str
    text: str


def parse_criteria(text: str, operators: frozenset[str] = OPERATORS, limit: int = MAX_CONDITIONS) -> Criterion:
    """The tree `text` describes, or the ZohoError Zoho answers for it (INVALID_QUERY, CRITERIA_LIMIT_EXCEEDED)."""
    return _Parser(tokenize(text), operators, limit).criteria()


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with `end`; the lexer never fails, the parser judges the order."""
    result: list[Token] = []
    at = _skip_space(text, 0)
    while at < len(text):
        if text[at] in "()":
            result.append(Token(text[at], text[at]))
            end = at + 1
        elif junction := _junction_at(text, at):
            result.append(Token(junction, text[at:at + len(junction)]))
            end = at + len(junction)
        else:
            end = _condition_end(text, at)
            result.append(Token("condition", text[at:end]))
        at = _skip_space(text, end)
    result.append(Token("end", ""))
    return result


def _skip_space(text: str, at: int) -> int:
    """The first position from `at` that is not whitespace."""
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _junction_at(text: str, at: int) -> str | None:
    """`and` or `or` if one starts at `at` as a word of its own (`(A)and(B)` and `(A) OR (B)` alike)."""
    for word in ("and", "or"):
        after = at + len(word)
        if text[at:after].lower() == word and (after == len(text) or text[after].isspace() or text[after] in "()"):
            return word
    return None


def _condition_end(text: str, at: int) -> int:
    """Where the condition starting at `at` ends: at the first unescaped parenthesis, or the end of the text."""
    while at < len(text) and text[at] not in "()":
        at += 2 if text[at] == "\\" else 1
    return min(at, len(text))


def split_unescaped(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    """`text` split on the separators no backslash escapes; the pieces keep their escapes."""
    pieces: list[str] = []
    start = at = 0
    while at < len(text):
        if text[at] == "\\":
            at += 2
        elif text[at] == separator and len(pieces) != maxsplit:
            pieces.append(text[start:at])
            at += 1
            start = at
        else:
            at += 1
    pieces.append(text[start:])
    return pieces


def unescape(text: str) -> str:
    """`text` with its escapes resolved; a backslash before any other character stays a backslash (Zoho's docs
    ask only a trailing backslash to be doubled)."""
    out: list[str] = []
    at = 0
    while at < len(text):
        if text[at] == "\\" and at + 1 < len(text) and text[at + 1] in ESCAPABLE:
            out.append(text[at + 1])
            at += 2
        else:
            out.append(text[at])
            at += 1
    return "".join(out)


def invalid_query(reason: str, **details: str) -> ZohoError:
    """Zoho's answer to criteria it cannot use: `INVALID_QUERY` with the reason first in `details`."""
    return ZohoError("INVALID_QUERY", details={"reason": reason, **details})


class _Parser:
    """One pass over the tokens; every method consumes what it recognises and raises ZohoError on anything else."""

    def __init__(self, tokens: list[Token], operators: frozenset[str], limit: int) -> None:
        self.tokens = tokens
        self.at = 0
        self.operators = operators
        self.limit = limit
        self.conditions = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def criteria(self) -> Criterion:
        """The whole text: one bare condition (`Campaign_Name:equals:CRM`), or groups joined by and/or."""
        if self.peek.kind == "end":
            raise invalid_query("empty criteria")
        if self.peek.kind == "condition":
            tree: Criterion = self.condition(self.take())
        else:
            tree = self.disjunction(0)
        self.expect_end()
        return tree

    def disjunction(self, depth: int) -> Criterion:
        """Conjunctions joined by `or`."""
        return self.chain("or", lambda: self.conjunction(depth))

    def conjunction(self, depth: int) -> Criterion:
        """Groups joined by `and`."""
        return self.chain("and", lambda: self.group(depth))

    def chain(self, word: Literal["and", "or"], part: Callable[[], Criterion]) -> Criterion:
        """One or more parts joined by `word`; a single part stands alone, not in a Junction of one."""
        parts = [part()]
        while self.peek.kind == word:
            self.take()
            parts.append(part())
        return parts[0] if len(parts) == 1 else Junction(word, tuple(parts))

    def group(self, depth: int) -> Criterion:
        """`( condition )` or `( disjunction )`."""
        if depth >= MAX_DEPTH:
            raise invalid_query("nesting too deep")
        if self.take().kind != "(":
            raise invalid_query("missing condition")
        if self.peek.kind == "condition":
            inner: Criterion = self.condition(self.take())
            self.expect_close(inner)
        elif self.peek.kind == "(":
            inner = self.disjunction(depth + 1)
            self.expect_close(None)
        else:
            raise invalid_query("missing condition")
        return inner

    def expect_close(self, condition: Condition | None) -> None:
        """The `)` closing a group; right after a condition, an unescaped `(` in its value is what broke it."""
        token = self.take()
        if token.kind == ")":
            return
        if token.kind == "(" and condition is not None:
            raise invalid_query("unescaped parenthesis in value", api_name=condition.field)
        raise invalid_query("unbalanced parentheses" if token.kind == "end" else "missing and/or")

    def expect_end(self) -> None:
        """Nothing after the criteria but whitespace."""
        token = self.take()
        if token.kind != "end":
            raise invalid_query("unbalanced parentheses" if token.kind == ")" else "missing and/or")

    def condition(self, token: Token) -> Condition:
        """`field:operator:values`, counted against the limit before anything else is judged."""
        self.conditions += 1
        if self.conditions > self.limit:
            raise ZohoError("CRITERIA_LIMIT_EXCEEDED",
                            f"no of criterium that can be given exceed the limit {self.limit}")
        pieces = split_unescaped(token.text, ":", maxsplit=2)
        if len(pieces) != 3 or not pieces[0].strip():
            raise invalid_query("invalid condition")
        field, operator, raw = pieces[0].strip(), pieces[1].strip(), pieces[2].strip()
        if operator not in self.operators:
            raise invalid_query("invalid operator found", api_name=field, operator=operator)
        return Condition(field, operator, _values(field, operator, raw))


def _values(field: str, operator: str, raw: str) -> tuple[str, ...]:
    """The values of one condition: exactly two for `between`, one to a hundred for `in`, one for the rest."""
    values = tuple(unescape(piece).strip() for piece in split_unescaped(raw, ","))
    wanted = {"between": 2, "in": len(values)}.get(operator, 1)
    if len(values) != wanted or not all(values):
        raise invalid_query("invalid value found", api_name=field, value=raw)
    if len(values) > MAX_IN_VALUES:
        raise ZohoError("INVALID_QUERY", IN_LIMIT_MESSAGE, {"api_name": field})
    return values
