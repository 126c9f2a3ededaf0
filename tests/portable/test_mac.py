# The field-64 MACs (UnionPay POS "ECB" MAC, ANSI X9.19) and the ISO 9564 format-0 PIN block:
# known answers on CPython and MicroPython. Cross-checks on random input: tests/host.
from hal.soft.des import DES, TripleDES
from hal.soft.mac import mac_equal, pin_block_format0, pos_ecb_mac, x919_mac
from tests.portable import vectors

H = bytes.fromhex


def _raises_value_error(fn, *args):
    try:
        fn(*args)
    except ValueError as exc:
        return str(exc)
    return None


def test_ecb_mac_worked_example():
    mak = TripleDES(H(vectors.ECB_MAC_EXAMPLE_MAK))
    mab = H(vectors.ECB_MAC_EXAMPLE_MAB)
    f64 = pos_ecb_mac(mak, mab)
    assert f64 == b"5FE058DB" == vectors.ECB_MAC_EXAMPLE_F64.encode()
    assert f64 == H("3546453035384442")  # as the 8 ASCII bytes of field 64
    assert pos_ecb_mac(mak, bytearray(mab)) == f64
    assert pos_ecb_mac(mak, memoryview(mab)) == f64


def test_macs_known_answers():
    mak = TripleDES(H(vectors.MAC_KEY))
    for message, x919, f64 in vectors.MACS:
        assert x919_mac(mak, H(message)) == H(x919)
        assert pos_ecb_mac(mak, H(message)) == f64.encode()


def test_x919_of_the_worked_example():
    mak = TripleDES(H(vectors.ECB_MAC_EXAMPLE_MAK))
    mab = H(vectors.ECB_MAC_EXAMPLE_MAB)
    assert x919_mac(mak, mab) == H(vectors.X919_OF_EXAMPLE)
    assert x919_mac(mak, memoryview(mab)) == H(vectors.X919_OF_EXAMPLE)


def test_x919_equals_cbc_under_left_then_3des_on_the_last_block():
    # The definition, spelled with the block ciphers: CBC-DES(left) over all blocks but the
    # last, then 3DES EDE on the last chained block.
    key = H(vectors.MAC_KEY)
    message = b"Now is the time for all men"
    chain = bytearray(8)
    padded = message + bytes(-len(message) % 8)
    left = DES(key[:8])
    for pos in range(0, len(padded) - 8, 8):
        for i in range(8):
            chain[i] ^= padded[pos + i]
        left.encrypt_into(chain, chain)
    for i in range(8):
        chain[i] ^= padded[len(padded) - 8 + i]
    assert x919_mac(TripleDES(key), message) == TripleDES(key).encrypt(chain)


def test_ecb_mac_is_blind_to_block_swaps_and_x919_is_not():
    mak = TripleDES(H(vectors.MAC_KEY))
    a = b"0200 amt 000000001000 to A"
    b = a[8:16] + a[:8] + a[16:]  # first two blocks swapped
    assert a != b
    assert pos_ecb_mac(mak, a) == pos_ecb_mac(mak, b)
    assert x919_mac(mak, a) != x919_mac(mak, b)


def test_trailing_zero_bytes_pad_like_the_algorithms_say():
    # Both pad with zeros, so a message and the same message with its padding spelled out MAC
    # alike: the MAC input must be framed (the length lives outside it, docs/PROTOCOL.md).
    mak = TripleDES(H(vectors.MAC_KEY))
    assert x919_mac(mak, b"Now is ") == x919_mac(mak, b"Now is \x00")
    assert pos_ecb_mac(mak, b"Now is ") == pos_ecb_mac(mak, b"Now is \x00")
    assert x919_mac(mak, b"") == x919_mac(mak, bytes(8))


def test_a_mac_key_is_a_double_length_triple_des():
    message = b"0200"
    for bad in (
        DES(H("0123456789ABCDEF")),
        TripleDES(H("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123")),
        H(vectors.MAC_KEY),  # raw bytes: the schedule is built once per key load, not per MAC
    ):
        assert _raises_value_error(pos_ecb_mac, bad, message) is not None
        assert _raises_value_error(x919_mac, bad, message) is not None


def test_mac_equal():
    assert mac_equal(b"5FE058DB", b"5FE058DB")
    assert mac_equal(b"5FE058DB", bytearray(b"5FE058DB"))
    assert not mac_equal(b"5FE058DB", b"5FE058DC")
    assert not mac_equal(b"5FE058DB", b"4FE058DB")
    assert not mac_equal(b"5FE058DB", b"5FE058D")
    assert mac_equal(b"", b"")


def test_pin_blocks_known_answers():
    pik = TripleDES(H(vectors.PIN_KEY))
    for pin, pan, clear, encrypted in vectors.PIN_BLOCKS:
        block = pin_block_format0(pin, pan)
        assert type(block) is bytearray
        assert block == H(clear)
        assert pik.encrypt(block) == H(encrypted)
        assert pin_block_format0(pin.encode(), pan) == H(clear)
        assert pin_block_format0(bytearray(pin.encode()), pan.encode()) == H(clear)


def test_pin_block_into_a_given_buffer():
    out = bytearray(b"\xff" * 8)
    result = pin_block_format0("1234", "43219876543210987", out)
    assert result is out
    assert out == H("0412AC89ABCDEF67")


def test_pin_block_refuses_bad_pins_and_pans_without_naming_them():
    pan = "6222021234567890128"
    for pin in ("123", "1234567890123", "12a4", "12 34", "", "１２３４"):
        message = _raises_value_error(pin_block_format0, pin, pan)
        assert message is not None, pin
        assert pin == "" or pin not in message
    for bad_pan in ("622202123456", "62220212345678901234", "622202123456789012X", "X222021234567890128"):
        message = _raises_value_error(pin_block_format0, "1234", bad_pan)
        assert message is not None, bad_pan
        assert "1234" not in message and bad_pan not in message
