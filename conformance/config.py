"""RunConfig: what one run does, built from flags, the environment and an optional TOML file.

Flags win over the file. The token is resolved here and kept out of `repr`, so it cannot leak
through a log line or an error message.
"""

from __future__ import annotations

import dataclasses
import os
import random
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import ConfigError, UsageError
from conformance.reference.profile import load_profile, profile_names
from conformance.reference.variations import check_variations, needed_window
from conformance.target import DEFAULT_RETRY_PAUSE, check_base_url

TOKEN_ENV = "CONFORMANCE_TOKEN"
REFERENCE_PREFIX = "reference:"
DEFAULT_MAX_EXAMPLES = 20
DEFAULT_CONNECTIONS = 4
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class PlatformConfig:
    """One connector to test: a base URL and token, or an embedded reference profile."""

    name: str
    base_url: str | None = None  # None: the embedded reference profile `reference`
    token: str = field(default="", repr=False)
    order_ids: tuple[str, ...] = ()
    reference: str | None = None
    defects: frozenset[str] = frozenset()
    # named variations of the embedded reference profile (conformance/reference/variations.toml)
    variations: frozenset[str] = frozenset()

    @property
    def is_reference(self) -> bool:
        return self.base_url is None

    @property
    def declared_by(self) -> str | None:
        """The reference profile whose packaged manifest states this platform's claims: none
        with variations, since the manifest describes the plain profile and a variation may
        change what the contract calls it (e.g. platform-statuses: partial)."""
        return self.reference if not self.variations else None

    @property
    def target_label(self) -> str:
        if self.base_url is None:
            return f"{REFERENCE_PREFIX}{self.reference}"
        from conformance.target import display_url

        return display_url(self.base_url)


@dataclass(frozen=True)
class RunConfig:
    platforms: tuple[PlatformConfig, ...]
    allow_writes: bool
    act_on_existing: bool
    seed: int
    output_dir: Path
    timeout: float = 10.0
    # The first pause before sending again a transient answer without Retry-After (contract
    # section 2), doubled at each retry: small for loopback tests, larger for a real store.
    retry_pause: float = DEFAULT_RETRY_PAUSE
    consistency_window: float = 0.0
    max_examples: int = 0
    max_requests: int | None = None
    workers: int | None = None  # parallel platforms; None: one per core
    # Requests in flight at once over the whole run, shared by the platforms running together.
    connections: int = DEFAULT_CONNECTIONS
    # Schemathesis' phases over the target: None means on for URL targets, off for the
    # embedded reference run (which it would slow down without finding more there).
    schemathesis: bool | None = None
    command: str = "conformance run"

    @property
    def parallel_platforms(self) -> int:
        """How many platforms run at the same time: one per core, at most one per platform."""
        return max(1, min(len(self.platforms), self.workers or os.cpu_count() or 1))

    @property
    def connections_per_target(self) -> int:
        """Each running platform's share of `connections` (at least one)."""
        return max(1, self.connections // self.parallel_platforms)


def read_toml(path: Path, what: str, hint: str = "check the path") -> dict[str, Any]:
    """A user's TOML file (config, manifest, expected failures): any problem is one line."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist", hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{what} {path} cannot be read: {exc.__class__.__name__}",
            "check that it is a file you may read, saved as UTF-8 text",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not valid TOML: {exc}", "fix it at the line and column shown"
        ) from None


def _token(explicit: str | None, env_name: str) -> str:
    if explicit:
        return explicit
    value = os.environ.get(env_name, "")
    if not value:
        raise UsageError(
            f"no token for the target: ${env_name} is empty",
            f"set {env_name} (or pass --token)",
        )
    return value


def _platform_from_file(row: Any, index: int) -> PlatformConfig:
    where = f"[[platform]] #{index + 1}"
    if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not row["name"]:
        raise ConfigError(f"{where} needs a name", 'e.g. name = "shopify"')
    known = {"name", "base_url", "token_env", "order_ids", "reference", "variations"}
    unknown = sorted(set(row) - known)
    if unknown:
        raise ConfigError(f"{where} has unknown keys {unknown}", f"use {sorted(known)}")
    name = row["name"]
    if "reference" in row:
        ref = str(row["reference"])
        if ref not in profile_names():
            raise ConfigError(
                f"{where}: unknown reference platform {ref!r}",
                f"choose one of {', '.join(profile_names())}",
            )
        names = row.get("variations", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(
                f"{where} ({name}): variations must be a list of names",
                'e.g. variations = ["gzip", "chunked"]',
            )
        return PlatformConfig(name=name, reference=ref, variations=_varied(ref, names, where))
    if "variations" in row:
        raise ConfigError(
            f"{where} ({name}): variations apply to reference platforms only",
            "remove variations, or use reference = ...",
        )
    if not isinstance(row.get("base_url"), str):
        raise ConfigError(
            f"{where} ({name}) needs base_url or reference",
            'add base_url = "https://..." for a connector, or reference = "<platform>" for one '
            f"of the embedded platforms ({', '.join(profile_names())})",
        )
    orders = row.get("order_ids", [])
    if not isinstance(orders, list) or not all(isinstance(o, str | int) for o in orders):
        raise ConfigError(
            f"{where} ({name}): order_ids must be a list of ids",
            'e.g. order_ids = ["1001", "1002"]',
        )
    return PlatformConfig(
        name=name,
        base_url=check_base_url(row["base_url"]),
        token=_token(None, str(row.get("token_env", TOKEN_ENV))),
        order_ids=tuple(str(o) for o in orders),
    )


def _varied(reference: str, names: Iterable[str], where: str | None = None) -> frozenset[str]:
    """The variations, checked against the reference profile (known, compatible, applicable)."""
    chosen = frozenset(names)
    try:
        check_variations(chosen, load_profile(reference))
    except UsageError as err:
        if where is None:
            raise
        raise ConfigError(f"{where}: {err.message}", err.hint) from None
    return chosen


def _window(file: dict[str, Any], platforms: list[PlatformConfig]) -> float:
    """Seconds a read may lag behind a write: the file's, else 2 when a URL target is in the
    run and 0 when every platform is embedded (a config file's `reference` platforms too),
    raised to what the variations in use need (e.g. read-lag)."""
    if "consistency_window" in file:
        value = file["consistency_window"]
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(
                "consistency_window must be a number of seconds ≥ 0",
                "e.g. consistency_window = 2; 0 when reads show writes at once",
            )
        return float(value)
    needed = needed_window(name for p in platforms for name in p.variations)
    remote = any(p.base_url is not None for p in platforms)
    return max(2.0 if remote else 0.0, needed)


def _file_flag(file: dict[str, Any], key: str, flag: str) -> bool:
    """A true/false key of the config file; `bool("false")` would silently turn it on."""
    value = file.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false", f"e.g. {key} = true, or pass {flag}")
    return value


def _file_path(file: dict[str, Any], key: str, flag: str) -> str | None:
    """A path key of the config file (a string), or None when it is not there."""
    value = file.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{key} must be a path", f'e.g. {key} = "reports", or pass {flag}')
    return value


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1-based): this job runs every N-th platform, starting at the I-th."""
    index, _, total = str(text).partition("/")
    if not (index.isdigit() and total.isdigit() and 1 <= int(index) <= int(total)):
        raise UsageError(f"invalid shard {text!r}", "write I/N with 1 ≤ I ≤ N, e.g. --shard 2/4")
    return int(index), int(total)


def _shard(platforms: list[PlatformConfig], shard: str | None) -> list[PlatformConfig]:
    if shard is None:
        return platforms
    index, total = parse_shard(shard)
    return [p for i, p in enumerate(platforms) if i % total == index - 1]


def build(
    *,
    base_url: str | None = None,
    platform: str | None = None,
    token: str | None = None,
    allow_writes: bool = False,
    act_on_existing: bool = False,
    order_ids: Sequence[str] = (),
    output_dir: str | None = None,
    seed: int | None = None,
    config_file: str | None = None,
    timeout: float | None = None,
    retry_pause: float | None = None,
    max_examples: int | None = None,
    max_requests: int | None = None,
    connections: int | None = None,
    shard: str | None = None,
    defects: frozenset[str] = frozenset(),
    variations: frozenset[str] = frozenset(),
    command: str = "conformance run",
) -> RunConfig:
    """Flags + environment + file → RunConfig; every problem is a UsageError with a hint.

    Every argument defaults to what `conformance run` does without that flag. `variations`
    apply to the embedded reference platforms only, and each must apply to every one selected.
    """
    if variations and base_url is not None:
        raise UsageError(
            "--variation applies to the embedded reference platforms only, not to --base-url",
            "serve a varied platform with `conformance serve --variation ...` and point "
            "--base-url at it",
        )
    file: dict[str, Any] = (
        read_toml(Path(config_file), "config file", "check the --config path")
        if config_file
        else {}
    )
    platforms: list[PlatformConfig]
    embedded = False
    if file.get("platform"):
        rows = file["platform"]
        if not isinstance(rows, list):
            raise ConfigError("`platform` must be an array of tables", "write [[platform]]")
        platforms = [_platform_from_file(row, i) for i, row in enumerate(rows)]
        if platform is not None:
            listed = [p.name for p in platforms]
            platforms = [p for p in platforms if p.name == platform]
            if not platforms:
                raise ConfigError(
                    f"platform {platform!r} is not in {config_file}",
                    f"choose one of {', '.join(listed)}, or leave --platform out to run them all",
                )
        if base_url is not None:
            if len(platforms) != 1:
                raise UsageError(
                    "--base-url with a multi-platform config", "select one platform with --platform"
                )
            p = platforms[0]
            platforms = [
                PlatformConfig(
                    p.name,
                    check_base_url(base_url),
                    p.token or _token(token, TOKEN_ENV),
                    p.order_ids,
                )
            ]
    elif base_url is not None:
        platforms = [
            PlatformConfig(
                name=platform or "target",
                base_url=check_base_url(base_url),
                token=_token(token, TOKEN_ENV),
                order_ids=tuple(order_ids),
            )
        ]
    else:
        embedded = True
        names = profile_names()
        if platform is not None:
            if platform not in names:
                raise UsageError(
                    f"unknown platform {platform!r}",
                    f"without --base-url, choose a reference platform: {', '.join(names)}",
                )
            names = (platform,)
        platforms = [
            PlatformConfig(name=n, reference=n, defects=defects, variations=_varied(n, variations))
            for n in names
        ]
    if variations and not embedded:  # a config file's platforms: its reference ones only
        for p in platforms:
            if p.reference is None:
                raise UsageError(
                    f"--variation applies to the embedded reference platforms only, "
                    f"and {p.name} is a URL target",
                    "select a reference platform with --platform, or put `variations` on the "
                    "config file's reference rows",
                )
        platforms = [
            dataclasses.replace(p, variations=_varied(str(p.reference), p.variations | variations))
            for p in platforms
        ]
    if order_ids and not embedded:
        platforms = [dataclasses.replace(p, order_ids=tuple(order_ids)) for p in platforms]
    platforms = _shard(platforms, shard if shard is not None else file.get("shard"))
    names_seen = [p.name for p in platforms]
    if len(set(names_seen)) != len(names_seen):
        raise ConfigError("two platforms share a name", "platform names must be unique")
    chosen_seed = seed if seed is not None else file.get("seed")
    if chosen_seed is None:
        chosen_seed = random.randrange(2**31)
    if not isinstance(chosen_seed, int) or isinstance(chosen_seed, bool):
        raise ConfigError("seed must be an integer", "e.g. seed = 42, or pass --seed 42")
    writes = allow_writes or _file_flag(file, "allow_writes", "--allow-writes")
    timeout_value = timeout if timeout is not None else file.get("timeout", 10.0)
    if not isinstance(timeout_value, int | float) or isinstance(timeout_value, bool):
        raise ConfigError("timeout must be a number of seconds", "e.g. timeout = 10")
    if timeout_value <= 0:
        raise UsageError("--timeout must be positive", "e.g. --timeout 10")
    pause = retry_pause if retry_pause is not None else file.get("retry_pause", DEFAULT_RETRY_PAUSE)
    if not isinstance(pause, int | float) or isinstance(pause, bool) or not 0 <= pause <= 60:
        raise UsageError(
            "--retry-pause must be a number of seconds from 0 to 60",
            f"e.g. --retry-pause {DEFAULT_RETRY_PAUSE}",
        )
    examples = (
        max_examples if max_examples is not None else file.get("max_examples", DEFAULT_MAX_EXAMPLES)
    )
    if not isinstance(examples, int) or isinstance(examples, bool) or examples < 0:
        raise UsageError("--max-examples must be a whole number ≥ 0", "0 turns generation off")
    budget = max_requests if max_requests is not None else file.get("max_requests")
    if budget is not None and (not isinstance(budget, int) or budget < 1):
        raise UsageError("--max-requests must be a whole number ≥ 1", "e.g. --max-requests 500")
    limit = connections if connections is not None else file.get("connections", DEFAULT_CONNECTIONS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_CONNECTIONS:
        raise UsageError(
            f"--connections must be a whole number from 1 to {MAX_CONNECTIONS}",
            f"e.g. --connections {DEFAULT_CONNECTIONS}; 1 sends every request one at a time",
        )
    use_schemathesis = file.get("schemathesis")
    if use_schemathesis is not None and not isinstance(use_schemathesis, bool):
        raise ConfigError(
            "schemathesis must be true or false", "e.g. schemathesis = false turns it off"
        )
    return RunConfig(
        schemathesis=use_schemathesis,
        max_requests=budget,
        connections=limit,
        platforms=tuple(platforms),
        allow_writes=writes,
        act_on_existing=act_on_existing or _file_flag(file, "act_on_existing", "--act-on-existing"),
        seed=chosen_seed,
        output_dir=Path(output_dir or _file_path(file, "output_dir", "--output-dir") or "."),
        timeout=float(timeout_value),
        retry_pause=float(pause),
        consistency_window=_window(file, platforms),
        command=command,
        max_examples=examples,
    )
