# The terminal's numbering: voucher/trace number (凭证号, F11) and batch number (批次号, 60.2).
# A (batch, trace) pair is never handed out twice, whatever happens to storage: gaps are allowed,
# reuse never. A number is durably consumed before it is returned.
#
# The counters record keeps `n`, the count of trace numbers ever handed out (it never wraps), and
# the batch; the next trace is n % 999999 + 1. The `provisioned` marker, written before the first
# number, also reserves a window of counts: a terminal whose counters are lost knows that no count
# beyond the reservation was ever used.
#
# Every record that holds a (batch, trace) (TRACE_RECORDS: the transaction, the reversal, the audit)
# is evidence that the terminal is provisioned and a floor for the next trace; so is the sign-in
# state (a sign-in took a trace). Traces wrap at 999999, so the floor is the trace of the most
# recently written of them (the newest generation, in write order: see floor()), never the highest
# trace seen.

from firmware import batch as batch_journal
from firmware.compat import const
from firmware.errors import StoredDataCorrupt
from firmware.store import (
    Damaged,
    RecordFile,
    ever_stored,
    evidence,
    evidence_name,
    load,
    salvage,
    save,
    unpack,
)

_MAX = const(999999)
_MAX_COUNT = const(0x3FFFFFFF)  # ~1000 wraps of the trace: far beyond a terminal's life, a small int
# A damaged newer generation may hold one hand-out the older one lacks: skip well past it.
FALLBACK_SKIP = const(100)
# The provisioned marker reserves counts this far ahead, and recovery skips past it.
RESERVE = const(1000)


def _count(v):
    return type(v) is int and 0 <= v <= _MAX_COUNT


def _validate_counters(record):
    n = record.get("n")
    batch = record.get("batch")
    if (
        type(record.get("v")) is not int
        or record["v"] != 1
        or not _count(n)
        or not (type(batch) is int and 1 <= batch <= _MAX)
    ):
        raise Damaged("bad counters")
    return record


def _validate_legacy(record):
    """counters.json of firmware 0.1: {"trace": next trace, "batch": batch}."""
    trace = record.get("trace")
    batch = record.get("batch")
    for v in (trace, batch):
        if not (type(v) is int and 1 <= v <= _MAX):
            raise Damaged("bad counters")
    return {"v": 1, "n": trace - 1, "batch": batch}


def _validate_any(record):
    if "trace" in record:
        return _validate_legacy(record)
    return _validate_counters(record)


def _validate_marker(record):
    if type(record.get("v")) is not int or record["v"] != 1 or not _count(record.get("reserved")):
        raise Damaged("bad marker")
    return record


COUNTERS = RecordFile("counters", _validate_any, 256, legacy="counters.json")
PROVISIONED = RecordFile("provisioned", _validate_marker, 256)

# The records of firmware/journal.py that hold a (batch, trace), in the order a sale writes them
# (the transaction, then its reversal; a reversal given up moves into the audit later, but only
# ever one of a transaction written before): the first that holds one is the most recent.
TRACE_RECORDS = ("txn", "reversal", "audit")
# Records whose existence alone says the terminal has handed out a number (a sign-in takes one).
_EVIDENCE_RECORDS = TRACE_RECORDS + ("hoststate",)
_RECORD_LIMIT = 4096  # the largest of them (audit)


def _record_files(names):
    files = []
    for name in names:
        files += [name + ".a", name + ".b", name + ".tmp"]
    return files


def _pair(record):
    """(trace, batch) a journal record holds, or None (a cleared reversal, an empty audit)."""
    if "items" in record:
        items = record["items"]
        if type(items) is not list or not items:
            return None
        record = items[-1]  # appended in order: the last given up
        if type(record) is not dict:
            return None
    trace = record.get("trace")
    batch = record.get("batch")
    if _int(trace) and _int(batch):
        return trace, batch
    return None


def _int(v):
    return type(v) is int and 1 <= v <= _MAX


def floor(storage):
    """(trace, batch) of the most recently written record that holds one (TRACE_RECORDS, newest
    generation whose checksum holds), or None: a floor for the next trace when counters are lost."""
    for name in TRACE_RECORDS:
        newest = None
        for suffix in (".a", ".b", ".tmp"):
            try:
                seq, record = unpack(storage.read(name + suffix), _RECORD_LIMIT)
            except (OSError, Damaged):
                continue
            if newest is None or seq > newest[0]:
                newest = (seq, record)
        if newest is not None:
            pair = _pair(newest[1])
            if pair is not None:
                return pair
    return None


def _journal_last(storage):
    """(trace, batch) of the batch journal's last appended transaction, or None."""
    try:
        last = batch_journal.Batch(storage).last
    except OSError:
        return None
    return None if last is None else (last[1], last[0])


def _floor_count(storage, count):
    """(count, batch) raised to the floor's trace when that trace is ahead of `count` (the count of
    a trace is congruent to it modulo 999999; "ahead" is within half a wrap), or (count, None). The
    floor is that of the records (floor()) and the batch journal's last transaction, the later."""
    batch = None
    for found in (floor(storage), _journal_last(storage)):
        if found is None:
            continue
        trace, found_batch = found
        if batch is None:
            batch = found_batch
        if count == 0:
            count = trace
            batch = found_batch
            continue
        ahead = (trace - count) % _MAX
        if ahead < _MAX // 2:
            count += ahead
            batch = found_batch
    return count, batch


def _marker(reserved):
    # "params": the terminal stored its parameters before this (firmware.params stores them at the
    # first boot, before counters load), so parameters missing later are lost, not a first boot.
    return {"v": 1, "reserved": reserved, "params": True}


def identity_stored(storage):
    """True if a readable provisioned marker says the parameters were stored (a terminal whose
    parameters are then missing has lost its identity)."""
    marker = load(storage, PROVISIONED).record
    return marker is not None and marker.get("params") is True


class CountersLost(StoredDataCorrupt):
    """A provisioned terminal has no usable counters: it must not hand out numbers until the
    service action skips them ahead (recover())."""

    key = "counters_lost"


def provisioned(storage):
    """True once the terminal has handed out a number: any trace of the marker, of the counters or
    of a record that only a terminal that handed out numbers writes (a transaction, a reversal,
    the audit, the sign-in state), damaged or not, counts."""
    if ever_stored(storage, PROVISIONED.files() + COUNTERS.files() + _record_files(_EVIDENCE_RECORDS)):
        return True
    for prefix in (batch_journal.SEGMENT_PREFIX, batch_journal.ARCHIVE_PREFIX):
        for name in storage.names(prefix):  # the batch journal's segments and archives
            if batch_journal.owns(name):
                return True
    return False


class Counters:
    """The next trace (`trace`) and the current batch (`batch`). `skipped` tells how many trace
    numbers load() skipped because a newer generation was damaged (0 normally)."""

    __slots__ = ("storage", "_loaded", "_marker", "n", "batch", "skipped")

    def __init__(self, storage, loaded, marker, n, batch):
        self.storage = storage
        self._loaded = loaded
        self._marker = marker
        self.n = n
        self.batch = batch
        self.skipped = 0

    @property
    def trace(self):
        """The next trace number to hand out (1..999999)."""
        return self.n % _MAX + 1

    @classmethod
    def load(cls, storage):
        """The counters as stored. A factory-fresh terminal starts at trace 1, batch 1. A newer
        generation found damaged makes them skip FALLBACK_SKIP numbers (its numbers may be out). A
        provisioned terminal with no usable counters raises CountersLost."""
        loaded = load(storage, COUNTERS)
        marker = load(storage, PROVISIONED)
        if loaded.record is None:
            if loaded.lost or provisioned(storage):
                if marker.record is None:
                    # Keep the provisioned state in a record of its own: evidence may be dropped.
                    reserved = min(highest(storage)[0] + RESERVE, _MAX_COUNT)
                    save(storage, PROVISIONED, _marker(reserved), marker)
                raise CountersLost()
            return cls(storage, loaded, marker, 0, 1)
        record = loaded.record
        counters = cls(storage, loaded, marker, record["n"], record["batch"])
        if loaded.fell_back or loaded.seq == 0:
            n = counters.n
            if loaded.fell_back:
                n = _floor_count(storage, n)[0]  # the lost generation may have been far ahead
            counters.skipped = (n - counters.n + FALLBACK_SKIP) if loaded.fell_back else 0
            counters._save(min(counters.n + counters.skipped, _MAX_COUNT), counters.batch)
        return counters

    def _save(self, n, batch):
        marker = self._marker
        if marker.record is None or marker.record["reserved"] < n + 1:
            # The marker is written before any number it covers is handed out.
            save(self.storage, PROVISIONED, _marker(min(n + RESERVE, _MAX_COUNT)), marker)
        save(self.storage, COUNTERS, {"v": 1, "n": n, "batch": batch}, self._loaded)
        self.n = n
        self.batch = batch

    def next_trace(self):
        """Hand out a trace number (1..999999, then 1 again), durably consumed before it is returned."""
        n = self.n
        if n >= _MAX_COUNT:
            raise StoredDataCorrupt("counters exhausted")
        self._save(n + 1, self.batch)
        return n % _MAX + 1

    def skip_past(self, batch, trace):
        """The batch journal's last (batch, trace), checked at boot: a journal ahead of the counters
        (a counters generation lost to damage) skips them past it, never reusing a number; its
        batch is taken when higher. Returns the trace numbers skipped (0 normally)."""
        skipped = 0
        if batch_journal.trace_after(trace, self.n % _MAX):
            skipped = (trace - self.n) % _MAX
            self._save(min(self.n + skipped, _MAX_COUNT), self.batch)
        self.adopt_batch(batch)
        return skipped

    def adopt_batch(self, batch):
        """The host's batch number (a sign-in answer's 60.2): taken when higher than ours, never
        lower. True if it was taken."""
        if type(batch) is not int or not self.batch < batch <= _MAX:
            return False
        self._save(self.n, batch)
        return True

    def next_batch(self):
        """Close the current batch: the batch number goes up by one (wrapping to 1 after 999999)."""
        self._save(self.n, self.batch % _MAX + 1)
        return self.batch


def highest(storage):
    """(count, batch): the highest hand-out count and batch that any surviving record or evidence
    shows ((0, 1) if none): the counters' generations, damaged or not, the provisioned marker's
    reservation, and the evidence kept of both; then raised to the floor of the records that hold
    a trace (floor())."""
    names = COUNTERS.files() + PROVISIONED.files()
    for number, original in evidence(storage):
        if original in names:
            names.append(evidence_name(number, original))
    count = 0
    batch = 1
    for name in names:
        try:
            raw = storage.read(name)
        except OSError:
            continue
        record = salvage(raw)
        if record is None:
            continue
        for validate in (_validate_any, _validate_marker):
            try:
                valid = validate(record)
            except Damaged:
                continue
            count = max(count, valid.get("n", 0), valid.get("reserved", 0))
            batch = max(batch, valid.get("batch", 1))
    known = count
    count, floor_batch = _floor_count(storage, count)
    if floor_batch is not None:
        batch = floor_batch if known == 0 else max(batch, floor_batch)
    return count, batch


def recover(storage):
    """The service action for lost counters: skip past everything ever stored (the highest count
    plus RESERVE), in the highest batch seen (the host's sign-in confirms the batch later). Always
    safe: a skip leaves a gap, never a reused number. Returns the new Counters."""
    count, batch = highest(storage)
    n = min(count + RESERVE, _MAX_COUNT)
    counters = Counters(storage, load(storage, COUNTERS), load(storage, PROVISIONED), n, batch)
    counters._save(n, batch)
    return counters
