"""The return lifecycle as a Hypothesis state machine (contract section 4).

Rules create returns, approve / reject / cancel them, add return fulfillments and read everything
back, in any order, over several returns and orders at once. A model of what the contract allows
says what each answer must be; after every step the last touched return is read back. A
violation stops the run; Hypothesis shrinks it to the shortest sequence of calls that still shows
it, and that sequence becomes the finding's steps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure, FlakyStrategyDefinition
from hypothesis.reporting import with_reporter
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conformance.contract import lifecycle, operation, vocabularies
from conformance.discover import OrderInfo, describe_items, same_items
from conformance.findings import Exchange
from conformance.probes.session import Session
from conformance.repro import ACCEPTED, replayable
from conformance.target import Reply

# Views of the one lifecycle table (contract.lifecycle()), never a copy of it.
ACTIONS = {op: step.to_status for op, step in lifecycle().transitions.items()}
LEGAL_FROM = {op: step.from_status for op, step in lifecycle().transitions.items()}
MAX_RUNS = 4  # after a failure, run again without the failing operation, this many times
Problem = tuple[Any, ...]
"""What `Lifecycle.fail` takes: operation, reason, message, then the replies that show it and,
last, optionally the `shows` expression of its replay script (conformance.repro.script)."""


class Violation(Exception):
    """A contract violation seen by the machine, on the operation that answered wrongly."""

    def __init__(
        self,
        op: str,
        reason: str,
        message: str,
        replies: tuple[Reply, ...],
        steps: list[str],
        exchanges: list[Exchange],
        shows: str | None = None,
    ) -> None:
        super().__init__(f"{op}: {reason}: {message}")
        self.op, self.reason, self.message = op, reason, message
        self.replies, self.steps = replies, list(steps)
        # Every call of the failing sequence, in order: what its replay script sends.
        self.exchanges, self.shows = list(exchanges), shows


@dataclass
class Modelled:
    """What the contract says a return the machine created must look like now."""

    id: str
    order_id: str
    status: str
    lines: dict[str, int]
    fulfillments: list[str] = field(default_factory=list)
    last_action: str | None = None


class Budget:
    """Bounds a machine run in requests and seconds, generation and shrinking together."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.requests, self.deadline = requests, time.monotonic() + seconds
        self.used = 0

    def spent(self) -> bool:
        self.used += 1
        return self.used > self.requests or time.monotonic() > self.deadline

    def shrinking(self, seconds: float = 3.0) -> None:
        """A violation was found: shrinking it gets a few seconds more, not the whole budget."""
        self.deadline = min(self.deadline, time.monotonic() + seconds)

    @staticmethod
    def no_answer(op: str, params: dict[str, str]) -> Reply:
        o = operation(op)
        exchange = Exchange(
            o.method, o.url_path(**params), {}, None, None, {}, None, error="budget"
        )
        return Reply(exchange, None, "budget")


def build_machine(
    s: Session, orders: list[OrderInfo], skip: set[str], seen: list[Violation], budget: Budget
) -> type[Any]:
    """A RuleBasedStateMachine class bound to one target; `skip` holds operations found wrong."""

    # Fixed when the class is built: rule selection must not depend on what the target answers
    # during the run, or Hypothesis could not replay (and shrink) a sequence.
    enabled = frozenset(
        op
        for op in (
            *ACTIONS,
            "createReturn",
            "createReturnFulfillment",
            "listOrderReturns",
            "listReturns",
            "listReturnFulfillments",
            "getReturn",
        )
        if s.is_open(op) and op not in skip
    )

    def open_(op: str) -> bool:
        return op in enabled

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.returns: list[Modelled] = []
            self.steps: list[str] = []
            self.exchanges: list[Exchange] = []
            self.touched: Modelled | None = None

        # ---- plumbing ----

        def call(self, op: str, params: dict[str, str], **kw: Any) -> Reply:
            if budget.spent():
                # Out of budget: every rule ends quietly on an answer that is no answer, so
                # Hypothesis finishes (its shrinking included) without another request.
                return budget.no_answer(op, params)
            reply = s.call(op, params, **kw)
            o = operation(op)
            query = "&".join(f"{k}={v}" for k, v in (kw.get("query") or {}).items())
            self.steps.append(
                f"{o.method} {o.url_path(**params)}"
                + (f"?{query}" if query else "")
                + (f" {json.dumps(kw['body'], ensure_ascii=False)}" if "body" in kw else "")
                + f" -> {reply.status}"
            )
            self.exchanges.append(reply.exchange)
            return reply

        def fail(
            self,
            op: str,
            reason: str,
            message: str,
            *evidence: Reply | str,
            sequence: list[Exchange] | None = None,
        ) -> NoReturn:
            """Stop the run on a violation. `evidence`: the replies that show it, then
            optionally the `shows` expression; `sequence`: the exchanges a replay needs, when
            they are not this example's calls (see `create`)."""
            replies = tuple(e for e in evidence if isinstance(e, Reply))
            shows = next((e for e in evidence if isinstance(e, str)), None)
            violation = Violation(
                op,
                reason,
                message,
                replies,
                self.steps,
                self.exchanges if sequence is None else sequence,
                shows,
            )
            if not seen:
                budget.shrinking()
            seen.append(violation)
            raise violation

        def consistently(self, check: Callable[[], Problem | None]) -> None:
            """Read-your-writes within the consistency window: a read that does not show the
            last write yet is asked again until the window after that write has passed."""
            deadline = s.consistent_by()
            while True:
                problem = check()
                if problem is None:
                    return
                if time.monotonic() >= deadline:
                    self.fail(*problem)
                time.sleep(0.2)

        def teardown(self) -> None:
            """Cancel what this example created, so the next one starts with the same room."""
            if not open_("cancelReturn"):
                return
            for ret in self.returns:
                if ret.status in LEGAL_FROM["cancelReturn"]:
                    reply = s.call(
                        "cancelReturn",
                        {"orderId": ret.order_id, "id": ret.id},
                        body={"note": s.tag},
                    )
                    if reply.ok:
                        s.inventory.learn_return(reply.get("return"), ret.order_id)

        # ---- rules ----

        @initialize(pick=st.integers(0, 10**6))
        def start(self, pick: int) -> None:
            """Every sequence starts from a fresh return, so no step is spent on an empty model."""
            self.steps, self.exchanges = [], []
            if open_("createReturn"):
                self.create(pick, 1)

        @precondition(lambda self: open_("createReturn"))
        @rule(pick=st.integers(0, 10**6), quantity=st.integers(1, 4))
        def create(self, pick: int, quantity: int) -> None:
            order = orders[pick % len(orders)]
            lines = sorted(order.lines)
            line = lines[(pick // len(orders)) % len(lines)]
            left = s.inventory.available(order, line)
            holding = s.inventory.holding(order.id, line)
            body = {
                "return": {
                    "items": [{"id": line, "quantity": quantity, "reason": "other"}],
                    "note": s.tag,
                }
            }
            reply = self.call("createReturn", {"orderId": order.id}, body=body)
            if reply.ok:
                s.inventory.learn_return(
                    reply.get("return"), order.id, ours=True, asked={line: quantity}
                )
            if quantity > left:
                if reply.ok:
                    self.fail(
                        "createReturn",
                        "over_quantity_accepted",
                        f"{quantity} × {line} accepted with only {left} returnable "
                        "(the other returns of the line count)",
                        reply,
                        ACCEPTED,
                        # how the suite's returns used the line up, wherever they were made
                        sequence=[*holding, reply.exchange],
                    )
                return
            rid, status = reply.get("return", "returnOrderId"), reply.get("return", "status")
            if reply.ok and isinstance(rid, str) and isinstance(status, str):
                made = Modelled(rid, order.id, status, {line: quantity})
                self.returns.append(made)
                self.touched = made

        def choose(self, pick: int, legal: bool, statuses: tuple[str, ...]) -> Modelled | None:
            """Latest first; with `legal`, among returns whose status allows the step, so that
            sequences reach deep states instead of bouncing off 409s."""
            pool = [r for r in self.returns if r.status in statuses] if legal else []
            pool = pool or self.returns
            return pool[-1 - pick % len(pool)] if pool else None

        @rule(pick=st.integers(0, 10**6), legal=st.booleans())
        def approve(self, pick: int, legal: bool) -> None:
            self.act(pick, legal, "approveReturn")

        @rule(pick=st.integers(0, 10**6), legal=st.booleans())
        def reject(self, pick: int, legal: bool) -> None:
            self.act(pick, legal, "rejectReturn")

        @rule(pick=st.integers(0, 10**6), legal=st.booleans())
        def cancel(self, pick: int, legal: bool) -> None:
            self.act(pick, legal, "cancelReturn")

        @rule(pick=st.integers(0, 10**6))
        def advance(self, pick: int) -> None:
            """One step forward along the happy path (approve, then ship back), so that the
            deep states where illegal steps are interesting are reached in few steps."""
            ret = self.choose(pick, True, lifecycle().open())
            if ret is None:
                return
            if ret.status == "requested" and open_("approveReturn"):
                self.act(pick, True, "approveReturn")
            elif ret.status == "approved" and not ret.fulfillments:
                self.fulfil(pick, True)
            self.refuse_illegal(ret)

        def refuse_illegal(self, ret: Modelled) -> None:
            """Every action the return's new state forbids must be refused (not a repeat)."""
            self.verify(ret)  # the model must match the target before judging legality
            for op, allowed in LEGAL_FROM.items():
                if ret.status in allowed or ACTIONS[op] == ret.status or not open_(op):
                    continue
                reply = self.call(
                    op,
                    {"orderId": ret.order_id, "id": ret.id},
                    body={"note": s.tag},
                )
                if reply.ok:
                    s.inventory.learn_return(reply.get("return"), ret.order_id)
                    self.fail(
                        op,
                        "illegal_transition_accepted",
                        f"{op} on a {ret.status} return"
                        + (" with a return fulfillment" if ret.fulfillments else "")
                        + " was accepted",
                        reply,
                        ACCEPTED,
                    )

        def act(self, pick: int, legal_only: bool, op: str) -> None:
            ret = self.choose(pick, legal_only, LEGAL_FROM[op])
            if not open_(op) or ret is None:
                return
            before, to = ret.status, ACTIONS[op]
            reply = self.call(
                op,
                {"orderId": ret.order_id, "id": ret.id},
                body={"note": s.tag},
            )
            if reply.ok:
                s.inventory.learn_return(reply.get("return"), ret.order_id)
            self.touched = ret
            legal = before in LEGAL_FROM[op]
            repeat = before == to
            if repeat:
                if reply.ok and reply.get("return", "status") != to:
                    self.fail(
                        op,
                        "illegal_transition_accepted",
                        f"repeating {op} on a {before} return changed its status",
                        reply,
                        f"{ACCEPTED} and dig(body, 'return', 'status') != {to!r}",
                    )
                return
            if not legal:
                if reply.ok:
                    self.fail(
                        op,
                        "illegal_transition_accepted",
                        f"{op} on a {before} return was accepted",
                        reply,
                        ACCEPTED,
                    )
                return
            if reply.status == 409:
                if lifecycle().may_refuse(op, before):
                    return  # the contract lets a platform refuse this
                self.fail(
                    op,
                    "transition_refused",
                    f"{op} on a {before} return answered 409",
                    reply,
                    "status == 409",
                )
            if reply.ok:
                got = reply.get("return", "status")
                if got != to:
                    self.fail(
                        op,
                        "data_mismatch",
                        f"{op} answered status {got!r}",
                        reply,
                        f"{ACCEPTED} and dig(body, 'return', 'status') != {to!r}",
                    )
                ret.status, ret.last_action = to, op

        @precondition(lambda self: open_("createReturnFulfillment"))
        @rule(pick=st.integers(0, 10**6), legal=st.booleans())
        def fulfil(self, pick: int, legal: bool) -> None:
            ret = self.choose(pick, legal, lifecycle().fulfillment_from)
            if ret is None:
                return
            op = "createReturnFulfillment"
            body = {"returnFulfillment": {"tracking": {"number": f"SM-{len(self.steps)}"}}}
            reply = self.call(op, {"orderId": ret.order_id, "returnId": ret.id}, body=body)
            self.touched = ret
            if ret.status not in lifecycle().fulfillment_from:
                if reply.ok:
                    self.fail(
                        op,
                        "illegal_transition_accepted",
                        f"a fulfillment was created on a {ret.status} return",
                        reply,
                        ACCEPTED,
                    )
                return
            if reply.status == 409:
                self.fail(
                    op,
                    "transition_refused",
                    "a fulfillment on an approved return answered 409",
                    reply,
                    "status == 409",
                )
            ful = reply.get("returnFulfillment", "id")
            if reply.ok and isinstance(ful, str):
                ret.fulfillments.append(ful)

        @rule(
            which=st.sampled_from(["order", "all", "pages", "fulfillments"]),
            pick=st.integers(0, 10**6),
            status=st.one_of(st.none(), st.sampled_from(sorted(vocabularies().return_status))),
            pages=st.integers(2, 6),
        )
        def read(self, which: str, pick: int, status: str | None, pages: int) -> None:
            """One read rule (four kinds), so reads do not crowd the writes out of a sequence."""
            if which == "order" and open_("listOrderReturns"):
                self.list_order(pick, status)
            elif which == "all" and open_("listReturns"):
                self.list_all(status)
            elif which == "pages" and open_("listReturns"):
                self.paginate(pages)
            elif which == "fulfillments" and open_("listReturnFulfillments"):
                self.fulfillments_listed(pick)

        def list_order(self, pick: int, status: str | None) -> None:
            if not self.returns:
                return
            ret = self.returns[-1 - pick % len(self.returns)]
            self.check_list(
                "listOrderReturns",
                {"orderId": ret.order_id},
                status,
                [r for r in self.returns if r.order_id == ret.order_id],
            )

        def list_all(self, status: str | None) -> None:
            self.check_list("listReturns", {}, status, self.returns)

        def check_list(
            self, op: str, params: dict[str, str], status: str | None, mine: list[Modelled]
        ) -> None:
            query = s.list_query(op, **({"status": status} if status else {}))

            def check() -> Problem | None:
                reply = self.call(op, params, query=query)
                if not reply.ok or reply.get("page", "next"):
                    return None
                items = [i for i in reply.get("returns") or [] if isinstance(i, dict)]
                if status is not None:
                    wrong = [i.get("returnOrderId") for i in items if i.get("status") != status]
                    if wrong:
                        return (
                            op,
                            "filter_ignored",
                            f"status={status} listed returns of other statuses: {wrong[:3]}",
                            reply,
                            f"status == 200 and any(s != {status!r} for s in "
                            "ids(body, field='status'))",
                        )
                listed = {i.get("returnOrderId"): i.get("status") for i in items}
                for ret in mine:
                    if status is not None and ret.status != status:
                        continue
                    if ret.id not in listed:
                        message = f"return {ret.id} ({ret.status}) is not listed"
                        shows = f"status == 200 and {ret.id!r} not in ids(body)"
                        return op, "stale_list", message, reply, shows
                    if listed[ret.id] != ret.status:
                        message = (
                            f"return {ret.id} is listed as {listed[ret.id]!r}, "
                            f"but it is {ret.status!r}"
                        )
                        shows = (
                            f"status == 200 and dict(zip(ids(body), ids(body, field='status')))"
                            f".get({ret.id!r}) != {ret.status!r}"
                        )
                        return op, "stale_list", message, reply, shows
                return None

            self.consistently(check)

        def paginate(self, pages: int) -> None:
            op = "listReturns"
            if op in s.limit_refused:
                return

            def check() -> Problem | None:
                full = self.call(op, {}, query={"limit": "250"})
                if not full.ok or full.get("page", "next"):
                    return None
                everything = [
                    i.get("returnOrderId") for i in full.get("returns") or [] if isinstance(i, dict)
                ]
                limit = max(1, -(-len(everything) // pages))  # a page boundary inside the list
                seen: list[Any] = []
                query = {"limit": str(limit)}
                reply = full
                calls = 0
                for _ in range(len(everything) // limit + 3):
                    reply = self.call(op, {}, query=query)
                    calls += 1
                    if not reply.ok:
                        return None
                    page = [
                        i.get("returnOrderId")
                        for i in reply.get("returns") or []
                        if isinstance(i, dict)
                    ]
                    if len(page) > limit:
                        return op, "pagination_broken", f"limit={limit} gave {len(page)}", reply
                    seen += page
                    nxt = reply.get("page", "next")
                    if not isinstance(nxt, str) or not nxt:
                        break
                    query = {"limit": str(limit), "page": nxt}
                twice = {str(i) for i in seen if seen.count(i) > 1}
                lost = set(everything) - set(seen)
                if twice or lost:
                    n = calls + 1  # the full list, then the pages: the last n answers
                    shows = (
                        f"len(statuses) > {n - 1} and (lambda pages: bool("
                        f"set(ids(bodies[-{n}])) - set(pages) or len(pages) > len(set(pages))))"
                        f"([i for b in bodies[-{n - 1}:] for i in ids(b)])"
                    )
                    return (
                        op,
                        "pagination_broken",
                        f"following page.next with limit={limit}: "
                        f"repeated {sorted(twice)[:3]}, lost {sorted(map(str, lost))[:3]} "
                        f"of {len(everything)}",
                        full,
                        reply,
                        shows,
                    )
                return None

            self.consistently(check)

        def fulfillments_listed(self, pick: int) -> None:
            having = [r for r in self.returns if r.fulfillments]
            if not having:
                return
            ret = having[-1 - pick % len(having)]
            op = "listReturnFulfillments"

            def check() -> Problem | None:
                reply = self.call(
                    op, {"orderId": ret.order_id, "returnId": ret.id}, query=s.list_query(op)
                )
                if not reply.ok or reply.get("page", "next"):
                    return None
                ids = {
                    i.get("id")
                    for i in reply.get("returnFulfillments") or []
                    if isinstance(i, dict)
                }
                missing = [f for f in ret.fulfillments if f not in ids]
                if missing:
                    shows = (
                        f"status == 200 and any(f not in ids(body, 'returnFulfillments', 'id') "
                        f"for f in {missing!r})"
                    )
                    return op, "stale_list", f"fulfillments {missing} are not listed", reply, shows
                return None

            self.consistently(check)

        # ---- invariants ----

        @invariant()
        def read_your_writes(self) -> None:
            if self.touched is not None:
                self.verify(self.touched)

        def verify(self, ret: Modelled) -> None:
            """getReturn shows the modelled status and items, or the last action had no effect."""
            if not open_("getReturn"):
                return

            def check() -> Problem | None:
                reply = self.call("getReturn", {"orderId": ret.order_id, "id": ret.id})
                if not reply.ok:
                    if reply.status == 404:
                        message = f"return {ret.id} exists but answered 404"
                        return "getReturn", "data_mismatch", message, reply, "status == 404"
                    return None
                got = reply.get("return", "status")
                shows = f"status == 200 and dig(body, 'return', 'status') != {ret.status!r}"
                if got != ret.status:
                    if ret.last_action is not None:
                        return (
                            ret.last_action,
                            "effect_missing",
                            f"after {ret.last_action} succeeded, getReturn shows {got!r}, "
                            f"not {ret.status!r}",
                            reply,
                            shows,
                        )
                    message = f"getReturn shows {got!r}, the return is {ret.status!r}"
                    return "getReturn", "data_mismatch", message, reply, shows
                if not same_items(reply.get("return"), ret.lines):
                    message = (
                        f"created with {ret.lines}, reads back "
                        f"{describe_items(reply.get('return'))}"
                    )
                    total = sum(ret.lines.values())
                    shows = (
                        "status == 200 and sum(int(i.get('quantity') or 0) for i in "
                        f"dig(body, 'return', 'returnItems') or []) != {total}"
                    )
                    return "getReturn", "data_mismatch", message, reply, shows
                return None

            self.consistently(check)

    return Lifecycle


def run_machine(s: Session, max_examples: int, steps: int = 12, seconds: float = 20.0) -> int:
    """Run the lifecycle machine; record each (shrunk) violation as a finding. Returns runs made."""
    inv = s.inventory
    room = {o.id: sum(max(inv.available(o, line), 0) for line in o.lines) for o in inv.orders}
    orders = sorted((o for o in inv.orders if room[o.id] > 0), key=lambda o: -room[o.id])[:3]
    if not orders or not s.is_open("createReturn") or max_examples <= 0:
        return 0
    skip: set[str] = set()
    runs = 0
    for _ in range(MAX_RUNS):
        runs += 1
        seen: list[Violation] = []
        budget = Budget(requests=max_examples * steps * 6, seconds=seconds)
        machine = seed(s.settings.seed)(build_machine(s, orders, skip, seen, budget))
        try:
            with with_reporter(lambda _: None):
                run_state_machine_as_test(
                    machine,
                    settings=settings(
                        max_examples=max_examples,
                        stateful_step_count=steps,
                        deadline=None,
                        database=None,
                        derandomize=False,
                        suppress_health_check=list(HealthCheck),
                    ),
                )
        except Violation as found:
            _record(s, found)
            skip.add(found.op)
            continue
        except (FlakyFailure, FlakyStrategyDefinition):
            # The target answered differently when the sequence was replayed, so it could not
            # be shrunk: report the first violation as it happened.
            if not seen:
                raise
            shortest = min(seen, key=lambda v: len(v.steps))
            _record(
                s,
                shortest,
                note="shortest sequence found; the target's answers changed "
                "between replays or the budget ran out while shrinking",
            )
            skip.add(shortest.op)
            continue
        break
    return runs


def _record(s: Session, v: Violation, note: str = "") -> None:
    """The finding of a violation: the sequence's calls the failure needs as evidence, with the
    script that replays them on fresh data (conformance.repro)."""
    message = v.message + (f" ({note})" if note else "")
    s.seen.failed(
        replayable(
            v.op,
            v.reason,
            "state_machine",
            message,
            v.exchanges or [r.exchange for r in v.replies],
            shows=v.shows,
            # a failure several pages show together needs every page
            keep_reads=v.reason == "pagination_broken",
            steps=v.steps,
            seed=s.settings.seed,
            inventory=s.inventory,  # returns made outside the sequence that a list read needs
        )
    )
