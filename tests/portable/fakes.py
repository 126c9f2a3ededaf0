# Test doubles for the portable tests: a board of virtual devices, a fake signer, an echo host.
# Test-only: FakeSigner is NOT cryptography and must never sign anything outside a test.
import hashlib

from hal.contracts import Board, Signer
from virtual.devices import (
    LoopbackLink,
    VirtualCardReader,
    VirtualClock,
    VirtualDisplay,
    VirtualKeypad,
    VirtualSignaturePad,
    VirtualSystem,
)
from virtual.storage import RamStorage


class FakeSigner(Signer):
    """Shaped like a P-256 signer, but NOT a signature: anyone can compute it from key and digest.
    public_key() is 0x04 || sha256("x" key) || sha256("y" key); sign_digest(d) is
    sha256("r" key d) || sha256("s" key d). Deterministic, so tests can compare bytes."""

    def __init__(self, key=b"fake terminal key"):
        self._key = key

    def public_key(self):
        return b"\x04" + _sha256(b"x" + self._key) + _sha256(b"y" + self._key)

    def sign_digest(self, digest):
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise ValueError("sign_digest takes a 32-byte SHA-256 digest")
        return _sha256(b"r" + self._key + digest) + _sha256(b"s" + self._key + digest)


def _sha256(data):
    return hashlib.sha256(data).digest()


class EchoHost:
    """A LoopbackLink host that answers every message with the same bytes."""

    def handle(self, data):
        return data


def _none():
    return None


def make_board(**devices):
    """A Board of fresh virtual devices and a FakeSigner (no key store, security module or PIN
    entry); a keyword (keypad=..., storage=..., any Board slot) puts your own device in that slot."""
    parts = {  # type: dict
        "keypad": VirtualKeypad,
        "display": VirtualDisplay,
        "card_reader": VirtualCardReader,
        "signature_pad": VirtualSignaturePad,
        "storage": RamStorage,
        "clock": VirtualClock,
        "link": LoopbackLink,
        "signer": FakeSigner,
        "system": VirtualSystem,
        "key_store": _none,
        "security": _none,
        "pin_entry": _none,
    }
    for slot in devices:
        if slot not in parts:
            raise TypeError("no board slot {!r}".format(slot))
    for slot in parts:
        parts[slot] = devices[slot] if slot in devices else parts[slot]()
    return Board(**parts)
