"""How much of what a learner reads is maths: the files docs/reading-guide.md sends them to, line by line.

    python benchmarks/reading_path.py                  # this checkout
    python benchmarks/reading_path.py --at a19851e     # any commit, read with `git show` (no checkout needed)
    python benchmarks/reading_path.py --show tinynet/core/layers/core.py   # each line with its class
    python benchmarks/reading_path.py --imports        # the import rules: cycles, underscore names, arrows out of core

The reading path is what the numbered headings of the guide name: a ``tinynet/...py`` file, and
the classes, functions or methods named after it (``## 1. Dense: `tinynet/core/layers/core.py`
`Dense` ``), or the whole file when the heading names none. A bare file name after a path
(``then `optimizer.py` ``) lives in the same folder. The stops' text may point elsewhere for the
curious; the headings are what the guide asks a learner to read. ``--files`` measures the whole
of each file instead.

Only code lines count: not blank lines, comments or docstrings. Each line belongs to the innermost
statement it is part of (for ``if``, ``for``, ``def``..., the header lines up to the body), and the
statement gets the first class whose rule holds:

    checks    a ``raise`` or ``assert``; an ``if`` whose body only raises or warns (its header);
              a call to a function named check*, validate*, invalid*, expect* or warn*; any line of a
              function whose name starts with check or validate
    keras     any line of get_config / from_config
    maths     any line of a function that is the maths: a method named in MATHS_FUNCTIONS (forward,
              backward, the rules' update, init_state...) or ending in _forward / _backward, or a
              function outside a class that does arithmetic (im2col, softmax, the ops); elsewhere a
              line with arithmetic (+ - * / // % ** @, unary minus) or a NumPy call other than the
              shape and type queries in NOT_MATHS -- unless the line names an argument or attribute
              only Keras needs (KERAS_NAMES: Keras 2 spellings, serialization, settings tinynet accepts
              and refuses), which makes it keras
    plumbing  everything else: imports, class lines, storing settings, building weights, the loop

The classes are a reader's rough cut, not a proof: ``--show`` prints every line with its class so a
disagreement can be argued line by line.
"""
import argparse
import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLASSES = ("maths", "keras", "checks", "plumbing")

MATHS_FUNCTIONS = {"forward", "backward", "call", "update", "init_state", "train_step", "compute_loss",
                   "compute_gradients", "step_learning_rate", "__call__"}
CHECK_PREFIXES = ("check", "validate", "invalid", "expect", "warn")
KERAS_FUNCTIONS = {"get_config", "from_config"}
KERAS_NAMES = {"input_dim", "batch_input_shape", "batch_shape", "data_format", "lr", "decay", "kwargs",
               "noise_shape", "sparse", "ragged", "legacy", "keras", "get_config", "from_config",
               "dtype_policy", "renorm", "virtual_batch_size", "adjustment", "fused", "synchronized",
               "dilation_rate", "groups", "beta_regularizer", "gamma_regularizer", "beta_constraint",
               "gamma_constraint", "activity_regularizer", "moving_mean_initializer",
               "moving_variance_initializer", "clipnorm", "clipvalue", "global_clipnorm",
               "use_ema", "ema_momentum", "ema_overwrite_frequency", "jit_compile", "loss_scale_factor",
               "gradient_accumulation_steps"}
NOT_MATHS = {"shape", "ndim", "asarray", "dtype", "issubdtype", "isscalar", "integer", "floating",
             "float32", "float64", "random", "default_rng", "result_type", "iinfo", "finfo", "isfinite",
             "all", "any", "array_equal", "ndarray", "errstate"}
ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)


# ---- which files ---------------------------------------------------------------------------------

def reading_path(guide):
    """``{file: [units]}``: the ``tinynet/...py`` files named in the guide's numbered headings, in order, each
    with the classes, functions or ``Class.method`` named after it in the heading ([]: the whole file)."""
    files = {}
    for heading in re.findall(r"^## \d+\..*$", guide, re.M):
        folder, path = None, None
        for name in re.findall(r"`([\w/.]+)`", heading):
            if name.endswith(".py"):
                path = name if "/" in name or not folder else f"{folder}/{name}"
                folder = path.rpartition("/")[0]
                if path.startswith("tinynet/"):
                    files.setdefault(path, [])
            elif path in files:
                files[path].append(name)
    return files


def read(path, at):
    """The text of a repository file, in this checkout or at a commit."""
    if at is None:
        return (REPO / path).read_text(encoding="utf-8")
    return subprocess.run(["git", "show", f"{at}:{path}"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout


# ---- which lines ---------------------------------------------------------------------------------

def code_lines(source, tree):
    """Line numbers holding code: a token that is not a comment, and not part of a docstring."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                          tokenize.ENDMARKER):
            continue
        lines.update(range(token.start[0], token.end[0] + 1))
    return sorted(lines - docstrings)


def owners(tree):
    """``{line: (statement, enclosing function names)}``: the innermost statement each line is part of."""
    owner = {}

    def visit(statements, functions):
        for node in statements:
            body = [child for field in ("body", "orelse", "finalbody", "handlers") for child in getattr(node, field, [])
                    if isinstance(child, (ast.stmt, ast.excepthandler))]
            header_end = min((child.lineno for child in body), default=node.end_lineno + 1) - 1
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            for line in range(start, max(header_end, node.lineno) + 1):
                owner[line] = (node, functions)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = functions + (node.name,)
                if not functions and does_arithmetic(node):
                    inner = functions + (node.name, MATHS_MARK)
            elif isinstance(node, ast.ClassDef):
                inner = functions + (CLASS_MARK,)
            else:
                inner = functions
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, []), inner)
            for handler in getattr(node, "handlers", []):
                for line in range(handler.lineno, handler.body[0].lineno):
                    owner[line] = (handler, inner)
                visit(handler.body, inner)
    visit(tree.body, ())
    return owner


# ---- which class ---------------------------------------------------------------------------------

def called_name(call):
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def header_parts(node):
    """The expressions a statement's own lines hold (for a compound statement, its header only)."""
    if isinstance(node, (ast.If, ast.While)):
        return [node.test]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target, node.iter]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in node.items]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return list(getattr(node, "decorator_list", []))
    if isinstance(node, (ast.Try, ast.ExceptHandler)):
        return [node.type] if getattr(node, "type", None) else []
    return [node]


def only_raises(body):
    return all(isinstance(s, ast.Raise) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                                            and called_name(s.value).startswith("warn")) for s in body)


def is_arithmetic(parts):
    for part in parts:
        for node in ast.walk(part):
            if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ARITHMETIC):
                if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
                        and isinstance(node.left, (ast.Constant, ast.JoinedStr))):  # "%s" % x is formatting
                    return True
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                    and not isinstance(node.operand, ast.Constant):
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                base = node.func.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if getattr(base, "id", "") == "np" and node.func.attr not in NOT_MATHS:
                    return True
    return False


def names_in(parts):
    found = set()
    for part in parts:
        for node in ast.walk(part):
            if isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.keyword):
                found.add(node.arg or getattr(node.value, "id", ""))   # **kwargs passed on
            elif isinstance(node, ast.arg):
                found.add(node.arg)
            elif isinstance(node, ast.arguments) and node.kwarg:
                found.add("kwargs")
    return found


MATHS_MARK, CLASS_MARK = "<does arithmetic>", "<class>"


def does_arithmetic(function):
    """Whether a function's statements, its checks left out, do arithmetic."""
    def statements(body):
        for node in body:
            if isinstance(node, (ast.Raise, ast.Assert)) or (isinstance(node, ast.If) and only_raises(node.body)):
                continue
            yield from header_parts(node)
            for field in ("body", "orelse", "finalbody"):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    yield from statements(getattr(node, field, []))
    return is_arithmetic(list(statements(function.body)))


def classify(node, functions):
    maths_function = MATHS_MARK in functions or (not functions and isinstance(node, ast.FunctionDef)
                                                  and does_arithmetic(node))
    functions = tuple(f for f in functions if f not in (MATHS_MARK, CLASS_MARK))
    function = functions[-1] if functions else ""
    is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    own = node.name if is_def else function
    parts = header_parts(node)
    if is_def:
        parts = parts + [node.args]
    # checks
    if isinstance(node, (ast.Raise, ast.Assert)) or (isinstance(node, ast.If) and only_raises(node.body)):
        return "checks"
    if any(name.lstrip("_").startswith(("check", "validate")) for name in functions + ((own,) if is_def else ())):
        return "checks"
    if any(isinstance(n, ast.Call) and called_name(n).lstrip("_").startswith(CHECK_PREFIXES)
           for part in parts for n in ast.walk(part)):
        return "checks"
    if own in KERAS_FUNCTIONS or any(f in KERAS_FUNCTIONS for f in functions):
        return "keras"
    if maths_function or own in MATHS_FUNCTIONS or any(f in MATHS_FUNCTIONS for f in functions) or own.endswith(
            ("_forward", "_backward")):
        return "maths"
    if names_in(parts) & KERAS_NAMES:
        return "keras"
    if not is_def and not isinstance(node, ast.ClassDef) and is_arithmetic(parts):
        return "maths"
    return "plumbing"


def unit_lines(tree, units):
    """The line numbers of the named classes, functions and ``Class.method``s of a module (None: all)."""
    if not units:
        return None
    lines = set()
    for unit in units:
        scope, found = tree.body, None
        for part in unit.split("."):
            found = next((n for n in scope if isinstance(n, (ast.ClassDef, ast.FunctionDef))
                          and n.name == part), None)
            if found is None:
                raise SystemExit(f"the guide names `{unit}`, which is not defined there")
            scope = found.body
        start = min([found.lineno] + [d.lineno for d in found.decorator_list])
        lines.update(range(start, found.end_lineno + 1))
    return lines


def classify_file(source, units=None):
    """``[(line number, class, text)]`` for every code line of a Python source (of its named units only)."""
    tree = ast.parse(source)
    owner = owners(tree)
    text = source.splitlines()
    rows = []
    wanted = unit_lines(tree, units)
    for line in code_lines(source, tree):
        if wanted is not None and line not in wanted:
            continue
        # `else:` and `finally:` lines belong to no statement of their own: they go with the line above
        node, functions = owner.get(line) or next((owner[n] for n in range(line - 1, 0, -1) if n in owner),
                                                  (tree, ()))
        kind = "plumbing" if node is tree else classify(node, functions)
        rows.append((line, kind, text[line - 1]))
    return rows


def measure(at=None, whole_files=False):
    """``{file: {class: lines}}`` over the reading path of the guide at ``at`` (None: this checkout)."""
    counts = {}
    for path, units in reading_path(read("docs/reading-guide.md", at)).items():
        rows = classify_file(read(path, at), None if whole_files else units)
        counts[path] = {kind: sum(1 for _, k, _ in rows if k == kind) for kind in CLASSES}
        counts[path]["first maths line"] = next((n for n, k, _ in rows if k == "maths"), None)
    return counts


def share(counts, kind="maths"):
    total = sum(c[k] for c in counts.values() for k in CLASSES)
    return sum(c[kind] for c in counts.values()) / total if total else 0.0


def print_table(counts, label):
    print(f"The reading path of docs/reading-guide.md at {label}: {len(counts)} files")
    print(f"{'file':48s} {'lines':>5s} " + " ".join(f"{k:>8s}" for k in CLASSES) + "  first maths line")
    for path, c in counts.items():
        total = sum(c[k] for k in CLASSES)
        print(f"{path:48s} {total:5d} " + " ".join(f"{100 * c[k] / max(total, 1):7.0f}%" for k in CLASSES)
              + f"  {c['first maths line']}")
    total = sum(c[k] for c in counts.values() for k in CLASSES)
    print(f"{'all':48s} {total:5d} " + " ".join(f"{100 * share(counts, k):7.1f}%" for k in CLASSES))


# ---- the import rules ----------------------------------------------------------------------------

def package_files(at):
    if at is None:
        return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in (REPO / "tinynet").rglob("*.py")}
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", at, "tinynet"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    return {name: read(name, at) for name in names if name.endswith(".py")}


def import_arrows(files):
    """``(importer, imported module, names, at module level?)`` for every import of a tinynet module."""
    def module(path):
        parts = path[:-3].split("/")
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    modules = {module(path) for path in files}
    for path, source in files.items():
        name = module(path)
        package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
        tree = ast.parse(source)
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = [(alias.name, []) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found = [(base, [alias.name for alias in node.names])]
            else:
                continue
            for imported, names in found:
                if imported.startswith("tinynet"):
                    targets = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in modules] or [imported]
                    for target in targets:
                        yield name, target, names, id(node) in top


def import_counts(at=None):
    arrows = list(import_arrows(package_files(at)))
    underscore = {(a, b, n) for a, b, names, _ in arrows for n in names
                  if n.startswith("_") and not n.startswith("__") and a != b}
    ring = lambda m: m.split(".")[1] if m.count(".") else "entry"  # noqa: E731
    out_of_core = {(a, b) for a, b, _, _ in arrows if ring(a) == "core" and ring(b) != "core"}
    return {"cycles": cycles_of(arrows, module_level_only=True), "cycles_lazy": cycles_of(arrows, False),
            "underscore": sorted(underscore), "out_of_core": sorted(out_of_core)}


def cycles_of(arrows, module_level_only):
    """The groups of modules that import each other, directly or round a loop (the strongly connected
    components of more than one module; a package importing its own submodules is no loop)."""
    graph = {}
    for a, b, _, top in arrows:
        if (top or not module_level_only) and a != b and not b.startswith(a + "."):
            graph.setdefault(a, set()).add(b)
    reach = {}

    def reachable(node):
        if node not in reach:
            seen, todo = set(), [node]
            while todo:
                for nxt in graph.get(todo.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            reach[node] = seen
        return reach[node]
    groups = {frozenset(m for m in reachable(node) if node in reachable(m)) | {node} for node in graph}
    return sorted(sorted(group) for group in groups if len(group) > 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--at", help="a commit to measure instead of this checkout (read with git show)")
    parser.add_argument("--show", metavar="FILE", help="print every code line of FILE with its class")
    parser.add_argument("--files", action="store_true", help="measure whole files, not the units the headings name")
    parser.add_argument("--imports", action="store_true", help="count the import rules' breaches too")
    args = parser.parse_args(argv)
    label = args.at or "this checkout"
    if args.show:
        for line, kind, text in classify_file(read(args.show, args.at)):
            print(f"{line:4d} {kind:8s} | {text}")
        return
    print_table(measure(args.at, args.files), label + (", whole files" if args.files else ""))
    if args.imports:
        counts = import_counts(args.at)
        print(f"\nImports at {label}: {len(counts['cycles'])} import cycles at module level, "
              f"{len(counts['cycles_lazy'])} counting imports inside functions too "
              "(groups of modules importing each other); "
              f"{len(counts['underscore'])} imports of another module's underscore names; "
              f"{len(counts['out_of_core'])} arrows from tinynet/core out of it")
        for group in counts["cycles_lazy"]:
            print("  modules that import each other: " + ", ".join(group))
        for a, b, n in counts["underscore"]:
            print(f"  underscore: {a} imports {n} from {b}")


if __name__ == "__main__":
    sys.exit(main())
