# Every message on both runtimes: what each builder puts in which field, round trips through
# the codec, reversals built from their original, the answer checks, keys, totals, response codes.
from firmware import strings
from firmware.host import messages as msg
from firmware.host.codec import (
    MAC_ROOM,
    TPDU,
    Message,
    ProtocolError,
    answer_mti,
    decode,
    encode,
    parse_f60,
    reply_tpdu,
    tlv_parse,
)

PAN = "6217001234567895675"
TRACK2 = PAN + "=25121011234"
ACC = msg.Acceptor("10000001", "898100012340001")
PIN = b"\x01\x23\x45\x67\x89\xab\xcd\xef"


def _h(s):
    return bytes.fromhex(s.replace(" ", ""))


def _error(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ProtocolError as e:
        return e
    raise AssertionError("no ProtocolError")


def _sale(pin=PIN, entry="swipe"):
    return msg.sale(ACC, 123, 7, 12345, TRACK2, entry, pin_block=pin)


def _void(track2=TRACK2):
    return msg.void(ACC, 124, 7, 12345, 7, 123, "332900000111", "AB1234", track2, "swipe" if track2 else None)


def _refund():
    return msg.refund(ACC, 125, 7, 500, "332900000111", "1129", TRACK2, "tap")


def _start_answer(request, code):
    """An answer as a host starts it: the MTI pair, TPDU swapped, the echoed fields, F39, F64 room.
    (The host's own builder is sim/host/answers.py, CPython only: tests/host/test_host_answers.py.)"""
    a = Message(answer_mti(request.mti), {}, reply_tpdu(request.tpdu), request.header)
    for n in (3, 4, 11, 25, 41, 42, 48, 49, 60):
        if n in request.fields:
            a[n] = request.fields[n]
    a[39] = code
    if msg.carries_mac(a.mti):
        a[64] = MAC_ROOM
    return a


def _every_request():
    slip = [(0xFF00, b"QianPOS Demo Shop"), (0xFF01, b"SALE"), (0xFF06, b"20261129120000")]
    return [
        msg.sign_in(ACC, 1, 7),
        msg.sign_off(ACC, 2, 7),
        msg.echo(ACC, 7),
        _sale(),
        _sale(None, "insert"),
        _void(),
        _void(None),
        _refund(),
        msg.reversal(_sale(), msg.REVERSE_NO_ANSWER),
        msg.reversal(_void(), msg.REVERSE_MAC),
        msg.settlement(ACC, 126, 7, 1234500, 12, 50000, 2),
        msg.batch_upload(ACC, 7, msg.TYPE_SALE, 123, 12345, "332900000111", "AB1234", "1129", "120000"),
        msg.batch_upload_end(ACC, 127, 7, 12),
        msg.esign_upload(ACC, 7, 123, 12345, "332900000111", slip, b"\x00\xff" * 400),
    ]


def test_every_request_round_trips_through_the_codec():
    for m in _every_request():
        assert decode(encode(m)) == m, m


def test_sale_fields():
    m = _sale()
    assert m.mti == "0200" and sorted(m.fields) == [3, 4, 11, 22, 25, 26, 35, 41, 42, 49, 52, 53, 60, 64]
    assert m[3] == "000000" and m[4] == "000000012345" and m[11] == "000123"
    assert m[22] == "021" and m[26] == "12" and m[52] == PIN and m[53] == "2600000000000000"
    assert m[35] == PAN + "D25121011234" and m[25] == "00" and m[49] == "156"
    assert parse_f60(m[60]) == ("22", 7, "000", "6", "0") and m[64] == MAC_ROOM
    assert m.tpdu == TPDU
    n = _sale(None, "tap")
    assert n[22] == "072" and 26 not in n and 52 not in n and 53 not in n
    assert _sale(None, "insert")[22] == "052"
    assert msg.sale(ACC, 1, 1, 1, TRACK2, "insert", card_seq=1)[23] == "001"
    assert 36 in msg.sale(ACC, 1, 1, 1, TRACK2, "swipe", track3="99" + PAN + "=1")


def test_the_pan_is_only_in_track_2_and_never_in_repr():
    for m in _every_request():
        for n in m.fields:
            if n != 35:
                assert PAN.encode() not in bytes(str(m.fields[n]), "utf-8"), (m, n)
                assert type(m.fields[n]) is not bytes or PAN.encode() not in m.fields[n]
        assert PAN[6:-4] not in repr(m), m
        assert 2 not in m.fields


def test_sale_refuses_what_it_cannot_send():
    _error(msg.sale, ACC, 1, 1, 1, TRACK2, "scan")
    _error(msg.sale, ACC, 1, 1, 0, TRACK2, "swipe")
    _error(msg.sale, ACC, 1, 1, 10**12, TRACK2, "swipe")
    _error(msg.sale, ACC, 0, 1, 1, TRACK2, "swipe")
    _error(msg.sale, ACC, 10**6, 1, 1, TRACK2, "swipe")
    _error(msg.sale, ACC, 1, 1, 1, None, "swipe")
    _error(msg.sale, ACC, 1, 1, 1, TRACK2, "swipe", track3=b"99")
    _error(msg.sale, ACC, 1, 1, 1, TRACK2, "swipe", pin_block=b"1234")
    _error(msg.sale, ACC, 1, 1, True, TRACK2, "swipe")
    _error(encode, msg.sale(msg.Acceptor("1", "898100012340001"), 1, 1, 1, TRACK2, "swipe"))


def test_void_fields():
    m = _void()
    assert m.mti == "0200" and m[3] == "200000" and m[4] == "000000012345" and m[11] == "000124"
    assert m[37] == "332900000111" and m[38] == "AB1234" and m[61] == "000007000123"
    assert parse_f60(m[60])[:3] == ("23", 7, "000") and m[64] == MAC_ROOM and m[22] == "022"
    n = _void(None)
    assert n[22] == "012" and 35 not in n and 52 not in n
    assert 38 not in msg.void(ACC, 124, 7, 1, 7, 123, "332900000111")
    _error(msg.void, ACC, 124, 7, 1, 7, 123, "12345")
    _error(msg.void, ACC, 124, 7, 1, 7, 0, "332900000111")


def test_refund_fields():
    m = _refund()
    assert m.mti == "0220" and m[3] == "200000" and m[4] == "000000000500" and m[37] == "332900000111"
    assert m[61] == "000000" + "000000" + "1129" and parse_f60(m[60])[:3] == ("25", 7, "000")
    assert m[22] == "072" and m[64] == MAC_ROOM
    m = msg.refund(ACC, 125, 7, 500, "332900000111", "1129", TRACK2, "swipe", PIN, 6, 99)
    assert m[61] == "000006000099" + "1129" and m[22] == "021" and m[52] == PIN
    _error(msg.refund, ACC, 125, 7, 500, "332900000111", "11/29", TRACK2, "swipe")


def test_a_sale_reversal_keeps_the_original_trace_and_drops_card_and_pin_data():
    sale = _sale()
    r = msg.reversal(sale, msg.REVERSE_NO_ANSWER)
    assert r.mti == "0400" and r[11] == sale[11] and r[39] == "98" and r[64] == MAC_ROOM
    assert sorted(r.fields) == [3, 4, 11, 22, 25, 39, 41, 42, 49, 60, 64]
    for n in (3, 4, 22, 25, 41, 42, 49, 60):
        assert r[n] == sale[n]
    assert sale.mti == "0200" and 35 in sale and 39 not in sale  # the original is untouched
    assert r.tpdu == sale.tpdu and r.header == sale.header


def test_a_void_reversal_keeps_f61_and_drops_the_rrn():
    r = msg.reversal(_void(), msg.REVERSE_TERMINAL)
    assert r[61] == "000007000123" and 37 not in r and r[38] == "AB1234" and r[39] == "96"
    assert parse_f60(r[60])[0] == "23" and r[11] == "000124"


def test_only_a_0200_is_reversed():
    _error(msg.reversal, _refund(), "98")
    _error(msg.reversal, msg.sign_in(ACC, 1, 1), "98")
    _error(msg.reversal, _sale(), "9")
    sale = _sale()
    sale[61] = "000001000002"  # a stray F61 on a sale is not carried into its reversal
    assert 61 not in msg.reversal(sale, "06")


def test_network_management_messages():
    m = msg.sign_in(ACC, 1, 7)
    assert m.mti == "0800" and sorted(m.fields) == [11, 41, 42, 60, 63]
    assert m[60] == "00000007003" and m[63] == b"01 "
    assert msg.sign_in(ACC, 1, 7, "02")[63] == b"02 "
    _error(msg.sign_in, ACC, 1, 7, "2")
    _error(msg.sign_in, ACC, 1, 7, "0\u0661")  # a non-ASCII digit
    m = msg.sign_off(ACC, 2, 7)
    assert m.mti == "0820" and m[60] == "00000007002" and m[11] == "000002" and 64 not in m
    assert sorted(m.fields) == [11, 41, 42, 60, 63] and m[63] == b"01 "
    assert msg.sign_off(ACC, 2, 7, "00")[63] == b"00 "
    _error(msg.sign_off, ACC, 2, 7, "7")
    m = msg.echo(ACC, 7)
    assert m.mti == "0820" and sorted(m.fields) == [41, 42, 60] and m[60] == "00000007301"


# Written out by hand: the sign-in request of terminal 10000001, trace 1, batch 7.
SIGN_IN_HEX = (
    "003c 6000030000 603100000001 0800"
    "0020000000c00012"  # bitmap: 11 41 42 60 63
    "000001"  # F11
    "3130303030303031"  # F41
    "383938313030303132333430303031"  # F42
    "0011 000000070030"  # F60 "00000007003", pad 0
    "0003 303120"  # F63 "01 "
)


def test_sign_in_encodes_to_the_hand_checked_bytes():
    assert bytes(encode(msg.sign_in(ACC, 1, 7))) == _h(SIGN_IN_HEX)


def test_settlement_totals_layout():
    f48 = msg.settlement_totals(1234500, 12, 50000, 2)
    assert f48 == "00000123450001200000005000000200000000000000000000000000000000"
    assert msg.parse_settlement_totals(f48) == ((1234500, 12, 50000, 2, 0), (0, 0, 0, 0, 0))
    m = msg.settlement(ACC, 126, 7, 1234500, 12, 50000, 2)
    assert m.mti == "0500" and m[48] == f48 and m[49] == "156" and m[60] == "00000007201"
    assert m[63] == b"01 " and 64 not in m and m[11] == "000126"
    # F63: the operator signed in at the time, as the 0800's (the supervisor "00" too)
    assert msg.settlement(ACC, 126, 7, 1234500, 12, 50000, 2, "07")[63] == b"07 "
    assert msg.settlement(ACC, 126, 7, 1234500, 12, 50000, 2, operator="00")[63] == b"00 "
    _error(msg.settlement, ACC, 126, 7, 1234500, 12, 50000, 2, "100")
    _error(msg.settlement, ACC, 126, 7, 1234500, 12, 50000, 2, None)
    _error(msg.settlement_totals, 1, 1000, 0, 0)
    _error(msg.settlement_totals, -1, 1, 0, 0)
    _error(msg.parse_settlement_totals, f48[:-1])


def test_settlement_answer_results():
    req = msg.settlement(ACC, 126, 7, 1234500, 12, 50000, 2)
    ans = _start_answer(req, "00")
    ans[48] = req[48][:30] + "2" + req[48][31:61] + "1"  # domestic unbalanced, foreign balanced
    assert msg.settlement_result(ans) == (msg.UNBALANCED, msg.BALANCED)
    assert ans[48][:30] == req[48][:30] and ans[48][31:61] == req[48][31:61]
    assert msg.check_answer(req, decode(encode(ans))) == "00"
    ans[48] = req[48]  # result digits still 0
    _error(msg.settlement_result, ans)


def test_batch_upload_and_its_end():
    m = msg.batch_upload(ACC, 7, msg.TYPE_VOID, 124, 12345, "332900000111")
    assert m.mti == "0320" and m[3] == "200000" and m[11] == "000124" and m[60] == "23000007201"
    assert 12 not in m and 13 not in m and 38 not in m and 64 not in m
    m = msg.batch_upload(ACC, 7, msg.TYPE_SALE, 123, 12345, "332900000111", "AB1234", "1129", "120000")
    assert m[3] == "000000" and m[12] == "120000" and m[13] == "1129" and m[38] == "AB1234"
    _error(msg.batch_upload, ACC, 7, "00", 1, 1, "332900000111")
    m = msg.batch_upload_end(ACC, 127, 7, 12)
    assert m.mti == "0320" and m[48] == "0012" and m[60] == "00000007202"
    assert msg.batch_upload_end(ACC, 127, 7, 0, balanced=True)[60] == "00000007207"
    _error(msg.batch_upload_end, ACC, 127, 7, 10000)


def test_esign_upload():
    slip = [(0xFF00, "测试商户".encode()), (0xFF06, b"20261129120000")]
    m = msg.esign_upload(ACC, 7, 123, 12345, "332900000111", slip, b"\x01" * 900, "1129")
    assert m.mti == "0820" and m[11] == "000123" and m[4] == "000000012345" and m[15] == "1129"
    assert m[60] == "07000007800" and tlv_parse(m[55]) == slip and m[62] == b"\x01" * 900
    assert 64 not in m and decode(encode(m)) == m


def _answer(request, code="00"):
    a = _start_answer(request, code)
    a[37] = "332900000111"
    return decode(encode(a))


def test_check_answer_accepts_the_answer_to_each_request():
    for m in _every_request():
        assert msg.check_answer(m, _answer(m)) == "00"
        assert msg.check_answer(m, _answer(m, "05")) == "05"
    upload = _every_request()[-1]
    answer = _answer(upload)
    del answer[4]  # only a financial answer must repeat the amount
    assert msg.check_answer(upload, answer) == "00"


def test_check_answer_refuses_an_answer_to_something_else():
    sale = _sale()
    good = _answer(sale)

    def changed(n=None, value=None, mti=None, tpdu=None):
        a = good.copy()
        if n is not None:
            if value is None:
                del a[n]
            else:
                a[n] = value
        if mti:
            a.mti = mti
        if tpdu:
            a.tpdu = tpdu
        return a

    for bad in (
        changed(mti="0230"),
        changed(mti="0200"),
        changed(tpdu=sale.tpdu),
        changed(39),
        changed(11, "000124"),
        changed(11),
        changed(41, "10000002"),
        changed(42, "898100012340002"),
        changed(4, "000000012346"),
        changed(4),  # approved without the amount
        changed(3, "200000"),
        changed(64),  # approved without a MAC
    ):
        _error(msg.check_answer, sale, bad)
    declined = good.copy()
    declined[39] = "51"
    del declined[4]
    del declined[64]
    assert msg.check_answer(sale, declined) == "51"
    echo = msg.echo(ACC, 7)
    answer = _answer(echo)
    answer[11] = "000001"  # we sent none: not checked
    assert msg.check_answer(echo, answer) == "00"


def test_response_codes_have_messages_in_both_languages():
    required = ("00 03 05 12 13 14 22 25 30 35 51 54 55 61 64 75 94 96 98 A0").split()
    catalog = strings.keys()
    for code in required:
        assert code in msg.RESPONSE_CODES
    for code in msg.RESPONSE_CODES:
        key, args = msg.response_message(code)
        assert key == "rc_" + code and args == () and key in catalog
        assert strings.text(key, "zh") != strings.text(key, "en")
    assert msg.response_key("Q9") == "rc_other" and "rc_other" in catalog
    key, args = msg.response_message("N7")
    assert strings.text(key, "en", *args) == "Declined N7" and "N7" in strings.text(key, "zh", *args)
    assert strings.text("rc_51", "en") == "Insufficient funds" and strings.text("rc_55", "zh") == "密码错误"
    assert "host_protocol" in catalog and ProtocolError("x").key == "host_protocol"


def test_working_keys_of_each_sign_in_layout():
    pin, mac, trk = b"P" * 16, b"M" * 16, b"T" * 16
    sign_in = msg.sign_in(ACC, 1, 7)
    answer = _start_answer(sign_in, "00")
    answer[62] = pin + b"pcv1" + mac + b"mcv1"
    got = msg.working_keys(decode(encode(answer)))
    assert (got.pin_key, got.pin_check, got.mac_key, got.mac_check) == (pin, b"pcv1", mac, b"mcv1")
    assert got.track_key == b"" and len(answer[62]) == 40
    answer[62] = pin + b"pcv1" + mac + b"mcv1" + trk + b"tcv1"
    _error(msg.working_keys, answer)  # 60 bytes while 60.3 says 003
    answer[60] = "00000007004"
    assert msg.working_keys(answer).track_key == trk and msg.working_keys(answer).track_check == b"tcv1"
    answer[60] = "00000007001"
    answer[62] = b"p" * 8 + b"pcv1" + b"m" * 8 + b"mcv1"
    assert msg.working_keys(answer).mac_key == b"m" * 8
    answer[62] = bytes(41)
    _error(msg.working_keys, answer)
    del answer[62]
    _error(msg.working_keys, answer)


def test_working_keys_repr_shows_check_values_only():
    text = repr(msg.WorkingKeys(b"\x11" * 16, b"\xaa\xbb\xcc\xdd", b"\x22" * 16, b"\x01\x02\x03\x04"))
    assert "aabbccdd" in text and "01020304" in text and "1111" not in text and "2222" not in text


def test_reading_numbers_back():
    sale = _sale()
    assert msg.amount_of(sale) == 12345 and msg.trace_of(sale) == 123 and msg.batch_of(sale) == 7
    echo = msg.echo(ACC, 7)
    assert msg.amount_of(echo) is None and msg.trace_of(echo) is None and msg.batch_of(echo) == 7
    assert msg.batch_of(Message("0200", {})) is None


def test_mac_carrying_messages():
    for mti in ("0200", "0210", "0220", "0230", "0400", "0410"):
        assert msg.carries_mac(mti)
    for mti in ("0800", "0810", "0820", "0830", "0500", "0510", "0320", "0330"):
        assert not msg.carries_mac(mti)
    for m in _every_request():
        assert (64 in m) == msg.carries_mac(m.mti), m
