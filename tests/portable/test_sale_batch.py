# The sale writes the batch journal: the txn record is the request written ahead, and the batch
# journal (firmware/batch.py) holds the sale record, its outcome, its reversal's outcome, never
# twice; an outcome the batch cannot take is reversed (96), and recover() appends what a failing
# append left out before the next transaction. Runs on CPython and MicroPython.
from firmware import batch as B
from firmware import journal as J
from firmware.journal import TXN, Journal
from firmware.store import Damaged, load, save
from tests.portable.online_kit import FakeHost, Rig, tap
from virtual.storage import RamStorage


class BatchFails(RamStorage):
    """RamStorage whose appends to the batch journal's segments fail while `failing` is set."""

    failing = False
    fail_next = 0  # or the next n appends fail

    def append(self, name, data):
        if self.fail_next and name.startswith(B.SEGMENT_PREFIX):
            self.fail_next -= 1
            raise OSError(5, "I/O error")
        if self.failing and name.startswith(B.SEGMENT_PREFIX):
            raise OSError(5, "I/O error")
        super().append(name, data)


def _signed_rig(**kw):
    rig = Rig(**kw)
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    return rig


def _batch(rig):
    """The batch journal as a boot would open it (from storage, not the terminal's tables)."""
    return B.Batch(rig.storage)


def _states(rig):
    return [(t["trace"], t["amount"], t["state"]) for t in _batch(rig).transactions()]


def test_an_approved_sale_is_in_the_batch_with_its_answer_card_org_and_operator():
    rig = _signed_rig()
    assert "Approved" in rig.sale(1234)
    trace = rig.term.journal.last["trace"]
    t = _batch(rig).by_trace(trace)
    assert t["kind"] == "sale" and t["state"] == B.APPROVED and t["amount"] == 1234
    assert t["card"] == "621700*********5675" and t["org"] == "CUP" and t["op"] == "01"
    assert t["rrn"] == rig.term.journal.last["rrn"] != "" and t["auth"] == rig.term.journal.last["auth"]
    assert (t["f12"], t["f13"], t["code"]) == ("103000", "1129", "00")
    assert _batch(rig).by_rrn(t["rrn"])["trace"] == trace
    last = rig.term.journal.last
    assert (last["org"], last["op"], last["f12"], last["f13"], last["f15"]) == (
        "CUP",
        "01",
        "103000",
        "1129",
        "",
    )
    assert _batch(rig).last == (1, trace)


def test_every_sale_once_declined_lost_reversed_and_approved_with_their_states():
    rig = _signed_rig()
    first = rig.term.journal.last["trace"]
    rig.host.plan = ["code:51"]
    rig.sale(200)
    rig.press("ENTER")
    rig.host.plan = ["silent"]
    rig.sale(777)
    rig.wait(31)
    assert "No answer: reversal" in rig.screen()
    lost = rig.term.journal.last["trace"]
    assert _batch(rig).state_of(lost) == B.IN_DOUBT
    rig.press("ENTER")
    assert "Approved" in rig.sale(300, tap(), pin=None)
    rig.press("ENTER")
    assert _states(rig) == [
        (first, 100, B.APPROVED),
        (first + 1, 200, B.DECLINED),
        (lost, 777, B.REVERSED),
        (lost + 1, 300, B.APPROVED),
    ]
    assert _batch(rig).by_trace(first + 1)["code"] == "51"
    totals = _batch(rig).totals()
    assert totals["sale"] == (2, 400) and totals["domestic"] == (2, 400, 0, 0)
    rig = rig.reboot()  # a boot appends nothing more
    assert len(_states(rig)) == 4 and _batch(rig).seq == rig.term.journal.batch.seq


def test_a_reversal_given_up_shows_failed_in_the_batch():
    rig = _signed_rig()
    rig.host.plan = ["silent"]
    rig.sale(777)
    rig.wait(31)
    lost = rig.term.journal.last["trace"]
    for _ in range(2):
        rig.press("ENTER")
        rig.host.plan = ["silent"]
        rig.sale(300)
        rig.wait(31)
    rig.press("ENTER")
    rig.host.plan = ["lost"]
    rig.sale(500)
    rig.wait(31)
    assert rig.sign()
    assert "Reversal failed" in rig.screen() and "Approved" in rig.screen()
    t = _batch(rig).by_trace(lost)
    assert t["state"] == B.IN_DOUBT and t["reversal"] == "failed"
    assert _batch(rig).state_of(rig.term.journal.last["trace"]) == B.APPROVED


def test_a_sale_record_whose_append_failed_is_appended_with_the_outcome():
    storage = BatchFails()
    rig = _signed_rig(storage=storage, language="en")
    storage.fail_next = 1  # the sale record written ahead: the outcome's append adds it first
    shown = rig.sale(4321)
    assert "Approved" in shown, shown
    last = rig.term.journal.last
    assert last["state"] == J.APPROVED and rig.term.journal.pending_reversal() is None
    t = _batch(rig).by_trace(last["trace"])
    assert t["state"] == B.APPROVED and t["rrn"] == last["rrn"] and t["amount"] == 4321
    rig.press("ENTER")
    rig.term.journal.recover()  # the one run before every transaction (and at boot)
    assert len(_states(rig)) == 2  # never twice


def test_a_batch_that_cannot_take_the_outcome_reverses_it_and_refuses_the_next_before_its_trace():
    # The outcome lives in the batch journal (txn is only the request written ahead): an approval
    # the batch cannot take is reversed (96), never kept in RAM alone.
    storage = BatchFails()
    rig = _signed_rig(storage=storage, language="en")
    storage.failing = True
    assert "Not saved: reversal" in rig.sale(4321)
    lost = rig.term.journal.last["trace"]
    assert rig.term.journal.pending_reversal()["f"]["39"] == "96"
    rig.press("ENTER")
    trace = rig.term.counters.trace
    shown = rig.sale(500)
    assert "Storage failing" in shown, shown
    assert rig.term.counters.trace == trace  # no number consumed
    assert [k for k in rig.host.ledger if rig.host.ledger[k] == 500] == []
    assert rig.term.journal.last["trace"] == lost  # the txn record was not written over
    rig.press("ENTER")
    storage.failing = False
    assert "Approved" in rig.sale(500)
    assert [(t[1], t[2]) for t in _states(rig)] == [(100, "approved"), (4321, "reversed"), (500, "approved")]
    assert (1, lost) not in rig.host.ledger


def test_an_outcome_that_could_not_be_appended_is_in_doubt_after_a_boot():
    storage = BatchFails()
    rig = _signed_rig(storage=storage, language="en")
    storage.failing = True
    assert "Not saved: reversal" in rig.sale(600)
    trace = rig.term.journal.last["trace"]
    storage.power_cut()
    storage.failing = False
    rig = rig.reboot()
    assert _batch(rig).state_of(trace) == B.IN_DOUBT
    assert rig.term.journal.pending_reversal()["trace"] == trace


def _old_txn(storage, state):
    """A txn record as the firmware before the batch journal wrote it (no org, op, f12, f13, f15)."""
    record = {"v": 1, "kind": "sale", "trace": 7, "batch": 2, "amount": 990, "card": "621700*********5675"}
    record.update({"mode": "insert", "time": 1795392000, "state": state, "code": "00"})
    record.update({"rrn": "000000000042", "auth": "A00042", "shown": True})
    save(storage, TXN, record, load(storage, TXN))


def test_a_txn_record_of_earlier_firmware_reads_with_defaults_and_is_mirrored():
    storage = RamStorage()
    _old_txn(storage, J.APPROVED)
    journal = Journal(storage)
    last = journal.last
    assert (last["org"], last["op"], last["f12"], last["f13"], last["f15"]) == ("", "01", "", "", "")
    journal.recover()
    t = B.Batch(storage).by_trace(7)
    assert t["batch"] == 2 and t["state"] == B.APPROVED and t["org"] == "" and t["op"] == "01"
    assert t["rrn"] == "000000000042" and B.domestic(t["org"])


def test_the_new_txn_fields_are_checked_when_present():
    storage = RamStorage()
    _old_txn(storage, J.APPROVED)
    journal = Journal(storage)
    for name, bad in (("org", "cup"), ("op", "1"), ("f12", "10300"), ("f13", "11a9"), ("f15", 1129)):
        record = dict(journal.last)
        record[name] = bad
        try:
            save(storage, TXN, record, load(storage, TXN))
        except (ValueError, Damaged):
            continue
        raise AssertionError(name + " accepted")


def test_a_settled_batchs_last_sale_is_not_appended_again():
    storage = RamStorage()
    _old_txn(storage, J.APPROVED)
    journal = Journal(storage)
    journal.recover()
    totals = {"dn": 1, "da": 990, "dcn": 0, "dca": 0, "fn": 0, "fa": 0, "fcn": 0, "fca": 0}
    journal.batch.settle(dict(totals, batch=2, time=1795392100, result="11"))
    journal = Journal(storage)
    journal.recover()
    assert journal.batch.count == 0 and journal.batch.archived(trace=7)["amount"] == 990


def test_an_unknown_card_organisation_is_kept_as_none():
    from hal.contracts import CardEvent
    from tests.portable.online_kit import TRACK2

    rig = _signed_rig(host=FakeHost(), language="en")
    assert "Approved" in rig.sale(700, CardEvent("insert", TRACK2, "visa-1"))
    t = _batch(rig).by_trace(rig.term.journal.last["trace"])
    assert t["org"] == "" and t["state"] == B.APPROVED


# ---- capacity ------------------------------------------------------------------------------------
def test_a_full_batch_refuses_the_next_sale_at_the_menu_before_any_trace():
    rig = _signed_rig(batch_size=2)
    assert "Approved" in rig.sale(200)
    rig.press("ENTER")
    assert "Nearly full: settle" in rig.screen()  # 2 of 2
    trace = rig.term.counters.trace
    rig.press("ENTER", "1")
    assert "Please settle first" in rig.screen(), rig.screen()
    rig.press("ENTER")
    assert "Main menu" in rig.screen()
    assert rig.term.counters.trace == trace and rig.host.kinds().count("sale") == 2


def test_the_sale_itself_refuses_before_consuming_a_trace_when_the_batch_filled_meanwhile():
    rig = _signed_rig(batch_size=5)
    assert "Nearly full" not in rig.screen()
    trace = rig.term.counters.trace
    rig.press("ENTER", "1")  # the menu let it through: 1 of 5
    rig.term.params.batch_size = 1
    rig.press("5", "0", "0", "ENTER")
    rig.board.card_reader.present(tap())
    rig.term.settle()
    assert "Please settle first" in rig.screen(), rig.screen()
    assert rig.term.counters.trace == trace and rig.host.kinds().count("sale") == 1
    assert _batch(rig).count == 1 and rig.term.journal.last["trace"] == trace - 1


def test_a_nearly_full_storage_refuses_the_next_sale_before_any_trace():
    storage = RamStorage()
    rig = _signed_rig(storage=storage, language="en")
    storage.capacity = storage.capacity - storage.free() + B.TXN_ROOM + B.SETTLEMENT_ROOM - 1
    trace = rig.term.counters.trace
    rig.press("ENTER", "1")
    assert "Please settle first" in rig.screen(), rig.screen()
    rig.press("CANCEL", "CANCEL")
    assert rig.term.counters.trace == trace
    storage.capacity += 1  # room for exactly one more
    rig.press("ENTER", "1")
    assert "Amount" in rig.screen() or "¥" in rig.screen(), rig.screen()
    rig.press("CANCEL", "CANCEL", "CANCEL")


def test_the_idle_screen_warns_from_ninety_percent():
    rig = _signed_rig(batch_size=10)
    for fen in range(201, 209):
        assert "Approved" in rig.sale(fen, tap(), pin=None)
        rig.press("ENTER")
        assert ("Nearly full: settle" in rig.screen()) == (fen == 208), (fen, rig.screen())


# ---- the counters against the batch journal at boot ---------------------------------------------
def _journal_with(storage, batch, trace):
    B.Batch(storage).begin(B.SALE, _sale(batch, trace))


def _sale(batch, trace):
    record = {"batch": batch, "trace": trace, "amount": 990, "card": "621700*********5675"}
    record.update({"org": "CUP", "mode": "insert", "time": 1795392000, "op": "01"})
    return record


def _counters_at(storage, n, batch=1):
    from firmware.counters import COUNTERS, PROVISIONED

    save(storage, PROVISIONED, {"v": 1, "reserved": n + 1000, "params": True}, load(storage, PROVISIONED))
    save(storage, COUNTERS, {"v": 1, "n": n, "batch": batch}, load(storage, COUNTERS))


def _boot(storage):
    from firmware.terminal import Terminal
    from tests.portable.fakes import make_board

    return Terminal(make_board(storage=storage))


def test_a_journal_ahead_of_the_counters_skips_them_past_its_last_trace_and_batch():
    storage = RamStorage()
    _counters_at(storage, 10)
    _journal_with(storage, 3, 50)
    term = _boot(storage)
    assert (term.counters.batch, term.counters.trace) == (3, 51)
    assert (_boot(storage).counters.batch, _boot(storage).counters.trace) == (3, 51)  # durable


def test_traces_wrap_a_journal_behind_the_counters_moves_nothing_and_one_past_the_wrap_does():
    storage = RamStorage()
    _counters_at(storage, 999999 + 5)  # trace 5 of the second cycle handed out
    _journal_with(storage, 1, 999990)  # handed out before the wrap: behind
    assert _boot(storage).counters.trace == 6
    storage = RamStorage()
    _counters_at(storage, 999990)
    _journal_with(storage, 1, 3)  # handed out after the wrap: ahead
    assert _boot(storage).counters.trace == 4


def test_the_batch_journal_is_evidence_of_a_provisioned_terminal_and_a_floor_for_recovery():
    from firmware.counters import Counters, CountersLost, provisioned, recover

    storage = RamStorage()
    assert not provisioned(storage)
    _journal_with(storage, 2, 700)
    assert provisioned(storage)
    try:
        Counters.load(storage)
        raise AssertionError("counters made up")
    except CountersLost:
        pass
    counters = recover(storage)
    assert counters.batch == 2 and counters.trace > 700


def test_a_batch_frame_that_no_longer_reads_back_refuses_the_next_transaction():
    storage = RamStorage()
    _old_txn(storage, J.APPROVED)
    journal = Journal(storage)
    journal.recover()
    name = B.segment_name(journal.batch.segments[0])
    storage.write(name, b"\x00" * storage.size(name))  # the storage under the open journal failed
    try:
        journal.recover()
    except OSError:
        return
    raise AssertionError("a transaction would go with the batch journal unreadable")
