"""The docs say only what is true of the repository: links, commands, flags and paths.

Checked in README.md, ARCHITECTURE.md, tests/README.md and docs/*.md, with nothing run:

- every relative link points to a file that exists, and an `#anchor` into a Markdown file to one
  of its headings (GitHub's slugs); web links (http, https, mailto) are not followed;
- every `conformance ...` command parses with the CLI's own parser (`cli_args.parser()`), and the
  defects, variations and reference platforms it names exist. Checked: each line of a ```sh
  block (backslash continuations joined, `#` comments dropped, `&&` chains split, leading
  `VAR=value` assignments skipped) whose command is `conformance` or `.venv/bin/conformance`; the
  `conformance` steps of a ```yaml workflow (`${{ ... }}` replaced by a value); and inline
  `conformance` spans with arguments and no placeholders (`DIR`, `[--token T]`, `…`). Other lines
  (`export`, `pip`, `cp`, `sh`, `gh`, ...) are not checked, except `pytest` ones: the test paths
  they name must exist;
- every `--flag` in inline code is an option of the CLI (but in a `pytest ...` span), and every
  `--conformance-*` one (inline or in a `pytest` command) an option of the pytest plugin;
- every repository path the prose names (`conformance/...`, `tests/...`, `schemas/...`, ...)
  exists;
- the README keeps the two quick-start commands verbatim, in ```sh blocks, and stays short.
"""

from __future__ import annotations

import argparse
import ast
import re
import shlex
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

from conformance import cli_args
from conformance.config import TOKEN_ENV
from conformance.reference.profile import profile_names
from conformance.reference.server import defect_catalogue
from conformance.reference.variations import variation_catalogue

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [
        ROOT / "README.md",
        ROOT / "ARCHITECTURE.md",
        ROOT / "tests" / "README.md",
        *(ROOT / "docs").glob("*.md"),
    ]
)
QUICK_START = (
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/conformance run",
    "./setup-tests && .venv/bin/pytest",
)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE = re.compile(r"`([^`\n]+)`")
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:conformance|tests|schemas|benchmarks|examples|docs)/[\w./*-]*)"
)
# Paths in the connector's own repository (the GitHub Actions example), not in this one.
ELSEWHERE = {"conformance/baseline/"}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def ids(paths: list[Path]) -> list[str]:
    return [rel(p) for p in paths]


def prose(text: str) -> str:
    """The text outside fenced blocks."""
    return FENCE.sub("", text)


def blocks(text: str, *languages: str) -> Iterator[str]:
    for match in FENCE.finditer(text):
        if match.group(1) in languages:
            yield match.group(2)


def test_there_are_docs_to_check() -> None:
    names = {rel(p) for p in DOCS}
    assert {"README.md", "ARCHITECTURE.md", "tests/README.md"} <= names
    assert len([n for n in names if n.startswith("docs/")]) >= 8
    assert all(p.is_file() for p in DOCS)


# --- links -------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, punctuation dropped (but `-` and
    `_`), spaces to `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = text.strip().lower()
    kept = "".join(
        c
        for c in text
        if c in " -_" or unicodedata.category(c)[0] in "LN"  # letters and numbers
    )
    return kept.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    found: list[str] = []
    for line in prose(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6} +(.+?) *#*$", line)
        if match:
            base = slug(match.group(1))
            count = sum(1 for a in found if a == base or re.fullmatch(re.escape(base) + r"-\d+", a))
            found.append(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def test_slugs_follow_github() -> None:
    assert slug("What the suite fails on, and what it only notes") == (
        "what-the-suite-fails-on-and-what-it-only-notes"
    )
    assert slug("`conformance serve` and the seeded defects") == (
        "conformance-serve-and-the-seeded-defects"
    )
    assert slug("Variations: connectors the suite did not grow up with") == (
        "variations-connectors-the-suite-did-not-grow-up-with"
    )
    assert slug("JUnit, Markdown, HTML") == "junit-markdown-html"
    assert slug("snake_case – dash") == "snake_case--dash"


def broken_links(doc: Path, text: str) -> list[str]:
    broken = []
    for target in LINK.findall(prose(text)):
        if re.match(r"(https?|mailto):", target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (doc.parent / path_part).resolve() if path_part else doc
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading with that anchor in {rel(resolved)}")
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_relative_link_resolves(doc: Path) -> None:
    assert broken_links(doc, doc.read_text(encoding="utf-8")) == []


def test_the_link_check_can_fail() -> None:
    """A missing file, a missing heading and a link out of the repository are found; a good
    anchor and a web link pass."""
    text = (
        "[a](contract.md#no-such-heading) [b](no-such-page.md) [c](../../outside.md) "
        "[d](contract.md#what-the-suite-fails-on-and-what-it-only-notes) [e](https://example.com)"
    )
    found = broken_links(ROOT / "docs" / "page.md", text)
    assert [f.split(":")[0] for f in found] == [
        "contract.md#no-such-heading",
        "no-such-page.md",
        "../../outside.md",
    ]


# --- commands ----------------------------------------------------------------------------------


def shell_lines(block: str) -> Iterator[list[str]]:
    """Each command of a sh block as words: continuations joined, comments dropped, `&&` split."""
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        command: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                while command and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", command[0]):
                    command.pop(0)  # VAR=value before the command
                if command:
                    yield command
                command = []
            else:
                command.append(word)


def is_conformance(words: list[str]) -> bool:
    return Path(words[0]).name == "conformance"


def is_pytest(words: list[str]) -> bool:
    return Path(words[0]).name == "pytest"


def placeholder(word: str) -> bool:
    return any(s in word for s in ("[", "]", "…", "...", "|")) or bool(
        re.fullmatch(r"[A-Z][A-Z_/,]*", word)
    )


def workflow_commands(block: str) -> Iterator[list[str]]:
    """The `conformance` steps of a GitHub Actions workflow, as the shell would see them."""
    workflow = yaml.safe_load(block)
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            run = step.get("run")
            if run:
                yield shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "1", run))


def commands(doc: Path) -> Iterator[list[str]]:
    text = doc.read_text(encoding="utf-8")
    for block in blocks(text, "sh", "bash", "console"):
        yield from shell_lines(block)
    for block in blocks(text, "yaml", "yml"):
        if "jobs:" in block:
            yield from workflow_commands(block)
    for span in INLINE.findall(prose(text)):
        words = span.split()
        wanted = len(words) > 2 and (is_conformance(words) or is_pytest(words))
        if wanted and not any(placeholder(w) for w in words):
            yield words


def all_commands() -> list[tuple[str, list[str]]]:
    return [(rel(doc), words) for doc in DOCS for words in commands(doc)]


def test_commands_are_found() -> None:
    """The extraction finds what the docs show (so the checks below are not vacuous)."""
    found = [" ".join(words) for _, words in all_commands()]
    assert ".venv/bin/conformance run" in found
    assert any(c.startswith("conformance serve --platform full-manual --variation") for c in found)
    assert any(c.startswith("conformance matrix examples/reference-run") for c in found)
    assert any("--expected-failures conformance/expected-failures.toml" in c for c in found)
    assert "conformance run --platform full-manual --defect approve_no_effect" in found
    assert any(c.startswith(".venv/bin/pytest tests/faults/") for c in found)


CONFORMANCE_COMMANDS = [(doc, w) for doc, w in all_commands() if is_conformance(w)]


@pytest.mark.parametrize(
    ("doc", "words"),
    CONFORMANCE_COMMANDS,
    ids=[f"{doc}: {' '.join(w)[:60]}" for doc, w in CONFORMANCE_COMMANDS],
)
def test_every_conformance_command_parses(
    doc: str, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "fake-token-for-parsing")
    try:
        args = cli_args.parser().parse_args(words[1:])
    except SystemExit as exit:
        pytest.fail(f"{doc}: `{shlex.join(words)}` does not parse (exit {exit.code})")
    assert args.command in {"run", "matrix", "serve"}
    # What the parser leaves to later: reference names (the run would stop on them, exit 2).
    if args.command in {"run", "serve"}:
        assert set(args.defect) <= set(defect_catalogue()), args.defect
        assert cli_args.variations(args.variation) <= set(variation_catalogue()), args.variation
        reference = args.command == "serve" or not (args.base_url or args.config)
        if reference and args.platform is not None:
            assert args.platform in profile_names(), args.platform


def test_the_parser_check_can_fail() -> None:
    with pytest.raises(SystemExit):
        cli_args.parser().parse_args(["run", "--no-such-flag"])
    with pytest.raises(SystemExit):
        cli_args.parser().parse_args(["matrix"])  # no DIR


def test_pytest_commands_name_tests_that_exist() -> None:
    missing = [
        f"{doc}: {word}"
        for doc, words in all_commands()
        if is_pytest(words)
        for word in words[1:]
        if word.startswith("tests/") and not (ROOT / word.split("::")[0]).exists()
    ]
    assert missing == []


# --- flags and paths ---------------------------------------------------------------------------


def cli_options() -> set[str]:
    parser = cli_args.parser()
    found = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.update(sub._option_string_actions)
    return found


def plugin_options() -> set[str]:
    tree = ast.parse((ROOT / "conformance" / "suite" / "plugin.py").read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("--conformance-")
    }


def test_every_flag_the_prose_names_exists() -> None:
    cli, plugin = cli_options(), plugin_options()
    assert {"--allow-writes", "--retry-pause", "--no-schemathesis"} <= cli
    assert "--conformance-base-url" in plugin
    unknown = [
        f"{doc}: {word}"
        for doc, words in all_commands()
        if is_pytest(words)
        for word in words
        if word.startswith("--conformance-") and word.split("=")[0] not in plugin
    ]
    for doc in DOCS:
        for span in INLINE.findall(prose(doc.read_text(encoding="utf-8"))):
            for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", span):
                if flag.startswith("--conformance-"):
                    known = plugin
                elif is_pytest(span.split()):
                    continue  # pytest's own options
                else:
                    known = cli
                if flag not in known:
                    unknown.append(f"{rel(doc)}: {flag}")
    assert unknown == []


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_repository_path_named_exists(doc: Path) -> None:
    text = re.sub(r"https?://\S+", "", prose(doc.read_text(encoding="utf-8")))
    missing = []
    for path in REPO_PATH.findall(text):
        path = path.rstrip(".,;:")
        if path in ELSEWHERE:
            continue
        if not any(ROOT.glob(path.rstrip("/"))):
            missing.append(path)
    assert missing == []


# --- the README --------------------------------------------------------------------------------


def test_the_readme_keeps_the_quick_start_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = [line.strip() for block in blocks(text, "sh") for line in block.splitlines()]
    for command in QUICK_START:
        assert command in shown


def test_the_readme_is_short_and_links_every_docs_page() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    linked = set(LINK.findall(text))
    pages = {rel(p) for p in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set()
    assert {"ARCHITECTURE.md", "tests/README.md"} <= linked
