"""The probes' shared state: the target, what was found, what the suite itself made.

Every request a probe makes goes through `Session.call`, which hands the answer to the wire
checks of contract section 2 (`conformance.probes.wire`); they record the outcome on the
operation that answered.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.contract import OperationId, Rule, lifecycle, operation, refusal_rules
from conformance.discover import MARK, Inventory, KnownReturn
from conformance.findings import Finding, Observations
from conformance.probes import readback
from conformance.probes.wire import DATA_KEY, check_answer
from conformance.target import NO_BODY, TRANSIENT_STATUSES, Auth, Reply, Target
from conformance.verdicts import ReasonCode

__all__ = ["DATA_KEY", "Read", "Session", "Settings"]

Read = tuple[str, dict[str, str], dict[str, str] | None, Auth]
"""A read to prefetch: operation id, path parameters, query, auth."""
ReadKey = tuple[str, tuple[tuple[str, str], ...], Auth]


def _read_key(
    op_id: str, params: dict[str, str] | None, query: dict[str, str] | None, auth: Auth
) -> ReadKey:
    path = operation(op_id).url_path(**(params or {}))
    return path, tuple(sorted((query or {}).items())), auth


@dataclass(frozen=True)
class Settings:
    """What a run may do to the target."""

    allow_writes: bool
    act_on_existing: bool
    seed: int
    consistency_window: float = 0.0
    excluded: frozenset[str] = frozenset()
    schemathesis: bool = False


@dataclass
class Session:
    target: Target
    inventory: Inventory
    settings: Settings
    seen: Observations = field(default_factory=Observations)
    unsupported: dict[str, str] = field(default_factory=dict)
    # Replies to reads sent ahead, side by side (`prefetch`), waiting for their `call`.
    _ready: dict[ReadKey, list[Reply]] = field(default_factory=dict, repr=False)
    # Values the suite itself sent outside the normalized vocabularies (probes of unknown
    # reasons): when they come back in an answer, they are the suite's, not the platform's.
    sent_values: set[str] = field(default_factory=set)
    # List operations that refuse `limit` (400): their other requests go without it.
    limit_refused: set[str] = field(default_factory=set)
    # The statuses createReturn gave the suite's well-formed returns (lifecycle.newReturnStatus).
    new_return_statuses: set[str] = field(default_factory=set)
    _last_write: float = field(default=0.0, repr=False)

    # ---- recording ----

    def finding(
        self,
        op_id: str,
        reason: str,
        check: str,
        message: str,
        *evidence: Reply,
        steps: Iterable[str] = (),
    ) -> None:
        self.seen.failed(
            Finding(
                op_id,
                reason,
                check,
                message,
                evidence=tuple(r.exchange for r in evidence),
                steps=tuple(steps),
                seed=self.settings.seed,
            )
        )

    def check(
        self, op_id: str, ok: bool, reason: str, check: str, message: str, *evidence: Reply
    ) -> bool:
        """Record one check: a pass, or a finding with its evidence."""
        if ok:
            self.seen.passed(op_id, check)
        else:
            self.finding(op_id, reason, check, message, *evidence)
        return ok

    def refused(
        self,
        op_id: str,
        reply: Reply,
        what: str,
        check: str = "invalid_input",
        also: Iterable[int] = (),
        *,
        rule: Rule,
    ) -> None:
        """Invalid input must be refused: 400 INVALID_REQUEST (or 422 for a business rule), or
        any other refusal that also applies to the request (`also`: 409 on a return whose status
        forbids the action, 404 on ids that do not exist). `rule` is the contract sentence that
        makes accepting it wrong: the finding quotes it. A 5xx is already a finding of the wire
        checks; throttling and timeouts decide nothing here."""
        if reply.problem or op_id in self.unsupported:
            return
        if reply.ok:
            self.finding(
                op_id,
                ReasonCode.invalid_input_accepted,
                check,
                f"{what} was accepted ({reply.status}); {refusal_rules()[rule]}",
                reply,
            )
        else:
            self._refusal_status(op_id, reply, what, check, also)

    def tolerated(
        self,
        op_id: str,
        reply: Reply,
        what: str,
        why: str,
        check: str = "invalid_input",
        also: Iterable[int] = (),
    ) -> None:
        """Input the contract lets a connector accept or refuse (an optional field sent as null;
        a value no contract sentence forbids): accepted is a note saying `why`, refused must
        still be a documented refusal (400, 422 or one in `also`)."""
        if reply.problem or op_id in self.unsupported:
            return
        if reply.ok:
            self.seen.passed(op_id, check)
            self.seen.note(op_id, f"accepts {what} ({reply.status}): {why}")
        else:
            self._refusal_status(op_id, reply, what, check, also)

    def _refusal_status(
        self, op_id: str, reply: Reply, what: str, check: str, also: Iterable[int]
    ) -> None:
        """A refusal of invalid input is 400, 422 or an applicable one (`also`); a 3xx is no
        refusal and no acceptance: an undocumented status."""
        if (reply.status or 0) < 500:
            allowed = sorted({400, 422, *also})
            self.check(
                op_id,
                reply.status in allowed,
                ReasonCode.undocumented_status,
                check,
                f"{what} must be refused with 400 INVALID_REQUEST (or an applicable "
                f"{'/'.join(str(code) for code in allowed if code != 400)}), got {reply.status}",
                reply,
            )

    def applicable_refusals(self, op_id: str, ret: KnownReturn | None) -> tuple[int, ...]:
        """Refusals that apply to any request of `op_id` on `ret` besides a bad body: 409 when
        the return's current status does not allow the action (contract section 2: any
        applicable refusal is correct)."""
        op = operation(op_id)
        if ret is None:
            return (404,)
        if op.kind == "action" and ret.status not in op.from_status:
            return (409,)
        if (
            op_id == OperationId.createReturnFulfillment
            and ret.status not in lifecycle().fulfillment_from
        ):
            return (409,)
        return ()

    @property
    def tag(self) -> str:
        """The note on everything the suite creates, so a store owner can find and remove it."""
        return f"{MARK} (seed {self.settings.seed})"

    def is_open(self, op_id: str) -> bool:
        """Still worth probing: not found unsupported, not excluded by the user."""
        return op_id not in self.unsupported and op_id not in self.settings.excluded

    # ---- calling ----

    def prefetch(self, reads: Iterable[Read]) -> None:
        """Send independent reads side by side, within the target's connection limit.

        Nothing is checked or recorded here: each reply waits until the probe makes the same
        `call`, in the probe's own order, so findings and their order do not depend on
        concurrency. Any write drops what is waiting (it could be stale after the write).
        """
        reads = list(reads)
        if any(operation(op_id).method != "GET" for op_id, *_ in reads):
            raise ValueError("only reads can be sent ahead")
        if self.target.connections < 2:
            return  # nothing to gain: the probes' own calls go one by one anyway
        keys = [_read_key(op_id, params, query, auth) for op_id, params, query, auth in reads]
        if len(keys) < 2:
            return
        replies = self.target.call_many(
            [(path, dict(query) or None, auth) for path, query, auth in keys],
            routes=[op_id for op_id, *_ in reads],
        )
        for key, reply in zip(keys, replies, strict=True):
            self._ready.setdefault(key, []).append(reply)

    def drop_prefetched(self) -> None:
        """Forget replies no probe asked for (a probe stopped early)."""
        self._ready.clear()

    def call(
        self,
        op_id: str,
        params: dict[str, str] | None = None,
        *,
        query: dict[str, str] | None = None,
        body: Any = NO_BODY,
        auth: Auth = "valid",
        raw_body: bytes | None = None,
        well_formed: bool = True,
        beyond: bool = False,
    ) -> Reply:
        """Send one request of `op_id` and apply the wire checks to its answer. `well_formed`:
        the request is valid, so 501/405/403 means unsupported. `beyond`: it carries a value
        beyond the contract (beyond.toml), so an undocumented 4xx is noted, not failed."""
        op = operation(op_id)
        path = op.url_path(**(params or {}))
        waiting = None
        if op.method != "GET" or body is not NO_BODY or raw_body is not None:
            self._ready.clear()  # a write: what was read ahead may be stale now
        elif self._ready:
            waiting = self._ready.get(_read_key(op_id, params, query, auth))
        if waiting:
            reply = waiting.pop(0)
        else:
            reply = self.target.call(
                op.method,
                path,
                params=query,
                body=body,
                auth=auth,
                raw_body=raw_body,
                route=op_id,
            )
        adopted = False
        if op.method != "GET" and reply.problem == ReasonCode.timeout and auth == "valid":
            reply, adopted = self._after_write_timeout(op_id, params or {}, body, reply)
        if op.method != "GET":
            self._last_write = time.monotonic()
        self.seen.retried(op_id, reply.retried, recovered=not _ran_out(reply))
        if op_id == OperationId.createReturn and reply.ok:
            self.inventory.record_creation(reply.exchange)  # for replay scripts (repro.py)
        elif reply.ok and (op.kind == "action" or op_id == OperationId.createReturnFulfillment):
            self.inventory.record_write(params or {}, reply.exchange)  # likewise
        if not adopted:  # an adopted write's answer is the read that found it, checked there
            check_answer(self, op, reply, well_formed and auth == "valid", beyond)
        return reply

    def _after_write_timeout(
        self, op_id: str, params: dict[str, str], body: Any, reply: Reply
    ) -> tuple[Reply, bool]:
        """A write that timed out may have happened (unlike a transient 5xx, which wrote
        nothing): read it back before sending it again, so the suite never makes a second
        return (or fulfillment, or action) without knowing it. (reply, adopted): the write
        found done (adopted, noted), or its one resend, or the timeout when the read cannot
        tell."""
        found = readback.find(self, op_id, params, body)
        if found is None:  # not done: sent once more, like a request that wrote nothing
            op = operation(op_id)
            again = self.target.call(op.method, op.url_path(**params), body=body, route=op_id)
            return dataclasses.replace(again, retried=(ReasonCode.timeout, *again.retried)), False
        if not isinstance(found, dict):
            return reply, False  # the read cannot tell: the timeout stays (inconclusive)
        self.seen.note(
            op_id,
            "a write timed out but had taken effect: the suite read it back and went on "
            "with what it found, without sending it again",
        )
        return readback.adopted(reply, found), True

    def collect(
        self, op_id: str, params: dict[str, str], max_pages: int = 50
    ) -> tuple[list[dict[str, Any]], Reply, bool]:
        """Every item of a list, following page.next: (items, last reply, complete)."""
        key = DATA_KEY[op_id]
        items: list[dict[str, Any]] = []
        query = self.list_query(op_id)
        reply = self.call(op_id, params, query=query)
        if reply.status == 400 and query:  # limit refused: noted by the list probes, not here
            query = {}
            reply = self.call(op_id, params)
            if reply.ok:
                self.limit_refused.add(op_id)
        for _ in range(max_pages):
            page = [i for i in reply.get(key) or [] if isinstance(i, dict)]
            items += page
            nxt = reply.get("page", "next")
            if not reply.ok or not isinstance(nxt, str) or not nxt:
                return items, reply, reply.ok
            if not self.endless_check(op_id, page, nxt, query.get("page"), reply):
                return items, reply, False
            query = {"page": nxt}
            reply = self.call(op_id, params, query=query)
        return items, reply, False

    def endless_check(
        self, op_id: str, page: list[Any], nxt: str, used: str | None, reply: Reply
    ) -> bool:
        """Pagination that cannot end: an empty page that still points further, or a next
        token equal to the one just used. Either would loop forever."""
        endless = (not page and bool(nxt)) or nxt == used
        return self.check(
            op_id,
            not endless,
            ReasonCode.pagination_broken,
            "pagination_ends",
            f"page.next={nxt!r} on a page of {len(page)} items"
            + (" (the token just used)" if nxt == used else "")
            + ": following it would never end",
            reply,
        )

    def eventually(self, probe: Callable[[], tuple[bool, Reply]]) -> tuple[bool, Reply]:
        """Read-your-writes within the configured consistency window: ask again until the
        answer shows the write, or the window since the last write has passed."""
        deadline = max(time.monotonic(), self._last_write + self.settings.consistency_window)
        while True:
            ok, reply = probe()
            if ok or time.monotonic() >= deadline:
                return ok, reply
            time.sleep(0.2)

    def consistent_by(self) -> float:
        """The moment (time.monotonic) by which every read must show the last write."""
        return self._last_write + self.settings.consistency_window

    def settle(self) -> None:
        """Wait out the consistency window after the last write, before checks that compare
        several answers with each other (pagination, filters against the full list)."""
        wait = self._last_write + self.settings.consistency_window - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def list_query(self, op_id: str, **extra: str) -> dict[str, str]:
        """A list request's query: the largest page (`limit=250`) unless the operation refuses
        `limit`, plus `extra`."""
        query = {} if op_id in self.limit_refused else {"limit": "250"}
        return {**query, **extra}

    # ---- the suite's own data ----

    def probe_made(self, ret: Any) -> bool:
        """A return in an answer that a probe of invalid or beyond-contract input made (the
        platform accepted it): what it carries is charged to the operation that accepted it,
        never to the reads that show it later."""
        if not isinstance(ret, dict):
            return False
        known = self.inventory.returns.get(str(ret.get("returnOrderId")))
        return (known is not None and known.probe) or ret.get("note") == self.probe_tag

    def foreign_made(self, ret: Any) -> bool:
        """A return schemathesis made in this run (it carries the suite's note, but the suite's
        own probes did not make it): its generated values are the suite's, not the platform's."""
        if not isinstance(ret, dict) or ret.get("note") != self.tag:
            return False
        known = self.inventory.returns.get(str(ret.get("returnOrderId")))
        return known is None or not known.created_by_suite

    @property
    def probe_tag(self) -> str:
        """The note on what the probes of invalid or beyond-contract input create."""
        return f"{self.tag}, input probe"


def _ran_out(reply: Reply) -> bool:
    """The request got no answer but transient ones, however often it was sent (the wire checks
    record why: rate_limited, platform_error, timeout, or a 5xx on that input)."""
    return (
        reply.problem
        in (
            ReasonCode.rate_limited,
            ReasonCode.platform_error,
            ReasonCode.timeout,
        )
        or (reply.status or 0) in TRANSIENT_STATUSES
    )
