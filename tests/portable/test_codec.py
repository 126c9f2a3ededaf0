# The ISO 8583 codec on both runtimes: exact bytes of hand-checked frames, round trips of every
# field format, the MAC input, and every class of malformed input raising ProtocolError alone.
from firmware.host.codec import (
    HEADER,
    MAC_ROOM,
    TPDU,
    Message,
    ProtocolError,
    answer_mti,
    decode,
    encode,
    encode_into,
    f60,
    frame_size,
    mac_input,
    num,
    parse_f60,
    put_mac,
    reply_tpdu,
    supported,
    tlv_build,
    tlv_parse,
)

TRACK2 = "4111111111111111=2512101"


def _h(s):
    return bytes.fromhex(s.replace(" ", ""))


def _error(fn, *args):
    """The ProtocolError fn raises (any other exception propagates and fails the test)."""
    try:
        fn(*args)
    except ProtocolError as e:
        return e
    raise AssertionError("no ProtocolError")


def _frame(body_hex):
    """A frame from its body after the header (MTI onwards), with our TPDU and header."""
    body = TPDU + HEADER + _h(body_hex)
    return len(body).to_bytes(2, "big") + body


# Written out by hand from docs/PROTOCOL.md's frames and field formats, not produced by the codec.
SALE_HEX = (
    "005c"  # length: 92 bytes follow
    "6000030000"  # TPDU
    "603100000001"  # header
    "0200"  # MTI
    "3020048020c08011"  # bitmap: 3 4 11 22 25 35 41 42 49 60 64
    "000000"  # F3
    "000000012345"  # F4 = 123.45
    "000123"  # F11
    "0210"  # F22 "021", left-aligned
    "00"  # F25
    "24"  # F35 length: 24 digits
    "4111111111111111d2512101"  # F35: "=" as D
    "3130303030303031"  # F41 "10000001"
    "383938313030303132333430303031"  # F42 "898100012340001"
    "313536"  # F49 "156"
    "0013"  # F60 length: 13 digits
    "22000007000600"  # F60 "2200000700060", pad 0
    "0000000000000000"  # F64 room
)


def _sale():
    return Message(
        "0200",
        {
            3: "000000",
            4: "000000012345",
            11: "000123",
            22: "021",
            25: "00",
            35: TRACK2.replace("=", "D"),
            41: "10000001",
            42: "898100012340001",
            49: "156",
            60: "2200000700060",
            64: MAC_ROOM,
        },
    )


def test_a_sale_encodes_to_the_hand_checked_bytes():
    assert bytes(encode(_sale())) == _h(SALE_HEX)


def test_the_hand_checked_sale_decodes_field_by_field():
    m = decode(_h(SALE_HEX))
    assert m == _sale()
    assert m.tpdu == TPDU and m.header == HEADER and m.mti == "0200"
    assert m[22] == "021" and m[35] == "4111111111111111D2512101" and m[64] == bytes(8)


def test_track_separator_may_be_given_as_equals_sign():
    m = _sale()
    m[35] = TRACK2
    assert bytes(encode(m)) == _h(SALE_HEX)


def _every_field():
    return Message(
        "0210",
        {
            2: "6217001234567895675",
            3: "000000",
            4: "999999999999",
            11: "999999",
            12: "235959",
            13: "1231",
            14: "2512",
            15: "1231",
            22: "051",
            23: "001",
            25: "00",
            26: "12",
            32: "12345678901",
            35: "6217001234567895675D2512101",
            36: "996217001234567895675D" + "1" * 60,
            37: "123456789012",
            38: "AB12 3",
            39: "00",
            41: "10000001",
            42: "898100012340001",
            44: "0102030405 0102030405~",
            48: "1" * 322,
            49: "156",
            52: bytes(range(8)),
            53: "2600000000000000",
            55: bytes(range(255)),
            59: b"\xa0\x01\x02",
            60: "22000001000",
            61: "00000100012",
            62: bytes(999),
            63: "CUP中国银联".encode(),
            64: b"\xff" * 8,
        },
        b"\x60\x12\x34\x56\x78",
        b"\x01\x02\x03\x04\x05\x06",
    )


def test_every_field_of_the_table_round_trips():
    m = _every_field()
    for n in m.fields:
        assert supported(n), n
    frame = encode(m)
    assert len(frame) > 1600
    assert decode(frame) == m


def test_empty_and_maximal_variable_fields_round_trip():
    m = Message("0200", {2: "", 32: "1", 35: "D", 48: "", 55: b"", 63: b"", 62: b"\x00" * 999})
    assert decode(encode(m)) == m


def test_fixed_odd_n_is_right_aligned_and_f22_left_aligned():
    m = Message("0200", {22: "021", 23: "001"})
    tail = bytes(encode(m))[-4:]
    assert tail == _h("0210 0001")


def test_length_prefixes_count_digits_for_n_z_and_bytes_otherwise():
    m = Message("0200", {2: "123", 36: "1" * 104, 44: "x" * 25, 62: bytes(300), 63: b"ab"})
    frame = bytes(encode(m))
    body = frame[23:]
    assert body[:3] == _h("03 1230")  # F2: 3 digits, 2 bytes
    assert body[3:5] == _h("0104")  # F36: 104 digits, 52 bytes follow
    at = 5 + 52
    assert body[at] == 0x25 and body[at + 1 : at + 26] == b"x" * 25  # F44: 25 bytes
    at += 26
    assert body[at : at + 2] == _h("0300")  # F62: 300 bytes
    at += 302
    assert body[at:] == _h("0002") + b"ab"  # F63: 2 bytes


def test_f_pads_are_accepted_on_decode_and_0_emitted():
    # An even-length field has no pad nibble: an F there is not a digit.
    _error(decode, _frame("0200 6000000000000000 03 123f 0f2100"))
    m = decode(_frame("0200 4000020000000000 03 123f f001"))  # F2 pad F, F23 leading pad F
    assert m[2] == "123" and m[23] == "001"
    assert bytes(encode(m))[-4:] == _h("1230 0001")
    m = decode(_frame("0200 0000040000000000 021f"))  # F22 trailing pad F
    assert m[22] == "021"
    m = decode(_frame("0200 0000000000000010 0003 123f"))  # F60, 3 digits, pad F
    assert m[60] == "123"


def test_mac_input_runs_from_the_mti_to_before_f64():
    frame = encode(_sale())
    assert mac_input(frame) == _h(SALE_HEX)[13:-8]
    put_mac(frame, b"12345678")
    assert bytes(frame[-8:]) == b"12345678"
    assert decode(frame)[64] == b"12345678"
    assert mac_input(frame) == _h(SALE_HEX)[13:-8]  # the MAC itself is outside its input


# The public worked example of the UnionPay POS "ECB" MAC (tests/portable/vectors.py): a real 0830
# (F39, F41, F42, F60, F62 of 277 bytes) from the MTI through F62, and its F64 as 8 ASCII chars.
_VECTOR_MAB = (
    "08300000000002C000153030363730303436343238393733373031373933323330303200110000000137200277"
    "319F0605A0000003339F220103DF050832303234313233319F0605A0000003339F220104DF05083230323431"
    "3233319F0605A0000003339F220102DF050832303231313233319F0605A0000000039F220107DF0508323031"
    "37313233319F0605A0000000039F220108DF050832303233313233319F0605A0000000039F220109DF050832"
    "303233313233319F0605A0000000659F220110DF050832303232313233319F0605A0000000659F220112DF05"
    "0832303232313233319F0605A0000000659F220114DF050832303232313233319F0605A0000000049F220104"
    "DF050832303137313233319F0605A0000000049F220105DF050832303231313233319F0605A0000000049F22"
    "0106DF05083230323131323331"
)


def test_the_worked_mac_example_frame_decodes_and_its_mac_input_is_the_published_one():
    mab = _h(_VECTOR_MAB)
    body = TPDU + HEADER + mab + b"5FE058DB"
    frame = len(body).to_bytes(2, "big") + body
    m = decode(frame)
    assert m.mti == "0830" and sorted(m.fields) == [39, 41, 42, 60, 62, 64]
    assert m[39] == "00" and m[41] == "67004642" and m[42] == "897370179323002"
    assert parse_f60(m[60]) == ("00", 1, "372", "", "")
    assert len(m[62]) == 277 and m[64] == b"5FE058DB"
    assert mac_input(frame) == mab
    assert bytes(encode(m)) == frame


def test_mac_helpers_refuse_a_frame_without_f64():
    m = _sale()
    del m[64]
    frame = encode(m)
    _error(mac_input, frame)
    _error(put_mac, frame, b"12345678")
    _error(put_mac, encode(_sale()), b"1234567")
    _error(mac_input, b"\x00")


def test_encode_into_a_reused_buffer_writes_the_same_frame():
    buf = bytearray(2050)
    n = encode_into(_sale(), buf)
    assert bytes(buf[:n]) == _h(SALE_HEX)
    assert mac_input(buf, n) == _h(SALE_HEX)[13:-8]
    put_mac(buf, b"ABCDEFGH", n)
    assert decode(memoryview(buf)[:n])[64] == b"ABCDEFGH"
    _error(encode_into, _sale(), bytearray(50))
    _error(encode_into, Message("0200", {2: "123"}), bytearray(23))  # no room for F2's length
    _error(encode_into, Message("0200", {}), bytearray(22))
    assert encode_into(Message("0200", {}), bytearray(23)) == 23


def test_frame_size_reads_the_length_prefix():
    assert frame_size(b"\x00\x5c") == 94
    _error(frame_size, b"\x00")
    _error(frame_size, b"\x00\x05")
    _error(frame_size, b"\x08\x01")


def test_encode_refuses_what_cannot_be_sent():
    cases = [
        {4: 12345},  # an int where digits are expected
        {4: "12345"},  # fixed n of the wrong length
        {4: "00000000012a"},  # not digits
        {4: "00000000012\u0663"},  # a non-ASCII digit (CPython's isdigit says yes)
        {2: "1" * 20},  # over the maximum
        {35: "1234=56X"},  # not track data
        {41: "1000000"},  # ans of the wrong length
        {41: "1000000\u00e9"},  # not ASCII
        {41: "1000000\n"},  # not printable
        {52: "12345678"},  # b needs bytes
        {52: b"1234567"},
        {62: bytes(1000)},
        {1: b"12345678"},  # the secondary bitmap is not ours to set
        {65: "1"},
        {5: "1"},  # not in the table
        {55: bytes(255), 62: bytes(999), 59: bytes(600), 63: bytes(163), 36: "1" * 104},  # > 2048
    ]
    for fields in cases:
        _error(encode, Message("0200", fields))
    _error(encode, Message("200", {}))
    _error(encode, Message("02x0", {}))
    _error(encode, Message("02\u06630", {}))
    _error(encode, Message(200, {}))
    _error(encode, Message("0200", {}, b"\x61\x00\x00\x00\x00"))
    _error(encode, Message("0200", {}, TPDU, b"\x60"))


def test_every_malformed_class_raises_protocol_error():
    good = bytes(encode(_sale()))
    cases = [
        b"",
        b"\x00",
        good[:22],  # shorter than a bitmap
        good[:-1],  # length prefix says one more byte
        good + b"\x00",  # trailing byte, prefix not matching
        b"\x08\x02" + good[2:] + bytes(2048 - len(good) + 2),  # over MAX_BODY
        good[:2] + b"\x61" + good[3:],  # TPDU not 60
        good[:13] + b"\x02\x0a" + good[15:],  # MTI not BCD
        good[:15] + b"\xb0" + good[16:],  # bit 1: secondary bitmap
        good[:15] + b"\x38" + good[16:],  # bit 5: not in the table
        good[:15] + b"\x30\x20\x04\x80\x20\xc0\x80\x13" + good[23:],  # bit 63 with no data for it
        _frame("0200 0000000000000000 00"),  # trailing byte after the last field
        _frame("0200 4000000000000000 1a 1234"),  # LLVAR prefix not BCD
        _frame("0200 4000000000000000 20" + "12" * 10),  # 20 digits > n..19
        _frame("0200 4000000000000000 05 12"),  # cut off
        _frame("0200 0000000000000004"),  # F62 prefix missing
        _frame("0200 0000000000000004 0a00"),  # LLLVAR first byte > 9
        _frame("0200 0000000000000004 1000" + "00" * 10),  # 1000 > 999
        _frame("0200 2000000000000000 00000a"),  # fixed n not BCD
        _frame("0200 4000000000000000 03 1231"),  # pad nibble neither 0 nor F
        _frame("0200 0000040000000000 0215"),  # F22 pad nibble 5
        _frame("0200 0000000020000000 03 1e30"),  # z nibble E
        _frame("0200 0000000002000000 0031"),  # F39 "\x00" + "1": not printable
        _frame("0200 0000000000400000 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),  # F42 NULs
        _frame("0200 0000000000100000 00 41"),  # F44 of length 0, then a stray byte
        _frame("0200 0000000000000001 00000000000000"),  # F64 one byte short
    ]
    for frame in cases:
        e = _error(decode, frame)
        assert e.key == "host_protocol" and e.detail


def test_errors_name_the_field_never_its_content():
    track = "4111111111111111D2512101"
    e = _error(decode, _frame("0200 0000000020000000 23 4111111111111111d251210e"))
    assert "35" in e.detail and "4111" not in str(e) and track not in repr(e)
    e = _error(encode, Message("0200", {35: track + "X"}))
    assert "4111" not in str(e)


class _Exhausted:
    """A buffer whose reading runs out of memory: the decoder must not turn that into a
    ProtocolError."""

    def __len__(self):
        return 100

    def __iter__(self):
        raise MemoryError


def test_memory_error_is_not_turned_into_a_protocol_error():
    try:
        decode(_Exhausted())
    except MemoryError:
        return
    raise AssertionError("MemoryError did not pass through")


def test_repr_never_shows_card_data_or_pin_block():
    m = _sale()
    m[2] = "4111111111111111"
    m[52] = b"\x11\x22\x33\x44\x55\x66\x77\x88"
    text = repr(m) + str(m)
    assert "4111" not in text and "1122" not in text and "\\x11" not in text
    assert "0200" in text and "4=000000012345" in text and "35=<24>" in text
    assert repr(Message("0200", {4: 12345})) == "Message(0200 4=<?>)"  # a wrong type: no crash


def test_message_mapping_and_copy():
    m = _sale()
    c = m.copy()
    c[4] = "000000000001"
    del c[64]
    assert m[4] == "000000012345" and 64 in m and 64 not in c and c.get(64) is None
    assert c.get(64, b"x") == b"x" and m != c and m == _sale() and m != "0200"


def test_tpdu_swaps_and_mti_pairs():
    assert reply_tpdu(b"\x60\x00\x03\x00\x00") == b"\x60\x00\x00\x00\x03"
    assert reply_tpdu(reply_tpdu(TPDU)) == TPDU
    pairs = (("0200", "0210"), ("0220", "0230"), ("0400", "0410"), ("0800", "0810"), ("0820", "0830"))
    for request, answer in pairs + (("0500", "0510"), ("0320", "0330")):
        assert answer_mti(request) == answer


def test_field_60_sub_fields():
    assert f60("22", 7, "000", "6", "0") == "2200000700060"
    assert f60("00", 999999, "003") == "00999999003"
    assert f60("22", 1, "000", "5") == "2200000100050"
    assert parse_f60("2200000700061") == ("22", 7, "000", "6", "1")
    assert parse_f60("00000001") == ("00", 1, "", "", "")
    for args in (("2", 1, "000"), ("22", 1, "00"), ("22", -1, "000"), ("22", 10**6, "000"), ("2x", 1, "000")):
        _error(f60, *args)
    _error(f60, 22, 1, "000")
    for bad in ("", "2200000", "22000007x", None):
        _error(parse_f60, bad)


def test_num_pads_with_zeros_and_refuses_what_does_not_fit():
    assert num(0, 6) == "000000" and num(123, 6) == "000123" and num(999999, 6) == "999999"
    _error(num, 1000000, 6)
    _error(num, -1, 6)
    _error(num, "12", 6)
    _error(num, True, 6)


def test_tlv_round_trips_short_long_and_multi_byte_tags():
    items = [(0xFF00, "商户".encode()), (0x9F26, bytes(8)), (0x5A, b""), (0xDF8101, b"x" * 200)]
    items.append((0x70, b"y" * 300))
    data = tlv_build(items)
    assert data[:4] == _h("FF00 06 E5") and _h("DF8101 81C8") in data and _h("70 82012C") in data
    assert tlv_parse(data) == items
    assert tlv_parse(b"") == []
    assert tlv_parse(_h("9F0200")) == [(0x9F02, b"")]


def test_tlv_refuses_malformed_and_unbounded_input():
    for bad in ("9F", "9F02", "5A05 0102", "5A83 000001 00", "5A80", "9F8181 01 00", "5A 82 01"):
        _error(tlv_parse, _h(bad))
    _error(tlv_parse, _h("5A00") * 65)
    assert len(tlv_parse(_h("5A00") * 3, 3)) == 3
    _error(tlv_parse, _h("5A00") * 4, 3)
    for tag in (0, 0x1F, 0x9F, 0x5A01, 0x9F8101 + 0x80, 0x1000000, "5A"):
        _error(tlv_build, [(tag, b"")])
    _error(tlv_build, [(0x5A, "text")])
    _error(tlv_build, [(0x5A, bytes(0x10000))])
