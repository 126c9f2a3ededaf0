# The portable soft signer (hal/soft/signer.py): the RFC 6979 P-256 vectors, its key made from the
# board's random source into the key store, a damaged key refused, signatures that verify and stop
# verifying when a bit changes. Runs on CPython and MicroPython (a few signatures only: each costs
# milliseconds here and far more on a board); tests/host/test_signer_oracle.py checks it against
# `cryptography`.
import hashlib

from hal.contracts import HalError
from hal.soft import signer
from hal.soft.keystore import StorageKeyStore
from hal.soft.signer import KEY_NAME, N, P, SoftSigner, verify
from tests.portable import conformance
from tests.portable.conformance import raises
from tests.portable.vectors import P256_PRIVATE, P256_PUBLIC_X, P256_PUBLIC_Y, P256_SIGNATURES
from virtual.storage import RamStorage

GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
# 2G (published with the curve's test points, and the doubling formula's first known answer)
G2X = 0x7CF27B188D034F7E8A52380304B51AC3C08969E277F21B35A60B48FC47669978
G2Y = 0x07775510DB8ED040293D9AC69F7430DBBA7DADE63CE982299E04B79D227873D1


class ScriptedRandom:
    """A stand-in for os.urandom that gives the byte strings it was handed, in order, and counts
    its calls; an AssertionError once they run out. Tests only: not random."""

    def __init__(self, *draws):
        self.draws = list(draws)
        self.calls = 0

    def __call__(self, n):
        self.calls += 1
        assert self.draws, "the random source was asked once too often"
        out = self.draws.pop(0)
        return out


def vector_store():
    """A key store holding the RFC 6979 key, as the signer writes it."""
    keys = StorageKeyStore(RamStorage())
    keys.save(KEY_NAME, bytes.fromhex(P256_PRIVATE))
    return keys


def digest_of(message):
    if message.startswith("#"):
        return bytes.fromhex(message[1:])
    return hashlib.sha256(message.encode()).digest()


def test_rfc6979_vectors():
    device = SoftSigner(vector_store(), urandom=ScriptedRandom())
    assert device.public_key() == bytes.fromhex("04" + P256_PUBLIC_X + P256_PUBLIC_Y)
    for message, r, s in P256_SIGNATURES:
        assert device.sign_digest(digest_of(message)) == bytes.fromhex(r + s), message


def test_conformance_and_verify():
    conformance.check_signer(
        lambda: SoftSigner(StorageKeyStore(RamStorage()), urandom=ScriptedRandom(b"\x42" * 32)), verify=verify
    )


def test_a_signature_verifies_and_a_flipped_bit_does_not():
    device = SoftSigner(vector_store())
    public = device.public_key()
    digest = hashlib.sha256(b"receipt 000123").digest()
    signature = device.sign_digest(digest)
    assert verify(public, digest, signature)
    assert signature == device.sign_digest(digest)  # deterministic: the same digest, the same bytes
    flipped_sig = signature[:5] + bytes([signature[5] ^ 0x10]) + signature[6:]  # a bit of r
    assert not verify(public, digest, flipped_sig)
    flipped_sig = signature[:40] + bytes([signature[40] ^ 0x01]) + signature[41:]  # a bit of s
    assert not verify(public, digest, flipped_sig)
    assert not verify(public, digest[:31] + bytes([digest[31] ^ 0x80]), signature)
    flipped_key = public[:64] + bytes([public[64] ^ 0x02])  # no longer a point of the curve
    assert not verify(flipped_key, digest, signature)


def test_verify_refuses_what_is_malformed():
    device = SoftSigner(vector_store())
    public = device.public_key()
    digest = hashlib.sha256(b"sample").digest()
    signature = device.sign_digest(digest)
    r, s = signature[:32], signature[32:]
    n_bytes = N.to_bytes(32, "big")
    zero = bytes(32)
    for bad in (b"", signature[:63], signature + b"\x00", zero + s, r + zero, n_bytes + s, r + n_bytes):
        assert not verify(public, digest, bad)
    assert not verify(public[1:], digest, signature)
    assert not verify(b"\x02" + public[1:], digest, signature)
    assert not verify(public, digest[:31], signature)
    # The point at infinity is no public key; nor are coordinates of p or more.
    assert not verify(b"\x04" + bytes(64), digest, signature)
    assert not verify(b"\x04" + P.to_bytes(32, "big") + public[33:], digest, signature)


def test_the_key_is_made_from_the_random_source_and_kept():
    keys = StorageKeyStore(RamStorage())
    good = bytes.fromhex(P256_PRIVATE)
    # n itself and 0 are not scalars: drawn again (no reduction that would bias the key)
    source = ScriptedRandom(N.to_bytes(32, "big"), bytes(32), good)
    device = SoftSigner(keys, urandom=source)
    assert keys.names() == []  # nothing made until the first use
    assert device.public_key() == bytes.fromhex("04" + P256_PUBLIC_X + P256_PUBLIC_Y)
    assert source.calls == 3 and keys.load(KEY_NAME) == good
    again = SoftSigner(keys, urandom=ScriptedRandom())  # the next power-on: the same key, no draw
    digest = digest_of(P256_SIGNATURES[0][0])
    assert again.sign_digest(digest) == device.sign_digest(digest)
    assert again.public_key() == device.public_key()


def test_the_first_use_may_be_a_signature():
    keys = StorageKeyStore(RamStorage())
    device = SoftSigner(keys, urandom=ScriptedRandom(bytes.fromhex(P256_PRIVATE)))
    message, r, s = P256_SIGNATURES[1]
    assert device.sign_digest(digest_of(message)) == bytes.fromhex(r + s)
    assert keys.load(KEY_NAME) == bytes.fromhex(P256_PRIVATE)


def test_a_broken_random_source_makes_no_key():
    for source in (
        ScriptedRandom(*([bytes(32)] * 16)),  # never anything but zeros
        ScriptedRandom(*([b"\xff" * 32] * 16)),  # never below n
        ScriptedRandom(b"\x01" * 31, b"\x01" * 31),  # short
    ):
        keys = StorageKeyStore(RamStorage())
        device = SoftSigner(keys, urandom=source)
        e = raises(HalError, device.public_key)
        assert "random" in str(e)
        assert keys.names() == []
        raises(HalError, device.sign_digest, bytes(32))  # the next use draws again
        assert keys.names() == [] and source.draws == []


def test_a_damaged_key_is_refused_and_never_replaced():
    n_bytes = N.to_bytes(32, "big")
    for blob in (bytes(32), n_bytes, b"\xff" * 32, b"\x01" * 31, b"\x01" * 33):
        keys = StorageKeyStore(RamStorage())
        keys.save(KEY_NAME, blob)
        source = ScriptedRandom()  # asked for nothing: a damaged key is never replaced
        device = SoftSigner(keys, urandom=source)
        e = raises(HalError, device.public_key)
        assert str(e) == "key signer is damaged"
        raises(HalError, device.sign_digest, bytes(32))
        assert keys.load(KEY_NAME) == blob and source.calls == 0
    # A key file the key store itself finds damaged (a byte changed on the medium)
    storage = RamStorage()
    keys = StorageKeyStore(storage)
    keys.save(KEY_NAME, bytes.fromhex(P256_PRIVATE))
    raw = storage.read("signer.key")
    spoilt = raw[:-3] + bytes([raw[-3] ^ 0x01]) + raw[-2:]
    storage.write("signer.key", spoilt)
    source = ScriptedRandom()
    e = raises(HalError, SoftSigner(keys, urandom=source).public_key)
    assert "signer" in str(e) and "damaged" in str(e)
    assert storage.read("signer.key") == spoilt and source.calls == 0


def test_points_known_answers():
    assert signer.public_point(1) == (GX, GY)
    assert signer.public_point(2) == (G2X, G2Y)
    assert signer.public_point(N - 1) == (GX, P - GY)
    assert signer.affine(*signer.double(GX, GY, 1)) == (G2X, G2Y)
    assert signer.affine(*signer.add(GX, GY, 1, GX, GY, 1)) == (G2X, G2Y)  # equal points: doubled
    assert signer.add(GX, GY, 1, GX, P - GY, 1)[2] == 0  # opposite points: infinity
    assert signer.add(0, 1, 0, GX, GY, 1) == (GX, GY, 1)
    # The comb and the variable-base window agree on a scalar with every column pattern.
    k = 0x8000000000000001FFFFFFFFFFFFFFFF0123456789ABCDEF55AA55AA33CC33CC
    assert signer.public_point(k) == signer.affine(*signer.point_mul(k, GX, GY))
    assert signer.on_curve(*signer.public_point(k))
    assert signer.inverse(3, N) * 3 % N == 1 and signer.inverse(P - 1, P) == P - 1


def test_valid_private_key():
    assert signer.valid_private_key(1) and signer.valid_private_key(N - 1)
    for bad in (0, N, -1, None, True, "1"):
        assert not signer.valid_private_key(bad)
