"""`conformance`'s arguments: argv → argparse.Namespace, for run, matrix and serve.

Apart from cli.py (the commands and their exit codes) so that each stays short; every flag's
help text is here. A usage error is one line and exit code 2 (cli.ExitCode.USAGE_ERROR), like
every other error of the CLI.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from conformance import __version__
from conformance.config import DEFAULT_CONNECTIONS, TOKEN_ENV
from conformance.matrix import DEFAULT_OUTPUT
from conformance.reference.profile import profile_names
from conformance.reference.server import defect_catalogue
from conformance.reference.variations import variation_catalogue

USAGE_ERROR = 2  # cli.ExitCode.USAGE_ERROR


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"conformance: error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    parser = Parser(prog="conformance", description="Conformance suite for Returns API connectors.")
    parser.add_argument("--version", action="version", version=f"conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = sub.add_parser(
        "run", help="probe a target (or the reference platforms) and write capability matrices"
    )
    run.add_argument(
        "--base-url", help="the connector's base URL; omit to run the embedded reference platforms"
    )
    run.add_argument(
        "--platform",
        help="report name of the target, or which reference platform / config entry to run",
    )
    run.add_argument("--token", help=f"bearer token (prefer the {TOKEN_ENV} environment variable)")
    run.add_argument(
        "--allow-writes",
        action="store_true",
        help="allow POST requests (create returns, act on them); use a sandbox",
    )
    run.add_argument(
        "--act-on-existing",
        action="store_true",
        help="allow approve/reject/cancel on returns the suite did not create",
    )
    run.add_argument(
        "--order-id",
        action="append",
        default=[],
        metavar="ID",
        help="an order to test on (repeatable); default: discovered",
    )
    run.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where capability_matrices/ and reports/ go (default: the current directory)",
    )
    run.add_argument("--seed", type=int, help="random seed, to repeat a run exactly")
    run.add_argument("--config", metavar="FILE", help="TOML config (can list several platforms)")
    run.add_argument("--timeout", type=float, help="per-request timeout in seconds (default 10)")
    run.add_argument(
        "--retry-pause",
        type=float,
        metavar="SECONDS",
        help="first pause before sending again a 429/502/503/504 that gives no Retry-After, "
        "doubled at each retry (default 0.5)",
    )
    run.add_argument(
        "--max-examples",
        type=int,
        metavar="N",
        help="generated examples per property and per state-machine run "
        "(default 20; 0 turns generated testing off)",
    )
    run.add_argument(
        "--max-requests",
        type=int,
        metavar="N",
        help="request budget per platform; what it leaves untried is untested",
    )
    run.add_argument(
        "--connections",
        type=int,
        metavar="N",
        help=f"requests in flight at once over the whole run, shared by the platforms running "
        f"in parallel (default {DEFAULT_CONNECTIONS}); only independent reads use more than one",
    )
    run.add_argument(
        "--shard",
        metavar="I/N",
        help="run every N-th platform starting at the I-th (split a run across CI jobs)",
    )
    run.add_argument(
        "--schemathesis",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run schemathesis' phases too (default: on for URL targets, off for the "
        "reference platforms)",
    )
    run.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a seeded defect in the reference platforms (to see the suite catch it)",
    )
    variation_flag(run, "the embedded reference platforms (each must apply to every one run)")

    gate_flags(run)

    mat = sub.add_parser(
        "matrix",
        help="merge capability matrices into one HTML page, and apply the gate to them",
    )
    mat.add_argument(
        "paths",
        nargs="+",
        metavar="DIR",
        type=Path,
        help="capability_matrices/ directories (or single matrix files) of one or more runs",
    )
    mat.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        default=Path(DEFAULT_OUTPUT),
        help=f"where the HTML page goes (default: {DEFAULT_OUTPUT})",
    )
    mat.add_argument(
        "--summary",
        metavar="FILE",
        type=Path,
        help="also write the Markdown summary there (e.g. $GITHUB_STEP_SUMMARY)",
    )
    mat.add_argument("--title", help="the page's title")
    gate_flags(mat)

    serve = sub.add_parser("serve", help="serve one reference platform over HTTP")
    serve.add_argument(
        "--platform", default=profile_names()[0], help="one of: " + ", ".join(profile_names())
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--token",
        help=f"bearer token clients must send (default: ${TOKEN_ENV}, "
        "else a random one, printed once)",
    )
    serve.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a seeded defect: " + ", ".join(defect_catalogue()),
    )
    serve.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="delay every answer by MS milliseconds, to imitate a store across the internet",
    )
    variation_flag(serve, "the platform")
    return parser


def variation_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--variation",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help=f"apply named variations (behaviours the contract permits) to {what}; "
        "comma-separated or repeated: " + ", ".join(variation_catalogue()),
    )


def variations(values: Sequence[str]) -> frozenset[str]:
    """`--variation a,b --variation c` → {a, b, c}."""
    return frozenset(n.strip() for value in values for n in value.split(",") if n.strip())


def gate_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--declared",
        action="append",
        default=[],
        metavar="FILE",
        type=Path,
        help="a manifest of declared capabilities (TOML, repeatable); default: "
        "capability_matrices/<platform>.declared.toml, else the reference platform's own",
    )
    parser.add_argument(
        "--baseline",
        metavar="PATH",
        type=Path,
        help="an earlier matrix (or a directory of them): regressions fail the gate",
    )
    parser.add_argument(
        "--expected-failures",
        metavar="FILE",
        type=Path,
        help="TOML list of known failures, each with a reason; one that passes now fails the gate",
    )
    parser.add_argument(
        "--fail-on",
        metavar="VERDICTS",
        help="comma-separated verdicts that fail the gate (default: failing; "
        "e.g. failing,inconclusive)",
    )


def redacted_argv(argv: Sequence[str]) -> str:
    words, hide = [], False
    for word in argv:
        if hide:
            words.append("[REDACTED]")
            hide = False
        elif word == "--token":
            words.append(word)
            hide = True
        elif word.startswith("--token="):
            words.append("--token=[REDACTED]")
        else:
            words.append(word)
    return shlex.join(["conformance", *words])
