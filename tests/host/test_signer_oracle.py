# The portable soft signer (hal/soft/signer.py) against `cryptography`, the oracle: random keys and
# digests signed here are byte-equal to cryptography's RFC 6979 signatures and verify there; its
# public keys are cryptography's; its verify() accepts cryptography's signatures and refuses altered
# ones. CPython only (the heavy loops live here, not on the MicroPython tier).
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.soft import signer
from hal.soft.keystore import StorageKeyStore
from hal.soft.signer import KEY_NAME, N, SoftSigner
from tests.portable import conformance, vectors
from virtual.storage import RamStorage

DATA = Path(__file__).parent / "data"
SCALARS = st.integers(min_value=1, max_value=N - 1)
DIGESTS = st.binary(min_size=32, max_size=32)
# Scalars at the edges and with long runs of equal bits: the comb's columns all 0, all 1, mixed.
EDGE_SCALARS = (
    1,
    2,
    3,
    15,
    16,
    N - 1,
    N - 2,
    N // 2,
    1 << 255,
    (1 << 255) - 1,
    (1 << 192) | (1 << 128) | (1 << 64) | 1,
    (1 << 64) - 1,
    ((1 << 256) - 1) // 3,
    int("7F" + "FF" * 7 + "00" * 8 + "FF" * 8 + "00" * 8, 16),
)


def oracle_key(d):
    return ec.derive_private_key(d, ec.SECP256R1())


def oracle_public(d):
    return (
        oracle_key(d)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def oracle_sign(d, digest, deterministic=True):
    der = oracle_key(d).sign(
        digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=deterministic)
    )
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def oracle_verify(public_key, digest, signature):
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return False
    return True


def device_for(d):
    keys = StorageKeyStore(RamStorage())
    keys.save(KEY_NAME, d.to_bytes(32, "big"))
    return SoftSigner(keys)


@settings(max_examples=60, deadline=None)
@given(d=SCALARS, digest=DIGESTS)
def test_random_keys_and_digests_sign_as_cryptography_does(d, digest):
    device = device_for(d)
    public = device.public_key()
    assert public == oracle_public(d)
    signature = device.sign_digest(digest)
    assert signature == oracle_sign(d, digest)  # RFC 6979: byte for byte
    assert oracle_verify(public, digest, signature)


@settings(max_examples=30, deadline=None)
@given(d=SCALARS, digest=DIGESTS, bit=st.integers(min_value=0, max_value=511))
def test_verify_accepts_cryptographys_signatures_and_refuses_a_flipped_bit(d, digest, bit):
    public = oracle_public(d)
    signature = oracle_sign(d, digest, deterministic=False)
    assert signer.verify(public, digest, signature)
    flipped = bytearray(signature)
    flipped[bit >> 3] ^= 1 << (bit & 7)
    assert not signer.verify(public, digest, bytes(flipped))
    assert not signer.verify(public, hashlib.sha256(digest).digest(), signature)


def test_edge_scalars_give_cryptographys_public_keys():
    for d in EDGE_SCALARS:
        assert device_for(d).public_key() == oracle_public(d), hex(d)
        x, y = signer.affine(*signer.point_mul(d, signer.GX, signer.GY))
        assert b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big") == oracle_public(d), hex(d)


def test_every_comb_width_gives_the_same_points():
    # The bench measures 4, 5 and 6 teeth (and 2 and 8 fit the 256 bits too): all must agree.
    for teeth in (2, 4, 5, 6, 8):
        for d in EDGE_SCALARS[:8]:
            assert signer.affine(*signer.base_mul(d, teeth)) == signer.public_point(d), (teeth, hex(d))


def test_the_vectors_are_cryptographys():
    # tests/portable/vectors.py: the published ones as RFC 6979 prints them, the frozen ones as
    # cryptography computes them today.
    published = json.loads((DATA / "crypto_vectors.json").read_text())["ecdsa_p256_sha256_rfc6979"]
    d = int(vectors.P256_PRIVATE, 16)
    assert published["private_key"] == vectors.P256_PRIVATE
    assert oracle_public(d) == bytes.fromhex("04" + vectors.P256_PUBLIC_X + vectors.P256_PUBLIC_Y)
    cases = {case["message_ascii"]: case["r"] + case["s"] for case in published["cases"]}
    for message, r, s in vectors.P256_SIGNATURES:
        if message.startswith("#"):
            digest = bytes.fromhex(message[1:])
        else:
            digest = hashlib.sha256(message.encode()).digest()
            assert cases.pop(message) == r + s
        assert oracle_sign(d, digest) == bytes.fromhex(r + s), message
    assert cases == {}


def test_conformance_verified_by_cryptography():
    conformance.check_signer(lambda: SoftSigner(StorageKeyStore(RamStorage())), verify=oracle_verify)


def test_a_key_from_os_urandom():
    keys = StorageKeyStore(RamStorage())
    device = SoftSigner(keys)  # the default random source: os.urandom
    public = device.public_key()
    d = int.from_bytes(keys.load(KEY_NAME), "big")
    assert 0 < d < N and public == oracle_public(d)
    digest = hashlib.sha256(b"receipt").digest()
    assert oracle_verify(public, digest, device.sign_digest(digest))
