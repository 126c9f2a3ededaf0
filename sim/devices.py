# The simulator's own devices: a clock on the host's wall time and a software P-256 signer.
# CPython only; never imported by firmware/ or hal/. The signer's key is in the key store, never in Storage.
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from hal.contracts import ENOENT, HalError, Signer, ticks_add
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


KEY_NAME = "signer"  # in the key store: the private scalar, 32 bytes big-endian
LEGACY_FILE = "signer.key"  # where simulators before the key store kept it: in the firmware's Storage


class SoftSigner(Signer):
    """ECDSA P-256 in software with RFC 6979 deterministic nonces (cryptography >= 43)."""

    def __init__(self, private_value):
        self._key = ec.derive_private_key(private_value, ec.SECP256R1())

    @classmethod
    def load_or_create(cls, key_store):
        """The signer whose key is in the key store under "signer", creating it there first if there
        is none. A damaged key is HalError (from the key store, or here if it is not a P-256 scalar)."""
        stored = key_store.load(KEY_NAME)
        if stored is not None:
            try:
                if len(stored) != 32:
                    raise ValueError("not 32 bytes")
                return cls(int.from_bytes(stored, "big"))
            except ValueError:
                raise HalError("key signer is damaged") from None
        value = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
        key_store.save(KEY_NAME, value.to_bytes(32, "big"))
        return cls(value)

    @staticmethod
    def migrate(storage, key_store):
        """Move signer.key of an older state directory (64 hex digits in the firmware's Storage) to
        the key store; True if it moved. A damaged one is HalError and stays where it is."""
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
            ec.derive_private_key(value, ec.SECP256R1())
        except ValueError:
            raise HalError("signer.key is damaged: move it away to make a new key") from None
        key_store.save(KEY_NAME, value.to_bytes(32, "big"))
        storage.remove(LEGACY_FILE)
        storage.sync()
        return True

    def public_key(self):
        return self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def sign_digest(self, digest):
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise ValueError("sign_digest takes a 32-byte SHA-256 digest")
        der = self._key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=True))
        r, s = utils.decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
