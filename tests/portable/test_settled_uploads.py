# The uploads a settlement left behind (firmware/esign.py archived_pending, archived_upload): a
# signature and an unsigned sale's receipt still waiting when their batch closed keep its archive
# (the row `open`, firmware/batch.py), go in the next settlement's sweep under their own trace, the
# same message as before (F15 read back from the receipt), their answer kept in their file; then the
# archive may be evicted. A power cut at every storage operation of that sweep never loses one and
# never sends one under another trace. Both runtimes.

from firmware import esign
from firmware import receipt as rct
from firmware import settle as S
from firmware.sigfile import NO_CODE, read_image, upload_code
from tests.portable.campaign import CUT_SAMPLE, power_cut_campaign
from tests.portable.online_kit import FakeHost, Rig, tap
from virtual.storage import PowerCut

SAMPLE = CUT_SAMPLE  # campaign.py: MicroPython cuts each operation once


class F15Host(FakeHost):
    """The fake host, its sale answers carrying a settlement date (F15): the 交易特征码 uses it."""

    def _sale(self, req, code):
        answer = FakeHost._sale(self, req, code)
        answer[15] = "1130"
        return answer


def _code(rig, batch, trace):
    return upload_code(rig.storage, batch, trace, bytearray(6))


def _sweep(rig):
    """The settlement's sweep of uploads alone, stepped to its end (the clock moving)."""
    sweep = esign.settlement_sweep(rig.term)
    for _ in range(200):
        if sweep.done:
            break
        if not sweep.step():
            rig.clock.advance(1)
    assert sweep.done
    return sweep


def _left_behind():
    """Batch 1 settled with a signed sale's upload and an unsigned sale's receipt upload never
    answered (the host took each copy, its answer lost): (rig, signed trace, unsigned trace,
    {trace: the 0820 first sent})."""
    rig = Rig(host=F15Host(), host_timeout_s=5)
    rig.host.esign_plan = ["silent"]
    rig.sale(700, tap(), pin=None)  # under the no-signature limit: unsigned
    rig.wait(6)
    assert "Approved" in rig.screen(), rig.screen()
    unsigned = rig.term.journal.last["trace"]
    rig.press("ENTER")
    rig.host.esign_plan = ["silent"]  # this one's first, and the round stops there
    rig.sale(600)
    rig.wait(6)
    assert "Approved" in rig.screen(), rig.screen()
    signed = rig.term.journal.last["trace"]
    rig.press("ENTER")
    first = {}
    for up in rig.host.uploads:
        first[int(up[11])] = up
    assert sorted(first) == [unsigned, signed] and first[signed][15] == "1130"
    rig.host.esign_plan = ["lost"]  # the sweep's first upload is lost: the queue stops there
    rig.settle()
    rig.wait(6)
    assert "Settlement report" in rig.screen(), rig.screen()
    assert rig.term.counters.batch == 2 and not rig.term.settling, rig.screen()
    assert S.State(rig.storage).rec["nsig"] == 2
    return rig, signed, unsigned, first


def test_uploads_left_by_a_settlement_keep_its_archive_and_go_in_the_next_sweep():
    rig, signed, unsigned, first = _left_behind()
    batch = rig.term.journal.batch
    rows = {}
    for row in batch.archive_rows(limit=0):
        rows[row["trace"]] = row
    assert rows[signed]["open"] and rows[unsigned]["open"]  # the receipt's upload counts too
    assert batch.evict(rig.storage.capacity) == []  # never evicted while they wait
    assert list(esign.archived_pending(rig.term)) == [(1, unsigned), (1, signed)]
    # the round after the next transaction takes its own batch's only (the archive is the sweep's)
    rig.press("ENTER")
    assert "Approved" in rig.sale(800)
    rig.press("ENTER")
    assert [int(m[11]) for m in rig.host.uploads[2:]] == [rig.term.journal.last["trace"]]
    # the next settlement's sweep: each under its own trace, the same 0820 as first sent
    before = len(rig.host.uploads)
    rig.host.esign_plan = []
    assert "Settlement report" in rig.settle(), rig.screen()
    again = rig.host.uploads[before:]
    assert [int(m[11]) for m in again] == [unsigned, signed]
    for up in again:
        old = first[int(up[11])]
        assert sorted(up.fields) == sorted(old.fields)
        for n in old.fields:
            if n != 64:
                assert up[n] == old[n], (int(up[11]), n)
    assert _code(rig, 1, signed) == "00" and _code(rig, 1, unsigned) == "00"
    assert read_image(rig.storage, 1, signed)[1] == "00" and rct.read(rig.storage, 1, unsigned)[2] == "00"
    assert list(esign.archived_pending(rig.term)) == [] and S.State(rig.storage).rec["nsig"] == 0
    # nothing open any more: batch 1's archive goes with its files when room is needed
    assert rig.term.counters.batch == 3
    assert batch.evict(rig.storage.capacity) == [1, 2]
    assert [n for n in rig.storage.list() if n.startswith("sig.000001") or n.startswith("rct.000001")] == []


def test_an_empty_batch_sends_the_uploads_left_behind_and_says_it_is_empty():
    rig, signed, unsigned, _ = _left_behind()
    rig.press("ENTER")
    received = len(rig.host.received)
    trace = rig.term.counters.trace
    rig.settle()  # batch 2 is empty: the sweep alone, no 0500
    lines = "\n".join(p[1] for p in rig.term.screen.pairs)
    assert "Sign. sent x2" in lines and "Batch empty" in lines and "not sent" not in lines, lines
    assert [int(m[11]) for m in rig.host.uploads[-2:]] == [unsigned, signed]
    assert len(rig.host.received) == received and rig.term.counters.trace == trace
    assert rig.term.counters.batch == 2 and S.State(rig.storage).rec["batch"] == 1
    assert list(esign.archived_pending(rig.term)) == []
    assert rig.term.journal.batch.evict(rig.storage.capacity) == [1]


def test_an_archived_upload_refused_keeps_its_code_and_is_not_sent_again():
    rig, signed, unsigned, _ = _left_behind()
    rig.host.esign_plan = ["ok", "code:63"]
    sweep = _sweep(rig)
    assert sweep.refused == [(signed, "63")] and sweep.uploaded == 1 and sweep.left == 0
    assert _code(rig, 1, signed) == "63" and _code(rig, 1, unsigned) == "00"
    assert list(esign.archived_pending(rig.term)) == []
    before = len(rig.host.uploads)
    _sweep(rig)
    assert len(rig.host.uploads) == before  # refused: kept and reported, never sent again
    # a refused upload keeps its archive, as it did in its batch
    assert rig.term.journal.batch.evict(rig.storage.capacity) == []


def test_the_settlement_date_is_read_back_from_the_feature_code():
    for f15 in ("", "0101", "1130", "1231", "0915"):
        for rrn in ("000000000001", "123456789012", "ABCDEFGHIJKL", "0000 9zZ~xy1"):
            code = esign.feature_code(f15, rrn)
            assert esign.settle_date(code, rrn) == f15, (f15, rrn, code)
    assert esign.settle_date("1234567", "000000000001") == ""  # not a feature code
    assert esign.settle_date("FFFF0000", "000000000000") == ""  # no digits there


def test_an_archived_upload_without_its_receipt_is_not_sent_and_stays_waiting():
    # a board without a signer keeps no receipt, and the archive keeps no card, time or operator
    rig, signed, unsigned, _ = _left_behind()
    rig.storage.remove(rct.receipt_name(1, signed))
    before = len(rig.host.uploads)
    sweep = _sweep(rig)
    assert len(rig.host.uploads) == before + 1 and int(rig.host.uploads[-1][11]) == unsigned
    assert sweep.uploaded == 1 and sweep.left == 1 and sweep.refused == []
    assert _code(rig, 1, signed) == NO_CODE and list(esign.archived_pending(rig.term)) == [(1, signed)]


def test_a_power_cut_at_every_storage_operation_of_the_archived_uploads_never_loses_or_doubles_one():
    def attempt(n, tear):
        rig, signed, unsigned, first = _left_behind()
        before = len(rig.host.uploads)
        rig.host.esign_plan = []
        rig.storage.cut_at(n, tear)
        try:
            _sweep(rig)
        except PowerCut:
            pass
        else:
            rig.storage.cut_at(None)
            return False
        where = "cut {} {}".format(n, tear)
        rig = rig.reboot()
        assert rig.term.counters.batch == 2, where
        waiting = list(esign.archived_pending(rig.term))
        assert set(waiting) <= {(1, signed), (1, unsigned)}, (where, waiting)
        for key in ((1, signed), (1, unsigned)):  # none lost: waiting, or answered
            assert key in waiting or _code(rig, *key) == "00", (where, key)
        if waiting:
            assert rig.term.journal.batch.evict(rig.storage.capacity) == [], where
        _sweep(rig)
        assert list(esign.archived_pending(rig.term)) == [], where
        assert _code(rig, 1, signed) == "00" and _code(rig, 1, unsigned) == "00", where
        for up in rig.host.uploads[before:]:  # only these two, each under its own trace, unchanged
            old = first[int(up[11])]
            assert up[37] == old[37] and up[55] == old[55] and up.get(62) == old.get(62), where
        assert rig.term.journal.batch.evict(rig.storage.capacity) == [1], where
        return True

    runs = power_cut_campaign(attempt, step=SAMPLE)
    assert runs >= 8 // SAMPLE, runs
