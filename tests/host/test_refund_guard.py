# The refund's cumulative rule with hypothesis, the terminal's local guard (firmware/ui/refund.py
# left_of, over a real firmware Journal) against the host simulator (a running server): random
# sequences of partial refunds from both channels (terminal 0220s and back-office refunds submitted
# by one user, approved by another) never take the sale's refunds over its amount at the host; the
# guard never believes less is left than the host does, so it never refuses what the host would
# take, and while the terminal knows every refund (no back-office refund yet) it believes exactly
# what the host does. The terminal's batch closes at random points in between (its refunds, confirmed
# or not, go to the archive, the sale's first): the guard counts them there, whichever batch.
import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware import batch as B
from firmware.host import messages as msg
from firmware.journal import Journal
from firmware.ui.refund import left_of
from sim.host import acquirer
from sim.host import backoffice as bo
from sim.host.ledger import Ledger
from sim.host.server import Host
from tests.host.host_client import ACC, Client, track2
from virtual.storage import RamStorage

TID = "10000001"


class Clock:
    def __init__(self):
        self.now = datetime.datetime(2026, 12, 7, 10, 0, 0)

    def __call__(self):
        return self.now


@pytest.fixture
def host(tmp_path, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(acquirer, "china_now", clock)
    h = Host(db=str(tmp_path / "ledger.db"), clock=clock)
    h.start()
    yield h
    h.stop()
    assert h.errors == []


@pytest.fixture
def c(host):
    client = Client(host.port)
    client.sign_in()
    yield client
    client.close()


def _terminal(answer, c, trace):
    """A terminal's journal holding the sale `answer` (approved, its RRN and date)."""
    journal = Journal(RamStorage())
    record = {"batch": c.batch, "trace": trace, "amount": int(answer[4]), "card": "622202*********0128"}
    record.update({"org": "CUP", "mode": "swipe", "time": 0, "op": "01"})
    journal.batch.begin(B.SALE, record)
    journal.batch.change(c.batch, trace, 0, state=B.APPROVED, code="00", rrn=answer[37], f13=answer[13])
    return journal


def _book_refund(journal, c, trace, answer, fen, batch=None, state=B.APPROVED):
    """The terminal's record of its refund of `fen` against the sale `answer` (in `batch`, the
    terminal's current one): approved, or not confirmed (its answer lost)."""
    batch = batch or c.batch
    record = {"batch": batch, "trace": trace, "amount": fen, "card": "622202*********0128"}
    record.update({"org": "CUP", "mode": "swipe", "time": 0, "op": "01", "reason": "return"})
    record["orig"] = {"batch": c.batch, "trace": 1, "rrn": answer[37], "date": answer[13]}
    journal.batch.begin(B.REFUND, record)
    journal.batch.change(batch, trace, 0, state=state, code="00" if state == B.APPROVED else "")
    if journal.batch.by_rrn(answer[37]) is not None:  # the sale in the same batch: as the mirror does
        journal._mirror_refunded(answer[37], 0)


def _close(journal, batch):
    """The terminal's batch closes (its settlement record; its rows go to the archive)."""
    record = {"batch": batch, "time": 0, "result": "11"}
    for name in ("dn", "da", "dcn", "dca", "fn", "fa", "fcn", "fca"):
        record[name] = 0
    journal.batch.settle(record)


_STEPS = st.lists(
    st.tuples(st.sampled_from(("terminal", "lost", "office", "close")), st.integers(1, 6000)),
    max_size=10,
)


def test_the_local_guard_never_refuses_what_the_host_would_take(host, c, tmp_path):
    assert c.exchange(c.sale(4_000_000))[39] == "00"  # the merchant's day covers every refund
    clock = host.acquirer.clock
    ledger = Ledger(str(tmp_path / "ledger.db"))
    db = ledger.db

    def host_left(rrn, amount):
        refunded = host.call(
            lambda a: a.db.execute("SELECT refunded FROM txns WHERE rrn=?", (rrn,)).fetchone()[0]
        )
        assert 0 <= refunded <= amount  # never over the sale, whichever channel
        return amount - refunded

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(1, 10000), _STEPS)
    def check(amount, steps):
        answer = c.exchange(c.sale(amount, card="credit", pin=None))
        assert answer[39] == "00"
        rrn = answer[37]
        journal = _terminal(answer, c, 1)
        office = False  # a back-office refund the terminal has not heard of
        batch = c.batch  # the terminal's current batch (the host's settlement is not part of this)
        for n, (channel, fen) in enumerate(steps):
            if channel == "close":
                _close(journal, batch)
                batch += 1
                continue
            left = host_left(rrn, amount)
            known, guard, why = left_of(journal, rrn)
            assert known is not None and why is None
            assert guard >= left, (guard, left)  # it never refuses what the host would take
            if not office:
                assert guard == left, (guard, left)  # it knows every refund: it knows what is left
            if channel in ("terminal", "lost"):
                if fen > guard:
                    continue  # refused by the guard: nothing sent (and the host would refuse it too)
                req = msg.refund(
                    ACC, c.next_trace(), c.batch, fen, rrn, answer[13], track2("credit"), "swipe"
                )
                code = c.exchange(req)[39]
                assert code == ("00" if fen <= left else "35"), (fen, left, code)
                if code == "00":  # "lost": the host booked it, its answer never came back
                    state = B.APPROVED if channel == "terminal" else B.IN_DOUBT
                    _book_refund(journal, c, 2 + n, answer, fen, batch, state)
            else:
                try:
                    with bo.transaction(db):
                        rid = bo.submit(db, clock, "alice", rrn, answer[13], TID, str(fen), "dispute", "r 1")
                    with bo.transaction(db):
                        bo.review(db, clock, rid, "bob", True)
                    assert fen <= left
                    office = True
                except bo.Refused:
                    assert fen > left
        host_left(rrn, amount)

    try:
        check()
    finally:
        ledger.close()
