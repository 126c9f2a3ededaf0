# DES and 3DES known answers (FIPS 81, SP 800-67, frozen cryptography answers), check values, and
# the block API. Runs on CPython and MicroPython; cross-checks on random input: tests/host.

from hal.soft.des import DES, SCHEDULE_WORDS, TripleDES, check_value
from tests.portable import vectors
from tests.portable.heap import heap_probe

H = bytes.fromhex


def _raises_value_error(fn, *args):
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def test_des_known_answers():
    for key, plain, cipher in vectors.DES_BLOCK + vectors.DES_ECB:
        des = DES(H(key))
        assert des.encrypt(H(plain)) == H(cipher)
        assert des.decrypt(H(cipher)) == H(plain)


def test_triple_des_known_answers():
    for key, plain, cipher in vectors.TDES:
        tdes = TripleDES(H(key))
        assert tdes.key_size == len(key) // 2
        assert tdes.encrypt(H(plain)) == H(cipher)
        assert tdes.decrypt(H(cipher)) == H(plain)


def test_triple_des_with_equal_keys_is_single_des():
    k = H("133457799BBCDFF1")
    block = H("0123456789ABCDEF")
    assert TripleDES(k + k).encrypt(block) == H("85E813540F0AB405")
    assert TripleDES(k + k + k).encrypt(block) == H("85E813540F0AB405")


def test_left_is_single_des_of_the_first_key():
    key = H("0123456789ABCDEFFEDCBA9876543210")
    block = bytearray(H("4E6F772069732074"))
    expected = DES(key[:8]).encrypt(block)
    tdes = TripleDES(key)
    assert tdes.left.encrypt(block) == expected
    assert tdes.left.decrypt(expected) == block
    assert tdes.encrypt(block) != expected  # the right half does count in the full cipher


def test_parity_bits_are_ignored():
    key = bytearray(H("133457799BBCDFF1"))
    for i in range(8):
        key[i] ^= 1
    assert DES(key).encrypt(H("0123456789ABCDEF")) == H("85E813540F0AB405")


def test_block_api_in_place_and_on_views():
    key = H("0123456789ABCDEF")
    des = DES(key)
    expected = H("3FA40E8A984D4815")
    buf = bytearray(b"Now is t")
    des.encrypt_into(buf, buf)  # in place
    assert buf == expected
    des.decrypt_into(buf, buf)
    assert buf == b"Now is t"
    # on 8-byte windows of larger buffers, source left untouched
    big = bytearray(b"xxNow is the time for all ")
    out = bytearray(24)
    des.encrypt_into(memoryview(big)[2:10], memoryview(out)[8:16])
    assert out[8:16] == expected and out[:8] == bytearray(8) and out[16:] == bytearray(8)
    assert big == bytearray(b"xxNow is the time for all ")
    des.encrypt_into(b"Now is t", out)  # bytes in, bytearray out
    assert out[:8] == expected


def test_decrypt_inverts_encrypt_on_many_keys():
    state = 12345  # a small LCG: the same inputs on both runtimes
    for _ in range(20):
        material = bytearray(32)
        for i in range(32):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            material[i] = (state >> 16) & 255
        key = bytes(material[:24])
        block = bytes(material[24:32])
        for cipher in (DES(key[:8]), TripleDES(key[:16]), TripleDES(key)):
            enc = cipher.encrypt(block)
            assert enc != block
            assert cipher.decrypt(enc) == block


def test_check_values():
    for key, kcv in vectors.CHECK_VALUES:
        assert check_value(H(key)) == H(kcv)
        assert check_value(bytearray(H(key))) == H(kcv)


def test_wrong_keys_and_blocks_are_refused():
    for n in (0, 7, 9, 16):
        assert _raises_value_error(DES, bytes(n))
    for n in (8, 15, 17, 23, 25, 32):
        assert _raises_value_error(TripleDES, bytes(n))
    for n in (0, 7, 15, 32):
        assert _raises_value_error(check_value, bytes(n))
    assert _raises_value_error(DES, "12345678")  # text is not a key
    assert _raises_value_error(TripleDES, [0] * 16)
    des = DES(bytes(8))
    for n in (0, 7, 9, 15):
        assert _raises_value_error(des.encrypt, bytes(n))
        assert _raises_value_error(des.decrypt, bytes(n))


def test_a_block_allocates_nothing():
    # MicroPython keeps everything a block allocates until the next collection: a block must not
    # allocate at all (a long int or a packed tuple would, about 6 KB a block for 32-bit halves).
    des = DES(H("133457799BBCDFF1"))
    tdes = TripleDES(H("0123456789ABCDEFFEDCBA9876543210"))
    buf = bytearray(8)
    des.encrypt_into(buf, buf)  # first calls outside the measurement
    tdes.decrypt_into(buf, buf)
    start, stop = heap_probe()
    start()
    for _ in range(50):
        des.encrypt_into(buf, buf)
        tdes.encrypt_into(buf, buf)
        tdes.decrypt_into(buf, buf)
    used = stop()
    assert used < 200, "50 rounds of blocks allocated {} bytes".format(used)


def test_a_schedule_built_in_a_given_list_is_the_same_cipher_and_allocates_no_list():
    # The security module builds its working keys' schedules in lists allocated at boot.
    ks = [0] * SCHEDULE_WORDS
    for key, plain, cipher in vectors.TDES:
        if len(key) != 32:
            continue
        tdes = TripleDES(H(key), ks)
        assert tdes.encrypt(H(plain)) == H(cipher)
        assert tdes.decrypt(H(cipher)) == H(plain)
        assert tdes._ks is ks  # filled in place, not a copy
        assert tdes.check_value() == check_value(H(key))
        view = memoryview(bytearray(b"\x00" * 4 + H(key)))[4:]  # a key taken from a view of a buffer
        assert TripleDES(view).encrypt(H(plain)) == H(cipher)
    assert _raises_value_error(TripleDES, bytes(16), [0] * 64)  # a schedule of the wrong length
    tdes_key = H("0123456789ABCDEFFEDCBA9876543210")
    TripleDES(tdes_key, ks)
    start, stop = heap_probe()
    start()
    fresh = TripleDES(tdes_key)
    used_fresh = stop()
    start()
    in_place = TripleDES(tdes_key, ks)
    used = stop()
    # The list itself (512 bytes and its header on a 32-bit MicroPython) is not allocated again (on
    # CPython every round-key word above 256 is an int object either way: the list's 1 KB is the gap).
    assert used < used_fresh - 400, "in place {} bytes, a new schedule {}".format(used, used_fresh)
    assert fresh.encrypt(bytes(8)) == in_place.encrypt(bytes(8))


def test_wipe_zeroes_the_schedule():
    ks = [0] * SCHEDULE_WORDS
    tdes = TripleDES(H("0123456789ABCDEFFEDCBA9876543210"), ks)
    assert any(ks)
    tdes.wipe()
    assert not any(ks)
