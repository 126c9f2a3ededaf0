# Refund (退货, main menu 3, firmware/ui/refund.py) through the one request path (firmware/online.py
# Refund): the supervisor's password, the card, the original's RRN and date, the amount, the reason,
# the 0220 (no PIN). The local guard refuses before anything is sent or a trace is consumed; the
# host's 35, 51 and 12 have texts of their own; a lost answer is resent from RAM once, then the
# refund is not confirmed; after a power cut it is resent card-less (RefundResend): a refund the
# host booked gets its approval again, one it never had gets 25 and is not done. Runs on CPython
# and MicroPython (kept lean: the MicroPython tier's time).

from firmware import batch as B
from firmware import journal as J
from firmware.online import Online, RefundResend
from tests.portable.campaign import CUT_SAMPLE, sale_batch_failures
from tests.portable.online_kit import Rig, chip, kind
from virtual.storage import TEAR_MODES, PowerCut

SAMPLE = CUT_SAMPLE  # campaign.py: MicroPython cuts each operation once
# The tear modes of the campaigns over a lost answer (no slice steps: MicroPython has none)
LOST_TEARS = (TEAR_MODES[0], TEAR_MODES[-1]) if SAMPLE > 1 else (TEAR_MODES[0], TEAR_MODES[2], TEAR_MODES[4])


def _sold(fen=1234, **kw):
    """A signed-in rig with one approved sale (dismissed): (rig, the sale's batch view)."""
    rig = Rig(**kw)
    assert "Approved" in rig.sale(fen), rig.screen()
    rig.press("ENTER")
    return rig, rig.term.journal.batch.by_trace(rig.term.journal.last["trace"])


def _view(rig, trace):
    return B.Batch(rig.storage).by_trace(trace)


def _idle(rig):
    for _ in range(4):  # a message, the entry screens, the menu: back to idle
        if "ENTER for menu" not in rig.screen():
            rig.press("CANCEL")
    assert "ENTER for menu" in rig.screen(), rig.screen()


def _refused(rig, sale, fen, text, mmdd=None, rrn=None):
    """A refund of `fen` against `sale`: refused with `text`, nothing sent, no trace consumed."""
    sent = len(rig.host.received)
    before = rig.term.counters.trace
    shown = rig.refund(rrn or sale["rrn"], mmdd or sale["f13"], fen)
    assert text in shown, shown
    assert len(rig.host.received) == sent and rig.term.counters.trace == before, shown
    _idle(rig)


def _agree(rig):
    failures = sale_batch_failures(rig.term, rig.host.ledger, rig.host.voided, rig.host.refunds)
    assert failures == [], failures


def _resend_all(rig):
    """The settlement's sweep over the refunds not confirmed: each resent card-less; the outcomes."""
    out = []
    for view in rig.term.journal.unconfirmed_refunds():
        online = Online(rig.term, RefundResend(view))
        for _ in range(100):
            if online.outcome is not None:
                break
            if not online.step():
                rig.clock.advance(1)
        out.append((online.outcome, online.code, online.message))
    return out


def test_an_approved_refund_goes_without_pin_with_its_original_and_reason():
    rig, sale = _sold()
    shown = rig.refund(sale["rrn"], sale["f13"], 500, reason=3)
    assert "Approved" in shown and "¥5.00" in shown, shown
    req = rig.host.received[-1]
    assert kind(req) == "refund" and req[3] == "200000" and req[4] == "000000000500"
    assert req[37] == sale["rrn"] and req[61] == "000001" + "{:06d}".format(sale["trace"]) + sale["f13"]
    assert 52 not in req.fields and 26 not in req.fields and req[22][-1] == "2"  # no PIN
    assert 35 in req.fields and req[60][:2] == "25"
    last = rig.term.journal.last
    assert last["kind"] == "refund" and last["state"] == J.APPROVED and last["reason"] == "return"
    assert last["orig"] == {"batch": 1, "trace": sale["trace"], "rrn": sale["rrn"], "date": sale["f13"]}
    refund = _view(rig, last["trace"])
    assert refund["kind"] == "refund" and refund["state"] == B.APPROVED and refund["reason"] == "return"
    assert _view(rig, sale["trace"])["refunded"] == 500
    totals = B.Batch(rig.storage).totals()
    assert totals["refund"] == (1, 500) and totals["domestic"] == (1, 1234, 1, 500)
    _agree(rig)
    # the signed slip's 0820 names the refund: its own trace, RRN and amount, not the sale's
    (up,) = [m for m in rig.host.uploads if int(m[11]) == last["trace"]]
    assert up[37] == refund["rrn"] != sale["rrn"] and up[4] == "000000000500" and int(up[11]) != sale["trace"]
    assert _view(rig, last["trace"])["esign"] == "uploaded"
    rig.press("ENTER")
    rig.press("ENTER", "6", "1", *list(str(last["trace"])))  # Query by trace: the slip
    rig.press("ENTER")
    for _ in range(20):
        if "Customer return" in rig.screen():
            break
        rig.press("DOWN")
    assert "Customer return" in rig.screen(), rig.screen()


def test_partial_refunds_never_go_over_the_original_and_a_refunded_sale_cannot_be_voided():
    rig, sale = _sold()
    assert "Approved" in rig.refund(sale["rrn"], sale["f13"], 500)
    rig.press("ENTER")
    _refused(rig, sale, 800, "Over what is left")  # 500 + 800 > 1234: refused here, not sent
    assert "Approved" in rig.refund(sale["rrn"], sale["f13"], 734)
    rig.press("ENTER")
    _refused(rig, sale, 1, "Over what is left")
    assert _view(rig, sale["trace"])["refunded"] == 1234
    assert "Already voided" in rig.void(sale["trace"])  # a void and a refund never both
    _idle(rig)
    _agree(rig)


def test_every_local_refusal_sends_nothing_and_consumes_no_trace():
    rig, sale = _sold(refund_max=1000)
    _refused(rig, sale, 1001, "Over the refund cap")
    _refused(rig, sale, 100, "Not a date", mmdd="1332")
    assert "Approved" in rig.void(sale["trace"])
    rig.press("ENTER")
    void = rig.term.journal.last
    _refused(rig, sale, 100, "Original voided")
    _refused(rig, sale, 100, "Not a sale", rrn=_view(rig, void["trace"])["rrn"])
    shown = rig.refund("12345", "1129", 100)  # not 12 digits: asked again
    assert "12 digits" in shown, shown
    _idle(rig)
    rig, sale = _sold(batch_size=1)
    sent = len(rig.host.received)
    rig.press("ENTER", "3")
    assert "Please settle first" in rig.screen() and len(rig.host.received) == sent
    _idle(rig)


def test_an_original_the_journal_does_not_know_goes_with_zeros_and_the_host_decides():
    rig, sale = _sold()
    shown = rig.refund("000000000999", "1129", 100)
    assert "Original not found" in shown, shown  # the host's 25
    assert rig.host.received[-1][61] == "000000000000" + "1129"
    assert rig.term.journal.last["state"] == J.DECLINED
    rig.press("ENTER")
    assert "Approved" in rig.refund(sale["rrn"], sale["f13"], 1234)
    rig.press("ENTER")
    assert rig.term.journal.last["orig"]["trace"] == sale["trace"]


def test_the_hosts_refund_declines_have_texts_of_their_own():
    rig, sale = _sold()
    for code, text in (
        ("35", "Refunds over sale"),
        ("51", "Merchant day too low"),
        ("12", "Past refund window"),
    ):
        rig.host.plan = ["code:" + code]
        shown = rig.refund(sale["rrn"], sale["f13"], 100)
        assert text in shown, (code, shown)
        assert rig.term.journal.last["state"] == J.DECLINED
        rig.press("ENTER")
    assert _view(rig, sale["trace"])["refunded"] == 0  # declined refunds count for nothing
    rig.host.back_office[sale["rrn"]] = 1000  # the back office refunded 10.00: the terminal never hears
    shown = rig.refund(sale["rrn"], sale["f13"], 500)  # the terminal believes 12.34 is left
    assert "Refunds over sale" in shown, shown
    _agree(rig)


def test_a_lost_answer_is_resent_from_ram_once_and_the_host_answers_it_once():
    rig, sale = _sold()
    rig.host.plan = ["silent"]  # booked, the answer lost: the resend gets the approval again
    rig.refund(sale["rrn"], sale["f13"], 300)
    rig.wait(31)
    assert rig.sign()  # approved on the resend: the cardholder signs it
    assert "Approved" in rig.screen(), rig.screen()
    first, second = rig.host.received[-2:]
    assert kind(first) == kind(second) == "refund" and first[11] == second[11]
    assert 35 in second.fields and 52 not in second.fields  # the request held in RAM, no PIN block
    assert len(rig.host.refunds) == 1 and rig.term.journal.last["state"] == J.APPROVED
    rig.press("ENTER")
    rig.host.plan = ["lost"]  # never reached the host: the resend is the refund
    rig.refund(sale["rrn"], sale["f13"], 200)
    rig.wait(31)
    assert rig.sign()
    assert "Approved" in rig.screen(), rig.screen()
    rig.press("ENTER")
    _agree(rig)
    assert _view(rig, sale["trace"])["refunded"] == 500


def test_a_bad_mac_signs_in_again_before_the_resend():
    rig, sale = _sold()
    rig.host.plan = ["bad_mac"]
    shown = rig.refund(sale["rrn"], sale["f13"], 300)
    assert "Approved" in shown, shown
    assert rig.host.kinds()[-3:] == ["refund", "sign_in", "refund"]
    _agree(rig)


def test_no_valid_answer_twice_leaves_it_not_confirmed_for_the_card_less_resend():
    rig, sale = _sold()
    rig.host.plan = ["silent", "garbage"]
    rig.refund(sale["rrn"], sale["f13"], 300)
    rig.wait(31)
    assert "Refund not confirmed" in rig.screen(), rig.screen()
    last = rig.term.journal.last
    assert last["state"] == J.IN_DOUBT and rig.term.journal.pending_reversal() is None
    assert [v["trace"] for v in rig.term.journal.unconfirmed_refunds()] == [last["trace"]]
    assert _view(rig, sale["trace"])["refunded"] == 300  # may have gone: counted by the guard
    rig.press("ENTER")
    _refused(rig, sale, 1000, "Over what is left")
    assert "Already voided" in rig.void(sale["trace"])
    _idle(rig)
    assert "Approved" in rig.sale(100)  # a sale goes on: a refund has no reversal to send first
    rig.press("ENTER")
    assert _resend_all(rig) == [("approved", "00", None)]
    resent = rig.host.received[-1]
    assert 35 not in resent.fields and resent[22] == "012" and resent[11] == "{:06d}".format(last["trace"])
    assert _view(rig, last["trace"])["state"] == B.APPROVED and rig.term.journal.unconfirmed_refunds() == []
    _agree(rig)


def test_after_a_cut_a_booked_refund_is_confirmed_and_an_unseen_one_is_not_done():
    rig, sale = _sold()
    rig.host.plan = ["silent"]  # the host books it; the power goes while the terminal waits
    rig.refund(sale["rrn"], sale["f13"], 300)
    rig = rig.reboot()
    booked = rig.term.journal.last
    assert booked["state"] == J.IN_DOUBT, booked
    rig.press("ENTER")
    rig.host.plan = ["lost"]  # never reaches the host; the power goes again
    rig.refund(sale["rrn"], sale["f13"], 400)
    rig = rig.reboot()
    unseen = rig.term.journal.last
    assert unseen["state"] == J.IN_DOUBT
    rig.press("ENTER")
    assert _resend_all(rig) == [("approved", "00", None), ("declined", "25", "refund_not_done")]
    assert _view(rig, booked["trace"])["state"] == B.APPROVED
    assert _view(rig, unseen["trace"])["state"] == B.NOT_DONE
    assert rig.term.journal.last["state"] == J.NOT_DONE
    assert _view(rig, sale["trace"])["refunded"] == 300
    assert B.Batch(rig.storage).totals()["refund"] == (1, 300)  # not done: not counted
    assert _resend_all(rig) == []  # never resent
    _agree(rig)
    rig.press("ENTER", "6", "1", *list(str(unseen["trace"])))  # Query shows it
    rig.press("ENTER")
    assert "Not done" in rig.screen(), rig.screen()


def _cut_refund(n, tear, plan=()):
    rig, sale = _sold()
    rig.host.plan = list(plan)
    rig.storage.cut_at(n, tear)
    try:
        rig.refund(sale["rrn"], sale["f13"], 300)
        for _ in plan:
            rig.wait(31)  # an answer lost: the resend from RAM (or the end of it)
        rig.press("ENTER")
    except PowerCut:
        rig = rig.reboot()
        rig.host.plan = []
        where = "cut {} {} {}".format(n, tear, plan)
        assert sale_batch_failures(rig.term) == [], (where, sale_batch_failures(rig.term))
        rig.press("ENTER")
        for outcome in _resend_all(rig):
            assert outcome[0] in ("approved", "declined"), (where, outcome)
        assert rig.term.journal.unconfirmed_refunds() == [], where
        failures = sale_batch_failures(rig.term, rig.host.ledger, rig.host.voided, rig.host.refunds)
        assert failures == [], (where, failures)
        booked = sum([r[1] for r in rig.host.refunds.values()])
        assert _view(rig, sale["trace"])["refunded"] == booked, where
        assert "Approved" in rig.sale(100), (where, rig.screen())
        return True
    rig.storage.cut_at(None)
    return False


def test_a_power_cut_at_every_storage_operation_of_a_refund():
    # Each cut: after the reboot and the card-less resend, the batch and the host agree on the
    # refund (approved both, or booked by neither) and the sale's refunded sum is what the host
    # booked. The answer given, lost once (the resend from RAM), lost twice (not confirmed).
    # Every tear mode for the answer given; for the lost answers (their first cuts are the same as
    # the given answer's) every other one. MicroPython (the tier's time): every third cut, the lost
    # answers in the first and last tear mode.
    for plan in ((), ("silent",), ("silent", "garbage")):
        runs = 0
        tears = TEAR_MODES if not plan else LOST_TEARS
        for tear in tears:
            n = 1
            while True:
                if (n + TEAR_MODES.index(tear)) % SAMPLE:
                    n += 1
                    continue
                if not _cut_refund(n, tear, plan):
                    break
                runs += 1
                n += 1
        assert runs >= len(tears) * 8 // SAMPLE, (plan, runs)


def test_a_refund_txn_record_needs_its_original_and_a_reason():
    rig, sale = _sold()
    rig.refund(sale["rrn"], sale["f13"], 100)
    record = dict(rig.term.journal.last)
    J._validate_txn(dict(record))
    for name, bad in (
        ("reason", "because"),
        ("reason", None),
        ("orig", None),
        ("card", "6217002430012345675"),
    ):
        r = dict(record)
        r[name] = bad
        _raises_damaged(r)
    r = dict(record)
    r["orig"] = {"batch": 0, "trace": 0, "rrn": sale["rrn"], "date": "1129"}
    J._validate_txn(r)  # an original the journal no longer had
    r["orig"] = {"batch": 0, "trace": 0, "rrn": "", "date": "1129"}
    _raises_damaged(r)  # a refund always names its original's RRN
    r = dict(rig.term.journal.last)
    r["kind"] = "sale"
    _raises_damaged(r)  # a sale has no original and no reason
    assert chip().mode == "insert"


def _raises_damaged(record):
    try:
        J._validate_txn(record)
    except J.Damaged:
        return
    raise AssertionError(record)


def test_a_card_less_resend_without_a_valid_outcome_stays_not_confirmed():
    rig, sale = _sold()
    rig.host.plan = ["silent", "silent"]
    rig.refund(sale["rrn"], sale["f13"], 300)
    rig.wait(31)
    rig.wait(31)
    rig.press("ENTER")
    trace = rig.term.journal.last["trace"]
    for plan, code in ((["silent"], None), (["unsigned:05"], "05"), (["code:94"], "94")):
        rig.host.plan = plan
        assert _resend_all(rig) == [("failed", code, "refund_unconfirmed")], plan
        assert _view(rig, trace)["state"] == B.IN_DOUBT and rig.term.journal.last["state"] == J.IN_DOUBT
    assert _resend_all(rig) == [("approved", "00", None)]  # the host had it all along
    _agree(rig)
