# RamStorage: the Storage contract in RAM with the power-cut model of a flash file system.
# A test double for the tests and the simulator: never part of the device image.
from hal.contracts import ENOENT, ENOSPC, Storage, check_name, check_offset

# How much of what was not synced lands when the power fails (cut_at, power_cut). The values are
# the words of the scenario step `cut N torn MODE`.
TEAR_NONE = "none"  # nothing: every file is back to its content as of the last sync
TEAR_ONE_BYTE = "1"  # the write/append in flight lands its first byte
TEAR_HALF = "half"  # ... its first len // 2 bytes
TEAR_ALL_BUT_ONE = "all-but-1"  # ... all its bytes but the last
TEAR_ALL = "all"  # everything written lands, the write/append in flight included, as if synced
TEAR_MODES = (TEAR_NONE, TEAR_ONE_BYTE, TEAR_HALF, TEAR_ALL_BUT_ONE, TEAR_ALL)


# The reference board's data partition ("qpdata" in partitions.csv: 0x180000 bytes, 1.5 MB): the
# default capacity, so a full storage comes at the same point in the simulator as on the board.
QPDATA_BYTES = 0x180000


class PowerCut(BaseException):
    """The simulated power failed. A BaseException, so the firmware's `except Exception` cannot
    swallow it; until power_on() every call of the storage raises it again, so neither can a
    `finally:` write after the cut."""


class RamStorage(Storage):
    """Files in RAM with the power-cut model of a flash file system (docs/HAL.md, "The power-cut
    model", says it in full).

    Every file has a durable content (as of the last sync()) and a current content (what reads see).
    write() and append() change the current content only; sync() makes all current content durable.
    rename() and remove() are atomic metadata operations, durable at once; a renamed file takes its
    durable content along, and its unsynced data stays unsynced. capacity bounds the current content:
    a write or append beyond it raises OSError(ENOSPC) and changes nothing.

    The durable layer (the _persist* hooks) changes before the view does: a hook that fails (the
    disk refuses) leaves both as they were, and the operation raises its OSError.

    Test hooks: `ops` counts the storage operations (write, append, sync, rename, remove) begun with
    valid arguments, failed ones included; `syncs` counts completed sync() calls; cut_at() and
    power_cut() fail the power, power_on() restores it. Subclasses keep the durable layer elsewhere
    through the _load/_persist* hooks (sim.storage.DirStorage)."""

    def __init__(self, capacity=QPDATA_BYTES):
        self.capacity = capacity
        self.syncs = 0
        self.ops = 0
        self._cut_op = None  # the value of ops at which the power fails (cut_at), or None
        self._cut_tear = TEAR_NONE
        self._off = False  # True from a cut until power_on()
        self._durable = self._load()  # name -> bytes as of the last sync
        self._current = dict(self._durable)  # name -> bytes as read

    # -- the contract --
    def read(self, name):
        self._powered()
        return self._get(name)

    def read_into(self, name, offset, buf):
        self._powered()
        check_offset(offset)
        data = self._get(name)
        n = min(len(buf), len(data) - offset)
        if n <= 0:
            return 0
        memoryview(buf)[:n] = memoryview(data)[offset : offset + n]
        return n

    def write(self, name, data):
        self._powered()
        check_name(name)
        data = _bytes(data)
        self._begin("write", name, data, False)
        self._make_room(len(data) - len(self._current.get(name, b"")))
        self._current[name] = data

    def append(self, name, data):
        self._powered()
        check_name(name)
        data = _bytes(data)
        self._begin("append", name, data, True)
        self._make_room(len(data))
        self._current[name] = self._current.get(name, b"") + data

    def sync(self):
        self._powered()
        self._begin("sync")
        self._land_all()
        self.syncs += 1

    def rename(self, old, new):
        self._powered()
        check_name(old)
        check_name(new)
        self._begin("rename", old)
        data = self._get(old)
        if old == new:
            return
        # The durable layer first (sim.storage.DirStorage: the OS call): if it fails, nothing
        # here has changed either, as on a real file system.
        if old in self._durable:
            self._persist_rename(old, new)
            self._durable[new] = self._durable.pop(old)
        elif new in self._durable:
            self._persist_remove(new)
            del self._durable[new]
        del self._current[old]
        self._current[new] = data

    def remove(self, name):
        self._powered()
        check_name(name)
        self._begin("remove", name)
        self._get(name)
        if name in self._durable:
            self._persist_remove(name)
            del self._durable[name]
        del self._current[name]

    def list(self):
        self._powered()
        return sorted(self._current)

    def names(self, prefix=""):
        self._powered()
        for name in sorted(self._current):  # a snapshot: the double may allocate it
            if name.startswith(prefix):
                yield name

    def size(self, name):
        self._powered()
        return len(self._get(name))

    def free(self):
        self._powered()
        return self.capacity - self._used()

    # -- the test hooks --
    def cut_at(self, n, tear=TEAR_NONE):
        """Fail the power at the n-th storage operation (n >= 1) begun after this call: that operation
        raises PowerCut instead of running, and lands only what `tear` says. None disarms. The cut
        stays armed until it fires or is disarmed (power_cut and power_on leave it as it is)."""
        if n is None:
            self._cut_op = None
            return
        if type(n) is not int or n < 1:
            raise ValueError("cut_at needs an operation number >= 1")
        if tear not in TEAR_MODES:
            raise ValueError("unknown tear mode")
        self._cut_op = self.ops + n
        self._cut_tear = tear

    def power_cut(self, tear=TEAR_NONE):
        """Fail the power now, between operations: TEAR_NONE loses everything not synced, TEAR_ALL
        lands it all. (A partial tear needs a write in flight: use cut_at.) Raises nothing; every
        storage call raises PowerCut until power_on()."""
        if tear != TEAR_NONE and tear != TEAR_ALL:
            raise ValueError("power_cut tears TEAR_NONE or TEAR_ALL; a partial tear needs cut_at")
        if tear == TEAR_ALL:
            self._land_all()
        self._off = True
        self._current = dict(self._durable)

    def power_on(self):
        """Restore the power after a cut (what a reboot does): files are as the cut left them."""
        self._off = False

    # -- where durable content lives: RAM here; sim.storage.DirStorage overrides these --
    def _load(self):
        """Return the durable files found at start (name -> bytes)."""
        return {}

    def _persist(self, name, data):
        """Make data the durable content of name."""

    def _persist_rename(self, old, new):
        """Durably rename old to new, replacing new."""

    def _persist_remove(self, name):
        """Durably delete name."""

    # -- the power-cut model --
    def _powered(self):
        if self._off:
            raise PowerCut("storage used after a power cut, before power_on()")

    def _begin(self, op, name="", data=None, appended=False):
        """Count one operation, arguments already checked; if the armed cut is due, fail the power
        here: land what the tear says, then raise PowerCut (the operation itself does not run)."""
        self.ops += 1
        if self.ops != self._cut_op:
            return
        self._cut_op = None
        tear = self._cut_tear
        if tear == TEAR_ALL:
            self._land_all()
        if data is not None and tear != TEAR_NONE and self._would_fit(name, data, appended):
            landed = data[: _torn_length(len(data), tear)]
            if appended:  # after the file as this append saw it: its unsynced bytes land too
                landed = self._current.get(name, b"") + landed
            self._persist(name, landed)
            self._durable[name] = landed
        self._off = True
        self._current = dict(self._durable)
        raise PowerCut("power cut at storage operation {}: {} {}".format(self.ops, op, name))

    def _land_all(self):
        for name in sorted(self._current):
            data = self._current[name]
            if self._durable.get(name) != data:
                self._persist(name, data)
                self._durable[name] = data

    def _would_fit(self, name, data, appended):
        growth = len(data) if appended else len(data) - len(self._current.get(name, b""))
        return self._used() + growth <= self.capacity

    # -- helpers --
    def _get(self, name):
        check_name(name)
        data = self._current.get(name)
        if data is None:
            raise OSError(ENOENT, name)
        return data

    def _used(self):
        n = 0
        for data in self._current.values():
            n += len(data)
        return n

    def _make_room(self, growth):
        if self._used() + growth > self.capacity:
            raise OSError(ENOSPC, "storage full")


def _torn_length(length, tear):
    """How many bytes of a write of `length` bytes land under a partial tear (or TEAR_ALL)."""
    if tear == TEAR_ONE_BYTE:
        return min(1, length)
    if tear == TEAR_HALF:
        return length // 2
    if tear == TEAR_ALL_BUT_ONE:
        return max(0, length - 1)
    return length


def _bytes(data):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("storage data must be bytes")
    return bytes(data)
