"""The schemathesis stage: schema-driven and link-following testing of one target.

Runs schemathesis 4's engine (the examples, coverage, fuzzing and stateful phases, with its
built-in checks) against a target and turns what it reports into the suite's own findings, on
the operation whose response was wrong, with the suite's reason codes.

Schemathesis' defaults do not fit the Returns contract (a correct server fails them), so the run
is configured for it; each adjustment is named where it is made:

* 501 NOT_SUPPORTED, 405 and 403 NOT_ALLOWED are the contract's "unsupported" answers. Operations
  the probes already found unsupported are not run at all; elsewhere 501 is not a server error and
  405 is not an undocumented status.
* ``positive_data_acceptance`` is off: a schema-valid body may break a business rule (422), a
  generated ``page`` token is unreadable (400), a generated ``status`` is unknown (empty list or
  400). None of these is a fault, and no reason code describes "valid input refused" anyway.
* "Invalid input accepted" only counts when the contract's own schemas and rules find the request
  invalid too: an empty ``status`` filter answered with an empty list is correct, and so is a
  whole-number float (``2.0``) accepted for an integer (JSON Schema's integer).
* 502/503/504 are transient (contract section 2): schemathesis never sends such a request again,
  so the stage does, through the suite's ``Target`` and its retries (:mod:`.transient`). Answered
  then: counted as retried on the operation, not a finding; the same 5xx every time while the
  requests around it succeed: schemathesis' failure stands; still refused after the budget:
  ``inconclusive`` (``platform_error``).
* 429 is throttling: any failure on a 429 answer is dropped (inconclusive) and noted. A request
  without a valid token answered 404 or 400 (not served, not 401) is noted, not failed.
* A 5xx is a ``server_error`` only, not also an undocumented status.
* Auth goes in the config headers, so ``ignored_auth`` knows the token is the real one.
* ``Allow``-less 405s and other failures no reason code describes become notes, not findings.
* Link inference is off (it invents links from names); the document's own links are used, plus
  :data:`EXTRA_LINKS`, in memory only: list answers lead to reads of their items, and an order to
  a return of its first line item, so the stateful phase reaches real data.

Safety: without ``allow_writes`` only GET operations are selected (the others are switched off in
the config, which schemathesis reads as "never send") and the coverage phase's undeclared-method
scenarios are off, so not a single POST/PUT/PATCH/DELETE is sent. With writes, approve, reject,
cancel and createReturnFulfillment never take ids learnt from earlier answers or ``known_ids``
(they could be a customer's return), only generated ones and those of returns the stateful phase
created itself (see :func:`.screen.forget_learnt_ids`).

The package splits along its seams: :mod:`.config` (what runs, on which document), :mod:`.adapter`
(every schemathesis internal, checked against one version), :mod:`.screen` (the contract's say over
cases and failures), :mod:`.transient` (502/503/504 sent again), :mod:`.translate` (failures to
findings) and :mod:`.run` (one run).

Schemathesis' engine is not a public API (its migration guide says so), so the version is pinned to
the minor it was checked against, and :mod:`.adapter` raises :class:`SchemathesisDrift` on anything
shaped otherwise. :func:`run_schemathesis` still never raises (a stage that cannot run is a note,
and the run goes on), but the tests call the adapter's check and run the stage on the reference
server, so drift is a red test before it is a note in anyone's report.
"""

from __future__ import annotations

from collections.abc import Mapping

from conformance.findings import Redactor
from conformance.generate.schemathesis_stage.adapter import SchemathesisDrift
from conformance.generate.schemathesis_stage.config import (
    DEFAULT_MAX_TIME,
    EXTRA_LINKS,
    build_config,
    selected_operations,
)
from conformance.generate.schemathesis_stage.run import StageResult, _Run
from conformance.generate.schemathesis_stage.translate import MAX_MESSAGE, REASONS
from conformance.target import Target

__all__ = [
    "EXTRA_LINKS",
    "REASONS",
    "SchemathesisDrift",
    "StageResult",
    "build_config",
    "run_schemathesis",
    "selected_operations",
]

COULD_NOT_RUN = "schemathesis could not run"


def run_schemathesis(
    base_url: str,
    token: str,
    *,
    allow_writes: bool,
    seed: int,
    max_examples: int,
    unsupported: Mapping[str, str],
    known_ids: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    max_time: float = DEFAULT_MAX_TIME,
    consistency_window: float = 0.0,
    tag: str | None = None,
    target: Target | None = None,
) -> StageResult:
    """Run schemathesis against ``base_url`` and translate its failures into findings.

    ``unsupported`` maps the operations the probes found unsupported to their reason code; they
    are not run. ``known_ids`` may name real data for path parameters: ``orderId``, ``id`` or
    ``returnId`` (a return) and ``fulfillmentId``; generation uses them half of the time.
    ``timeout`` bounds each request and ``max_time`` the whole run (it is stopped after that).
    With a ``consistency_window``, "just created but not found" is not reported: schemathesis
    reads back at once, the probes wait the window.
    ``target`` (the session's, so its retry budget and request count hold) sends again the
    requests answered 502/503/504; without one the stage makes its own for ``base_url``.
    Never raises: a schemathesis that cannot run (drift included) is reported in ``notes``, as
    ``schemathesis could not run: …``, and the findings of that run are dropped.
    """
    redactor = Redactor([token])
    own = None
    try:
        if target is None:
            target = own = Target(base_url, token, allow_writes=allow_writes, timeout=timeout)
        run = _Run(
            base_url=base_url,
            token=token,
            allow_writes=allow_writes,
            seed=seed,
            max_examples=max_examples,
            unsupported=unsupported,
            known_ids=dict(known_ids or {}),
            timeout=timeout,
            max_time=max_time,
            consistency_window=consistency_window,
            redactor=redactor,
            resender=target,
            tag=tag,
        )
        return run.execute()
    except Exception as exc:  # the whole conformance run must not end on a schemathesis problem
        message = redactor.text(f"{type(exc).__name__}: {exc}")[:MAX_MESSAGE]
        return StageResult(notes=(f"{COULD_NOT_RUN}: {message}",))
    finally:
        if own is not None:
            own.close()
