# The batch journal's costs (firmware/batch.py), on whichever runtime runs it: bytes passed to
# storage per sale (its records: written ahead, then the outcome), append and look-up (by trace,
# by RRN) at 1,000, 5,000 and 10,000 transactions, the opening scan, and the RAM of the look-up
# tables per transaction. Prints, ends with a RESULT line; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_journal.py   CPython: python bench/journal.py
import gc

from bench.upy_timing import ticks_diff, ticks_us
from firmware import batch as bj
from virtual.storage import RamStorage

SIZES = (1000, 5000, 10000)
LOOKUPS = 200
CARD = "622202******0128"


class CountingStorage(RamStorage):
    """RamStorage that counts the bytes passed to write() and append(), in all and per record
    (the name before its first dot: "txn" for txn.a, txn.b and txn.tmp; "batch" for a segment)."""

    def __init__(self, capacity=64 * 1024 * 1024):
        super().__init__(capacity)
        self.written = 0
        self.by_record = {}

    def _count(self, name, data):
        self.written += len(data)
        kind = name.split(".")[0]
        self.by_record[kind] = self.by_record.get(kind, 0) + len(data)

    def write(self, name, data):
        self._count(name, data)
        super().write(name, data)

    def append(self, name, data):
        self._count(name, data)
        super().append(name, data)


def whole_sale():
    """The bytes passed to write() and append() during one whole approved sale of a signed-in
    terminal (tests/portable/online_kit.py's rig and host), from the main menu to the result
    dismissed: every record it writes. Returns (total, {record: bytes})."""
    from tests.portable.online_kit import Rig

    storage = CountingStorage()
    rig = Rig(storage=storage, language="en")
    rig.sale(100)  # the first sale signs in first
    rig.press("ENTER")
    storage.written = 0
    storage.by_record = {}
    shown = rig.sale(1234)
    assert "Approved" in shown, shown
    rig.press("ENTER")
    return storage.written, storage.by_record


def sale(trace):
    return {
        "batch": 1,
        "trace": trace,
        "amount": 100 + trace,
        "card": CARD,
        "org": "CUP",
        "mode": "insert",
        "time": 1800000000 + trace,
        "op": "01",
    }


def rrn(trace):
    return "{:012d}".format(trace)


def one_sale(j, trace):
    j.begin(bj.SALE, sale(trace))
    j.change(
        1,
        trace,
        1800000000,
        state=bj.APPROVED,
        code="00",
        rrn=rrn(trace),
        auth="123456",
        f12="101010",
        f13="1207",
    )


def table_bytes(j):
    """The look-up tables' bytes (item sizes times capacity) and their capacity in transactions."""
    n = 0
    for column in j._columns:  # chunks of bytearrays: `width` bytes a value
        for chunk in column.chunks:
            n += len(chunk)
    return n, j._cap


def main():
    total, by_record = whole_sale()
    parts = ["{} {}".format(k, by_record[k]) for k in sorted(by_record)]
    print("bytes passed to storage in one whole approved sale: {} ({})".format(total, ", ".join(parts)))
    storage = CountingStorage(64 * 1024 * 1024)
    j = bj.Batch(storage)
    one_sale(j, 1)
    per_sale = storage.written
    print("bytes passed to storage per sale (sale record + approved change): {}".format(per_sale))
    results = ["whole_sale={}".format(total), "per_sale={}".format(per_sale)]
    for k in sorted(by_record):
        results.append("sale_{}={}".format(k, by_record[k]))
    trace = 1
    for size in SIZES:
        t0 = ticks_us()
        while trace < size:
            trace += 1
            one_sale(j, trace)
        build = ticks_diff(ticks_us(), t0)
        t0 = ticks_us()
        for _ in range(20):
            trace += 1
            one_sale(j, trace)
        append_us = ticks_diff(ticks_us(), t0) // 40  # 20 sales, two records each
        gc.collect()
        t0 = ticks_us()
        step = size // LOOKUPS
        for k in range(LOOKUPS):
            j.by_trace(1 + k * step)
        by_trace = ticks_diff(ticks_us(), t0) // LOOKUPS
        t0 = ticks_us()
        for k in range(LOOKUPS):
            j.by_rrn(rrn(1 + k * step))
        by_rrn = ticks_diff(ticks_us(), t0) // LOOKUPS
        t0 = ticks_us()
        opened = bj.Batch(storage)
        scan_ms = ticks_diff(ticks_us(), t0) // 1000
        assert opened.count == j.count
        table, cap = table_bytes(j)
        print(
            "{:>6} txns: append {:>5} us/record, by_trace {:>5} us, by_rrn {:>5} us, open {:>6} ms, "
            "tables {} bytes for {} slots ({:.1f} bytes a transaction), filling {} ms".format(
                j.count, append_us, by_trace, by_rrn, scan_ms, table, cap, table / cap, build // 1000
            )
        )
        results.append(
            "append_{}={} trace_{}={} rrn_{}={} open_{}={}".format(
                size, append_us, size, by_trace, size, by_rrn, size, scan_ms
            )
        )
        results.append("table_{}={}".format(size, table))
    print("RESULT " + " ".join(results))


main()
