"""The layout holds: the core runs without Textual (importing any module outside
``flux_tui.ui`` in a fresh interpreter loads no Textual; the CLI starts the viewer lazily), the
import graph has no cycle (between packages nor between modules), and no function is over
~80 lines."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import flux_tui


def core_modules() -> list[str]:
    """Every module of the package except the terminal UI (found, not listed by hand)."""
    names = [
        info.name
        for info in pkgutil.walk_packages(flux_tui.__path__, prefix="flux_tui.")
        if not info.name.startswith("flux_tui.ui") and info.name != "flux_tui.__main__"
    ]
    return sorted(names)


def test_the_list_of_core_modules_is_complete() -> None:
    modules = core_modules()
    for expected in ("flux_tui.api.client", "flux_tui.feed.reader", "flux_tui.data.store",
                     "flux_tui.sim.app", "flux_tui.connect", "flux_tui.cli.main"):
        assert expected in modules


def test_core_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the import graph: no cycles, between packages or inside them; short functions ----------
#
# The logic of ../shared/tools/import_cycles.py, kept here so CI needs nothing outside the
# repository. Every import counts, including those inside functions and under TYPE_CHECKING:
# a lazy import hides a cycle from Python, not from a reader.

PACKAGE_DIR = Path(flux_tui.__file__).parent
MAX_FUNCTION_LINES = 80


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ("flux_tui", *path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports (``from pkg import module`` names the
    module; ``from module import name`` names the module)."""
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    targets.add(sub if sub in modules else target)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def package_of(module: str) -> str:
    """``flux_tui.data.store`` -> ``flux_tui.data``; a top-level module is its own package."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        edges = packages.setdefault(package_of(module), set())
        edges.update(package_of(t) for t in targets)
    for package, edges in packages.items():
        edges.discard(package)
        # the root package's __init__ holds only the version: importing it is not a layer
        edges.discard("flux_tui")
    return packages


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def path_between(graph: dict[str, set[str]], start: str, goal: str) -> list[str]:
    """One import chain from ``start`` to ``goal`` (to show in a failure)."""
    came_from: dict[str, str | None] = {start: None}
    queue = [start]
    for node in queue:
        for child in sorted(graph.get(node, ())):
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    if goal not in came_from:
        return []
    chain: list[str] = []
    step: str | None = goal
    while step is not None:
        chain.append(step)
        step = came_from[step]
    return chain[::-1]


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    first, second = component[0], component[1]
    there = " -> ".join(path_between(graph, first, second))
    back = " -> ".join(path_between(graph, second, first)[1:])
    return f"{' <-> '.join(component)}  (e.g. {there} -> {back})"


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert describe(graph, ["a", "b", "c"]) == "a <-> b <-> c  (e.g. a -> b -> c -> a)"


def test_the_import_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert "flux_tui.feed.types" in graph["flux_tui.feed.reader"]
    assert graph["flux_tui.connect"] >= {"flux_tui.api.client", "flux_tui.feed.reader"}
    # an import inside a function counts (connect loads the simulator lazily)
    assert "flux_tui.sim.app" in graph["flux_tui.connect"]
    assert package_of("flux_tui.data.store") == "flux_tui.data"
    assert package_of("flux_tui.connect") == "flux_tui.connect"


def crossing_imports(graph: dict[str, set[str]], packages: list[str]) -> list[str]:
    """The module imports that tie ``packages`` together (what to move to break the cycle)."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if package_of(module) in packages
        and package_of(target) in packages
        and package_of(target) != package_of(module)
    )


def test_no_import_cycle_between_packages() -> None:
    modules = import_graph()
    graph = package_graph(modules)
    found = [
        describe(graph, c) + "\n    " + "\n    ".join(crossing_imports(modules, c))
        for c in cycles(graph)
    ]
    assert not found, "import cycles between packages:\n" + "\n".join(found)


def test_no_import_cycle_between_modules() -> None:
    graph = import_graph()
    found = [describe(graph, c) for c in cycles(graph)]
    assert not found, "import cycles between modules:\n" + "\n".join(found)


def long_functions(limit: int = MAX_FUNCTION_LINES) -> list[str]:
    found = []
    for path in module_files().values():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    rel = path.relative_to(PACKAGE_DIR.parent)
                    found.append(f"{rel}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_over_80_lines() -> None:
    found = long_functions()
    assert not found, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(found)
