# Void (消费撤销, main menu 2, firmware/ui/void.py) through the one request path (firmware/online.py
# Void): the supervisor's password, the original's trace, the original shown, the card again, its
# PIN, the 0200 void; the batch journal marks the sale voided. Every refusal sends nothing and
# consumes no trace; a lost void answer is reversed and the sale is live again. Runs on CPython and
# MicroPython (kept lean: the MicroPython tier's time).

from firmware import batch as B
from firmware import journal as J
from firmware.host.codec import parse_f60
from tests.portable.campaign import CUT_SAMPLE, sale_batch_failures
from tests.portable.online_kit import PAN, Rig, chip, kind
from virtual.storage import TEAR_MODES, PowerCut

SAMPLE = CUT_SAMPLE  # campaign.py: MicroPython cuts each operation once
OTHER = "6217002430012345683D30122200000000000"  # another card (same first 6, other last 4)


def _sold(**kw):
    """A signed-in rig with one approved sale of ¥12.34 (dismissed): (rig, its trace)."""
    rig = Rig(**kw)
    assert "Approved" in rig.sale(1234), rig.screen()
    rig.press("ENTER")
    return rig, rig.term.journal.last["trace"]


def _view(rig, trace):
    return B.Batch(rig.storage).by_trace(trace)


def _refused(rig, trace, text, **kw):
    """Void `trace`: refused with `text`, nothing sent, no trace consumed."""
    sent = len(rig.host.received)
    before = rig.term.counters.trace
    shown = rig.void(trace, **kw)
    assert text in shown, shown
    assert len(rig.host.received) == sent and rig.term.counters.trace == before, shown
    for _ in range(3):  # back to idle: the trace screen, the menu (or a message first)
        if "ENTER for menu" not in rig.screen():
            rig.press("CANCEL")
    assert "ENTER for menu" in rig.screen(), rig.screen()


def test_an_approved_void_voids_the_sale_at_the_host_and_in_the_batch():
    rig, trace = _sold()
    sale = _view(rig, trace)
    shown = rig.void(trace)
    assert "Approved" in shown and "¥12.34" in shown, shown
    req = rig.host.received[-1]
    assert kind(req) == "void" and req[3] == "200000" and req[4] == "000000001234"
    assert req[61] == "000001" + "{:06d}".format(trace) and req[37] == sale["rrn"]
    assert req[38] == sale["auth"] and parse_f60(req[60])[0] == "23"
    void = rig.term.journal.last
    assert void["kind"] == "void" and void["state"] == J.APPROVED
    assert void["orig"] == {"batch": 1, "trace": trace, "rrn": sale["rrn"], "date": sale["f13"]}
    assert (1, trace) not in rig.host.ledger and rig.host.voided == {(1, void["trace"]): (1, trace)}
    assert _view(rig, trace)["state"] == B.VOIDED
    v = _view(rig, void["trace"])
    assert v["kind"] == "void" and v["state"] == B.APPROVED and v["orig"]["trace"] == trace
    totals = B.Batch(rig.storage).totals()
    assert totals["sale"] == (0, 0) and totals["void"] == (1, 1234) and totals["domestic"] == (0, 0, 0, 0)
    assert sale_batch_failures(rig.term, rig.host.ledger, rig.host.voided) == []
    rig.press("ENTER")
    rig.press("ENTER", "6", "1", *list(str(trace)))  # Query by trace
    rig.press("ENTER")
    assert "Voided" in rig.screen(), rig.screen()


def test_a_void_without_the_card_sends_no_card_data():
    rig, trace = _sold(void_card=False)
    assert "Approved" in rig.void(trace), rig.screen()
    req = rig.host.received[-1]
    assert req[22] == "012" and 35 not in req.fields and 52 not in req.fields and 2 not in req.fields
    assert rig.term.journal.last["card"] == _view(rig, trace)["card"]
    assert _view(rig, trace)["state"] == B.VOIDED


def test_every_refusal_sends_nothing_and_consumes_no_trace():
    rig, trace = _sold()
    _refused(rig, 999, "Not in this batch")
    _refused(rig, trace, "Not the sale's card", event=chip(OTHER))
    rig.host.plan = ["code:51"]
    rig.sale(500)
    rig.press("ENTER")
    _refused(rig, rig.term.journal.last["trace"], "Original declined")
    rig.host.plan = ["silent"]  # the answer is lost: in doubt, its reversal pending
    rig.sale(600)
    rig.wait(31)
    rig.press("ENTER")
    lost = rig.term.journal.last["trace"]
    _refused(rig, lost, "Original in doubt")
    assert "Approved" in rig.void(trace)  # sends the pending reversal first
    rig.press("ENTER")
    assert _view(rig, lost)["state"] == B.REVERSED
    _refused(rig, lost, "Original reversed")
    _refused(rig, trace, "Already voided")
    _refused(rig, rig.term.journal.last["trace"], "Not a sale")
    rig.host.plan = ["norrn"]
    assert "Approved" in rig.sale(800)
    rig.press("ENTER")
    _refused(rig, rig.term.journal.last["trace"], "Sale has no RRN")
    rig.link.attached = False
    rig.sale(700)
    rig.press("ENTER")
    rig.link.attached = True
    _refused(rig, rig.term.journal.last["trace"], "Original never sent")
    assert sale_batch_failures(rig.term, rig.host.ledger, rig.host.voided) == []


def test_a_settled_original_says_use_refund_and_a_full_batch_settle_first():
    rig, trace = _sold()
    batch = rig.term.journal.batch
    totals = {"dn": 1, "da": 1234, "dcn": 0, "dca": 0, "fn": 0, "fa": 0, "fcn": 0, "fca": 0}  # type: dict
    totals.update({"batch": 1, "time": 0, "result": "11"})
    batch.settle(totals)
    rig.term.counters.adopt_batch(2)
    _refused(rig, trace, "Settled: use refund")
    rig, trace = _sold(batch_size=1)
    _refused(rig, trace, "Please settle first")


def test_a_lost_void_answer_is_reversed_and_the_sale_is_live_again():
    rig, trace = _sold()
    rig.host.plan = ["silent"]
    rig.void(trace)
    rig.wait(31)
    void = rig.term.journal.last
    assert void["kind"] == "void" and void["state"] == J.IN_DOUBT
    assert rig.term.journal.pending_reversal()["trace"] == void["trace"]
    assert _view(rig, trace)["state"] == B.APPROVED  # the host voided it; the reversal undoes that
    rig.press("ENTER")
    assert "Approved" in rig.sale(100)  # the reversal goes first
    assert rig.host.kinds()[-2:] == ["reversal", "sale"]
    assert rig.host.ledger[(1, trace)] == 1234 and rig.host.voided == {}
    assert _view(rig, trace)["state"] == B.APPROVED
    assert _view(rig, void["trace"])["state"] == B.REVERSED
    assert sale_batch_failures(rig.term, rig.host.ledger, rig.host.voided) == []


def _cut_void(n, tear):
    rig, trace = _sold()
    rig.storage.cut_at(n, tear)
    try:
        rig.void(trace)
        rig.press("ENTER")
    except PowerCut:
        rig = rig.reboot()
        rig.host.plan = []
        where = "cut {} {}".format(n, tear)
        assert sale_batch_failures(rig.term) == [], (where, sale_batch_failures(rig.term))
        rig.press("ENTER")
        assert "Approved" in rig.sale(100), rig.screen()  # sends what the cut left pending
        failures = sale_batch_failures(rig.term, rig.host.ledger, rig.host.voided)
        assert failures == [], (where, failures)
        assert rig.term.journal.pending_reversal() is None, where
        return True
    rig.storage.cut_at(None)
    return False


def test_a_power_cut_at_every_storage_operation_of_a_void():
    # Each cut: after the reboot and the next sale, the batch and the host agree on the void and
    # its sale (voided both, or live both), nothing is left pending. MicroPython: every third cut.
    runs = 0
    for tear in TEAR_MODES:
        n = 1
        while True:
            if (n + TEAR_MODES.index(tear)) % SAMPLE:
                n += 1
                continue
            if not _cut_void(n, tear):
                break
            runs += 1
            n += 1
    assert runs >= 5 * 12 // SAMPLE, runs


def test_a_void_txn_record_needs_its_original():
    rig, trace = _sold()
    rig.void(trace)
    record = dict(rig.term.journal.last)
    J._validate_txn(dict(record))
    for bad in (None, {"batch": 1, "trace": trace, "rrn": "x", "date": ""}, {"batch": 1}):
        r = dict(record)
        r["orig"] = bad
        _raises_damaged(r)
    r = dict(record)
    r["kind"] = "sale"
    _raises_damaged(r)  # a sale has no original
    assert PAN[-4:] == record["card"][-4:]


def _raises_damaged(record):
    try:
        J._validate_txn(record)
    except J.Damaged:
        return
    raise AssertionError(record)
