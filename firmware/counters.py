# The terminal's numbering: voucher/trace number (凭证号, F11) and batch number (批次号, 60.2).
# A (batch, trace) pair is never handed out twice, whatever happens to storage: gaps are allowed,
# reuse never. A number is durably consumed before it is returned.
#
# The counters record keeps `n`, the count of trace numbers ever handed out (it never wraps), and
# the batch; the next trace is n % 999999 + 1. The `provisioned` marker, written before the first
# number, also reserves a window of counts: a terminal whose counters are lost knows that no count
# beyond the reservation was ever used.

from firmware.compat import const
from firmware.errors import StoredDataCorrupt
from firmware.store import Damaged, RecordFile, evidence, evidence_name, load, salvage, save

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


class CountersLost(StoredDataCorrupt):
    """A provisioned terminal has no usable counters: it must not hand out numbers until the
    service action skips them ahead (recover())."""

    key = "counters_lost"


def provisioned(storage):
    """True once the terminal has handed out a number: any trace of the marker or of the counters,
    damaged or not, counts."""
    files = PROVISIONED.files() + COUNTERS.files()
    for name in storage.list():
        if name in files:
            return True
    for _, original in evidence(storage):
        if original in files:
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
                    save(storage, PROVISIONED, {"v": 1, "reserved": reserved}, marker)
                raise CountersLost()
            return cls(storage, loaded, marker, 0, 1)
        record = loaded.record
        counters = cls(storage, loaded, marker, record["n"], record["batch"])
        if loaded.fell_back or loaded.seq == 0:
            counters.skipped = FALLBACK_SKIP if loaded.fell_back else 0
            counters._save(min(counters.n + counters.skipped, _MAX_COUNT), counters.batch)
        return counters

    def _save(self, n, batch):
        marker = self._marker
        if marker.record is None or marker.record["reserved"] < n + 1:
            # The marker is written before any number it covers is handed out.
            save(self.storage, PROVISIONED, {"v": 1, "reserved": min(n + RESERVE, _MAX_COUNT)}, marker)
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
    reservation, and the evidence kept of both."""
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
