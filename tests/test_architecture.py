"""ARCHITECTURE.md's rules, checked over the import graph of `conformance/` (with `ast`, nothing
imported), and its promise to name every module.

A rule that only lives in prose drifts: a probe that imports the reference server would make a
verdict worth nothing (the checks and the implementation must be written apart), and nobody
reading the diff would notice. Each test here is one rule of ARCHITECTURE.md's last section.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from conformance import cli, cli_args

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conformance"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"

# The shared tables of the contract, which both halves may read.
SHARED = {"conformance.contract", "conformance.schemas", "conformance.errors"}
# The modules that start or name a reference platform (ARCHITECTURE.md, first rule).
REFERENCE_USERS = {
    "conformance.engine",
    "conformance.config",
    "conformance.cli",
    "conformance.cli_args",
}
# What renderers must not reach for: anything that probes, judges or runs.
NOT_FOR_RENDERERS = (
    "conformance.probes",
    "conformance.generate",
    "conformance.target",
    "conformance.discover",
    "conformance.judge",
    "conformance.engine",
    "conformance.runner",
    "conformance.config",
    "conformance.reference",
    "conformance.cli",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def sources() -> dict[str, tuple[Path, ast.Module]]:
    """Every module of the package, parsed: name → (file, tree)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found[module_name(path)] = (path, ast.parse(path.read_text(encoding="utf-8")))
    assert "conformance.target" in found and "conformance.reference.app" in found
    return found


def imports(name: str) -> set[str]:
    """The conformance modules `name` imports, anywhere in the file (function bodies and
    `if TYPE_CHECKING:` blocks included), relative imports resolved; `from a import b` counts as
    `a.b` when that is a module, else as `a`."""
    path, tree = sources()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in sources() else base)
    return {n for n in found if n == "conformance" or n.startswith("conformance.")}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_import_graph_is_read() -> None:
    """The reader itself can fail: known edges are found, relative and nested imports too."""
    assert "conformance.target" in imports("conformance.probes.session")
    assert "conformance.reference.server" in imports("conformance.engine")
    assert "conformance.reference.app" in imports("conformance.cli")  # inside a function
    assert "conformance.reference.answers" in imports("conformance.reference.app")


def test_the_reference_server_imports_only_itself_and_the_contract() -> None:
    wrong = {
        name: sorted(i for i in imports(name) if not within(i, "conformance.reference"))
        for name in sources()
        if within(name, "conformance.reference")
    }
    wrong = {name: [i for i in found if i not in SHARED] for name, found in wrong.items()}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_only_the_modules_that_start_a_reference_platform_import_it() -> None:
    """So the probing side (probes, generate, judge, target, discover, findings, ...) never does."""
    importers = {
        name
        for name in sources()
        if not within(name, "conformance.reference")
        and any(within(i, "conformance.reference") for i in imports(name))
    }
    assert importers <= REFERENCE_USERS, sorted(importers - REFERENCE_USERS)
    for side in ("conformance.probes", "conformance.generate", "conformance.judge"):
        assert not any(within(name, side) for name in importers)


def test_renderers_import_nothing_that_probes_judges_or_runs() -> None:
    wrong = {
        name: sorted(i for i in imports(name) if any(within(i, n) for n in NOT_FOR_RENDERERS))
        for name in sources()
        if within(name, "conformance.render")
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def test_only_the_cli_defines_exit_codes() -> None:
    defines = {
        name
        for name, (_, tree) in sources().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name == "ExitCode"
    }
    assert defines == {"conformance.cli"}


def test_no_module_but_main_ends_the_process() -> None:
    """`sys.exit(...)` calls and `raise SystemExit`: only `python -m conformance` ends the process
    (the `sys.exit(1)` inside repro.py is the text of a generated script, not a call)."""
    enders = set()
    for name, (_, tree) in sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and dotted(node.func) in {"sys.exit", "exit", "os._exit"}:
                enders.add(name)
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if dotted(raised) == "SystemExit":
                    enders.add(name)
    assert enders == {"conformance.__main__"}


def test_the_other_exits_use_the_clis_usage_error() -> None:
    """argparse's own exit (cli_args.Parser.error) and the pytest plugin's `pytest.exit`."""
    assert int(cli.ExitCode.USAGE_ERROR) == cli_args.USAGE_ERROR
    codes = [
        (name, keyword.value)
        for name, (_, tree) in sources().items()
        for call in calls(tree)
        if dotted(call.func) == "pytest.exit"
        for keyword in call.keywords
        if keyword.arg == "returncode"
    ]
    assert codes, "the plugin's pytest.exit was not found"
    for name, value in codes:
        assert isinstance(value, ast.Constant), name
        assert value.value == cli.ExitCode.USAGE_ERROR, name


def annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside an annotation (arguments, returns, annotated assignments)."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(n) for root in roots for n in ast.walk(root)}


def test_only_the_target_uses_httpx_at_run_time() -> None:
    """Elsewhere httpx may only be named in type hints (to hand a transport down)."""
    users = {}
    for name, (_, tree) in sources().items():
        in_hints = annotation_nodes(tree)
        uses = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id == "httpx" and id(node) not in in_hints
        ]
        if uses:
            users[name] = uses
    assert set(users) == {"conformance.target"}, users
    importers = {n for n, (_, tree) in sources().items() if "httpx" in module_imports(tree)}
    assert "conformance.target" in importers
    assert not any(within(n, "conformance.reference") for n in importers)


def module_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_judge_assigns_verdicts() -> None:
    """A cell is built by judge.py alone (cells.py only reads one back from a matrix)."""
    builders = {
        name
        for name, (_, tree) in sources().items()
        for call in calls(tree)
        if dotted(call.func).split(".")[-1] == "OperationResult"
    }
    assert builders == {"conformance.judge"}
    setters = {
        name
        for name, (_, tree) in sources().items()
        for call in calls(tree)
        if any(keyword.arg == "verdict" for keyword in call.keywords)
    }
    assert setters <= {"conformance.judge", "conformance.cells"}, setters


def named_files() -> set[str]:
    """The paths ARCHITECTURE.md names in backticks (relative to conformance/)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return {span.removeprefix("conformance/") for span in re.findall(r"`([^`\s]+)`", text)}


def test_architecture_names_every_module_and_data_file() -> None:
    """A new module (or data file) must be added to ARCHITECTURE.md, in its stage."""
    files = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert len(files) > 100
    assert sorted(files - named_files()) == []


def test_architecture_names_no_file_that_is_gone() -> None:
    stale = [
        name
        for name in named_files()
        if name.endswith((".py", ".toml"))
        and not (PACKAGE / name).is_file()
        and not (ROOT / name).is_file()
    ]
    assert stale == []
