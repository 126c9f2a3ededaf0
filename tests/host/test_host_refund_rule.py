# The host's cumulative refund rule alone (sim/host/acquirer.py `_refund`, sim/host/backoffice.py),
# under hypothesis: random sequences of partial refunds of several sales from both channels
# (terminal 0220s built with firmware/host/messages.py and MACed with the terminal's own primitives;
# back-office requests submitted by one user and reviewed by another, terminal refunds landing
# between a submit and its review), resent 0220s, voids and rejections never take what is refunded
# of a sale over its amount, and each answer is the one the rule gives (00 or 35; a back-office
# step refused exactly when it would go over). The host is driven in this process, without TCP.
import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, precondition, rule

from firmware.host import messages as msg
from firmware.host.codec import decode
from hal.soft.des import TripleDES
from sim.host import backoffice as bo
from sim.host.acquirer import OPENING_BALANCE, Acquirer
from sim.host.ledger import Ledger
from sim.host.provisioning import Provisioning
from tests.host.host_client import ACC, TID, TMK, Client, pan, track2

CARD = "credit"  # service code 201: no PIN, so a refund needs none either
NOW = datetime.datetime(2026, 12, 7, 10, 0, 0)


class Terminal(Client):
    """The test terminal of host_client.py, its frames handed to an Acquirer in this process."""

    def __init__(self, acquirer):  # Client's fields without its socket: its keys, MACs, checks
        self.acquirer = acquirer
        self.acc = ACC
        self.tmk = TripleDES(TMK)
        self.algorithm = "x919"
        self.mak = None
        self.pik = None
        self.batch = 1
        self.trace = 0
        self._answer = b""

    def send(self, data):
        self._answer = self.acquirer.process(bytes(data)).answer or b""

    def read_frame(self):
        return self._answer

    def close(self):
        pass


class Sale:
    """A sale the host approved, as the model follows it."""

    def __init__(self, answer, amount):
        self.answer = answer
        self.amount = amount
        self.left = amount  # what the rule still allows to refund
        self.voided = False


# A refund's amount: any number of fen, or near what is left of the sale or half of it (the rule's
# edges: exactly what is left, one fen over; a request that fits when submitted and no longer fits
# after a terminal refund of about the other half).
AMOUNTS = st.one_of(
    st.tuples(st.just("fen"), st.integers(1, 600)),
    st.tuples(st.sampled_from(["left", "half"]), st.integers(-3, 3)),
)


def amount_of(sale, how):
    kind, n = how
    if kind == "fen":
        return n
    return max(1, (sale.left if kind == "left" else sale.left // 2) + n)


class RefundRule(RuleBasedStateMachine):
    sales = Bundle("sales")
    requests = Bundle("requests")

    def __init__(self):
        super().__init__()
        self.ledger = Ledger(":memory:")
        self.db = self.ledger.db
        self.acquirer = Acquirer(self.ledger, Provisioning(), lambda: NOW)
        self.clock = self.acquirer.clock
        self.t = Terminal(self.acquirer)
        self.t.sign_in()
        self.all_sales = []
        self.taken = 0  # sales minus voids minus refunds of both channels: what left the card
        self.last_refund: tuple[bytes, str] | None = None  # (request frame, the answer's code)

    def teardown(self):
        self.ledger.close()

    # ---- the terminal ---------------------------------------------------------------------------
    @precondition(lambda self: len(self.all_sales) < 3)  # few sales: many steps on each
    @rule(target=sales, amount=st.integers(1, 500))
    def sell(self, amount):
        answer = self.t.exchange(self.t.sale(amount, card=CARD, pin=None))
        assert answer[39] == "00"
        self.taken += amount
        sale = Sale(answer, amount)
        self.all_sales.append(sale)
        return sale

    @rule(sale=sales, how=AMOUNTS)
    def terminal_refund(self, sale, how):
        amount = amount_of(sale, how)
        req = msg.refund(
            ACC, self.t.next_trace(), 1, amount, sale.answer[37], sale.answer[13], track2(CARD), "swipe"
        )
        frame = self.t.frame(req)
        code = self.t.exchange(req)[39]
        assert code == ("00" if amount <= sale.left else "35"), (amount, sale.left, sale.voided)
        if code == "00":
            sale.left -= amount
            self.taken -= amount
        self.last_refund = (frame, code)

    @precondition(lambda self: self.last_refund is not None)
    @rule()
    def resend_the_last_refund(self):
        """The advice sent again with the same trace (its answer lost): the first answer, nothing moves."""
        assert self.last_refund is not None
        frame, code = self.last_refund
        answer = decode(self.acquirer.process(frame).answer)
        assert answer[39] == code

    @rule(sale=sales)
    def void(self, sale):
        answer = self.t.exchange(
            msg.void(
                ACC,
                self.t.next_trace(),
                1,
                sale.amount,
                1,
                msg.trace_of(sale.answer),
                sale.answer[37],
                sale.answer.get(38, ""),
            )
        )
        fresh = not sale.voided and sale.left == sale.amount
        assert answer[39] == ("00" if fresh else "12")
        if fresh:
            sale.voided = True
            sale.left = 0
            self.taken -= sale.amount

    # ---- the back office: alice submits, bob reviews -------------------------------------------
    @rule(target=requests, sale=sales, how=AMOUNTS)
    def submit(self, sale, how):
        amount = amount_of(sale, how)
        try:
            with bo.transaction(self.db):
                rid = bo.submit(
                    self.db,
                    self.clock,
                    "alice",
                    sale.answer[37],
                    sale.answer[13],
                    TID,
                    str(amount),
                    "return",
                    "receipt 000123",
                )
        except bo.Refused:
            assert amount > sale.left
            return None
        assert amount <= sale.left  # submitting books nothing: left stays
        return (rid, sale, amount)

    @rule(request=consumes(requests), approve=st.booleans(), by_submitter=st.booleans())
    def review(self, request, approve, by_submitter):
        if request is not None:
            self._review(request, approve, by_submitter)

    @rule(request=consumes(requests), gap=st.integers(-3, 3), approve=st.booleans())
    def terminal_refund_then_review(self, request, gap, approve):
        """The race the review's second check is for: a terminal refund lands between the submit and
        the review, leaving about the request's amount (`gap` fen more or less)."""
        if request is None:
            return
        _, sale, amount = request
        self.terminal_refund(sale, ("fen", max(1, sale.left - amount + gap)))
        self._review(request, approve, False)

    def _review(self, request, approve, by_submitter):
        rid, sale, amount = request
        if by_submitter:  # two users: alice may not review her own
            try:
                with bo.transaction(self.db):
                    bo.review(self.db, self.clock, rid, "alice", approve)
                raise AssertionError("the submitter reviewed her own request")
            except bo.Refused:
                pass
        try:
            with bo.transaction(self.db):
                bo.review(self.db, self.clock, rid, "bob", approve)
        except bo.Refused:
            assert approve and amount > sale.left
            with bo.transaction(self.db):
                bo.review(self.db, self.clock, rid, "bob", False)  # it no longer fits: rejected
            return
        if approve:
            assert amount <= sale.left
            sale.left -= amount
            self.taken -= amount

    # ---- what must always hold ------------------------------------------------------------------
    @invariant()
    def refunds_never_exceed_the_sale(self):
        for sale in self.all_sales:
            rrn = sale.answer[37]
            row = self.db.execute(
                "SELECT id, amount, refunded, voided FROM txns WHERE rrn=?", (rrn,)
            ).fetchone()
            sale_id, amount, refunded, voided = row
            terminal = self.db.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM txns WHERE orig_id=? AND kind='refund' AND status='ok'",
                (sale_id,),
            ).fetchone()[0]
            office = self.db.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM backoffice WHERE orig_id=? AND state='approved'",
                (sale_id,),
            ).fetchone()[0]
            assert refunded == terminal + office <= amount
            assert bool(voided) == sale.voided and not (voided and refunded)
            assert refunded == (0 if sale.voided else sale.amount - sale.left)

    @invariant()
    def the_card_holds_what_was_not_taken(self):
        assert self.ledger.balance(pan(CARD)) in (None, OPENING_BALANCE - self.taken)


RefundRule.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRefundRule = RefundRule.TestCase
