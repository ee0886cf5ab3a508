"""The filter language's syntax: a hand-written scanner and recursive-descent parser that turn
query text into an immutable tree (:data:`Node`), and the canonical printer of that tree.

Grammar (``docs/filter-language.md``)::

    query   := [or_expr] END
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*           juxtaposition is AND; AND binds tighter than OR
    unary   := ("-" | "NOT") unary | primary    "-" must touch its term
    primary := "(" or_expr ")" | term
    term    := FIELD ":" value | CMPFIELD OP value | word | QUOTED
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, Union

__all__ = [
    "COMPARABLE_FIELDS",
    "MATCH_FIELDS",
    "All",
    "And",
    "Compare",
    "Field",
    "Node",
    "Not",
    "Or",
    "QuerySyntaxError",
    "Text",
    "Time",
    "TimeResolver",
    "make_and",
    "make_or",
    "parse",
    "parse_number",
    "print_node",
    "quote_value",
]

MATCH_FIELDS = ("asset", "site", "org", "tag", "label", "register", "val", "since", "until")
COMPARABLE_FIELDS = ("val", "asset", "site", "org", "tag", "register")
OPERATORS = (">=", "<=", "!=", ">", "<", "=")  # longest first: the scanner takes the first hit
KEYWORDS = ("OR", "AND", "NOT")
MAX_DEPTH = 100


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed. ``position`` is the 0-based index of the problem in the
    text, ``expected`` says what would have been valid there."""

    def __init__(self, position: int, expected: str, found: str | None = None) -> None:
        self.position = position
        self.expected = expected
        self.found = found
        detail = f"at {position}: expected {expected}"
        if found is not None:
            detail += f", found {found}"
        super().__init__(detail)


# --- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class All:
    """The empty query: matches every reading."""


@dataclass(frozen=True, slots=True)
class Text:
    """A bare word or quoted phrase: label, tag name or unit name contains it."""

    value: str


@dataclass(frozen=True, slots=True)
class Field:
    """``field:value`` for asset, site, org, tag, label, register."""

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Compare:
    """``field OP value`` on the value or an id; ``number`` is the value when numeric."""

    field: str
    op: str
    value: str
    number: float | None


@dataclass(frozen=True, slots=True)
class Time:
    """``since:`` (inclusive) or ``until:`` (exclusive) on epochMs; ``ms`` resolved at
    compile time, ``value`` kept as written so the query prints the way it was typed."""

    field: str
    value: str
    ms: int


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Node = Union[All, Text, Field, Compare, Time, Not, And, Or]  # noqa: UP007 - a runtime alias
TimeResolver = Callable[[str], "int | None"]
"""Turns a ``since:``/``until:`` value into epoch milliseconds, or None when it is no time."""


def make_and(children: list[Node]) -> Node:
    """An AND, flattened (``(a b) c`` is ``a b c``) so printing and parsing agree."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else (child,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def make_or(children: list[Node]) -> Node:
    """An OR, flattened like :func:`make_and`."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, Or) else (child,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


# --- scanner -------------------------------------------------------------------------------

_FIELD_PREFIX = re.compile(r"([A-Za-z_]+)(:|>=|<=|!=|>|<|=)")
_STOP = frozenset(" \t\r\n\f\v()")
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")


def parse_number(text: str) -> float | None:
    """The number a comparison value spells, or None for text."""
    return float(text) if _NUMBER.match(text) else None


class _Parser:
    """Recursive descent straight over the characters (the language is small enough that a
    separate token list would only add a copy)."""

    def __init__(self, text: str, resolve_time: TimeResolver) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.resolve_time = resolve_time

    # helpers ---------------------------------------------------------------------------

    def skip_space(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def keyword(self, word: str) -> bool:
        """True (and consumed) when the next word is exactly the keyword ``word``."""
        self.skip_space()
        end = self.pos + len(word)
        text = self.text
        if text.startswith(word, self.pos) and (
            end >= len(text) or text[end] in _STOP or text[end].isspace()
        ):
            self.pos = end
            return True
        return False

    def found(self) -> str:
        """What stands at the current position, for the error message."""
        text, pos = self.text, self.pos
        if pos >= len(text):
            return "end of query"
        if text[pos] in _STOP:
            return repr(text[pos])
        end = pos
        while end < len(text) and text[end] not in _STOP and end - pos < 20:
            end += 1
        return repr(text[pos:end])

    def fail(self, expected: str, at: int | None = None, *, show_found: bool = True) -> NoReturn:
        if at is not None:
            self.pos = at
        raise QuerySyntaxError(self.pos, expected, self.found() if show_found else None)

    # grammar ---------------------------------------------------------------------------

    def parse(self) -> Node:
        if self.at_end():
            return All()
        node = self.or_expr("")
        if not self.at_end():
            self.fail("a term, 'OR' or end of query")
        return node

    def or_expr(self, after: str) -> Node:
        children = [self.and_expr(after)]
        while True:
            if not self.keyword("OR"):
                break
            children.append(self.and_expr("'OR'"))
        return make_or(children)

    def and_expr(self, after: str) -> Node:
        children = [self.unary(after)]
        while not self.at_end():
            if self.text[self.pos] == ")" or self.keyword_ahead("OR"):
                break
            if self.keyword("AND"):
                children.append(self.unary("'AND'"))
                continue
            children.append(self.unary(after))
        return make_and(children)

    def keyword_ahead(self, word: str) -> bool:
        saved = self.pos
        hit = self.keyword(word)
        self.pos = saved
        return hit

    def unary(self, after: str) -> Node:
        self.skip_space()
        wanted = f"a term after {after}" if after else "a term"
        if self.pos >= len(self.text) or self.text[self.pos] == ")":
            self.fail(wanted)
        if self.keyword_ahead("OR") or self.keyword_ahead("AND"):
            self.fail(wanted)
        # Nesting is bounded so a pasted wall of '(' or '-' is an error, not a RecursionError.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"at most {MAX_DEPTH} nested parentheses or negations")
        try:
            if self.keyword("NOT"):
                return Not(self.unary("'NOT'"))
            if self.text[self.pos] == "-":
                self.pos += 1
                following = self.text[self.pos : self.pos + 1]
                if not following or following.isspace() or following == ")":
                    self.fail("a term right after '-' (no space)")
                return Not(self.unary("'-'"))
            return self.primary()
        finally:
            self.depth -= 1

    def primary(self) -> Node:
        text = self.text
        if text[self.pos] == "(":
            opened = self.pos
            self.pos += 1
            self.skip_space()
            if self.pos < len(text) and text[self.pos] == ")":
                self.fail("a term after '('")
            node = self.or_expr("'('")
            self.skip_space()
            if self.pos >= len(text) or text[self.pos] != ")":
                self.fail(f"')' to close the '(' at {opened}")
            self.pos += 1
            return node
        if text[self.pos] == '"':
            start = self.pos
            value = self.quoted()
            if not value:
                self.fail("text between the quotes", start, show_found=False)
            return Text(value)
        prefix = _FIELD_PREFIX.match(text, self.pos)
        if prefix:
            return self.field_term(prefix.group(1), prefix.group(2), prefix.end())
        start = self.pos
        word = self.bare()
        if '"' in word:
            self.fail("a space before the quote", start + word.index('"'))
        return Text(word)

    def field_term(self, name: str, op: str, value_at: int) -> Node:
        field = name.lower()
        start = self.pos
        if field not in MATCH_FIELDS:
            self.fail(f"a known field ({', '.join(MATCH_FIELDS)}) or quotes", start)
        if op != ":" and field not in COMPARABLE_FIELDS:
            self.fail(
                f"':' after '{field}' (only {', '.join(COMPARABLE_FIELDS)} compare)",
                value_at - len(op),
                show_found=False,
            )
        self.pos = value_at
        value = self.value(f"'{field}{op}'")
        if field in ("since", "until"):
            ms = self.resolve_time(value)
            if ms is None:
                self.fail(f"a time after '{field}:' like -5m, 14:00 or 2026-11-29T14:00", value_at)
            return Time(field, value, ms)
        if field == "val" and op == ":":
            op = "="  # `val:x` is read as `val=x`; printed canonically as the latter
        if op == ":":
            return Field(field, value)
        number = parse_number(value)
        if number is None and op not in ("=", "!="):
            self.fail(f"a number after '{field}{op}'", value_at)
        return Compare(field, op, value, number)

    def value(self, after: str) -> str:
        text = self.text
        if self.pos < len(text) and text[self.pos] == '"':
            start = self.pos
            value = self.quoted()
            if not value:
                self.fail(f"a value after {after}", start, show_found=False)
            return value
        if self.pos >= len(text) or text[self.pos] in _STOP or text[self.pos].isspace():
            self.fail(f"a value after {after}")
        start = self.pos
        word = self.bare()
        if '"' in word:
            self.fail("no quote inside an unquoted value", start + word.index('"'))
        return word

    def bare(self) -> str:
        text, pos = self.text, self.pos
        start = pos
        while pos < len(text) and text[pos] not in _STOP and not text[pos].isspace():
            pos += 1
        self.pos = pos
        return text[start:pos]

    def quoted(self) -> str:
        text = self.text
        start = self.pos
        pos = start + 1
        out: list[str] = []
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text):
                out.append(text[pos + 1])
                pos += 2
                continue
            if char == '"':
                self.pos = pos + 1
                return "".join(out)
            out.append(char)
            pos += 1
        self.fail(f"a closing '\"' for the quote at {start}", len(text))


def parse(text: str, resolve_time: TimeResolver) -> Node:
    """Parse ``text`` into a tree; raises :class:`QuerySyntaxError`."""
    return _Parser(text, resolve_time).parse()


# --- canonical printing ------------------------------------------------------------------

_PLAIN_VALUE = re.compile(r'[^\s()"\\]+\Z')


def quote_value(value: str) -> str:
    """A value as it must be typed after ``field:``: quoted when it holds a space, a
    parenthesis, a quote or a backslash."""
    if _PLAIN_VALUE.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _word(value: str) -> str:
    """A bare word, quoted when typing it plain would read as something else."""
    if (
        _PLAIN_VALUE.match(value)
        and not value.startswith("-")
        and value not in KEYWORDS
        and not _FIELD_PREFIX.match(value)
    ):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def print_node(node: Node) -> str:
    """The canonical text of a tree; parsing it gives the same tree back."""
    if isinstance(node, All):
        return ""
    if isinstance(node, Text):
        return _word(node.value)
    if isinstance(node, Field):
        return f"{node.field}:{quote_value(node.value)}"
    if isinstance(node, Compare):
        return f"{node.field}{node.op}{quote_value(node.value)}"
    if isinstance(node, Time):
        return f"{node.field}:{quote_value(node.value)}"
    if isinstance(node, Not):
        inner = print_node(node.child)
        return f"-({inner})" if isinstance(node.child, (And, Or)) else f"-{inner}"
    if isinstance(node, And):
        return " ".join(
            f"({print_node(c)})" if isinstance(c, Or) else print_node(c) for c in node.children
        )
    return " OR ".join(print_node(c) for c in node.children)
