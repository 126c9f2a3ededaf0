# The security primitives (hal/soft/des.py, hal/soft/mac.py) against the `cryptography` package on random
# input (hypothesis), the frozen known answers of tests/portable/vectors.py recomputed with
# `cryptography`, and hal/soft/des.py's table literals regenerated from FIPS 46-3.
import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as RefTripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given, settings
from hypothesis import strategies as st

import hal.soft.des
from hal.soft.des import DES, TripleDES, check_value
from hal.soft.mac import pin_block_format0, pos_ecb_mac, x919_mac
from tests.portable import vectors
from tools import des_tables

H = bytes.fromhex
EXAMPLES = 300
RAN = {}  # test name -> examples run, printed by the last test


def _count(name):
    RAN[name] = RAN.get(name, 0) + 1


# ---- references, built with cryptography only ------------------------------------------------
def _ref_key(key):
    """cryptography's TripleDES takes 8 (deprecated), 16 (deprecated) or 24 bytes: always give 24."""
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    return key


def ref_ecb(key, data, decrypt=False):
    cipher = Cipher(RefTripleDES(_ref_key(key)), modes.ECB())
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def ref_x919(key, message):
    """CBC-DES under the left half over the zero-padded message (empty = one zero block), then
    decrypt the last CBC block under the right half and encrypt it under the left."""
    padded = message + bytes(-len(message) % 8) if message else bytes(8)
    ctx = Cipher(RefTripleDES(key[:8] * 3), modes.CBC(bytes(8))).encryptor()
    last = (ctx.update(padded) + ctx.finalize())[-8:]
    return ref_ecb(key[:8], ref_ecb(key[8:], last, decrypt=True))


def ref_pos_ecb_mac(key, message):
    """docs/PROTOCOL.md, The MAC: XOR the 8-byte blocks (last zero-padded), 16 uppercase hex chars,
    encrypt the first 8, XOR with the last 8, encrypt, first 8 uppercase hex chars as ASCII."""
    padded = message + bytes(-len(message) % 8)
    x = bytes(8)
    for pos in range(0, len(padded), 8):
        x = bytes(a ^ b for a, b in zip(x, padded[pos : pos + 8], strict=True))
    hexed = x.hex().upper().encode()
    first = ref_ecb(key, hexed[:8])
    second = ref_ecb(key, bytes(a ^ b for a, b in zip(first, hexed[8:], strict=True)))
    return second.hex().upper()[:8].encode()


def ref_pin_block(pin, pan):
    """ISO 9564 format 0 from its definition, as hex text."""
    pin_field = "0" + "{:X}".format(len(pin)) + pin
    pin_field += "F" * (16 - len(pin_field))
    pan_field = "0000" + pan[-13:-1]
    return (int(pin_field, 16) ^ int(pan_field, 16)).to_bytes(8, "big")


# ---- the tables -------------------------------------------------------------------------------
def test_des_tables_are_the_fips_46_3_ones():
    hi, lo = des_tables.sp_tables()
    for s in range(8):
        assert getattr(hal.soft.des, "_SPH{}".format(s)) == hi[s]
        assert getattr(hal.soft.des, "_SPL{}".format(s)) == lo[s]
    for name, value in list(des_tables.small_tables().items()) + list(des_tables.key_tables().items()):
        assert getattr(hal.soft.des, name) == value, name
    # the generator's textbook DES, which the tables come from, is DES
    for key, plain, cipher in vectors.DES_BLOCK:
        assert des_tables.reference_encrypt(H(key), H(plain)) == H(cipher)


def test_des_source_holds_the_generated_block():
    with open(hal.soft.des.__file__, encoding="utf-8") as f:
        source = f.read()
    start = source.index("# BEGIN GENERATED\n") + len("# BEGIN GENERATED\n")
    assert source[start : source.index("# END GENERATED")] == des_tables.render()


# ---- frozen known answers ---------------------------------------------------------------------
def test_frozen_vectors_match_cryptography():
    for key, plain, cipher in vectors.DES_BLOCK + vectors.DES_ECB + vectors.TDES:
        assert ref_ecb(H(key), H(plain)) == H(cipher)
    for key, kcv in vectors.CHECK_VALUES:
        assert ref_ecb(H(key), bytes(8))[:4] == H(kcv)
    mak = H(vectors.MAC_KEY)
    for message, x919, f64 in vectors.MACS:
        assert ref_x919(mak, H(message)) == H(x919)
        assert ref_pos_ecb_mac(mak, H(message)) == f64.encode()
    example_mak = H(vectors.ECB_MAC_EXAMPLE_MAK)
    example_mab = H(vectors.ECB_MAC_EXAMPLE_MAB)
    assert ref_pos_ecb_mac(example_mak, example_mab) == vectors.ECB_MAC_EXAMPLE_F64.encode()
    assert ref_x919(example_mak, example_mab) == H(vectors.X919_OF_EXAMPLE)
    for pin, pan, clear, encrypted in vectors.PIN_BLOCKS:
        assert ref_pin_block(pin, pan) == H(clear)
        assert ref_ecb(H(vectors.PIN_KEY), H(clear)) == H(encrypted)


# ---- random inputs ----------------------------------------------------------------------------
@settings(max_examples=EXAMPLES, deadline=None)
@given(key=st.binary(min_size=8, max_size=8), block=st.binary(min_size=8, max_size=8))
def test_des_matches_cryptography(key, block):
    _count("DES")
    des = DES(key)
    expected = ref_ecb(key, block)
    assert des.encrypt(block) == expected
    assert des.decrypt(expected) == block
    assert des.decrypt(block) == ref_ecb(key, block, decrypt=True)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    key=st.one_of(st.binary(min_size=16, max_size=16), st.binary(min_size=24, max_size=24)),
    data=st.binary(min_size=1, max_size=4).map(lambda b: b * 8),  # 8 to 32 bytes, whole blocks
)
def test_triple_des_matches_cryptography(key, data):
    _count("3DES")
    tdes = TripleDES(key)
    expected = ref_ecb(key, data)
    assert tdes.encrypt(data) == expected
    assert tdes.decrypt(expected) == data
    assert tdes.decrypt(data) == ref_ecb(key, data, decrypt=True)
    assert tdes.left.encrypt(data) == ref_ecb(key[:8], data)


@settings(max_examples=EXAMPLES, deadline=None)
@given(key=st.one_of(*(st.binary(min_size=n, max_size=n) for n in (8, 16, 24))))
def test_check_value_matches_cryptography(key):
    _count("check value")
    assert check_value(key) == ref_ecb(key, bytes(8))[:4]


@settings(max_examples=EXAMPLES, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), message=st.binary(max_size=300))
def test_x919_matches_cryptography(key, message):
    _count("X9.19")
    assert x919_mac(TripleDES(key), message) == ref_x919(key, message)


@settings(max_examples=EXAMPLES, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), message=st.binary(max_size=300))
def test_pos_ecb_mac_matches_the_domain_definition(key, message):
    _count("POS ECB MAC")
    assert pos_ecb_mac(TripleDES(key), message) == ref_pos_ecb_mac(key, message)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    pin=st.text(alphabet="0123456789", min_size=4, max_size=12),
    pan=st.text(alphabet="0123456789", min_size=13, max_size=19),
    pik=st.binary(min_size=16, max_size=16),
)
def test_pin_block_matches_the_definition(pin, pan, pik):
    _count("PIN block")
    block = pin_block_format0(pin, pan)
    assert bytes(block) == ref_pin_block(pin, pan)
    assert TripleDES(pik).encrypt(block) == ref_ecb(pik, ref_pin_block(pin, pan))


def test_zz_examples_ran(capsys):
    """Runs last in this module: says how many random examples each cross-check ran."""
    if not RAN:
        pytest.skip("run with the cross-checks (the whole module) to count their examples")
    with capsys.disabled():
        print(
            "\ncrypto cross-checks against cryptography: "
            + ", ".join("{} {}".format(name, n) for name, n in sorted(RAN.items()))
        )
    for name, n in RAN.items():
        assert n >= 100, "{} ran only {} examples".format(name, n)
