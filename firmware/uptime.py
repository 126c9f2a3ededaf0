# Forward-only time (运行时间): the seconds the terminal has been powered, accumulated across boots
# in the `uptime` record. The lockout of firmware/operators.py counts on it: setting the wall clock
# back, or a wall clock that is not trusted, never shortens a lock.
#
# The source is the Clock's ticks_ms() (monotonic, wrapping; each step read with ticks_diff, taken
# at least once a second by the loop, far inside its half period). The record is written at most
# once every SAVE_EVERY_S of uptime (and when a lock starts, save()): a power cut loses at most that
# much, which makes a lock last longer after the reboot, never shorter. A damaged or lost record
# starts again at 0; a lock that started "later" than that is taken to start now (operators.py).

from firmware.compat import const
from firmware.store import Damaged, RecordFile, load, save
from hal.contracts import ticks_diff

SAVE_EVERY_S = const(300)
_MAX_S = const(0x3FFFFFFF)  # 34 years: a small int on a 32-bit port


def _validate(record):
    s = record.get("s")
    if type(record.get("v")) is not int or record["v"] != 1 or type(s) is not int or not 0 <= s <= _MAX_S:
        raise Damaged("bad uptime")
    return record


UPTIME = RecordFile("uptime", _validate, 128)


class Uptime:
    """seconds(): the uptime now (never less than an earlier answer, in this boot or a previous
    one, unless the record was damaged). tick(): called about once a second by the terminal's loop;
    writes the record every SAVE_EVERY_S. Never raises for a failing storage."""

    __slots__ = ("storage", "clock", "_loaded", "_base", "_ms", "_last", "_saved")

    def __init__(self, storage, clock):
        self.storage = storage
        self.clock = clock
        self._loaded = None
        base = 0
        try:
            self._loaded = load(storage, UPTIME)
            if self._loaded.record is not None:
                base = self._loaded.record["s"]
        except OSError:
            pass
        self._base = base  # whole seconds
        self._ms = 0  # and the milliseconds not yet folded into _base
        self._last = clock.ticks_ms()
        self._saved = base

    def seconds(self):
        now = self.clock.ticks_ms()
        d = ticks_diff(now, self._last)
        self._last = now
        if d > 0:
            self._ms += d
            if self._ms >= 1000:
                self._base = min(self._base + self._ms // 1000, _MAX_S)
                self._ms %= 1000
        return self._base

    def tick(self):
        s = self.seconds()
        if s - self._saved >= SAVE_EVERY_S:
            self.save()

    def save(self):
        """Write the uptime now; False (nothing raised) if the storage failed."""
        s = self.seconds()
        try:
            if self._loaded is None:
                self._loaded = load(self.storage, UPTIME)
            save(self.storage, UPTIME, {"v": 1, "s": s}, self._loaded)
        except OSError:
            self._loaded = None
            return False
        self._saved = s
        return True
