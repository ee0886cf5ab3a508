"""The filter language shared by the TUI's filter bar and ``--filter`` of ``tail``/``record``.

``compile_query(text)`` parses once (errors name the position and what was expected) and
compiles the result into a plain predicate over :class:`Reading` tuples. The syntax lives in
:mod:`.parse`, the meaning in :mod:`.evaluate`; ``docs/filter-language.md`` is the
user's reference.

    >>> q = compile_query('asset:1111 (label:pressure OR val>100) -tag:*status*')
    >>> matching = [r for r in readings if q.matches(r)]
"""

from __future__ import annotations

from collections.abc import Callable

from flux_tui.data.formats import NameLookup
from flux_tui.data.query.evaluate import Predicate, compile_node, now_seconds, resolve_time
from flux_tui.data.query.parse import All, Node, QuerySyntaxError, parse, print_node
from flux_tui.feed.types import Reading

__all__ = ["NameLookup", "Query", "QuerySyntaxError", "compile_query"]


class Query:
    """A compiled filter. ``matches``/``predicate`` test one reading; ``str()`` is the
    canonical text (parsing it gives an equal query); ``text`` is what was typed."""

    __slots__ = ("matches", "names", "node", "predicate", "text")

    def __init__(
        self, text: str, node: Node, predicate: Predicate, names: NameLookup | None = None
    ) -> None:
        self.text = text
        self.node = node
        self.names = names  # kept so parts of the query can be recompiled (session index)
        self.predicate: Callable[[Reading], bool] = predicate
        # The plain function itself, not a bound method: one call less per reading.
        self.matches: Callable[[Reading], bool] = predicate

    @property
    def is_empty(self) -> bool:
        """True for a blank query (it matches everything; callers may skip filtering)."""
        return isinstance(self.node, All)

    def filter(self, readings: list[Reading]) -> list[Reading]:
        """The readings that match, in order."""
        if self.is_empty:
            return list(readings)
        return list(filter(self.predicate, readings))

    def __str__(self) -> str:
        return print_node(self.node)

    def __repr__(self) -> str:
        return f"Query({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and other.node == self.node

    def __hash__(self) -> int:
        return hash(self.node)


def compile_query(
    text: str,
    names: NameLookup | None = None,
    *,
    now: Callable[[], float] | float | None = None,
) -> Query:
    """Parse and compile a filter. Raises :class:`QuerySyntaxError`.

    ``names`` gives asset/site/org names for ``asset:``/``site:``/``org:`` and bare words
    (asked while filtering, so names that arrive later take effect). ``now`` (epoch seconds,
    or a clock function) is what relative times like ``since:-5m`` count back from; they
    are resolved here, once.
    """
    if now is None:
        now = now_seconds
    clock_now = now() if callable(now) else float(now)
    node = parse(text, lambda value: resolve_time(value, clock_now))
    return Query(text, node, compile_node(node, names), names)
