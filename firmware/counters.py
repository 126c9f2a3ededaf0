# The terminal's numbering: voucher/trace number (凭证号, F11) and batch number (批次号, 60.2),
# persisted before use. A number handed out is never handed out again, even across a power cut.

from firmware.compat import const
from firmware.errors import StoredDataCorrupt
from firmware.store import read_record, write_record

FILE = "counters.json"
_MAX = const(999999)


def _valid(n):
    return isinstance(n, int) and 1 <= n <= _MAX


class Counters:
    __slots__ = ("storage", "trace", "batch")

    def __init__(self, storage, trace=1, batch=1):
        self.storage = storage
        self.trace = trace  # the next trace number to hand out
        self.batch = batch  # the current batch

    @classmethod
    def load(cls, storage):
        """Read counters.json; a missing file starts at 1/1. A damaged file raises StoredDataCorrupt
        (it is set aside, never reset silently: reusing trace numbers would confuse the host)."""
        record = read_record(storage, FILE)
        if record is None:
            return cls(storage)
        trace = record.get("trace")
        batch = record.get("batch")
        if not (_valid(trace) and _valid(batch)):
            raise StoredDataCorrupt(FILE)
        return cls(storage, trace, batch)

    def _save(self, trace, batch):
        write_record(self.storage, FILE, {"trace": trace, "batch": batch})
        self.trace = trace
        self.batch = batch

    def next_trace(self):
        """Hand out a trace number (1..999999, then 1 again), durably consumed before it is returned."""
        n = self.trace
        self._save(n % _MAX + 1, self.batch)
        return n

    def next_batch(self):
        """Close the current batch: the batch number goes up by one (wrapping to 1 after 999999)."""
        self._save(self.trace, self.batch % _MAX + 1)
        return self.batch
