# HMAC-SHA256 (RFC 2104) over hashlib.sha256 alone: MicroPython has no hmac module. Shared by the soft
# security module (password_hash) and the soft signer (RFC 6979 nonces); it keeps no key after a call.

import hashlib


def hmac_sha256(key, data):
    """HMAC-SHA256 of data (bytes) under key (bytes of any length): 32 bytes."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    inner = bytearray(64)
    outer = bytearray(64)
    for i in range(64):
        k = key[i] if i < len(key) else 0
        inner[i] = k ^ 0x36
        outer[i] = k ^ 0x5C
    h = hashlib.sha256(inner)
    h.update(data)
    digest = h.digest()
    h = hashlib.sha256(outer)
    h.update(digest)
    return h.digest()
