"""What the gate compares a run with: declared manifests, expected failures, a baseline.

Each is read and validated before the run starts, so a bad file is a usage error, not a
half-finished run.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.config import read_toml
from conformance.contract import OperationId
from conformance.errors import ConfigError
from conformance.results import (
    Claim,
    Declared,
    Expectation,
    PlatformResult,
    RunResult,
    load_matrices,
)
from conformance.verdicts import reasons

MANIFEST_SUFFIX = ".declared.toml"
MATRIX_DIR = "capability_matrices"
REFERENCE_PREFIX = "reference:"


@dataclass(frozen=True)
class Manifest:
    """A platform's declared capabilities (`<platform>.declared.toml`)."""

    platform: str | None
    source: str
    claims: Mapping[str, Declared]


def _operation(op: object, where: str) -> str:
    if op not in set(OperationId):
        raise ConfigError(
            f"{where}: unknown operation {op!r}", f"use one of {', '.join(OperationId)}"
        )
    return str(op)


def parse_manifest(data: dict[str, Any], source: str) -> Manifest:
    """Validate a manifest; a note is mandatory for every claim but `supported`."""
    unknown = sorted(set(data) - {"platform", "operations"})
    if unknown:
        raise ConfigError(f"manifest {source}: unknown keys {unknown}", "use platform, operations")
    platform = data.get("platform")
    if platform is not None and (not isinstance(platform, str) or not platform):
        raise ConfigError(
            f"manifest {source}: platform must be a name",
            'e.g. platform = "shopify", as the run names it; or leave it out',
        )
    rows = data.get("operations", {})
    if not isinstance(rows, dict):
        raise ConfigError(
            f"manifest {source}: [operations] must be a table",
            "write [operations], then one line per operation, e.g. getReturn = { status = "
            '"supported" }',
        )
    claims: dict[str, Declared] = {}
    for op, row in rows.items():
        where = f"manifest {source}, {op}"
        _operation(op, f"manifest {source}")
        if not isinstance(row, dict) or set(row) - {"status", "note"}:
            raise ConfigError(
                f"{where}: expected {{ status = ..., note = ... }}",
                f'e.g. {op} = {{ status = "partial", note = "why" }}',
            )
        try:
            status = Claim(str(row.get("status")))
        except ValueError:
            raise ConfigError(
                f"{where}: status {row.get('status')!r}", "use supported, partial or unsupported"
            ) from None
        note = row.get("note", "")
        if not isinstance(note, str) or (status != Claim.supported and not note.strip()):
            raise ConfigError(
                f"{where}: a {status.value} claim needs a note saying why",
                f'e.g. {op} = {{ status = "{status.value}", note = "what a client cannot do" }}',
            )
        claims[op] = Declared(status, note.strip())
    return Manifest(platform, source, claims)


def read_manifest(path: Path, source: str | None = None) -> Manifest:
    return parse_manifest(read_toml(path, "manifest"), source or str(path))


def packaged_manifest(profile: str) -> Manifest | None:
    """The manifest shipped for a reference platform, if there is one."""
    file = resources.files("conformance.reference").joinpath("declared", profile + MANIFEST_SUFFIX)
    if not file.is_file():
        return None
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # a packaging bug, but say so in one line
        raise ConfigError(
            f"packaged manifest {profile}: {exc}",
            "the installed suite is damaged: reinstall it, and report it if it persists",
        ) from None
    return parse_manifest(data, f"packaged:{profile}")


def find_manifests(
    platforms: Sequence[tuple[str, str | None]], explicit: Sequence[Path], output_dir: Path | None
) -> dict[str, Manifest]:
    """Platform name → manifest: `--declared FILE` (its `platform` key says for whom, or the
    only platform), else `<output-dir>/capability_matrices/<name>.declared.toml`, else the
    packaged manifest of a reference platform (`platforms` pairs a name with its profile)."""
    names = [name for name, _ in platforms]
    found: dict[str, Manifest] = {}
    for path in explicit:
        given = read_manifest(path)
        name = given.platform
        if name is None:
            if len(names) != 1:
                raise ConfigError(
                    f"manifest {path} does not say which platform it is for",
                    'add platform = "<name>" at its top',
                )
            name = names[0]
        if name not in names:
            raise ConfigError(
                f"manifest {path} is for platform {name!r}, which is not in this run",
                f"this run has {', '.join(names)}",
            )
        found[name] = given
    for name, profile in platforms:
        if name in found:
            continue
        local = output_dir / MATRIX_DIR / f"{name}{MANIFEST_SUFFIX}" if output_dir else None
        manifest: Manifest | None = None
        if local is not None and local.is_file():
            manifest = read_manifest(local, f"{MATRIX_DIR}/{local.name}")
        elif profile is not None:
            manifest = packaged_manifest(profile)
        if manifest is not None:
            if manifest.platform not in (None, name, profile):
                raise ConfigError(
                    f"manifest {manifest.source} is for platform {manifest.platform!r}, "
                    f"not {name!r}",
                    "fix its platform key",
                )
            found[name] = manifest
    return found


def profile_of(platform: PlatformResult) -> str | None:
    """The reference profile a matrix was produced from, if any."""
    if platform.target.startswith(REFERENCE_PREFIX):
        return platform.target.removeprefix(REFERENCE_PREFIX)
    return None


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expectations:
    """An expected-failures file: (platform, operation) → why it is known to fail."""

    source: str
    entries: Mapping[tuple[str, str], Expectation]


def read_expectations(path: Path) -> Expectations:
    """`[[expected]]` tables with platform, operation, reason (mandatory) and optional codes."""
    data = read_toml(path, "expected-failures file")
    rows = data.get("expected", [])
    if set(data) - {"expected"} or not isinstance(rows, list):
        raise ConfigError(
            f"{path}: expected only [[expected]] tables",
            "write each entry as [[expected]] with platform, operation and reason",
        )
    known = reasons()
    entries: dict[tuple[str, str], Expectation] = {}
    for index, row in enumerate(rows):
        where = f"{path} [[expected]] #{index + 1}"
        if not isinstance(row, dict) or set(row) - {"platform", "operation", "reason", "codes"}:
            raise ConfigError(
                f"{where}: keys are platform, operation, reason, codes",
                "remove any other key; codes is optional",
            )
        platform, reason = row.get("platform"), row.get("reason")
        if not isinstance(platform, str) or not platform:
            raise ConfigError(
                f"{where} needs a platform", 'e.g. platform = "shopify", as the matrix names it'
            )
        operation = _operation(row.get("operation"), where)
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(
                f"{where} ({platform} {operation}) has no reason",
                'every expected failure says why, e.g. reason = "JIRA-12: fix in 2.3"',
            )
        codes = row.get("codes", [])
        if not isinstance(codes, list) or any(
            not isinstance(c, str) or c not in known for c in codes
        ):
            raise ConfigError(
                f"{where}: codes must be reason codes from data/reasons.toml",
                "copy them from the cell's reasons in the capability matrix, or leave codes out",
            )
        if (platform, operation) in entries:
            raise ConfigError(
                f"{where}: {platform} {operation} is listed twice",
                "keep one entry per platform and operation",
            )
        entries[(platform, operation)] = Expectation(reason.strip(), tuple(codes))
    return Expectations(str(path), entries)


@dataclass(frozen=True)
class Baseline:
    """Earlier matrices, by platform name."""

    source: str
    platforms: Mapping[str, PlatformResult]


def read_baseline(path: Path) -> Baseline:
    """A matrix file or a directory of them."""
    return Baseline(str(path), {p.name: p for p in load_matrices(path)})


def baseline_warnings(run: RunResult, baseline: Baseline) -> tuple[str, ...]:
    """A baseline from another contract or suite version compares only roughly: say so."""
    found = []
    for label, attr in (("contract", "contract_version"), ("suite", "suite_version")):
        old = {getattr(p.provenance, attr) for p in baseline.platforms.values()}
        new = {getattr(p.provenance, attr) for p in run.platforms}
        if old and new and old != new:
            found.append(
                f"the baseline is from {label} {', '.join(sorted(old))}, "
                f"this run from {', '.join(sorted(new))}"
            )
    return tuple(found)
