"""The import graph: no cycle between modules, and imports only go down the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ametrika_gitops"
CORE = {"errors", "diagnostics", "canonical", "__init__"}
# Lower layers first; a module may import its own layer and the layers before it.
LAYERS = [
    CORE,
    {"config"},
    {"render"},
    {"check"},
    {"dns"},
    {"build"},
    {"mail", "verify", "review"},  # features: none imports another
    {"cli"},
    {"__main__"},  # `python -m ametrika_gitops`: the top
]
STANDALONE = {"emulator"}  # test infrastructure: imports nothing of the pipeline


def _modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        name = ".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = f
    return out


def _imports(path: Path, module_level: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("ametrika_gitops")}


def _folder(module: str) -> str:
    parts = module.split(".")
    folder = parts[1] if len(parts) > 1 else "__init__"
    known = set().union(*LAYERS, STANDALONE)
    return folder if folder in known else "__init__"  # a name of the package root


def _layer(folder: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if folder in layer)


def test_no_module_level_import_cycle() -> None:
    mods = _modules()
    graph = {m: {t for t in _imports(f, True) if t in mods and t != m} for m, f in mods.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle.extend([*stack[stack.index(t) :], m, t] if t in stack else [m, t])
                return True
            if t not in state and visit(t, [*stack, m]):
                return True
        state[m] = 2
        return False

    for m in sorted(graph):
        if m not in state and visit(m, []):
            break
    assert cycle == []


def test_imports_only_go_down_the_pipeline() -> None:
    wrong = []
    for module, path in _modules().items():
        here = _folder(module)
        for target in _imports(path, module_level=False):  # lazy imports count too
            there = _folder(target)
            if here == there or there in CORE:
                continue
            if here in STANDALONE or there in STANDALONE:
                wrong.append(f"{module} -> {target}")
            elif _layer(there) > _layer(here):
                wrong.append(f"{module} -> {target} (upwards)")
            elif _layer(there) == _layer(here):
                wrong.append(f"{module} -> {target} (one feature imports another)")
    assert wrong == []


def test_commands_never_import_the_cli_root() -> None:
    for module, path in _modules().items():
        if module.startswith("ametrika_gitops.cli.") and module != "ametrika_gitops.cli.main":
            assert "ametrika_gitops.cli.main" not in _imports(path, False), module
