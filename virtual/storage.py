# RamStorage: the Storage contract in RAM with the power-cut model of a flash file system.
# A test double for the tests and the simulator: never part of the device image.
from hal.contracts import ENOENT, ENOSPC, Storage, check_name


class RamStorage(Storage):
    """Files in RAM with the power-cut model of a flash file system.

    Every file has a durable content (as of the last sync()) and a current content (what reads see).
    write() and append() change the current content only; sync() makes all current content durable.
    rename() and remove() are atomic metadata operations, durable at once; a renamed file takes its
    durable content along, and its unsynced data stays unsynced (a never-synced file renamed over
    another leaves no file under either name after a cut). power_cut() sets every current content
    to the durable one (files never synced vanish). power_cut(tear=True) also lets the last operation
    land partly if it was an unsynced write() or append(): a non-empty strict prefix of its bytes,
    chosen by a random generator seeded with `seed`, lands on the durable content (append: durable
    content + prefix; write: the prefix alone). capacity bounds the current content: a write or
    append beyond it raises OSError(ENOSPC) and changes nothing. `syncs` counts sync() calls.
    Subclasses keep the durable layer elsewhere through the _load/_persist* hooks (sim.storage)."""

    def __init__(self, capacity=256 * 1024, seed=0):
        self.capacity = capacity
        self.syncs = 0
        self._durable = self._load()  # name -> bytes as of the last sync
        self._current = dict(self._durable)  # name -> bytes as read
        self._last_write = None  # (name, data, appended) while the last operation is an unsynced write
        self._random = ((seed ^ 0x9E3779B9) & 0xFFFFFFFF) or 1  # xorshift32 state, same on every port

    # -- the contract --
    def read(self, name):
        return self._get(name)

    def write(self, name, data):
        check_name(name)
        data = _bytes(data)
        self._make_room(len(data) - len(self._current.get(name, b"")))
        self._current[name] = data
        self._last_write = (name, data, False)

    def append(self, name, data):
        check_name(name)
        data = _bytes(data)
        self._make_room(len(data))
        self._current[name] = self._current.get(name, b"") + data
        self._last_write = (name, data, True)

    def sync(self):
        for name in sorted(self._current):
            data = self._current[name]
            if self._durable.get(name) != data:
                self._durable[name] = data
                self._persist(name, data)
        self._last_write = None
        self.syncs += 1

    def rename(self, old, new):
        check_name(new)
        data = self._get(old)
        self._last_write = None
        if old == new:
            return
        del self._current[old]
        self._current[new] = data
        if old in self._durable:
            self._durable[new] = self._durable.pop(old)
            self._persist_rename(old, new)
        elif new in self._durable:
            del self._durable[new]
            self._persist_remove(new)

    def remove(self, name):
        self._get(name)
        self._last_write = None
        del self._current[name]
        if name in self._durable:
            del self._durable[name]
            self._persist_remove(name)

    def list(self):
        return sorted(self._current)

    def size(self, name):
        return len(self._get(name))

    def free(self):
        return self.capacity - self._used()

    # -- the test hook --
    def power_cut(self, tear=False):
        """Lose everything not synced (see the class docstring); tear=True may land part of the last write."""
        torn = self._last_write if tear else None
        self._last_write = None
        if torn is not None and len(torn[1]) > 1:
            name, data, appended = torn
            landed = data[: 1 + self._next_random() % (len(data) - 1)]
            if appended:
                landed = self._durable.get(name, b"") + landed
            self._durable[name] = landed
            self._persist(name, landed)
        self._current = dict(self._durable)

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

    def _next_random(self):
        x = self._random
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._random = x
        return x


def _bytes(data):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("storage data must be bytes")
    return bytes(data)
