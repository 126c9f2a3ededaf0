# The simulator's own devices: a clock on the host's wall time, and the move of an older simulator's
# signing key into the key store (the signer is the boards' own, hal/soft/signer.py). CPython only;
# never imported by firmware/ or hal/. The signing key is in the key store, never in Storage.
import time

from hal.contracts import ENOENT, HalError, ticks_add
from hal.soft.signer import KEY_NAME, valid_private_key
from virtual.devices import VirtualClock


class SimClock(VirtualClock):
    """Wall time is the host's time.time() (so freezegun can freeze it) plus an offset that
    set_time() moves. Ticks are virtual (only sleep_ms() and advance() move them, and they move
    the wall time along) unless realtime=True: then ticks follow time.monotonic() and sleep_ms()
    really sleeps. advance(seconds) always jumps both forward. kept_time() is True: the PC's
    clock keeps time (lose_rtc() makes a board whose RTC lost its power, for `reboot rtc-lost`)."""

    def __init__(self, realtime=False):
        super().__init__(
            time=0, kept_time=True
        )  # the VirtualClock's epoch is our offset from the host's clock
        self.realtime = realtime
        self._start_ms = time.monotonic_ns() // 1000000

    def time(self):
        return int(time.time()) + super().time()

    def set_time(self, seconds):
        super().set_time(int(seconds) - int(time.time()))

    def ticks_ms(self):
        ticks = super().ticks_ms()
        if self.realtime:
            ticks = ticks_add(ticks, time.monotonic_ns() // 1000000 - self._start_ms)
        return ticks

    def sleep_ms(self, ms):
        if self.realtime:
            time.sleep(ms / 1000)
        else:
            super().sleep_ms(ms)


LEGACY_FILE = "signer.key"  # where simulators before the key store kept it: in the firmware's Storage


def migrate_signer_key(storage, key_store):
    """Move signer.key of an older state directory (64 hex digits in the firmware's Storage) to the
    key store, where hal.soft.signer.SoftSigner keeps its key; True if it moved. A damaged one is
    HalError and stays where it is."""
    try:
        stored = storage.read(LEGACY_FILE)
    except OSError as e:
        if e.errno != ENOENT:
            raise
        return False
    if key_store.load(KEY_NAME) is not None:  # two keys: deleting either would lose one
        raise HalError("signer.key and the key store's signer both exist: move one away")
    try:
        value = int(stored.decode("ascii"), 16)
    except ValueError:
        value = None
    if not valid_private_key(value):
        raise HalError("signer.key is damaged: move it away to make a new key")
    key_store.save(KEY_NAME, value.to_bytes(32, "big"))
    storage.remove(LEGACY_FILE)
    storage.sync()
    return True
