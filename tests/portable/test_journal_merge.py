# The last transaction as Journal.last reads it: the txn record (the request, written ahead once)
# merged with the batch journal's latest state of the same (batch, trace) and the shown record.
# The cases where the two disagree: the batch ahead of txn (every sale), txn ahead of the batch
# (records of earlier firmware, a failed append), the batch's outcome lost to damage, the same
# trace in another batch, a settled batch. Runs on CPython and MicroPython.
from firmware import batch as B
from firmware import journal as J
from firmware.errors import StoredDataCorrupt
from firmware.journal import SHOWN, TXN, Journal
from firmware.store import load, save
from virtual.storage import RamStorage


class Counting(RamStorage):
    """RamStorage that counts the writes of each record (name before its first dot)."""

    def __init__(self):
        RamStorage.__init__(self)
        self.writes = {}

    def write(self, name, data):
        kind = name.split(".")[0]
        self.writes[kind] = self.writes.get(kind, 0) + 1
        RamStorage.write(self, name, data)


class Flaky(RamStorage):
    """RamStorage whose appends fail while `appends_fail`, and whose writes of names starting with
    `cut_before` raise Cut (the power goes before that write)."""

    appends_fail = False
    cut_before = ""

    def append(self, name, data):
        if self.appends_fail:
            raise OSError(5, "I/O error")
        RamStorage.append(self, name, data)

    def write(self, name, data):
        if self.cut_before and name.startswith(self.cut_before):
            raise Cut()
        RamStorage.write(self, name, data)


class Cut(Exception):
    pass


def _txn(trace, batch=1, amount=1234):
    txn = {"kind": "sale", "trace": trace, "batch": batch, "amount": amount}
    txn.update({"card": "621700*********5675", "mode": "insert", "time": 1795392000})
    txn.update({"org": "CUP", "op": "01"})
    return txn


def _fields(trace):
    return {3: "000000", 4: "000000001234", 11: "{:06d}".format(trace), 41: "10000001"}


def _sale(journal, trace, batch=1, approved=True, shown=True):
    journal.write_ahead(_txn(trace, batch), _fields(trace))
    if approved:
        journal.record_outcome(J.APPROVED, "00", "{:012d}".format(trace), "A00001", "103000", "1129", "")
    else:
        journal.record_outcome(J.DECLINED, "51")
    journal.clear_reversal()
    if shown:
        journal.mark_shown()


def _boot(storage):
    journal = Journal(storage)
    journal.recover()
    return journal


def _segment(storage):
    names = [n for n in storage.list() if n.startswith(B.SEGMENT_PREFIX)]
    return names[-1]


def test_a_sale_writes_txn_once_and_the_outcome_comes_back_from_the_batch():
    storage = Counting()
    journal = Journal(storage)
    _sale(journal, 1)
    storage.writes = {}
    _sale(journal, 2, shown=False)
    # one generation of txn (NAME.tmp, renamed), none for the outcome or "shown"
    assert storage.writes["txn"] == 1
    assert TXN.name in [n.split(".")[0] for n in storage.list()]
    assert load(storage, TXN).record["state"] == J.SENT  # txn holds the request only
    journal = _boot(storage)
    last = journal.last
    assert (last["trace"], last["state"], last["rrn"]) == (2, J.APPROVED, "000000000002")
    assert last["auth"] == "A00001"
    assert (last["code"], last["f12"], last["f13"]) == ("00", "103000", "1129")
    assert journal.needs_showing() is not None  # not shown before the cut
    journal.mark_shown()
    journal = _boot(storage)
    assert journal.needs_showing() is None and journal.last["state"] == J.APPROVED
    assert journal.batch.count == 2  # the boots appended nothing


def test_the_batch_ahead_of_txn_moves_it_and_txn_ahead_of_the_batch_is_appended():
    storage = RamStorage()
    journal = Journal(storage)
    journal.write_ahead(_txn(5), _fields(5))
    journal.keep_reversal("98")  # the answer lost: in doubt (the batch's state, not txn's)
    journal.reversal_done("00")
    journal = _boot(storage)
    assert journal.last["state"] == J.REVERSED and journal.pending_reversal() is None
    assert journal.batch.state_of(5) == B.REVERSED
    # txn ahead of the batch: the whole record of earlier firmware (outcome and shown in it)
    old = dict(load(storage, TXN).record)
    old.update({"trace": 6, "state": J.APPROVED, "code": "00", "rrn": "000000000006", "shown": True})
    save(storage, TXN, old, load(storage, TXN))
    journal = _boot(storage)
    assert journal.last["state"] == J.APPROVED and journal.needs_showing() is None
    t = journal.batch.by_trace(6)
    assert t["state"] == B.APPROVED and t["rrn"] == "000000000006"


def test_an_older_batch_state_never_moves_the_merged_one_back():
    storage = RamStorage()
    journal = Journal(storage)
    _sale(journal, 3)
    old = dict(load(storage, TXN).record)
    old.update({"state": J.REVERSED})  # a txn of earlier firmware, further on than the batch
    save(storage, TXN, old, load(storage, TXN))
    journal = Journal(storage)
    assert journal.last["state"] == J.REVERSED  # approved -> reversed is forward: txn's stays


def test_the_same_trace_in_another_batch_is_not_this_transaction():
    storage = Flaky()
    journal = Journal(storage)
    _sale(journal, 9, batch=1)
    storage.appends_fail = True  # batch 2's sale record is not appended: by_trace(9) is batch 1's
    journal.write_ahead(_txn(9, batch=2), _fields(9))  # traces wrapped: batch 2 reuses 9
    storage.appends_fail = False
    journal = Journal(storage)
    assert journal.last["batch"] == 2 and journal.last["state"] == J.SENT
    journal.recover()  # its reversal is pending: the answer is lost, not batch 1's approval
    assert journal.last["state"] == J.IN_DOUBT and journal.pending_reversal()["batch"] == 2


def _outcome_cut_off(storage):
    """The segment without its last frame (the approved change), as damage leaves it."""
    name = _segment(storage)
    data = storage.read(name)
    storage.write(name, data[: data.rfind(b"QJ")])


def test_the_batchs_outcome_lost_to_damage_is_a_fault_never_unsent():
    storage = RamStorage()
    journal = Journal(storage)
    _sale(journal, 1)
    _sale(journal, 2)
    _outcome_cut_off(storage)  # approved, its reversal cleared: the outcome only in the batch
    try:
        Journal(storage)
    except StoredDataCorrupt:
        pass
    else:
        raise AssertionError("an approved sale read as never sent")
    assert B.Batch(storage).state_of(2) == B.SENT  # nothing appended over it


def test_the_batchs_outcome_damaged_in_the_middle_of_a_segment_is_a_fault_too():
    storage = RamStorage()
    journal = Journal(storage)
    _sale(journal, 1)
    _sale(journal, 2)
    journal.batch.change(1, 1, 1795392001, esign="pending")  # a later frame after the outcome
    name = _segment(storage)
    data = bytearray(storage.read(name))
    last_state = data.rfind(b"QJ", 0, data.rfind(b"QJ"))  # the approved change of trace 2
    data[last_state + B.HEADER + 3] ^= 0x01
    storage.write(name, bytes(data))
    try:
        Journal(storage)
    except StoredDataCorrupt:
        return
    raise AssertionError("an approved sale read as never sent")


def test_an_outcome_not_yet_appended_with_its_reversal_pending_is_in_doubt():
    # a cut before the outcome's append landed (or torn in it): the reversal written ahead goes
    storage = RamStorage()
    journal = Journal(storage)
    _sale(journal, 1)
    journal.write_ahead(_txn(2), _fields(2))
    name = _segment(storage)
    storage.append(name, b"QJ\x01\x04\x00\x00")  # the outcome's frame, torn
    journal = _boot(storage)
    assert journal.last["state"] == J.IN_DOUBT and journal.pending_reversal()["trace"] == 2
    assert journal.batch.state_of(2) == B.IN_DOUBT


def test_a_request_never_sent_is_unsent_before_its_reversal_is_cleared():
    storage = Flaky()
    journal = Journal(storage)
    _sale(journal, 1)
    journal.write_ahead(_txn(2), _fields(2))
    storage.cut_before = "reversal"
    try:
        journal.clear_reversal()  # nothing left the terminal
    except Cut:
        pass
    storage.cut_before = ""
    assert B.Batch(storage).state_of(2) == B.UNSENT
    journal = _boot(storage)
    assert journal.last["state"] == J.NOT_SENT and journal.pending_reversal() is None


def test_a_shown_record_damaged_or_of_another_trace_shows_the_result_again():
    storage = RamStorage()
    journal = Journal(storage)
    _sale(journal, 1)
    _sale(journal, 2, shown=False)
    assert _boot(storage).needs_showing()["trace"] == 2  # the shown record names trace 1
    for name in ("shown.a", "shown.b"):
        storage.write(name, b"QPR2 garbage")
    journal = _boot(storage)  # no fault: a lost shown record is "not seen"
    assert journal.needs_showing()["trace"] == 2
    journal.mark_shown()
    assert _boot(storage).needs_showing() is None
    assert load(storage, SHOWN).record["trace"] == 2


def test_the_last_sale_of_a_settled_batch_reads_from_the_archive():
    storage = RamStorage()
    journal = Journal(storage)
    _sale(journal, 1)
    _sale(journal, 2, approved=False)
    totals = {"dn": 1, "da": 1234, "dcn": 0, "dca": 0, "fn": 0, "fa": 0, "fcn": 0, "fca": 0}
    journal.batch.settle(dict(totals, batch=1, time=1795392100, result="11"))
    journal = _boot(storage)  # no fault: its reversal was cleared, its outcome is archived
    assert journal.last["state"] == J.NOT_SENT and journal.needs_showing() is None
    _sale(journal, 3, batch=2)
    journal.batch.settle(dict(totals, batch=2, time=1795392200, result="11"))
    journal = _boot(storage)
    assert journal.last["state"] == J.APPROVED and journal.last["rrn"] == "000000000003"
    assert journal.needs_showing() is None and journal.batch.count == 0


def test_the_records_of_the_firmware_that_rewrote_txn_boot_and_recover():
    # That firmware wrote txn three times a sale (ahead, the outcome, shown) and mirrored each
    # into the batch journal: the same records, made here with the record and batch APIs.
    for shown in (True, False):
        storage = RamStorage()
        batch = B.Batch(storage)
        record = dict(_txn(4), v=1, state=J.APPROVED, code="00", rrn="000000000004", auth="A00004")
        record.update({"f12": "103000", "f13": "1129", "f15": "", "shown": shown})
        save(storage, TXN, record, load(storage, TXN))
        sale = dict(_txn(4))
        del sale["kind"]
        batch.begin(B.SALE, sale)
        batch.change(1, 4, 1795392000, state=B.APPROVED, code="00", rrn="000000000004", auth="A00004")
        seq = batch.seq
        journal = _boot(storage)
        assert journal.last["state"] == J.APPROVED and journal.last["rrn"] == "000000000004"
        assert (journal.needs_showing() is None) == shown
        assert journal.batch.seq == seq  # nothing appended
        journal.mark_shown()
        assert _boot(storage).needs_showing() is None
        _sale(journal, 5)  # the next sale over it, in the new way
        assert _boot(storage).last["state"] == J.APPROVED and journal.batch.state_of(4) == B.APPROVED
