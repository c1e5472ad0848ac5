"""The return lifecycle as a Hypothesis state machine (contract section 4): its rules.

Rules create returns, approve / reject / cancel them, add return fulfillments and read everything
back, in any order, over several returns and orders at once; after every step the last touched
return is read back. What each answer must be comes from `machine_model` and `machine_checks`;
a violation stops the run (`Violation`), within a `Budget`. Split from `machine.py`, which seeds
and runs the machine and turns its violations into findings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, NoReturn

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from conformance.contract import OperationId, lifecycle, operation, vocabularies
from conformance.discover import OrderInfo
from conformance.findings import Exchange
from conformance.generate.machine_checks import (
    fulfillments_problem,
    list_problem,
    pages_problem,
    read_back_problem,
)
from conformance.generate.machine_model import (
    ACTIONS,
    LEGAL_FROM,
    Modelled,
    Problem,
    action_problem,
    fulfillment_problem,
    moves,
)
from conformance.probes.session import Session
from conformance.repro import ACCEPTED
from conformance.statuses import cannot_tell, read_status, unmappable
from conformance.target import Reply
from conformance.verdicts import ReasonCode


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
            OperationId.createReturn,
            OperationId.createReturnFulfillment,
            OperationId.listOrderReturns,
            OperationId.listReturns,
            OperationId.listReturnFulfillments,
            OperationId.getReturn,
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
            if not open_(OperationId.cancelReturn):
                return
            for ret in self.returns:
                if ret.status in LEGAL_FROM[OperationId.cancelReturn]:
                    reply = s.call(
                        OperationId.cancelReturn,
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
            if open_(OperationId.createReturn):
                self.create(pick, 1)

        @precondition(lambda self: open_(OperationId.createReturn))
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
            reply = self.call(OperationId.createReturn, {"orderId": order.id}, body=body)
            if reply.ok:
                s.inventory.learn_return(
                    reply.get("return"), order.id, ours=True, asked={line: quantity}
                )
            if quantity > left:
                if reply.ok:
                    self.fail(
                        OperationId.createReturn,
                        ReasonCode.over_quantity_accepted,
                        f"{quantity} × {line} accepted with only {left} returnable "
                        "(the other returns of the line count)",
                        reply,
                        ACCEPTED,
                        # how the suite's returns used the line up, wherever they were made
                        sequence=[*holding, reply.exchange],
                    )
                return
            rid, status = reply.get("return", "returnOrderId"), reply.get("return", "status")
            if reply.ok and unmappable(status):
                # A platform's own status that stands for no normalized one: the model cannot
                # say which actions it allows, so the return is not modelled.
                s.seen.note(OperationId.createReturn, cannot_tell(status, OperationId.createReturn))
                return
            if reply.ok and isinstance(rid, str) and isinstance(status, str):
                made = Modelled(rid, order.id, read_status(status) or status, {line: quantity})
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
            self.act(pick, legal, OperationId.approveReturn)

        @rule(pick=st.integers(0, 10**6), legal=st.booleans())
        def reject(self, pick: int, legal: bool) -> None:
            self.act(pick, legal, OperationId.rejectReturn)

        @rule(pick=st.integers(0, 10**6), legal=st.booleans())
        def cancel(self, pick: int, legal: bool) -> None:
            self.act(pick, legal, OperationId.cancelReturn)

        @rule(pick=st.integers(0, 10**6))
        def advance(self, pick: int) -> None:
            """One step forward along the happy path (approve, then ship back), so that the
            deep states where illegal steps are interesting are reached in few steps."""
            ret = self.choose(pick, True, lifecycle().open())
            if ret is None:
                return
            if ret.status == "requested" and open_(OperationId.approveReturn):
                self.act(pick, True, OperationId.approveReturn)
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
                        ReasonCode.illegal_transition_accepted,
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
            problem = action_problem(op, before, reply)
            if problem is not None:
                self.fail(*problem)
            if reply.ok and moves(op, before):
                ret.status, ret.last_action = to, op
                self.unreadable(op, ret, reply.get("return", "status"))

        @precondition(lambda self: open_(OperationId.createReturnFulfillment))
        @rule(pick=st.integers(0, 10**6), legal=st.booleans())
        def fulfil(self, pick: int, legal: bool) -> None:
            ret = self.choose(pick, legal, lifecycle().fulfillment_from)
            if ret is None:
                return
            op = OperationId.createReturnFulfillment
            body = {"returnFulfillment": {"tracking": {"number": f"SM-{len(self.steps)}"}}}
            reply = self.call(op, {"orderId": ret.order_id, "returnId": ret.id}, body=body)
            self.touched = ret
            problem = fulfillment_problem(ret.status, reply)
            if problem is not None:
                self.fail(*problem)
            ful = reply.get("returnFulfillment", "id")
            if ret.status in lifecycle().fulfillment_from and reply.ok and isinstance(ful, str):
                ret.fulfillments.append(ful)

        @rule(
            which=st.sampled_from(["order", "all", "pages", "fulfillments"]),
            pick=st.integers(0, 10**6),
            status=st.one_of(st.none(), st.sampled_from(sorted(vocabularies().return_status))),
            pages=st.integers(2, 6),
        )
        def read(self, which: str, pick: int, status: str | None, pages: int) -> None:
            """One read rule (four kinds), so reads do not crowd the writes out of a sequence."""
            if which == "order" and open_(OperationId.listOrderReturns):
                self.list_order(pick, status)
            elif which == "all" and open_(OperationId.listReturns):
                self.list_all(status)
            elif which == "pages" and open_(OperationId.listReturns):
                self.paginate(pages)
            elif which == "fulfillments" and open_(OperationId.listReturnFulfillments):
                self.fulfillments_listed(pick)

        def list_order(self, pick: int, status: str | None) -> None:
            if not self.returns:
                return
            ret = self.returns[-1 - pick % len(self.returns)]
            self.check_list(
                OperationId.listOrderReturns,
                {"orderId": ret.order_id},
                status,
                [r for r in self.returns if r.order_id == ret.order_id],
            )

        def list_all(self, status: str | None) -> None:
            self.check_list(OperationId.listReturns, {}, status, self.returns)

        def check_list(
            self, op: str, params: dict[str, str], status: str | None, mine: list[Modelled]
        ) -> None:
            query = s.list_query(op, **({"status": status} if status else {}))

            def check() -> Problem | None:
                return list_problem(op, self.call(op, params, query=query), status, mine)

            self.consistently(check)

        def paginate(self, pages: int) -> None:
            op = OperationId.listReturns
            if op in s.limit_refused:
                return

            def check() -> Problem | None:
                return pages_problem(lambda query: self.call(op, {}, query=query), pages)

            self.consistently(check)

        def fulfillments_listed(self, pick: int) -> None:
            having = [r for r in self.returns if r.fulfillments]
            if not having:
                return
            ret = having[-1 - pick % len(having)]
            op = OperationId.listReturnFulfillments

            def check() -> Problem | None:
                params = {"orderId": ret.order_id, "returnId": ret.id}
                return fulfillments_problem(ret, self.call(op, params, query=s.list_query(op)))

            self.consistently(check)

        # ---- invariants ----

        @invariant()
        def read_your_writes(self) -> None:
            if self.touched is not None:
                self.verify(self.touched)

        def verify(self, ret: Modelled) -> None:
            """getReturn shows the modelled status and items, or the last action had no effect."""
            if not open_(OperationId.getReturn):
                return

            def check() -> Problem | None:
                reply = self.call(OperationId.getReturn, {"orderId": ret.order_id, "id": ret.id})
                shown = reply.get("return", "status") if reply.ok else None
                if self.unreadable(ret.last_action or OperationId.getReturn, ret, shown):
                    return None
                return read_back_problem(ret, reply)

            self.consistently(check)

        def unreadable(self, after: str, ret: Modelled, status: Any) -> bool:
            """A platform's own status that stands for no normalized one (contract section 3
            allows it): the machine cannot tell which actions it allows, so it notes it and
            stops modelling that return."""
            if not unmappable(status):
                return False
            s.seen.note(after, cannot_tell(status, after))
            if ret in self.returns:
                self.returns.remove(ret)
            if self.touched is ret:
                self.touched = None
            return True

    return Lifecycle
