"""Every error a user can cause carries a hint (errors.py's promise, issue 22).

An ast scan of conformance/ finds every construction of a ConformanceError class and fails on
one without a non-empty hint, naming file:line; a few bad inputs then show the hint reaching
the user's one line.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import conformance
from conformance import errors
from conformance.cli import main
from conformance.config import build
from conformance.errors import ConformanceError, UsageError
from conformance.gate import parse_manifest, read_expectations

PACKAGE = Path(conformance.__file__).parent
ERRORS_MODULE = errors.__name__  # "conformance.errors"
ERROR_CLASSES = frozenset(
    name
    for name, value in vars(errors).items()
    if inspect.isclass(value) and issubclass(value, ConformanceError)
)


def _error_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names this module binds to the error classes, and to the errors module itself."""
    classes: set[str] = set()
    modules: set[str] = set()
    package, _, leaf = ERRORS_MODULE.rpartition(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if source == ERRORS_MODULE or (node.level and source.endswith(leaf)):
                classes |= {a.asname or a.name for a in node.names if a.name in ERROR_CLASSES}
            elif source == package or (node.level and not source):
                modules |= {a.asname or a.name for a in node.names if a.name == leaf}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == ERRORS_MODULE}
    return classes, modules


def _is_error_call(node: ast.Call, classes: set[str], modules: set[str]) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in classes
    return (
        isinstance(func, ast.Attribute)
        and func.attr in ERROR_CLASSES
        and ast.unparse(func.value) in modules
    )


def _gives_hint(arg: ast.expr | None) -> bool:
    """A non-empty hint: a literal must be a non-blank string; `x if c else None` needs both."""
    if arg is None:
        return False
    if isinstance(arg, ast.Constant):
        return isinstance(arg.value, str) and bool(arg.value.strip())
    if isinstance(arg, ast.JoinedStr):
        return bool(arg.values)
    if isinstance(arg, ast.IfExp):
        return _gives_hint(arg.body) and _gives_hint(arg.orelse)
    # A name, a call, an attribute (e.g. a caught error's `err.hint`) gives one; `*args` cannot
    # be told: write the hint out.
    return not isinstance(arg, ast.Starred)


def hintless(source: str, filename: str = "<string>") -> list[str]:
    """`file:line ClassName` of each construction of an error class without a hint."""
    tree = ast.parse(source, filename)
    classes, modules = _error_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_error_call(node, classes, modules):
            given = node.args[1] if len(node.args) > 1 else None
            given = next((k.value for k in node.keywords if k.arg == "hint"), given)
            if not _gives_hint(given):
                found.append((node.lineno, f"{filename}:{node.lineno} {ast.unparse(node.func)}"))
    return [line for _, line in sorted(found)]


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_error_the_suite_raises_has_a_hint() -> None:
    offenders = [
        line
        for path in _sources()
        for line in hintless(path.read_text("utf-8"), str(path.relative_to(PACKAGE.parent)))
    ]
    assert not offenders, "raise these with a hint (what to do next):\n" + "\n".join(offenders)


def test_the_scan_sees_the_raises() -> None:
    """The scan finds the package's raises at all (it counts calls, so a broken import
    matcher that finds none cannot pass the test above by finding nothing)."""
    seen = 0
    for path in _sources():
        tree = ast.parse(path.read_text("utf-8"))
        classes, modules = _error_names(tree)
        seen += sum(
            isinstance(n, ast.Call) and _is_error_call(n, classes, modules) for n in ast.walk(tree)
        )
    assert seen >= 100, seen


def test_every_error_class_is_in_errors_module() -> None:
    """The scan knows the classes of errors.py only: a subclass defined elsewhere would escape."""
    elsewhere = []
    for path in _sources():
        tree = ast.parse(path.read_text("utf-8"))
        classes, modules = _error_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(b, ast.Name) and b.id in classes)
                or (isinstance(b, ast.Attribute) and ast.unparse(b.value) in modules)
                for b in node.bases
            ):
                elsewhere.append(f"{path.name}:{node.lineno} {node.name}")
    assert not elsewhere, elsewhere


BAD = """
from conformance.errors import ConfigError, UsageError as Usage
from conformance import errors
import pytest

def f(err):
    raise ConfigError("no hint")
    raise Usage("empty hint", "  ")
    raise errors.TargetError("hint None", hint=None)
    raise ConfigError("half a hint", "x" if err else None)
    raise ConfigError("fine", "do this")
    raise ConfigError("fine too", hint=f"do {err}")
    raise ConfigError(f"{err}", err.hint)
    raise pytest.UsageError("pytest's own, not ours")
    raise ValueError("not a ConformanceError")
"""


def test_the_scan_names_each_hintless_raise() -> None:
    assert hintless(BAD, "bad.py") == [
        "bad.py:7 ConfigError",
        "bad.py:8 Usage",
        "bad.py:9 errors.TargetError",
        "bad.py:10 ConfigError",
    ]


def test_the_scan_follows_relative_imports() -> None:
    source = "from ..errors import ProfileError\nraise ProfileError('x')\n"
    assert hintless(source, "r.py") == ["r.py:2 ProfileError"]


# ---- the hint reaches the user ---------------------------------------------------------------

CONFIGS = [
    ("seed = [unterminated\n", "is not valid TOML"),
    ('[[platform]]\nname = "a"\n', "needs base_url or reference"),
    ('[[platform]]\nname = "a"\nreference = "full-manual"\nvariations = "gzip"\n', "variations"),
    ('[[platform]]\nname = "a"\nbase_url = "http://x.test"\norder_ids = "1"\n', "order_ids"),
    ('consistency_window = -1\n[[platform]]\nname = "a"\nreference = "full-manual"\n', "window"),
    ('seed = "nine"\n', "seed must be an integer"),
    ("schemathesis = 1\n", "schemathesis must be true or false"),
    ('allow_writes = "false"\n', "allow_writes must be true or false"),
    ('act_on_existing = "no"\n', "act_on_existing must be true or false"),
    ("output_dir = 5\n", "output_dir must be a path"),
    ('timeout = "ten"\n', "timeout must be a number of seconds"),
]


@pytest.mark.parametrize(("text", "says"), CONFIGS)
def test_a_bad_config_file_is_a_usage_error_with_a_hint(
    text: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFORMANCE_TOKEN", "t")
    path = tmp_path / "conformance.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=says) as info:
        build(config_file=str(path))
    assert info.value.hint.strip(), info.value.message


def test_an_unreadable_config_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot be read") as info:
        build(config_file=str(tmp_path))  # a directory
    assert "read" in info.value.hint


def test_a_platform_not_in_the_config_file_names_the_ones_that_are(tmp_path: Path) -> None:
    path = tmp_path / "conformance.toml"
    path.write_text('[[platform]]\nname = "shop"\nreference = "full-manual"\n')
    with pytest.raises(UsageError, match="'nope' is not in") as info:
        build(config_file=str(path), platform="nope")
    assert "shop" in info.value.hint


MANIFESTS = [
    {"platform": 3},
    {"operations": "all"},
    {"operations": {"getReturn": "supported"}},
    {"operations": {"getReturn": {"status": "partial"}}},
]


@pytest.mark.parametrize("data", MANIFESTS)
def test_a_bad_manifest_has_a_hint(data: dict[str, object]) -> None:
    with pytest.raises(UsageError) as info:
        parse_manifest(data, "m.declared.toml")
    assert info.value.hint.strip(), info.value.message


EXPECTED = [
    'colour = "red"\n',
    '[[expected]]\nplatform = "a"\noperation = "getReturn"\nreason = "x"\nwhy = "y"\n',
    '[[expected]]\noperation = "getReturn"\nreason = "x"\n',
    '[[expected]]\nplatform = "a"\noperation = "getReturn"\nreason = "x"\ncodes = ["nope"]\n',
    '[[expected]]\nplatform = "a"\noperation = "getReturn"\nreason = "x"\n' * 2,
]


@pytest.mark.parametrize("text", EXPECTED)
def test_a_bad_expected_failures_file_has_a_hint(text: str, tmp_path: Path) -> None:
    path = tmp_path / "expected.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        read_expectations(path)
    assert info.value.hint.strip(), info.value.message


def test_the_cli_line_ends_with_the_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.toml"
    path.write_text("seed = [unterminated\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("conformance: error: config file")
    assert err.endswith("(fix it at the line and column shown)"), err
