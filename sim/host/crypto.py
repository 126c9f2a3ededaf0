# The host's own DES, MAC and key work, with the `cryptography` package only: never hal/soft/des.py or
# hal/soft/mac.py, so a bug in the terminal's soft module cannot pass unseen on both sides.
# Nothing here logs, prints or stores a key, a PIN or a PAN.
import functools
import hmac
import os

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

KEY_SIZE = 16  # double-length keys: what the terminal asks for (60.3 = 003/004)


def _triple(key):
    """cryptography's TripleDES wants 24 bytes: a 16-byte key is key + key[:8], 8 bytes key * 3."""
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise ValueError("a DES key is 8, 16 or 24 bytes")


# Building a Cipher costs a good part of a MAC (under cProfile an X9.19 MAC went from 64 to 45 µs
# with these caches): keep the few in use, per key, in RAM only.
@functools.lru_cache(maxsize=512)
def _ecb(key):
    return Cipher(TripleDES(_triple(key)), modes.ECB())


@functools.lru_cache(maxsize=512)
def _cbc_left(key):
    return Cipher(TripleDES(key[:8] * 3), modes.CBC(bytes(8)))


def ecb_encrypt(key, data):
    """3DES (EDE) ECB of whole 8-byte blocks."""
    ctx = _ecb(bytes(key)).encryptor()
    return ctx.update(data) + ctx.finalize()


def ecb_decrypt(key, data):
    ctx = _ecb(bytes(key)).decryptor()
    return ctx.update(data) + ctx.finalize()


def check_value(key):
    """The 4-byte key check value: the key encrypting 8 zero bytes, first 4 bytes."""
    return ecb_encrypt(key, bytes(8))[:4]


def new_key():
    """A fresh random double-length working key."""
    return os.urandom(KEY_SIZE)


def x919_mac(key, data):
    """ANSI X9.19 retail MAC: single-DES CBC under the left half over the zero-padded message (an
    empty one is one zero block), then decrypt under the right half, encrypt under the left."""
    padded = data + bytes(-len(data) % 8) if data else bytes(8)
    ctx = _cbc_left(bytes(key)).encryptor()
    last = (ctx.update(padded) + ctx.finalize())[-8:]
    return ecb_encrypt(key[:8], ecb_decrypt(key[8:], last))


def pos_ecb_mac(key, data):
    """The UnionPay POS "ECB" MAC: XOR the 8-byte blocks (last zero-padded), 16 uppercase hex
    characters, 3DES the first 8, XOR with the last 8, 3DES again; F64 is the first 8 uppercase
    hex characters of that, as ASCII."""
    x = bytearray(8)
    for i, b in enumerate(data):
        x[i & 7] ^= b
    hexed = x.hex().upper().encode()
    first = ecb_encrypt(key, hexed[:8])
    second = ecb_encrypt(key, bytes(a ^ b for a, b in zip(first, hexed[8:], strict=True)))
    return second.hex().upper()[:8].encode()


MAC_ALGORITHMS = {"x919": x919_mac, "ecb": pos_ecb_mac}


def mac(algorithm, key, data):
    """F64 of data under key with the terminal's algorithm ("x919" or "ecb")."""
    return MAC_ALGORITHMS[algorithm](key, data)


def mac_equal(a, b):
    return hmac.compare_digest(bytes(a), bytes(b))


def pin_from_block(pik, block, pan):
    """The clear PIN in an ISO 9564 format-0 block encrypted under pik, or None when the block
    does not decode to 4 to 12 digits with F padding (a wrong key or a garbled block)."""
    if len(block) != 8 or len(pan) < 13:
        return None
    clear = ecb_decrypt(pik, bytes(block))
    pan_field = bytes.fromhex("0000" + pan[-13:-1])
    field = bytes(a ^ b for a, b in zip(clear, pan_field, strict=True)).hex().upper()
    if field[0] != "0":
        return None
    n = int(field[1], 16)
    digits = field[2 : 2 + n]
    if not 4 <= n <= 12 or not digits.isdigit() or field[2 + n :] != "F" * (14 - n):
        return None
    return digits


def pin_block(pik, pin, pan):
    """The format-0 PIN block of pin for pan under pik (for the tests and the bench: a terminal's
    PIN pad does this)."""
    pin_field = bytes.fromhex(("0" + "{:X}".format(len(pin)) + pin).ljust(16, "F"))
    pan_field = bytes.fromhex("0000" + pan[-13:-1])
    return ecb_encrypt(pik, bytes(a ^ b for a, b in zip(pin_field, pan_field, strict=True)))
