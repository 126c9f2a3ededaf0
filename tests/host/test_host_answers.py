# The host's side of the messages (sim/host/answers.py, moved out of the device image): what kind
# of request a message is, the answer a host starts, settlement results, the sign-in key field.
from firmware.host import messages as msg
from firmware.host.codec import MAC_ROOM, Message, ProtocolError, decode, encode, reply_tpdu
from sim.host import answers
from tests.portable.test_messages import ACC, _error, _every_request, _sale


def test_every_request_of_a_kind_and_its_answer_say_what_they_are():
    kinds = [answers.kind(m) for m in _every_request()]
    assert kinds == [
        "sign_in",
        "sign_off",
        "echo",
        "sale",
        "sale",
        "void",
        "void",
        "refund",
        "reversal",
        "reversal",
        "settlement",
        "batch_upload",
        "batch_upload_end",
        "esign_upload",
    ]
    for m in _every_request():
        assert answers.kind(answers.start_answer(m, "00")) == answers.kind(m)
    assert answers.kind(Message("0100", {})) == "" and answers.kind(Message("08x0", {})) == ""
    assert answers.kind(Message("0820", {60: "00000001999"})) == ""


def test_start_answer_echoes_the_request():
    sale = _sale()
    a = answers.start_answer(sale, "00")
    assert a.mti == "0210" and a.tpdu == reply_tpdu(sale.tpdu) and a[39] == "00"
    assert sorted(a.fields) == [3, 4, 11, 25, 39, 41, 42, 49, 60, 64] and a[64] == MAC_ROOM
    assert 35 not in a and 52 not in a
    assert 64 not in answers.start_answer(msg.echo(ACC, 7), "00")
    for m in _every_request():
        assert msg.check_answer(m, decode(encode(answers.start_answer(m, "05")))) == "05"


def test_settled_f48():
    req = msg.settlement(ACC, 126, 7, 1234500, 12, 50000, 2)
    ans = answers.start_answer(req, "00")
    ans[48] = answers.settled_f48(req[48], msg.UNBALANCED)
    assert msg.settlement_result(ans) == (msg.UNBALANCED, msg.BALANCED)
    assert ans[48][:30] == req[48][:30] and ans[48][31:61] == req[48][31:61]
    _error(answers.settled_f48, req[48], 4)
    _error(answers.settled_f48, req[48][:-1], 1)


def test_keys_field_layouts():
    pin, mac, trk = b"P" * 16, b"M" * 16, b"T" * 16
    assert answers.keys_field(pin, b"pcv1", mac, b"mcv1") == pin + b"pcv1" + mac + b"mcv1"
    assert len(answers.keys_field(pin, b"pcv1", mac, b"mcv1", trk, b"tcv1")) == 60
    assert len(answers.keys_field(b"p" * 8, b"pcv1", b"m" * 8, b"mcv1")) == 24
    for bad in (
        (pin, b"pcv", mac, b"mcv1"),
        (b"p" * 8, b"pcv1", b"m" * 8, b"mcv1", trk, b"tcv1"),
        (pin, b"pcv1", b"m" * 8, b"mcv1"),
    ):
        try:
            answers.keys_field(*bad)
        except ProtocolError:
            continue
        raise AssertionError("no ProtocolError")
