"""The search API's criteria parser: every operator, grouping, escapes, limits, and every error's exact body."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockzoho.zoho.criteria import (
    CRM_OPERATORS, MAX_CONDITIONS, MAX_DEPTH, MAX_IN_VALUES, OPERATORS, Condition, Junction, parse_criteria)
from mockzoho.zoho.errors import ZohoError


def error_of(text: str, **options: Any) -> tuple[int, dict[str, Any]]:
    """The status and body parsing `text` answers with; fails the test if it parses."""
    with pytest.raises(ZohoError) as caught:
        parse_criteria(text, **options)
    return caught.value.status, caught.value.body()


def invalid(details: dict[str, Any], message: str = "Invalid query formed") -> tuple[int, dict[str, Any]]:
    """The INVALID_QUERY answer with these details."""
    return 400, {"code": "INVALID_QUERY", "details": details, "message": message, "status": "error"}


@pytest.mark.parametrize("operator", sorted(OPERATORS - {"in", "between"}))
def test_every_single_valued_operator(operator: str) -> None:
    assert parse_criteria(f"(Amount:{operator}:100)") == Condition("Amount", operator, ("100",))


def test_in_and_between_take_comma_separated_values() -> None:
    assert parse_criteria("(Stage:in:Closed Won,Closed Lost)") == Condition("Stage", "in", ("Closed Won", "Closed Lost"))
    assert parse_criteria("(Stage:in:Closed Won)") == Condition("Stage", "in", ("Closed Won",))
    assert parse_criteria("(Amount:between:100,200)") == Condition("Amount", "between", ("100", "200"))


def test_the_documented_examples() -> None:
    assert parse_criteria("((Last_Name:equals:Burns)and(City:starts_with:Mil))") == Junction("and", (
        Condition("Last_Name", "equals", ("Burns",)), Condition("City", "starts_with", ("Mil",))))
    # A single condition needs no parentheses (the docs' Campaign_Name and Created_Time samples).
    assert parse_criteria("Campaign_Name:equals:CRM") == Condition("Campaign_Name", "equals", ("CRM",))
    assert parse_criteria("Created_Time:between:2024-02-01T18:52:56+00:00,2024-02-20T18:52:56+00:00") == Condition(
        "Created_Time", "between", ("2024-02-01T18:52:56+00:00", "2024-02-20T18:52:56+00:00"))
    # Colons after the operator belong to the value.
    assert parse_criteria("(Modified_Time:greater_equal:2023-04-19T05:58:06+05:30)").values == (
        "2023-04-19T05:58:06+05:30",)


@pytest.mark.parametrize("word", ["and", "AND", "And", "or", "OR", "oR"])
def test_junctions_in_any_case_with_or_without_spaces(word: str) -> None:
    expected = Junction(word.lower(), (Condition("A", "equals", ("1",)), Condition("B", "equals", ("2",))))  # type: ignore[arg-type]
    assert parse_criteria(f"((A:equals:1){word}(B:equals:2))") == expected
    assert parse_criteria(f"(  (A:equals:1)  {word}\t(B:equals:2) )") == expected
    assert parse_criteria(f"(A:equals:1) {word} (B:equals:2)") == expected


def test_nesting_and_precedence() -> None:
    a, b, c, d = (Condition(name, "equals", (name.lower(),)) for name in "ABCD")
    assert parse_criteria("(((A:equals:a)and(B:equals:b))or(C:equals:c))") == Junction("or", (Junction("and", (a, b)), c))
    assert parse_criteria("((A:equals:a)and((B:equals:b)or(C:equals:c)))") == Junction("and", (a, Junction("or", (b, c))))
    # `and` binds tighter than `or` when a level mixes them.
    assert parse_criteria("((A:equals:a)or(B:equals:b)and(C:equals:c)or(D:equals:d))") == Junction(
        "or", (a, Junction("and", (b, c)), d))
    assert parse_criteria("((A:equals:a)and(B:equals:b)and(C:equals:c))") == Junction("and", (a, b, c))
    assert parse_criteria("(((A:equals:a)))") == a


def test_whitespace_around_the_parts_of_a_condition() -> None:
    assert parse_criteria("( Last_Name : equals : Burns )") == Condition("Last_Name", "equals", ("Burns",))
    assert parse_criteria("(Stage:in: Closed Won , Closed Lost )") == Condition("Stage", "in", ("Closed Won", "Closed Lost"))
    # A value may hold the words and/or and spaces of its own.
    assert parse_criteria("(Company:equals:Black and White or Grey)").values == ("Black and White or Grey",)


@pytest.mark.parametrize(("text", "values"), [
    (r"(Last_Name:equals:Burns\,B)", ("Burns,B",)),
    (r"(Last_Name:equals:Patricia\(Boyle\))", ("Patricia(Boyle)",)),
    (r"(Last_Name:equals:K\\)", ("K\\",)),
    (r"(Last_Name:equals:a\b)", ("a\\b",)),  # a backslash before anything else stays a backslash
    (r"(Stage:in:a\,b,c)", ("a,b", "c")),
    (r"(Amount:between:1\,5,2)", ("1,5", "2")),
    (r"(Name:equals:\\\(x)", ("\\(x",)),
])
def test_escapes(text: str, values: tuple[str, ...]) -> None:
    assert parse_criteria(text).values == values


def test_operators_per_version() -> None:
    assert CRM_OPERATORS["v2"] == {"equals", "starts_with"}
    assert parse_criteria("(A:starts_with:x)", operators=CRM_OPERATORS["v2"]) == Condition("A", "starts_with", ("x",))
    assert error_of("(A:in:x,y)", operators=CRM_OPERATORS["v2"]) == invalid(
        {"reason": "invalid operator found", "api_name": "A", "operator": "in"})
    assert parse_criteria("(A:in:x,y)", operators=CRM_OPERATORS["v2.1"]).values == ("x", "y")


@pytest.mark.parametrize("operator", ["contains", "EQUALS", "not_in", "not_between", "", "ends_with"])
def test_an_undocumented_operator(operator: str) -> None:
    assert error_of(f"(Last_Name:{operator}:Burns)") == invalid(
        {"reason": "invalid operator found", "api_name": "Last_Name", "operator": operator})


def conditions(count: int) -> str:
    """`count` conditions joined by and."""
    return "(" + "and".join(f"(F{i}:equals:{i})" for i in range(count)) + ")"


def test_the_condition_limit() -> None:
    tree = parse_criteria(conditions(MAX_CONDITIONS))
    assert isinstance(tree, Junction) and len(tree.parts) == MAX_CONDITIONS == 10
    assert error_of(conditions(MAX_CONDITIONS + 1)) == (400, {
        "code": "CRITERIA_LIMIT_EXCEEDED", "details": {},
        "message": "no of criterium that can be given exceed the limit 10", "status": "error"})
    assert error_of(conditions(3), limit=2)[1]["message"] == "no of criterium that can be given exceed the limit 2"


def test_the_in_limit() -> None:
    values = ",".join(str(i) for i in range(MAX_IN_VALUES))
    assert len(parse_criteria(f"(Stage:in:{values})").values) == 100
    assert error_of(f"(Stage:in:{values},100)") == invalid({"api_name": "Stage"}, 'Only 100 values are allowed in "IN" criteria')


@pytest.mark.parametrize(("text", "details"), [
    ("", {"reason": "empty criteria"}),
    ("   ", {"reason": "empty criteria"}),
    ("()", {"reason": "missing condition"}),
    ("(and)", {"reason": "missing condition"}),
    ("((A:equals:1)and)", {"reason": "missing condition"}),
    ("((A:equals:1)", {"reason": "unbalanced parentheses"}),
    ("(A:equals:1))", {"reason": "unbalanced parentheses"}),
    (")", {"reason": "missing condition"}),
    ("((A:equals:1)(B:equals:2))", {"reason": "missing and/or"}),
    ("(A:equals:1)B:equals:2", {"reason": "missing and/or"}),
    ("((A:equals:1)xor(B:equals:2))", {"reason": "missing and/or"}),
    ("(Name:equals:Patricia(Boyle))", {"reason": "unescaped parenthesis in value", "api_name": "Name"}),
    ("(Last_Name)", {"reason": "invalid condition"}),
    ("(Last_Name:equals)", {"reason": "invalid condition"}),
    ("(:equals:x)", {"reason": "invalid condition"}),
    ("(Last_Name:equals:)", {"reason": "invalid value found", "api_name": "Last_Name", "value": ""}),
    ("(Last_Name:equals:Burns,B)", {"reason": "invalid value found", "api_name": "Last_Name", "value": "Burns,B"}),
    ("(Amount:between:1)", {"reason": "invalid value found", "api_name": "Amount", "value": "1"}),
    ("(Amount:between:1,2,3)", {"reason": "invalid value found", "api_name": "Amount", "value": "1,2,3"}),
    ("(Stage:in:a,,b)", {"reason": "invalid value found", "api_name": "Stage", "value": "a,,b"}),
    ("(" * (MAX_DEPTH + 1) + "A:equals:1" + ")" * (MAX_DEPTH + 1), {"reason": "nesting too deep"}),
])
def test_every_syntax_error(text: str, details: dict[str, str]) -> None:
    assert error_of(text) == invalid(details)


def test_the_depth_limit_is_not_reached_by_real_criteria() -> None:
    depth = MAX_DEPTH
    assert parse_criteria("(" * depth + "A:equals:1" + ")" * depth) == Condition("A", "equals", ("1",))


CRITERIA_ALPHABET = st.sampled_from(list("()():,,\\ \tandorANDOR_xyz19é😀") + ["equals", "in", "between", ":equals:"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(CRITERIA_ALPHABET, max_size=60).map("".join)))
def test_any_text_gives_a_tree_or_a_zoho_error(text: str) -> None:
    try:
        tree = parse_criteria(text)
    except ZohoError as error:
        assert error.code in ("INVALID_QUERY", "CRITERIA_LIMIT_EXCEEDED") and error.status == 400
        return
    assert isinstance(tree, (Condition, Junction))


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> Condition | Junction:
    """A random tree of at most a few conditions."""
    if depth >= 2 or draw(st.booleans()):
        operator = draw(st.sampled_from(sorted(OPERATORS)))
        count = {"between": 2, "in": draw(st.integers(1, 3))}.get(operator, 1)
        values = draw(st.lists(st.text("ab (),\\:é", min_size=1).map(str.strip).filter(bool),
                               min_size=count, max_size=count))
        return Condition(draw(st.sampled_from(["Last_Name", "Amount", "City"])), operator, tuple(values))
    parts = draw(st.lists(trees(depth + 1), min_size=2, max_size=3))
    return Junction(draw(st.sampled_from(["and", "or"])), tuple(parts))


def render(tree: Condition | Junction) -> str:
    """`tree` written as criteria, values escaped as the docs ask, every junction in its own parentheses."""
    if isinstance(tree, Condition):
        escaped = ",".join("".join("\\" + ch if ch in "(),\\" else ch for ch in value) for value in tree.values)
        return f"({tree.field}:{tree.operator}:{escaped})"
    return "(" + f" {tree.operator} ".join(render(part) for part in tree.parts) + ")"


def flat(tree: Condition | Junction) -> Condition | Junction:
    """`tree` with nested junctions of the same operator merged, as a chain at one level parses."""
    if isinstance(tree, Condition):
        return tree
    parts: list[Condition | Junction] = []
    for part in map(flat, tree.parts):
        parts.extend(part.parts if isinstance(part, Junction) and part.operator == tree.operator else (part,))
    return Junction(tree.operator, tuple(parts))


@settings(max_examples=200, deadline=None)
@given(trees())
def test_rendered_trees_parse_back(tree: Condition | Junction) -> None:
    parsed = parse_criteria(render(tree))
    assert flat(parsed) == flat(tree)
