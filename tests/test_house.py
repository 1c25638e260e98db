"""The house: three rooms over a shared floor, imports going one way and no circle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "transferlib"
ROOMS = ("driver", "cell", "summary")
MAY_IMPORT = {"shared": {"shared"}, "driver": {"shared", "driver"}, "cell": {"shared", "cell"},
              "summary": {"shared", "cell", "summary"},
              "front door": {"shared", "driver", "summary"}}  # the command line: runs studies, scores


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module):
    parts = module.split(".")
    if module == "transferlib.__main__":
        return "front door"
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else "shared"


def imports(path):
    """The transferlib modules ``path`` imports, at any depth of its code."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("transferlib")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("transferlib"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if _exists(candidate) else base)
    return {m for m in found if m != here}


def _exists(module):
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph():
    return {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_each_room_imports_only_what_it_may():
    wrong = [(m, i) for m, deps in graph().items() for i in deps
             if room(i) not in MAY_IMPORT[room(m)] and not (room(m) == "shared" and i == "transferlib")]
    assert not wrong, wrong


def test_no_import_circle():
    edges = {m: {d for d in deps if d.count(".") or d == "transferlib"} for m, deps in graph().items()}
    edges = {m: {d for d in deps if d in edges and d not in ("transferlib",) and not m.startswith(d + ".")
                 and not d.endswith("__main__")} for m, deps in edges.items()}
    _acyclic(edges)


def folder(module):
    """A module's folder (transferlib.data, ...), or the module itself where it lies at the top."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or (PACKAGE / parts[-1]).is_dir() else module


def test_no_circle_between_folders():
    """Files may form no circle, and neither may folders: data -> records -> nets -> data would
    be a floor that leans on the one above it, a circle the file graph does not show."""
    edges = {}
    for m, deps in graph().items():
        if m != "transferlib" and not m.endswith("__main__"):
            edges.setdefault(folder(m), set()).update(
                folder(d) for d in deps if d != "transferlib" and folder(d) != folder(m))
    _acyclic({node: {d for d in nexts if d in edges} for node, nexts in edges.items()})


def _acyclic(edges):
    """AssertionError naming a circle of the directed graph ``edges`` ({node: {node, ...}})."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in edges[node]:
            if state.get(nxt) == "open":
                raise AssertionError(f"import circle: {' -> '.join(stack[stack.index(nxt):] + [nxt])}")
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_the_graph_is_read_right():
    """The reader sees the imports that matter (else the tests above prove nothing)."""
    g = graph()
    assert folder("transferlib.records.table") == "transferlib.records" and folder("transferlib.atomic") == "transferlib.atomic"
    assert folder("transferlib.data") == "transferlib.data"
    assert "transferlib.driver.executors" in g["transferlib.driver.ray_executor"]
    assert "transferlib.cell.images" in g["transferlib.cell.tfdata"]
    assert "transferlib.records.table" in g["transferlib.summary.study_folder"]
