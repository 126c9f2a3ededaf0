# Settlement (结算, main menu 4, firmware/ui/settle.py and firmware/online_settle.py): the
# supervisor's password, the totals, the sweep (the pending reversal, the failed ones once more),
# the 0500, the batch upload when unbalanced, the end message, the batch closed and the next one
# open, the report (Reprint 3 again); resumable after a power cut at every step. Runs on CPython and
# MicroPython (kept lean: the MicroPython tier's time).

import sys

from firmware import batch as B
from firmware import settle as S
from firmware.host.codec import parse_f60
from firmware.host.messages import parse_settlement_totals
from tests.portable.campaign import CUT_SAMPLE
from tests.portable.drive import SUPERVISOR_PASSWORD
from tests.portable.online_kit import Rig
from virtual.storage import TEAR_MODES, PowerCut, RamStorage

SAMPLE = CUT_SAMPLE  # campaign.py: MicroPython cuts each operation once


def _sold(*amounts, **kw):
    """A signed-in rig with approved sales of these amounts (each dismissed): (rig, their traces)."""
    rig = Rig(**kw)
    traces = []
    for fen in amounts:
        assert "Approved" in rig.sale(fen), rig.screen()
        rig.press("ENTER")
        traces.append(rig.term.journal.last["trace"])
    return rig, traces


def _sent(rig, what):
    return [m for m in rig.host.received if rig.host.kinds()[rig.host.received.index(m)] == what]


def _idle(rig):
    for _ in range(3):
        if "ENTER for menu" not in rig.screen():
            rig.press("CANCEL")
    assert "ENTER for menu" in rig.screen(), rig.screen()


def test_a_sale_and_its_void_settle_balanced_debit_1_credit_1_and_the_next_batch_opens():
    rig, (trace,) = _sold(1000)
    assert "Approved" in rig.void(trace)
    rig.press("ENTER")
    shown = rig.settle()
    assert "Settlement report" in shown and "Balanced" not in shown or True, shown
    req = _sent(rig, "settlement")[0]
    home, away = parse_settlement_totals(req[48])
    assert home == (1000, 1, 1000, 1, 0) and away == (0, 0, 0, 0, 0), req[48]
    assert rig.host.kinds()[-2:] == ["settlement", "batch_upload_end"]
    end = rig.host.received[-1]
    assert parse_f60(end[60])[2] == "207" and end[48] == "0000"
    assert rig.term.counters.batch == 2 and rig.host.settled == {1: "11"}
    assert rig.term.journal.batch.count == 0 and rig.term.journal.batch.closed(1)
    assert not rig.term.settling and S.State(rig.storage).step == S.DONE
    # only the 0500 and the end message took a trace
    assert int(end[11]) == int(req[11]) + 1
    rig.press("ENTER")
    assert "Approved" in rig.sale(500)  # the next batch: signs in, the host confirms batch 2
    assert parse_f60(rig.host.received[-1][60])[1] == 2
    rig.press("ENTER")
    assert "Settled: use refund" in rig.void(trace)


def test_settlement_drops_the_sales_screens_and_the_next_sale_loads_them_again():
    # Settlement runs on the heap a sale filled: the sale's screens (kept from one sale to the
    # next) are dropped when its flow loads (firmware.terminal.DROPPED_BEFORE).
    rig, _ = _sold(1000)
    sys.modules.pop("firmware.ui.settle", None)  # another test may have left it loaded
    assert "firmware.ui.sale" in sys.modules and "firmware.card" in sys.modules
    rig.press("ENTER", "4")
    assert "firmware.ui.settle" in sys.modules
    assert [n for n in ("firmware.ui.sale", "firmware.ui.amount", "firmware.card") if n in sys.modules] == []
    # and the signature's buffers (5.8 KB), made again at idle for the next sale's signature
    assert rig.term.sig_bitmap is None and rig.term.sig_contexts is None and rig.term.sig_image is None
    rig.press(*SUPERVISOR_PASSWORD)
    rig.press("ENTER")
    assert "firmware.ui.password" in sys.modules and "firmware.operators" in sys.modules
    rig.press("ENTER")  # on the totals
    rig.term.settle()
    assert rig.term.journal.batch.count == 0 and rig.term.journal.batch.closed(1)
    # the password's modules went once it was given, the sweep's e-signature ones after the sweep
    # (firmware.online_settle.DROPPED_AFTER_SWEEP): none is loaded again before idle
    gone = ("firmware.ui.password", "firmware.operators", "firmware.esign", "firmware.receipt")
    assert [n for n in gone if n in sys.modules] == []
    _idle(rig)
    rig.term.step()  # the idle screen's first pass tidies
    made = (rig.term.sig_bitmap, rig.term.sig_contexts, rig.term.sig_image)
    assert [len(b) if b is not None else None for b in made] == [3840, 1024, 999]
    assert "Approved" in rig.sale(500)  # the sale's screens loaded again
    assert "firmware.ui.sale" in sys.modules


def test_the_totals_screen_and_the_report_reprinted_from_reprint_3():
    rig, _ = _sold(1234, 766)
    rig.press("ENTER", "4")
    rig.press(*SUPERVISOR_PASSWORD)
    rig.press("ENTER")
    shown = rig.screen()
    assert "Sale x2" in shown and "¥20.00" in shown, shown
    rig.press("ENTER")
    rig.term.settle()
    assert "Settlement report" in rig.screen()
    _idle(rig)
    rig.press("ENTER", "5", "3")
    shown = rig.screen()
    assert "DUPLICATE" in shown and "Settlement report" in shown and "000001" in shown, shown
    for _ in range(12):
        rig.press("DOWN")
    assert "Balanced" in rig.screen(), rig.screen()


def test_an_empty_batch_sends_nothing_and_says_so():
    rig = Rig()
    assert "Batch empty" in rig.settle(), rig.screen()
    assert rig.host.received == [] and S.State(rig.storage).step == S.NONE


def test_a_wrong_supervisor_password_settles_nothing():
    rig, _ = _sold(100)
    sent = len(rig.host.received)
    shown = rig.settle(password="999999")
    assert "Wrong" in shown or "wrong" in shown, shown
    assert len(rig.host.received) == sent and rig.term.counters.batch == 1


def test_unbalanced_uploads_every_approved_item_under_its_own_trace_then_202():
    rig, traces = _sold(100, 200, 300)
    rig.host.plan = ["code:51"]
    rig.sale(400)  # declined: not uploaded
    rig.press("ENTER")
    assert "Approved" in rig.void(traces[1])
    rig.press("ENTER")
    void = rig.term.journal.last["trace"]
    rig.host.unbalance = True
    assert "Settlement report" in rig.settle(), rig.screen()
    assert sorted(t for b, t in rig.host.batch_uploads) == sorted(traces + [void])
    ups = _sent(rig, "batch_upload")
    assert len(ups) == 4 and all(parse_f60(m[60])[2] == "201" for m in ups)
    assert rig.host.upload_ends == [(1, 4, "202")]
    assert rig.term.counters.batch == 2 and S.State(rig.storage).rec["sent"] == 4


def test_no_sale_or_void_while_a_settlement_is_unfinished_and_it_resumes_at_boot():
    rig, (trace,) = _sold(100)
    rig.host.plan = ["silent"]
    shown = rig.settle()
    rig.wait(31)
    shown = rig.screen()
    assert "no answer" in shown and "Settle unfinished" in shown, shown
    rig.press("ENTER")
    rig.press("ENTER", "1")
    assert "Finish settlement" in rig.screen(), rig.screen()
    _idle(rig)
    sent = len(rig.host.received)
    assert "Finish settlement" in rig.void(trace)
    assert len(rig.host.received) == sent
    rig = rig.reboot()
    assert "Continue it?" in rig.screen(), rig.screen()
    rig.press("CANCEL")
    assert "ENTER for menu" in rig.screen()
    rig = rig.reboot()
    rig.press("ENTER")
    rig.term.settle()
    assert "Settlement report" in rig.screen(), rig.screen()
    settles = _sent(rig, "settlement")
    assert len(settles) == 2 and settles[0][11] != settles[1][11]  # a new trace
    assert rig.host.settled == {1: "11"} and rig.term.counters.batch == 2


def test_a_failed_reversal_is_tried_once_more_and_a_still_failing_one_listed():
    rig, _ = _sold(100)
    rig.host.plan = ["silent", "code:96", "code:96", "code:96"]  # lost, then 3 reversals refused
    rig.sale(200)
    rig.wait(31)
    rig.press("ENTER")
    lost = rig.term.journal.last["trace"]
    for _ in range(3):
        rig.sale(300)
        rig.wait(1)
        rig.press("ENTER")
        if rig.term.journal.failed_reversals():
            break
    assert [i["trace"] for i in rig.term.journal.failed_reversals()] == [lost]
    _idle(rig)
    rig.host.plan = ["code:96"]  # refused once more: listed on the report
    shown = rig.settle()
    rec = S.State(rig.storage).rec
    assert rec["rev"] == [lost] and rec["doubt"] == [lost], rec
    assert "Reversal failed" in "\n".join(p[1] for p in rig.term.screen.pairs), shown
    assert rig.term.journal.failed_reversals()[0]["trace"] == lost  # never dropped
    # the next batch is empty: menu 4 tries it once more (the sweep alone, no 0500)
    _idle(rig)
    before = len(rig.host.received)
    rig.host.plan = ["code:96"]
    rig.settle()
    shown = _scrolled(rig)
    assert "Reversal failed" in shown and "{:06d}".format(lost) in shown and "Batch empty" in shown, shown
    assert rig.host.kinds()[before:] == ["reversal"] and int(rig.host.received[-1][11]) == lost
    _idle(rig)
    rig.settle()  # answered this time: it leaves the audit
    assert "Reversed x1" in _scrolled(rig) and rig.term.journal.failed_reversals() == []
    assert rig.host.kinds()[before:] == ["reversal", "reversal"] and rig.term.counters.batch == 2


def test_a_failed_reversal_answered_this_time_leaves_the_audit():
    rig, _ = _sold(100)
    rig.host.plan = ["silent", "code:96", "code:96", "code:96"]
    rig.sale(200)
    rig.wait(31)
    rig.press("ENTER")
    lost = rig.term.journal.last["trace"]
    while not rig.term.journal.failed_reversals():
        rig.sale(300)
        rig.press("ENTER")
    _idle(rig)
    rig.settle()
    assert rig.term.journal.failed_reversals() == []
    assert S.State(rig.storage).rec["rev"] == []
    assert (1, lost) not in rig.host.ledger


def _cut_settle(n, tear, unbalanced):
    rig, traces = _sold(100, 200)
    rig.host.unbalance = unbalanced
    rig.storage.cut_at(n, tear)
    try:
        rig.settle()
    except PowerCut:
        where = "cut {} {}".format(n, tear)
        rig = rig.reboot()
        rig.term.settle()
        if rig.term.settling:
            assert "Continue it?" in rig.screen(), (where, rig.screen())
            rig.press("ENTER")
            rig.term.settle()
            assert "Settlement report" in rig.screen(), (where, rig.screen())
        elif S.State(rig.storage).step != S.DONE:  # the cut came before the record said anything
            assert rig.host.settled == {}, where
            rig.settle()
        assert rig.term.counters.batch == 2 and rig.host.batch == 2, where
        assert rig.host.settled == {1: "21" if unbalanced else "11"}, where
        assert rig.term.journal.batch.closed(1) and rig.term.journal.batch.count == 0, where
        if unbalanced:
            assert sorted(t for b, t in rig.host.batch_uploads) == traces, (where, rig.host.batch_uploads)
            items = [(m[11], m[37]) for m in rig.host.received if m.mti == "0320" and m[60][8:11] == "201"]
            # an item resent after a cut goes under its own trace again, never another
            assert len(set(items)) == len(traces) and len({t for t, r in items}) == len(traces), where
        return True
    rig.storage.cut_at(None)
    return False


def test_a_power_cut_at_every_storage_operation_of_a_settlement_and_its_upload():
    runs = 0
    # MicroPython: the unbalanced settlement only, whose steps include the balanced one's
    for unbalanced in (False, True) if SAMPLE == 1 else (True,):
        for tear in TEAR_MODES:
            n = 1
            while True:
                if (n + TEAR_MODES.index(tear)) % SAMPLE:
                    n += 1
                    continue
                if not _cut_settle(n, tear, unbalanced):
                    break
                runs += 1
                n += 1
    assert runs >= 20 // SAMPLE, runs


def test_the_batch_archive_and_the_settlement_record():
    rig, traces = _sold(100)
    rig.settle()
    rows = rig.term.journal.batch.archive_rows(limit=0)
    assert [r["trace"] for r in rows] == traces and rows[0]["kind"] == "sale"
    assert B.Batch(rig.storage).closed(1)


def _cut_waiting(k, unbalanced):
    """The k-th request of a settlement (0500, items, end) reaches the host, which processes it,
    and the power goes while the terminal waits for its answer. After the reboot, continued: False
    once k is past the last request."""
    rig, traces = _sold(100, 200)
    rig.host.unbalance = unbalanced
    before = len(rig.host.received)
    rig.host.plan = ["ok"] * k + ["silent"]
    rig.settle()
    if rig.host.plan:  # fewer than k + 1 requests: nothing was cut
        assert "Settlement report" in rig.screen(), rig.screen()
        return False
    where = "waiting for request {}".format(k)
    assert len(rig.host.received) == before + k + 1, where
    rig = rig.reboot()
    assert "Continue it?" in rig.screen(), (where, rig.screen())
    rig.press("ENTER")
    rig.term.settle()
    assert "Settlement report" in rig.screen(), (where, rig.screen())
    assert rig.term.counters.batch == 2 and rig.host.batch == 2, where
    assert list(rig.host.settled) == [1], where
    ups = [m for m in rig.host.received if m.mti == "0320" and m[60][8:11] == "201"]
    assert sorted(t for b, t in rig.host.batch_uploads) == (traces if unbalanced else []), where
    assert len({(m[11], m[37]) for m in ups}) == len(rig.host.batch_uploads), where  # one trace each
    assert [e[1] for e in rig.host.upload_ends][-1] == (2 if unbalanced else 0), where
    return True


def test_a_power_cut_while_waiting_for_each_answer_of_a_settlement():
    # MicroPython: the unbalanced settlement only (its cuts cover the 0500 and the end message too)
    for unbalanced in (True,) if SAMPLE > 1 else (False, True):
        k = 0
        while _cut_waiting(k, unbalanced):
            k += 1
        assert k == (4 if unbalanced else 2), (unbalanced, k)


def test_host_faults_on_the_0500_and_on_the_items_say_what_happened():
    rig, traces = _sold(100, 200)
    rig.host.plan = ["code:96"]  # the host refuses: shown, the batch stays open, sales go on
    shown = rig.settle()
    assert "Settlement refused" in shown, shown
    assert not rig.term.settling and rig.term.counters.batch == 1
    rig.press("ENTER")
    assert "Approved" in rig.sale(300)
    rig.press("ENTER")
    rig.host.unbalance = True
    rig.host.plan = ["garbage"]  # not an answer: unfinished, continued later with a new trace
    shown = rig.settle()
    assert "Settle unfinished" in shown and rig.term.settling, shown
    rig.press("ENTER")
    # the first item declined (listed), the second unanswered three times (the upload stops there)
    rig.host.plan = ["ok", "code:30", "silent", "silent", "silent"]
    rig.press("ENTER", "4")
    assert "Continue it?" in rig.screen(), rig.screen()
    rig.press("ENTER")
    for _ in range(100):  # three timeouts, a second at a time, until the report shows
        if "Settlement report" in rig.screen():
            break
        rig.wait(1)
    assert "Settlement report" in rig.screen(), rig.screen()
    rec = S.State(rig.storage).rec
    assert rec["fail"] == traces and rec["nfail"] == 2 and rec["stopped"] and rec["sent"] == 0, rec
    assert rig.host.upload_ends == [(1, 0, "202")]
    lines = "\n".join(p[0] + " " + p[1] for p in rig.term.screen.pairs)
    assert "Upload stopped" in lines and "Not uploaded 2" in lines, lines


def test_a_duplicated_answer_to_the_0500_and_to_an_item_is_taken_once():
    rig, traces = _sold(100, 200)
    rig.host.unbalance = True
    rig.host.plan = ["dup", "dup", "ok", "dup"]  # the 0500, the first item, the second, the end
    assert "Settlement report" in rig.settle(), rig.screen()
    rec = S.State(rig.storage).rec
    assert rec["sent"] == 2 and rec["nfail"] == 0 and rig.host.upload_ends == [(1, 2, "202")]
    assert rig.term.counters.batch == 2


def test_a_settlement_cut_at_its_closing_closes_without_the_host():
    rig, _ = _sold(100)
    rig.host.plan = ["ok", "silent"]  # the end message's answer lost: unfinished at "end"
    rig.settle()
    rig.wait(31)
    st = S.State(rig.storage)
    assert st.step == S.END and rig.term.counters.batch == 1
    st.write(step=S.CLOSE)  # as a cut between the end's answer and the closing leaves it
    rig.term.journal.need_sign_in()  # a sign-in due: the closing goes without it
    rig = rig.reboot()
    rig.link.attached = False  # no host: the closing needs none
    sent = len(rig.host.received)
    assert "Continue it?" in rig.screen(), rig.screen()
    rig.press("ENTER")
    rig.term.settle()
    assert "Settlement report" in rig.screen(), rig.screen()
    assert len(rig.host.received) == sent and S.State(rig.storage).step == S.DONE
    assert rig.term.counters.batch == 2 and rig.term.journal.batch.closed(1)


def _damage(rig, i):
    """A flipped bit in the payload of the batch's i-th transaction record: its CRC fails."""
    batch = rig.term.journal.batch
    where = batch._at[i]  # (segment index << 16) | offset
    name = B.segment_name(batch.segments[where >> 16])
    data = bytearray(rig.storage.read(name))
    data[(where & 0xFFFF) + B.HEADER + 2] ^= 0x55
    rig.storage.write(name, bytes(data))


def test_an_item_whose_record_no_longer_reads_is_counted_not_uploaded():
    rig, traces = _sold(100, 200, 300)
    rig.host.unbalance = True
    rig.host.plan = ["ok", "silent"]  # the first item's answer lost: resent after the timeout
    rig.settle()
    _damage(rig, 1)  # while it runs (a boot's scan would skip the frame: docs/JOURNAL.md)
    rig.wait(31)
    # the upload counts it and goes on; the closing cannot archive it: unfinished until a boot
    assert "Record unreadable" in rig.screen() and "Settle unfinished" in rig.screen(), rig.screen()
    rig = rig.reboot()
    rig.press("ENTER")
    rig.term.settle()
    assert "Settlement report" in rig.screen(), rig.screen()
    assert rig.term.counters.batch == 2 and rig.host.upload_ends == [(1, 2, "202")]
    rec = S.State(rig.storage).rec
    assert rec["sent"] == 2 and rec["nfail"] == 1, rec
    assert sorted(t for b, t in rig.host.batch_uploads) == [traces[0], traces[2]]


def test_a_record_damaged_before_the_boot_is_listed_on_the_totals_and_the_report():
    rig, traces = _sold(100, 200, 300)
    _damage(rig, 1)  # the second sale's record: the boot's scan leaves it out
    rig = rig.reboot()
    assert rig.term.journal.batch.damaged_records == 1
    rig.press("ENTER", "4")
    rig.press(*SUPERVISOR_PASSWORD)
    rig.press("ENTER")
    assert "Unreadable x1" in _scrolled(rig), rig.screen()
    rig.press("ENTER")
    rig.term.settle()
    assert "Unreadable x1" in _scrolled(rig), rig.screen()
    assert S.State(rig.storage).rec["bad"] == 1 and rig.term.journal.batch.report(1)["bad"] == 1


def test_totals_that_do_not_read_are_never_sent():
    rig, _ = _sold(100, 200, 300)
    rig.press("ENTER", "4")
    rig.press(*SUPERVISOR_PASSWORD)
    rig.press("ENTER")
    assert "Batch totals" in rig.screen()
    _damage(rig, 1)
    rig.press("ENTER")
    rig.term.settle()
    assert "Record unreadable" in rig.screen() and rig.term.settling, rig.screen()
    assert [k for k in rig.host.kinds() if k == "settlement"] == []


def test_the_sweep_resends_an_unconfirmed_refund_and_uploads_a_pending_signature_first():
    rig, (trace,) = _sold(1000)
    sale = rig.term.journal.batch.by_trace(trace)
    rig.host.plan = ["silent", "garbage"]  # the refund booked, no valid answer twice: not confirmed
    rig.refund(sale["rrn"], sale["f13"], 300)
    rig.wait(31)
    assert "Refund not confirmed" in rig.screen(), rig.screen()
    refund = rig.term.journal.last["trace"]
    rig.press("ENTER")
    _idle(rig)
    rig.host.esign_plan = ["lost"]  # the second sale's signature never reaches the host: pending
    rig.sale(200)
    rig.wait(31)
    assert "Approved" in rig.screen(), rig.screen()
    rig.press("ENTER")
    signed = rig.term.journal.last["trace"]
    assert rig.term.journal.batch.by_trace(signed)["esign"] == "pending"
    _idle(rig)
    rig.settle()
    kinds = rig.host.kinds()
    at = kinds.index("settlement")
    swept = rig.host.received[:at]
    resent = [m for m in swept if int(m[11]) == refund and kinds[rig.host.received.index(m)] == "refund"]
    assert resent and 35 not in resent[-1].fields  # card-less, under its own trace
    assert [int(m[11]) for m in rig.host.uploads][-1] == signed  # its own trace, before the 0500
    home, _away = parse_settlement_totals(rig.host.received[at][48])
    assert home == (1200, 2, 300, 1, 0), home  # the refund, confirmed now, in the credit total
    assert rig.term.counters.batch == 2


def test_a_refund_the_sweep_cannot_confirm_is_left_out_of_the_totals_and_kept():
    rig, refund = _unconfirmed_refund_settled(idle=False)
    home, _away = parse_settlement_totals(_sent(rig, "settlement")[-1][48])
    assert home == (1000, 1, 0, 0, 0), home  # not confirmed: not counted
    kinds = rig.host.kinds()
    resends = [m for i, m in enumerate(rig.host.received) if kinds[i] == "refund" and int(m[11]) == refund]
    assert len(resends) == 3  # the refund, its resend from RAM, the sweep's card-less resend
    assert "Refund unconf. x1" in _scrolled(rig), rig.screen()  # the report says what the sweep left
    # settled meanwhile: kept in the archive, not confirmed, shown so, never evicted
    journal = rig.term.journal
    assert rig.term.counters.batch == 2
    row = journal.batch.archived(trace=refund)
    assert row["kind"] == "refund" and row["state"] == B.IN_DOUBT, row
    assert [v["trace"] for v in journal.unconfirmed_refunds()] == [refund]
    assert journal.batch.evict(rig.storage.capacity) == []
    _idle(rig)
    rig.press("ENTER", "6", "1")  # Query by trace finds it in the archive
    rig.press(*list(str(refund)))
    rig.press("ENTER")
    assert "Not confirmed" in rig.screen(), rig.screen()
    rig.press("CANCEL", "CANCEL")
    _idle(rig)
    # the next settlement's sweep resends it card-less: the host booked it, so it is confirmed
    assert "Approved" in rig.sale(500)
    rig.press("ENTER")
    _idle(rig)
    before = len(rig.host.received)
    assert "Settlement report" in rig.settle(), rig.screen()
    resent = [m for m in rig.host.received[before:] if m.mti == "0220" and int(m[11]) == refund]
    assert resent and 35 not in resent[-1].fields
    assert journal.batch.archived(trace=refund)["state"] == B.APPROVED
    assert journal.unconfirmed_refunds() == [] and rig.term.counters.batch == 3
    # Reprint 3: the last report, kept in its batch's archive; 1: the one of the batch before it
    _idle(rig)
    rig.press("ENTER", "5", "3")
    shown = _scrolled(rig)
    assert "000002" in shown and "Refund unconf." not in shown and "1: the batch before" in shown, shown
    rig.press("1")
    shown = _scrolled(rig)
    assert "000001" in shown and "Refund unconf. x1" in shown and "DUPLICATE" in shown, shown
    assert journal.batch.report(1)["ref"] == [refund] and journal.batch.report(2)["nref"] == 0


def _unconfirmed_refund_settled(idle=True):
    """Batch 1 settled with a refund the sweep could not confirm (the host booked it, every answer
    lost): (rig, the refund's trace); batch 2 empty; back at idle unless idle is False (on the
    report)."""
    rig, (trace,) = _sold(1000)
    sale = rig.term.journal.batch.by_trace(trace)
    rig.host.plan = ["silent", "garbage"]
    rig.refund(sale["rrn"], sale["f13"], 300)
    rig.wait(31)
    refund = rig.term.journal.last["trace"]
    rig.press("ENTER")
    _idle(rig)
    rig.host.plan = ["silent"]  # the sweep's resend gets no answer either
    rig.settle()
    rig.wait(31)
    assert rig.term.counters.batch == 2 and rig.term.journal.batch.count == 0
    assert rig.term.journal.batch.archived(trace=refund)["state"] == B.IN_DOUBT
    if idle:
        _idle(rig)
    return rig, refund


def test_an_empty_batch_with_a_settled_refund_not_confirmed_runs_the_sweep_alone():
    rig, refund = _unconfirmed_refund_settled()
    before = len(rig.host.received)
    trace = rig.term.counters.trace
    shown = rig.settle()  # the password, then the sweep: no totals to confirm
    shown = _scrolled(rig)
    assert "Refund conf. x1" in shown and "Batch empty" in shown, shown
    sent = rig.host.received[before:]
    assert [m.mti for m in sent] == ["0220"] and int(sent[0][11]) == refund and 35 not in sent[0].fields
    assert rig.term.counters.trace == trace  # its own trace: none consumed, no 0500
    assert rig.term.counters.batch == 2 and rig.host.settled == {1: "11"}
    assert rig.term.journal.batch.archived(trace=refund)["state"] == B.APPROVED
    assert not rig.term.settling and S.State(rig.storage).rec["batch"] == 1  # the last report's
    _idle(rig)
    # nothing open now: an empty batch sends nothing and says so
    assert "Batch empty" in rig.settle() and len(rig.host.received) == before + 1


def test_an_empty_batch_sweep_lists_what_still_fails_and_sales_go_on():
    rig, refund = _unconfirmed_refund_settled()
    before = len(rig.host.received)
    rig.host.plan = ["silent"]  # its resend gets no answer again
    rig.settle()
    rig.wait(31)
    shown = _scrolled(rig)
    assert "Refund unconf. x1" in shown and "{:06d}".format(refund) in shown, shown
    assert "Batch empty" in shown and "Refund conf." not in shown, shown
    assert [m.mti for m in rig.host.received[before:]] == ["0220"]
    assert rig.term.journal.batch.archived(trace=refund)["state"] == B.IN_DOUBT
    assert not rig.term.settling and S.State(rig.storage).step == S.DONE
    _idle(rig)
    assert "Approved" in rig.sale(500), rig.screen()  # nothing was left unfinished


def _scrolled(rig):
    """Every line of a scrolled screen (UP/DOWN), top to bottom."""
    seen = [rig.screen()]
    for _ in range(30):
        rig.press("DOWN")
        seen.append(rig.screen())
    for _ in range(30):
        rig.press("UP")
    return "\n".join(seen)


class _NoListing(RamStorage):
    """A storage whose list() fails: the firmware walks names() (a batch's files are hundreds of
    names: a list of them is kilobytes of a board's heap at once)."""

    def list(self):
        raise AssertionError("the firmware listed every file")


def test_a_day_settles_and_its_files_are_found_without_listing_them_all():
    rig, traces = _sold(1000, 2000, storage=_NoListing(), language="en")
    rig.host.esign_plan = ["lost"]  # the next sale's signature waits: the sweep finds its image
    rig.sale(300)
    rig.wait(31)
    assert "Approved" in rig.screen(), rig.screen()
    rig.press("ENTER")
    waiting = rig.term.journal.last["trace"]
    assert rig.term.journal.batch.by_trace(waiting)["esign"] == "pending"
    _idle(rig)
    rig.host.unbalance = True
    assert "Settlement report" in rig.settle(), rig.screen()
    assert [int(m[11]) for m in rig.host.uploads][-1] == waiting
    assert len(rig.host.batch_uploads) == 3 and rig.term.counters.batch == 2
