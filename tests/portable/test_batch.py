# The batch journal (firmware/batch.py): framing, a torn append followed by more, garbage inside a
# segment, a full storage, traces wrapping at 999999, look-ups, totals, the archive. Both runtimes.
import sys

from firmware import batch as bj
from firmware import registry
from hal.contracts import ENOSPC
from tests.portable.conformance import raises
from virtual.storage import (
    TEAR_ALL,
    TEAR_ALL_BUT_ONE,
    TEAR_HALF,
    TEAR_MODES,
    TEAR_NONE,
    TEAR_ONE_BYTE,
    PowerCut,
    RamStorage,
)

CARD = "622202******0128"
SAMPLE = 2 if sys.implementation.name == "micropython" else 1  # the eviction's cuts: every other


def sale(trace, amount=1000, batch=1, kind=bj.SALE, org="CUP"):
    rec = {
        "batch": batch,
        "trace": trace,
        "amount": amount,
        "card": CARD,
        "org": org,
        "mode": "swipe",
        "time": 1800000000 + trace,
        "op": "01",
    }
    if kind != bj.SALE:
        rec["orig"] = {"batch": batch, "trace": 1, "rrn": "000000000001", "date": "1207"}
    if kind == bj.REFUND:
        rec["reason"] = "returned goods"
    return rec


def rrn(trace):
    return "{:012d}".format(trace)


def approve(j, trace, batch=1):
    j.change(batch, trace, 1800000100, state=bj.APPROVED, code="00", rrn=rrn(trace), auth="A1", f13="1207")


def one_sale(j, trace, amount=1000, batch=1):
    j.begin(bj.SALE, sale(trace, amount, batch))
    approve(j, trace, batch)


def test_a_sale_is_found_by_trace_and_by_rrn_after_a_reopen():
    store = RamStorage()
    j = bj.Batch(store)
    assert j.count == 0 and j.last is None and j.by_trace(1) is None
    j.begin(bj.SALE, sale(1))
    assert j.state_of(1) == bj.SENT and j.last == (1, 1)
    approve(j, 1)
    one_sale(j, 2, 2500)
    j.begin(bj.SALE, sale(3))
    j.change(1, 3, 1800000200, state=bj.IN_DOUBT, code="98")
    j.reversal_outcome(1, 3, "reversed", "00", 1800000300)
    for again in (j, bj.Batch(store)):
        t = again.by_trace(2)
        assert t["kind"] == "sale" and t["state"] == bj.APPROVED and t["amount"] == 2500
        assert t["rrn"] == rrn(2) and t["auth"] == "A1" and t["card"] == CARD and t["op"] == "01"
        assert again.by_rrn(rrn(1))["trace"] == 1 and again.by_rrn("999999999999") is None
        assert again.by_trace(3)["state"] == bj.REVERSED and again.by_trace(3)["code"] == "98"
        assert [t["trace"] for t in again.transactions()] == [1, 2, 3]
        assert again.totals()["sale"] == (2, 3500) and again.totals()["domestic"] == (2, 3500, 0, 0)
        assert again.last == (1, 3) and again.seq == 7 and again.damaged_bytes == 0
    assert bj.files_of(store) == ["batch.000001"]
    assert registry.unknown_files(store) == []


def test_a_state_change_is_a_new_record_never_a_rewrite():
    store = RamStorage()
    j = bj.Batch(store)
    j.begin(bj.SALE, sale(1))
    before = store.read("batch.000001")
    approve(j, 1)
    j.change(1, 1, 1800000500, esign="uploaded")
    after = store.read("batch.000001")
    assert after[: len(before)] == before and len(after) > len(before)
    t = j.by_trace(1)
    assert t["esign"] == "uploaded" and t["rrn"] == rrn(1) and t["state"] == bj.APPROVED  # carried over


def test_the_e_signature_alone_is_a_small_record_and_every_later_change_keeps_it():
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1)
    one_sale(j, 2)
    before = len(store.read("batch.000001"))
    j.change(1, 1, 1800000500, esign="pending")
    small = len(store.read("batch.000001")) - before
    assert small < 80, small  # not a whole state change repeating the outcome
    j.change(1, 2, 1800000600, esign="timeout")
    j.reversal_outcome(1, 2, "failed", "98", 1800000700)  # the state moves, the signature stays
    j.change(1, 1, 1800000800, state=bj.VOIDED)  # a whole state change carries the latest esign
    for k in (j, bj.Batch(store)):  # and the same after a reopen (the index rebuilt by the scan)
        one, two = k.by_trace(1), k.by_trace(2)
        assert one["esign"] == "pending" and one["state"] == bj.VOIDED and one["rrn"] == rrn(1)
        assert two["esign"] == "timeout" and two["state"] == bj.IN_DOUBT and two["reversal"] == "failed"
    j.change(1, 1, 1800000900, esign="uploaded")
    assert bj.Batch(store).by_trace(1)["esign"] == "uploaded"
    assert bj.Batch(store).by_trace(1)["state"] == bj.VOIDED
    raises(ValueError, lambda: j.change(1, 1, 1800000900, esign="maybe"))


def test_the_validator_refuses_card_data_and_unknown_fields():
    good = sale(1)
    bj.validate(bj.SALE, good)
    for card in ("6222021234560128", "622202123456012", "622202******012X", "6222******0128", 6222):
        bad = dict(good)
        bad["card"] = card
        raises(bj.Damaged, bj.validate, bj.SALE, bad)
        raises(ValueError, bj.frame, bj.SALE, 1, bad)
    for extra in ("track2", "pan", "pin"):
        bad = dict(good)
        bad[extra] = "6222021234567890128=2512"
        raises(bj.Damaged, bj.validate, bj.SALE, bad)
    bad = dict(good)
    del bad["op"]
    raises(bj.Damaged, bj.validate, bj.SALE, bad)
    for name, value in (("amount", True), ("amount", 0), ("trace", 1000000), ("org", "cup"), ("op", "1")):
        bad = dict(good)
        bad[name] = value
        raises(bj.Damaged, bj.validate, bj.SALE, bad)
    raises(bj.Damaged, bj.validate, bj.VOID, good)  # a void names its original
    bj.validate(bj.VOID, sale(2, kind=bj.VOID))
    bj.validate(bj.REFUND, sale(3, kind=bj.REFUND))
    j = bj.Batch(RamStorage())
    raises(ValueError, j.begin, bj.STATE, good)
    raises(ValueError, lambda: j.change(1, 9, 0, state=bj.APPROVED))  # no such transaction
    j.begin(bj.SALE, good)
    raises(ValueError, lambda: j.change(1, 1, 0, pan="6222021234567890128"))
    raises(ValueError, lambda: j.change(1, 1, 0, state="lost"))
    assert j.seq == 1


def _torn_then_three(tear):
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1)
    store.cut_at(1, tear)  # the append of the next sale's record
    raises(PowerCut, j.begin, bj.SALE, sale(2))
    store.power_on()
    j = bj.Batch(store)
    landed = tear == TEAR_ALL
    assert j.count == (2 if landed else 1), tear
    assert (j.damaged_bytes > 0) == (tear in (TEAR_ONE_BYTE, TEAR_HALF, TEAR_ALL_BUT_ONE)), tear
    for trace in (3, 4, 5):
        one_sale(j, trace)
    for again in (j, bj.Batch(store)):
        want = [1, 2, 3, 4, 5] if landed else [1, 3, 4, 5]
        assert [t["trace"] for t in again.transactions()] == want, tear
        assert again.by_trace(4)["state"] == bj.APPROVED and again.by_rrn(rrn(5))["trace"] == 5
        assert again.last == (1, 5)
    return store


def test_a_torn_append_followed_by_three_more_sales_in_every_tear_mode():
    for tear in TEAR_MODES:
        store = _torn_then_three(tear)
        if tear in (TEAR_ONE_BYTE, TEAR_HALF, TEAR_ALL_BUT_ONE):  # the torn tail is never appended to
            assert bj.files_of(store) == ["batch.000001", "batch.000002"], tear


def test_a_torn_tail_followed_by_appends_in_the_same_segment_is_skipped():
    # What a board whose append failed half-way then worked again leaves: later frames after garbage.
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1)
    torn = bj.frame(bj.SALE, 3, sale(2))
    for cut in (1, 5, bj.HEADER, len(torn) - 1):
        store.append("batch.000001", torn[:cut])
    for trace, seq in ((3, 3), (4, 5)):
        store.append("batch.000001", bj.frame(bj.SALE, seq, sale(trace)))
    store.sync()
    j = bj.Batch(store)
    assert [t["trace"] for t in j.transactions()] == [1, 3, 4] and j.damaged_bytes > 0
    assert j.by_trace(1)["rrn"] == rrn(1)


def test_garbage_anywhere_in_a_segment_loses_only_the_frames_it_hits():
    store = RamStorage()
    j = bj.Batch(store)
    for trace in range(1, 11):
        one_sale(j, trace)
    data = store.read("batch.000001")
    frames = []
    offset = 0
    while offset < len(data):
        length = (data[offset + 8] << 8) | data[offset + 9]
        frames.append((offset, bj.HEADER + length))
        offset += bj.HEADER + length
    assert len(frames) == 20
    # Overwrite the middle of the sale record of trace 4 (frame 6), insert garbage before trace 7's
    # sale record (frame 12) that holds a fake magic, and flip one byte of trace 9's approval.
    at4, len4 = frames[6]
    damaged = bytearray(data)
    for k in range(at4 + 20, at4 + 30):
        damaged[k] ^= 0x5A
    at9 = frames[17][0]
    damaged[at9 + bj.HEADER + 3] ^= 0x01
    at7 = frames[12][0]
    spliced = bytes(damaged[:at7]) + b"\x00QJ\x01\x01garbage" + bytes(damaged[at7:])
    store.write("batch.000001", spliced)
    store.sync()
    j = bj.Batch(store)
    assert [t["trace"] for t in j.transactions()] == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    assert j.by_trace(9)["state"] == bj.SENT  # its approval was lost with its frame
    assert j.by_trace(10)["rrn"] == rrn(10) and j.by_rrn(rrn(7))["trace"] == 7
    assert j.damaged_bytes >= len4
    one_sale(j, 11)  # appends go on after damage in the middle
    assert bj.Batch(store).by_trace(11)["state"] == bj.APPROVED


def test_every_byte_of_a_segment_damaged_never_breaks_the_open():
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1)
    one_sale(j, 2)
    data = store.read("batch.000001")
    for i in range(len(data)):
        for value in (data[i] ^ 0xFF, data[i] ^ 0x01):
            store.write("batch.000001", data[:i] + bytes([value]) + data[i + 1 :])
            j = bj.Batch(store)
            assert j.count <= 2
            for t in j.transactions():
                assert t["card"] == CARD and t["trace"] in (1, 2)
        store.write("batch.000001", data[:i])  # truncated at every length
        j = bj.Batch(store)
        assert j.count <= 2 and [t["trace"] for t in j.transactions()] == [1, 2][: j.count]


def test_a_full_storage_refuses_before_anything_is_written():
    store = RamStorage(capacity=bj.TXN_ROOM + bj.SETTLEMENT_ROOM + 100)
    j = bj.Batch(store)
    assert j.room(500) is None
    one_sale(j, 1)
    assert j.room(500) == "space"
    assert j.room(1) == "count"
    before = store.read("batch.000001")
    # An append that does not fit raises ENOSPC and changes nothing; the journal reads as before.
    filler = RamStorage(capacity=len(before) + 10)
    filler.write("batch.000001", before)
    full = bj.Batch(filler)
    assert raises(OSError, full.begin, bj.SALE, sale(2)).args[0] == ENOSPC
    assert full.count == 1 and bj.Batch(filler).count == 1 and full.seq == 2
    assert 90 <= j.fill_percent(500) <= 100 and bj.Batch(RamStorage()).fill_percent(500) == 0


def test_fill_percent_by_count():
    j = bj.Batch(RamStorage())
    for trace in range(1, 10):
        j.begin(bj.SALE, sale(trace))
    assert j.fill_percent(10) == 90 and j.room(10) is None
    j.begin(bj.SALE, sale(10))
    assert j.fill_percent(10) == 100 and j.room(10) == "count"


def test_traces_wrap_at_999999():
    store = RamStorage()
    j = bj.Batch(store)
    for trace in (999998, 999999, 1, 2):
        one_sale(j, trace)
    again = bj.Batch(store)
    assert again.last == (1, 2)  # the last appended, not the highest
    assert [t["trace"] for t in again.transactions()] == [999998, 999999, 1, 2]
    assert again.by_trace(999999)["rrn"] == rrn(999999) and again.by_trace(1)["rrn"] == rrn(1)
    assert bj.trace_after(1, 999999) and bj.trace_after(2, 1) and not bj.trace_after(999999, 1)
    assert not bj.trace_after(5, 5) and bj.trace_after(600000, 2) is False


def test_many_sales_roll_segments_and_stay_found():
    store = RamStorage()
    j = bj.Batch(store)
    for trace in range(1, 201):
        one_sale(j, trace, trace)
    assert len(bj.files_of(store)) > 2
    for again in (j, bj.Batch(store)):
        assert again.count == 200
        for trace in (1, 77, 128, 200):
            assert again.by_trace(trace)["amount"] == trace
            assert again.by_rrn(rrn(trace))["trace"] == trace
        assert again.totals()["sale"] == (200, 200 * 201 // 2)


def test_the_index_grows_a_chunk_at_a_time_and_never_copies_what_it_holds():
    # A full batch's index is built up in chunks of 64 entries: no table is copied into a larger
    # one (old and new arrays alive at once, in runs of kilobytes: where settlement ran out of
    # heap, bench/README.md), and every entry stays found.
    j = bj.Batch(RamStorage())
    for trace in range(1, 65):
        one_sale(j, trace, trace)
    columns = (j._trace, j._at, j._change, j._rrn, j._state)
    first = [c.chunks[0] for c in columns]
    for trace in range(65, 301):
        one_sale(j, trace, trace)
    for column, chunk in zip(columns, first):
        assert column.chunks[0] is chunk  # the same object: grown beside, not copied
        assert len(column.chunks) == 5 and all(len(c) == 64 * column.width for c in column.chunks)
    assert sum(c.width for c in columns) == 12  # bytes an entry
    for trace in (1, 64, 65, 128, 129, 300):
        assert j.by_trace(trace)["amount"] == trace and j.by_rrn(rrn(trace))["trace"] == trace
    assert j.by_trace(301) is None


def test_a_column_finds_only_whole_values_the_latest_first():
    # A look-up searches the column's bytes: a value whose bytes straddle two entries (the end of
    # one, the start of the next) is no hit; a value held twice is found at its latest entry.
    col = bj._Column(3)
    for _ in range(3):
        col.add_chunk()
    held = [0x030102, 0x0102AA, 0x03BB03, 0x010203, 0x0A0B0C, 999999, 1]
    for i, v in enumerate(held):
        col[i] = v
    n = len(held)
    assert [col[i] for i in range(n)] == held
    # entries 1 and 2 hold the bytes 02 01 | 03 (little endian): entry 0's value, not theirs
    assert col.rfind(0x030102, n, n) == 0 and col.rfind(0x030102, 3, 3) == 0
    col[0] = 7
    assert col.rfind(0x030102, n, n) == -1
    assert col.rfind(0x010203, n, n) == 3
    assert col.rfind(0x0A0B0C, n, n) == 4 and col.rfind(0x0A0B0C, n, 4) == -1
    assert col.rfind(1, n, n) == 6 and col.rfind(1, 6, 6) == -1
    assert col.rfind(0, n, n) == -1  # the unused tail of the chunk is not searched
    seed = 12345
    model = []
    for i in range(190):  # across three chunks, values drawn from a small set: many repeats
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        v = (seed >> 8) % 50 * 65793 + 1  # 65793 = 0x010101: bytes that repeat inside a value
        col[i] = v
        model.append(v)
    for v in set(model) | {2, 50 * 65793 + 1}:
        latest = max([i for i in range(190) if model[i] == v] or [-1])
        assert col.rfind(v, 190, 190) == latest
        below = latest if latest > 0 else 1
        expect = max([i for i in range(below) if model[i] == v] or [-1])
        assert col.rfind(v, 190, below) == expect


def test_a_trace_whose_bytes_straddle_two_entries_is_not_found():
    # Traces 0x0102AA and 0x03BB03 hold the bytes AA 02 01 | 03 BB 03: 02 01 03 across their
    # boundary is trace 0x030102 (197890), which the batch does not hold.
    j = bj.Batch(RamStorage())
    one_sale(j, 0x0102AA, 1)
    one_sale(j, 0x03BB03, 2)
    for again in (j, bj.Batch(j.storage)):
        assert again.by_trace(0x030102) is None and again.state_of(0x030102) is None
        assert again.by_trace(0x03BB03)["amount"] == 2
    j = bj.Batch(RamStorage())  # the same three, the straddled trace first
    for trace, amount in ((0x030102, 3), (0x0102AA, 1), (0x03BB03, 2)):
        one_sale(j, trace, amount)
    for again in (j, bj.Batch(j.storage)):
        assert again.by_trace(0x030102)["amount"] == 3 and again.index_of(0x030102) == 0


def test_a_segment_the_index_cannot_place_is_unreadable_never_appended_to():
    # A record's place is three bytes: a segment's place in the list (< SEGMENTS_MAX) and an
    # offset below 64 KB. A larger segment file (not the journal's: it closes segments at 16 KB)
    # is reported unreadable and left as it is; the journal goes on in a new segment.
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1, 100)
    store.write("batch.000002", bytes(0x10000))
    j = bj.Batch(store)
    assert j.unreadable == ["batch.000002"] and j.by_trace(1)["amount"] == 100
    one_sale(j, 2, 200)
    again = bj.Batch(store)
    assert again.by_trace(2)["amount"] == 200 and store.size("batch.000002") == 0x10000


def test_a_journal_of_segments_max_segments_takes_no_more():
    j = bj.Batch(RamStorage())
    one_sale(j, 1, 100)
    j.segments = list(range(1, bj.SEGMENTS_MAX + 1))  # as if the batch had filled them
    j._open_segment = 0
    try:
        one_sale(j, 2, 200)
        raise AssertionError("a segment past SEGMENTS_MAX was opened")
    except bj.JournalFull:
        pass


def test_rrns_whose_hashes_collide_are_each_found():
    # The index keeps 16 bits of an RRN; by_rrn reads the record to be sure.
    seen = {}
    n = 0
    while True:
        n += 1
        h = bj._rrn_hash(rrn(n))
        if h in seen:
            break
        seen[h] = n
    a, b = seen[h], n
    j = bj.Batch(RamStorage())
    one_sale(j, a, 100)
    one_sale(j, b, 200)
    for again in (j, bj.Batch(j.storage)):
        assert again.by_rrn(rrn(a))["amount"] == 100 and again.by_rrn(rrn(b))["amount"] == 200
        assert again.by_rrn(rrn(n + 1)) is None


def test_totals_split_by_kind_state_and_card_organisation():
    j = bj.Batch(RamStorage())
    one_sale(j, 1, 1000)
    j.begin(bj.SALE, sale(2, 3000, org="VISA"))
    approve(j, 2)
    j.begin(bj.SALE, sale(3, 500))
    j.change(1, 3, 0, state=bj.DECLINED, code="51")
    j.begin(bj.VOID, sale(4, 1000, kind=bj.VOID))
    approve(j, 4)
    j.change(1, 1, 0, state=bj.VOIDED)
    j.begin(bj.REFUND, sale(5, 700, kind=bj.REFUND, org="VISA"))
    approve(j, 5)
    totals = j.totals()
    assert totals["sale"] == (1, 3000) and totals["void"] == (1, 1000) and totals["refund"] == (1, 700)
    assert totals["domestic"] == (0, 0, 0, 0) and totals["foreign"] == (1, 3000, 1, 700)
    assert j.by_trace(1)["state"] == bj.VOIDED and j.by_trace(1)["rrn"] == rrn(1)


def _settlement(batch=1):
    return {
        "batch": batch,
        "time": 1800009999,
        "dn": 2,
        "da": 3000,
        "dcn": 0,
        "dca": 0,
        "fn": 0,
        "fa": 0,
        "fcn": 0,
        "fca": 0,
        "result": "11",
    }


def test_settlement_archives_the_batch_compactly_and_starts_a_new_one():
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1, 1000)
    one_sale(j, 2, 2000)
    j.change(1, 2, 0, esign="pending")
    j.begin(bj.SALE, sale(3))
    j.change(1, 3, 0, state=bj.DECLINED, code="51")
    j.settle(_settlement())
    assert j.count == 0 and bj.files_of(store) == ["arch.000001"] and j.archives() == [1]
    row = j.archived(trace=2)
    assert row == {
        "batch": 1,
        "trace": 2,
        "kind": "sale",
        "rrn": rrn(2),
        "date": "1207",
        "amount": 2000,
        "voided": False,
        "refunded": 0,
        "open": True,
    }
    assert j.archived(rrn=rrn(1))["trace"] == 1 and j.archived(trace=3) is None  # declined: not kept
    one_sale(j, 4, batch=2)
    assert bj.Batch(store).by_trace(4)["batch"] == 2 and bj.Batch(store).by_trace(1) is None
    assert registry.unknown_files(store) == []


def _refund(j, trace, amount, state, orig_rrn="000000000001", batch=1):
    rec = sale(trace, amount, batch, kind=bj.REFUND)
    rec["orig"] = {"batch": 1, "trace": 1, "rrn": orig_rrn, "date": "1207"}
    j.begin(bj.REFUND, rec)
    if state == bj.APPROVED:
        approve(j, trace, batch)
    else:
        j.change(batch, trace, 1800000100, state=state, code="")


def _report(batch=1):
    return {
        "batch": batch,
        "op": "01",
        "time": 1800000500,
        "t": [1, 1000, 0, 0, 0, 0, 0, 0],
        "k": [1, 1000, 0, 0, 0, 0],
        "result": "11",
        "sent": 0,
        "nfail": 0,
        "fail": [],
        "stopped": False,
        "ndoubt": 0,
        "doubt": [],
        "rev": [],
        "nref": 1,
        "ref": [3],
        "nsig": 0,
        "sig": [],
        "bad": 0,
    }


def test_a_cut_anywhere_in_the_closing_is_finished_by_the_next_open():
    # an unconfirmed refund goes into the archive with the rest, marked not confirmed; the report
    # with them
    for tear in (TEAR_NONE, TEAR_HALF, TEAR_ALL_BUT_ONE, TEAR_ALL):
        n = 1
        while True:
            store = RamStorage()
            j = bj.Batch(store)
            one_sale(j, 1)
            one_sale(j, 2)
            _refund(j, 3, 300, bj.IN_DOUBT)
            store.cut_at(n, tear)
            try:
                j.settle(_settlement(), _report())
            except PowerCut:
                store.power_on()
            else:
                store.cut_at(None)
                break
            j = bj.Batch(store)
            if j.settled:  # the settlement record landed: the closing was finished
                assert j.count == 0 and bj.files_of(store) == ["arch.000001"], (tear, n)
                assert j.archived(trace=2)["rrn"] == rrn(2)
                assert j.archived(trace=3)["state"] == bj.IN_DOUBT, (tear, n)
                assert [v["trace"] for v in j.archived_unconfirmed()] == [3]
                assert j.report(1)["ref"] == [3], (tear, n)
            else:
                assert j.count == 3 and j.by_trace(2)["state"] == bj.APPROVED, (tear, n)
                assert j.by_trace(3)["state"] == bj.IN_DOUBT, (tear, n)
            n += 1
        assert n > 5


def test_an_unconfirmed_refund_is_archived_kept_and_its_resend_resolves_it():
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1, 1000)
    _refund(j, 2, 300, bj.APPROVED, rrn(1))
    _refund(j, 3, 200, bj.IN_DOUBT, rrn(1))
    j.change(1, 1, 0, refunded=500)  # as the journal mirrors it: both count until resolved
    j.settle(_settlement())
    assert j.archived(trace=1)["refunded"] == 500
    row = j.archived(trace=3)
    assert row["kind"] == "refund" and row["state"] == bj.IN_DOUBT and row["orig"]["rrn"] == rrn(1)
    assert j.archived(trace=2)["state"] == bj.APPROVED
    one_sale(j, 4, batch=2)
    j.settle(_settlement(2))
    assert j.evict(store.capacity) == [2] and j.archives() == [1]  # 1 is never evicted meanwhile
    # its resend answered 25: not done; its original's refunded no longer counts it
    assert j.archive_resolve(1, 3, bj.NOT_DONE)
    assert not j.archive_resolve(1, 3, bj.APPROVED)  # resolved once
    j = bj.Batch(store)
    assert j.archived(trace=3)["state"] == bj.NOT_DONE and j.archived(trace=1)["refunded"] == 300
    assert j.archived_unconfirmed() == [] and j.evict(store.capacity) == [1]
    assert registry.unknown_files(store) == []


def test_a_cut_anywhere_in_resolving_an_archived_refund_keeps_the_old_archive_or_the_new():
    for tear in TEAR_MODES:
        n = 1
        while True:
            if (n + TEAR_MODES.index(tear)) % SAMPLE:
                n += 1
                continue
            store = RamStorage()
            j = bj.Batch(store)
            one_sale(j, 1, 1000)
            _refund(j, 2, 300, bj.IN_DOUBT, rrn(1))
            j.change(1, 1, 0, refunded=300)
            j.settle(_settlement())
            store.cut_at(n, tear)
            try:
                j.archive_resolve(1, 2, bj.NOT_DONE)
            except PowerCut:
                store.power_on()
            else:
                store.cut_at(None)
                break
            j = bj.Batch(store)
            rows = j.archive_rows(limit=0)
            assert [r["trace"] for r in rows] == [1, 2], (tear, n)
            state, refunded = rows[1]["state"], rows[0]["refunded"]
            assert (state, refunded) in ((bj.IN_DOUBT, 300), (bj.NOT_DONE, 0)), (tear, n, state)
            assert registry.unknown_files(store) == [], (tear, n)
            if state == bj.IN_DOUBT:  # the next resend's answer resolves it
                assert j.archive_resolve(1, 2, bj.NOT_DONE) and j.archived(trace=1)["refunded"] == 0
            n += 1
        assert n > 3


def test_refunds_of_later_batches_count_against_an_archived_original():
    store = RamStorage()
    j = bj.Batch(store)
    one_sale(j, 1, 1000)
    j.settle(_settlement())
    _refund(j, 2, 300, bj.APPROVED, rrn(1), batch=2)
    _refund(j, 3, 200, bj.IN_DOUBT, rrn(1), batch=2)
    _refund(j, 4, 100, bj.DECLINED, rrn(1), batch=2)
    j.settle(_settlement(2))
    assert j.archived_refunded(rrn(1), 1) == 500 and j.archived_refunded(rrn(9), 1) == 0
    assert j.archive_resolve(2, 3, bj.APPROVED, rrn(3)) and j.archived(trace=3)["rrn"] == rrn(3)
    assert j.archived_refunded(rrn(1), 1) == 500


def test_an_upload_not_done_keeps_its_archive_until_its_file_says_so():
    # open at the closing: a signature pending or refused, an unsigned sale's receipt not answered
    # (its file's code "--", or a refusal); then done once its file keeps 00 or 94
    store = RamStorage()
    j = bj.Batch(store)
    for trace in range(1, 7):
        one_sale(j, trace)

    def rct(trace, code):
        store.write("rct.000001.{:06d}".format(trace), b"QRF1" + code + b"receipt")

    def sig(trace, code):
        store.write("sig.000001.{:06d}".format(trace), b"QPS1" + code + b"image")

    j.change(1, 1, 0, esign="no_sig_rule")
    rct(1, b"--")  # an unsigned sale's receipt still to upload
    j.change(1, 2, 0, esign="uploaded")
    sig(2, b"--")  # uploaded in its batch: its image file keeps no answer
    j.change(1, 3, 0, esign="pending")
    sig(3, b"--")
    j.change(1, 4, 0, esign="no_pen")
    rct(4, b"00")  # its receipt answered
    j.change(1, 5, 0, esign="timeout")  # no receipt (a board without a signer): nothing to upload
    j.change(1, 6, 0, esign="no_sig_rule")
    rct(6, b"63")  # refused: kept, as a refused signature is
    j.settle(_settlement())
    rows = j.archive_rows(limit=0)
    assert [(r["trace"], r["open"]) for r in rows] == [
        (1, True),
        (2, False),
        (3, True),
        (4, False),
        (5, False),
        (6, True),
    ]
    assert [r["trace"] for r in j.open_rows()] == [1, 3, 6]
    one_sale(j, 7, batch=2)
    j.settle(_settlement(2))
    assert j.evict(store.capacity) == [2]
    sig(3, b"00")
    rct(1, b"94")
    assert j.evict(store.capacity) == []  # 6 was refused
    rct(6, b"00")
    assert j.evict(store.capacity) == [1] and j.archives() == []


def test_evicting_a_batch_removes_its_per_batch_files_and_orphans_left_by_a_cut():
    for tear in TEAR_MODES:
        n = 1
        while True:
            if (n + TEAR_MODES.index(tear)) % SAMPLE:
                n += 1
                continue
            store = RamStorage()
            j = bj.Batch(store)
            for b in (1, 2, 3):
                one_sale(j, b, batch=b)
                for t in (b, b + 10):
                    store.write("sig.{:06d}.{:06d}".format(b, t), b"image")
                j.settle(_settlement(b))
            store.write("sig.000004.000004", b"the current batch's")
            store.sync()
            store.cut_at(n, tear)
            try:
                j.evict(store.capacity)
            except PowerCut:
                store.power_on()
            else:
                store.cut_at(None)
                break
            store.cut_at(None)
            j = bj.Batch(store)
            assert registry.unknown_files(store) == [], (tear, n)
            # the next removal takes what the cut left: the archives and their files
            j.evict(store.capacity)
            left = sorted(x for x in store.list() if x.startswith("sig.") or x.startswith("arch."))
            assert left == ["sig.000004.000004"], (tear, n, left)
            n += 1
        assert n > 4
        assert sorted(x for x in store.list() if not x.startswith("batch.")) == ["sig.000004.000004"]


def test_removing_a_batch_s_files_takes_them_a_few_at_a_time_without_listing_them_all():
    class NoListing(RamStorage):
        walks = 0

        def list(self):
            raise AssertionError("the journal listed every file")

        def names(self, prefix=""):
            NoListing.walks += 1
            return RamStorage.names(self, prefix)

    store = NoListing()
    many = 2 * bj.REMOVE_CHUNK + 3  # more than one walk's worth
    for t in range(1, many + 1):
        for prefix in bj.PER_BATCH:
            store.write("{}{:06d}.{:06d}".format(prefix, 1, t), b"x")
        store.write("sig.{:06d}.{:06d}".format(2, t), b"kept")
    assert bj.remove_batch_files(store, bj.PER_BATCH, lambda b: b == 1) == many * len(bj.PER_BATCH)
    assert NoListing.walks == 3 * len(bj.PER_BATCH)  # two full walks and the last short one, per prefix
    assert sorted(store.names()) == ["sig.{:06d}.{:06d}".format(2, t) for t in range(1, many + 1)]


def test_files_that_stay_listed_after_their_removal_are_not_walked_forever():
    class Stuck(RamStorage):
        def remove(self, name):
            pass  # says nothing, removes nothing

    store = Stuck()
    for t in range(1, bj.REMOVE_CHUNK + 5):
        store.write("sig.{:06d}.{:06d}".format(1, t), b"x")
    bj.remove_batch_files(store, ("sig.",), lambda b: b == 1)  # returns
    assert len(list(store.names("sig."))) == bj.REMOVE_CHUNK + 4
