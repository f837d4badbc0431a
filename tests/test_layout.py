"""The ring layout as tests: a textbook core that imports nothing outside itself, rings around it.

    core   imports only core                        tools  import only core (and tools)
    fast   imported by the entry point alone       no module imports another's underscore names
    no import cycles between modules               ``import tinynet`` loads no file format, downloader or plot

The rules are read off the source (every import statement, including those inside functions), so a lazy
import cannot hide an arrow that runs the wrong way.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

import tinynet

PACKAGE = Path(tinynet.__file__).parent


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """``[(imported module, [names], at module level?)]`` of one file, relative imports made absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names], id(node) in top_level))
    return found


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def arrows():
    """``(importer, imported module, names, at module level?)`` for every import of a tinynet module."""
    for importer, path in MODULES.items():
        for imported, names, top in imports_of(path):
            if not imported.startswith("tinynet"):
                continue
            # `from tinynet.core import layers` imports the module tinynet.core.layers
            targets = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in MODULES] or [imported]
            for target in targets:
                yield importer, target, names, top


def ring(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "entry"


def test_the_core_imports_nothing_outside_itself():
    wrong = sorted({(a, b) for a, b, _, _ in arrows() if ring(a) == "core" and ring(b) != "core"})
    assert not wrong, wrong


def test_tools_import_only_the_core():
    wrong = sorted({(a, b) for a, b, _, _ in arrows() if ring(a) == "tools" and ring(b) not in ("core", "tools")})
    assert not wrong, wrong


def test_only_the_entry_point_imports_the_fast_ring():
    wrong = sorted({(a, b) for a, b, _, _ in arrows()
                    if ring(b) == "fast" and ring(a) not in ("fast", "entry")})
    assert not wrong, wrong


def test_no_module_imports_another_modules_underscore_names():
    wrong = sorted({(a, b, n) for a, b, names, _ in arrows() for n in names
                    if n.startswith("_") and not n.startswith("__") and b != a})
    assert not wrong, wrong


def test_no_import_cycles():
    graph = {}
    for a, b, _, top in arrows():
        if top and a != b and not b.startswith(a + "."):  # a package importing its own submodules is no cycle
            graph.setdefault(a, set()).add(b)
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


HEAVY = ("matplotlib", "h5py", "urllib.request", "http.client", "zipfile", "tensorboardX")


def test_import_tinynet_loads_no_file_format_downloader_or_plot():
    code = "import sys, tinynet; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    # The table of formats is plugged into Model.save at import; the formats themselves load on first use.
    formats = {m for m in loaded if m.startswith(("tinynet.io.", "tinynet.tools.plot"))} - {
        "tinynet.io.callbacks", "tinynet.io.callbacks.backup_and_restore", "tinynet.io.callbacks.checkpoint",
        "tinynet.io.callbacks.csv_logger", "tinynet.io.callbacks.tensorboard", "tinynet.io.formats",
        "tinynet.io.errors"}
    assert not formats, sorted(formats)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("name", ["layers", "models", "callbacks", "metrics", "utils", "losses", "optimizers",
                                  "datasets.mnist", "keras.layers", "keras.backend", "backend", "np_utils"])
def test_a_public_name_is_the_real_module_not_a_copy(name):
    import importlib
    module = importlib.import_module(f"tinynet.{name}")
    assert sys.modules[f"tinynet.{name}"] is module
    assert sys.modules[module.__spec__.name] is module   # the real name, kept on the module
