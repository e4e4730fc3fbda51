"""The house rules of the source tree (docs/api-conventions.md, DESIGN.md's layers), checked.

- no module over 650 lines of code (docstrings, comments and blank lines aside);
- no import cycle between nwbview's modules (imports inside functions count too);
- no use of another module's private name (``from nwbview.x import _y``, ``x._y``);
- the lower layers import neither the top-level package nor matplotlib, Qt or napari.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "nwbview"
MAX_CODE_LINES = 650
LOWER = ("nwbview.io", "nwbview.calibration", "nwbview.timeline", "nwbview.kinematics", "nwbview.heatmap")
GUI = ("matplotlib", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "napari", "vispy")


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = list(p.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def code_lines(text: str) -> int:
    """Lines holding code: no blank lines, comments or docstrings."""
    tree = ast.parse(text)
    doc_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                doc_lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
            continue
        for ln in range(tok.start[0], tok.end[0] + 1):
            if ln not in doc_lines:
                lines.add(ln)
    return len(lines)


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import of a module, TYPE_CHECKING aside."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                skip.add(id(sub))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([mod] if mod else []))
            names = [a.name for a in node.names]
            out.append((mod, names, node.lineno))
            out += [(f"{mod}.{n}", [], node.lineno) for n in names if f"{mod}.{n}" in MODULES]
    return out


def _graph() -> dict[str, set[str]]:
    g: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = set()
        for mod, _, _ in _imports(name, path):
            if mod in MODULES and mod != name and not name.startswith(mod + "."):
                deps.add(mod)
        g[name] = deps
    return g


def find_cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_module_is_over_650_lines_of_code():
    big = {n: code_lines(p.read_text()) for n, p in MODULES.items()}
    over = {n: c for n, c in big.items() if c > MAX_CODE_LINES}
    assert not over, f"modules over {MAX_CODE_LINES} lines of code: {over}"


def test_no_import_cycle():
    cycles = find_cycles(_graph())
    assert not cycles, f"import cycles: {cycles}"


def test_no_private_name_of_another_module():
    bad = []
    for name, path in MODULES.items():
        text = path.read_text()
        for mod, names, line in _imports(name, path):
            if mod.startswith("nwbview") and mod != name:
                bad += [f"{name}:{line} imports {mod}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
        tree = ast.parse(text)
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("nwbview") and a.name in MODULES:
                        aliases[a.asname or a.name] = a.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nwbview"):
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if full in MODULES:
                        aliases[a.asname or a.name] = full
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = ast.unparse(node.value)
                if base in aliases and aliases[base] != name:
                    bad.append(f"{name}:{node.lineno} uses {aliases[base]}.{node.attr}")
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


@pytest.mark.parametrize("layer", LOWER)
def test_lower_layers_import_no_gui_and_not_the_package(layer):
    bad = []
    for name, path in MODULES.items():
        if name != layer and not name.startswith(layer + "."):
            continue
        for mod, names, line in _imports(name, path):
            if mod.split(".")[0] in GUI:
                bad.append(f"{name}:{line} imports {mod}")
            if mod == "nwbview" and not all(f"nwbview.{n}" in MODULES for n in names):
                bad.append(f"{name}:{line} imports the top-level package ({', '.join(names) or 'nwbview'})")
    assert not bad, "\n".join(bad)


def test_the_checks_can_fail():
    assert code_lines('"""doc\n\nmore"""\n# c\n\nx = 1\ny = (1,\n     2)\n') == 3
    assert find_cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
