# The host simulator's e-signature uploads (0820, 60.3 = 800) against a running server: a good one
# stored and 00; a repeat 94 and stored once; refused (nothing stored) when it names no booked
# transaction (25), another RRN or date (22), another amount (64), or carries an image or slip
# the host cannot read (30); the ledger's views and the .jbg written out, decoded by jbgtopbm.
import datetime
import hashlib
import json
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from firmware import receipt as rct
from firmware.host import messages as msg
from firmware.host.codec import tlv_build
from firmware.jbig import encode
from firmware.jbigdec import decode
from firmware.params import Params
from firmware.sigimage import AREA_HEIGHT, AREA_WIDTH, Canvas
from sim import signatures
from sim.host.acquirer import (
    ESIGN_AMOUNT,
    ESIGN_DUPLICATE,
    ESIGN_FORMAT,
    ESIGN_MISMATCH,
    ESIGN_NOT_FOUND,
    image_problem,
    slip_problem,
)
from sim.host.server import Host
from tests.host.host_client import ACC, Client, track2
from tests.host.test_jbig_set import jbigkit, read_pbm

_VIEW = {
    "batch": 1,
    "trace": 1,
    "amount": 3000,
    "card": "622588******1234",
    "org": "CUP",
    "mode": "insert",
    "time": 1796000000,
    "op": "01",
    "kind": "sale",
    "rrn": "",
    "auth": "",
    "f15": "",
}
# F55 of a signed sale's receipt without its signature (firmware/receipt.py): this host has no key
# for the terminal, so it rebuilds the receipt and checks its form only (test_host_receipt.py signs)
SLIP = rct.f55(bytes(rct.encode(Params(), _VIEW, "signed", bytes(32))), None)


class Clock:
    def __init__(self):
        self.now = datetime.datetime(2026, 11, 29, 12, 0, 0)

    def __call__(self):
        return self.now


@pytest.fixture
def host(tmp_path):
    h = Host(db=str(tmp_path / "host" / "ledger.db"), clock=Clock())
    h.start()
    yield h
    h.stop()
    assert h.errors == []


@pytest.fixture
def c(host):
    client = Client(host.port)
    client.sign_in()
    yield client
    client.close()


def signature(seed=0):
    """(BIE, bitmap) of a bench-set signature as the device draws and encodes it."""
    sig = signatures.bench_set(count=seed + 1)[seed]
    image, _ = signatures.image(sig)
    return image, bytes(signatures.bitmap(sig))


def small_image():
    """A valid JBIG1 image of a real signature drawn into 120 x 64 pixels: not the signing area."""
    sig = signatures.bench_set(count=1)[0]
    canvas = Canvas(120, 64)
    for points in sig.points():
        canvas.stroke(points, 1)
    return encode(canvas.bitmap, 120, 64)


def upload(c, answer, image, amount=None, rrn=None, trace=None, slip=SLIP, settle_date=None):
    """The 0820 of the transaction `answer` answered (its trace, amount, RRN, F15 unless told)."""
    return msg.esign_upload(
        ACC,
        msg.batch_of(answer),
        trace if trace is not None else msg.trace_of(answer),
        amount if amount is not None else msg.amount_of(answer),
        rrn or answer[37],
        slip,
        image,
        answer[15] if settle_date is None else settle_date,
    )


def stored(host):
    return host.call(lambda a: a.ledger.esigns())


def test_a_good_upload_is_stored_and_answered_00(host, c):
    sale = c.exchange(c.sale(3000))
    image, _ = signature()
    answer = c.exchange(upload(c, sale, image))
    assert answer[39] == "00" and answer[11] == sale[11] and 64 not in answer.fields
    rows = stored(host)
    assert len(rows) == 1
    row = rows[0]
    assert (row["terminal_id"], row["batch"], row["trace"]) == ("10000001", 1, msg.trace_of(sale))
    assert (row["rrn"], row["amount"]) == (sale[37], 3000)
    assert row["image"] == image and row["slip"] == tlv_build(SLIP)
    assert c.exchange(c.sale(100))[39] == "00"  # the upload consumed no trace at the host


def test_a_repeat_gets_94_and_is_stored_once(host, c):
    sale = c.exchange(c.sale(3000))
    image, _ = signature()
    first = upload(c, sale, image)
    assert c.exchange(first)[39] == "00"
    assert c.exchange(first)[39] == ESIGN_DUPLICATE == "94"  # the same bytes again
    other, _ = signature(1)
    assert c.exchange(upload(c, sale, other))[39] == "94"  # another drawing of the same transaction
    assert c.exchange(upload(c, sale, b"garbage"))[39] == "94"  # the host has it: nothing checked
    assert [r["image"] for r in stored(host)] == [image]
    assert (
        host.call(lambda a: a.ledger.count("requests")) == 1
    )  # the sale only: neither the sign-in nor the uploads


def test_the_repeat_rule_survives_a_restart(tmp_path):
    db = str(tmp_path / "ledger.db")
    image, _ = signature()
    h = Host(db=db, clock=Clock())
    h.start()
    try:
        c = Client(h.port)
        c.sign_in()
        sale = c.exchange(c.sale(3000))
        assert c.exchange(upload(c, sale, image))[39] == "00"
        c.close()
    finally:
        h.stop()
    again = Host(db=db, clock=Clock())
    again.start()
    try:
        c = Client(again.port)  # no sign-in: the 0820 carries no MAC
        assert c.exchange(upload(c, sale, image))[39] == "94"
        c.close()
        assert len(again.call(lambda a: a.ledger.esigns())) == 1
    finally:
        again.stop()
    assert h.errors == [] and again.errors == []


def test_an_upload_for_no_booked_transaction_is_25(host, c):
    image, _ = signature()
    sale = c.exchange(c.sale(3000))
    assert c.exchange(upload(c, sale, image, trace=msg.trace_of(sale) + 50))[39] == ESIGN_NOT_FOUND == "25"
    declined = c.exchange(c.sale(3000, pin="000000"))
    assert declined[39] == "55"
    assert c.exchange(upload(c, declined, image, rrn="000000000099", settle_date=""))[39] == "25"
    # a reversed sale took no money: its signature has nothing to go with
    gone = c.sale(4000)
    gone_answer = c.exchange(gone)
    assert c.exchange(msg.reversal(gone, msg.REVERSE_NO_ANSWER))[39] == "00"
    assert c.exchange(upload(c, gone_answer, image))[39] == "25"
    other_batch = upload(c, sale, image)
    other_batch[60] = msg.f60(msg.TYPE_ESIGN, 2, msg.NET_ESIGN)
    assert c.exchange(other_batch)[39] == "25"
    assert stored(host) == []
    assert c.exchange(upload(c, sale, image))[39] == "00"  # a refusal stored nothing: it can come right


def test_a_mismatched_rrn_date_or_amount_is_refused(host, c):
    image, _ = signature()
    sale = c.exchange(c.sale(3000))
    second = c.exchange(c.sale(2000))
    assert c.exchange(upload(c, sale, image, rrn=second[37]))[39] == ESIGN_MISMATCH == "22"
    assert c.exchange(upload(c, sale, image, settle_date="1130"))[39] == "22"
    assert c.exchange(upload(c, sale, image, amount=3001))[39] == ESIGN_AMOUNT == "64"
    assert c.exchange(upload(c, sale, image, amount=2000))[39] == "64"
    assert stored(host) == []
    assert c.exchange(upload(c, sale, image, settle_date=""))[39] == "00"  # F15 is optional


def test_an_image_that_is_not_the_signing_area_in_jbig_is_30(host, c):
    sale = c.exchange(c.sale(3000))
    image, _ = signature()
    wrong_size = small_image()
    assert decode(wrong_size)[:2] == (120, 64)  # a good JBIG image, only not 240 x 128
    cut = image[: len(image) // 2]
    blank = encode(bytes(AREA_WIDTH // 8 * AREA_HEIGHT), AREA_WIDTH, AREA_HEIGHT)  # nothing drawn
    assert decode(blank)[:2] == (AREA_WIDTH, AREA_HEIGHT)  # a good JBIG image of the area, all white
    changed = bytearray(image)
    changed[3] = 1  # header byte 3 must be 0
    for bad in (
        b"\x00" * 19,
        b"GIF89a" + bytes(range(200)),
        wrong_size,
        blank,
        cut,
        bytes(changed),
        image + b"\x00\x01",
    ):
        assert image_problem(bad), bad[:8]
        assert c.exchange(upload(c, sale, bad))[39] == ESIGN_FORMAT == "30"
    assert stored(host) == []
    assert image_problem(image) == ""
    assert c.exchange(upload(c, sale, image))[39] == "00"


def test_a_forged_header_is_refused_before_any_decode():
    forged = bytearray(small_image())
    forged[4:12] = (2048).to_bytes(4, "big") + (2048).to_bytes(4, "big")  # 4 Mpixels
    assert "not the signing area's 240 x 128" in image_problem(bytes(forged))


def test_a_slip_that_is_not_slip_tlv_is_30(host, c):
    sale = c.exchange(c.sale(3000))
    image, _ = signature()
    assert slip_problem(tlv_build(SLIP)) == ""
    for bad in ([], [(0x9F02, b"000000003000")], SLIP + [(0xDF01, b"x")], SLIP + [(0xFF8101, b"x")]):
        assert slip_problem(tlv_build(bad))
        assert c.exchange(upload(c, sale, image, slip=bad))[39] == "30"
    cut = upload(c, sale, image)
    cut[55] = tlv_build(SLIP)[:-3] + b"\xff"  # a tag cut off
    assert c.exchange(cut)[39] == "30"
    assert stored(host) == []


def test_a_voids_and_a_refunds_upload_name_their_own_transaction(host, c):
    image, _ = signature()
    sale_req = c.sale(3000)
    sale = c.exchange(sale_req)
    void = c.exchange(
        msg.void(ACC, c.next_trace(), 1, 3000, 1, msg.trace_of(sale), sale[37], sale.get(38, ""))
    )
    assert void[39] == "00"
    assert c.exchange(upload(c, void, image, rrn=sale[37]))[39] == "22"  # the sale's RRN: not the void's
    assert c.exchange(upload(c, void, image))[39] == "00"
    assert c.exchange(upload(c, sale, image))[39] == "00"  # the voided sale's signature stands

    second = c.exchange(c.sale(5000, card="credit", pin=None))
    refund = c.exchange(
        msg.refund(ACC, c.next_trace(), 1, 1200, second[37], second[13], track2("credit"), "swipe")
    )
    assert refund[39] == "00"
    assert c.exchange(upload(c, refund, image, amount=5000))[39] == "64"  # the sale's amount
    assert c.exchange(upload(c, refund, image))[39] == "00"
    assert [(r["trace"], r["amount"]) for r in stored(host)] == [
        (msg.trace_of(void), 3000),
        (msg.trace_of(sale), 3000),
        (msg.trace_of(refund), 1200),
    ]


def _host_cli(*args):
    from sim.host.__main__ import main

    return main(list(args))


def test_the_ledger_view_and_the_jbg_written_out_decode_with_jbgtopbm(host, c, tmp_path, capsys):
    jbgtopbm = jbigkit("jbgtopbm")
    image, bitmap = signature(3)
    sale = c.exchange(c.sale(3000))
    unsigned = c.exchange(c.sale(100))
    assert c.exchange(upload(c, sale, image))[39] == "00"
    db = host.call(lambda a: a.ledger.path)
    capsys.readouterr()

    assert _host_cli("ledger", "--db", db, "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["trace"], r.get("esign")) for r in lines] == [
        (msg.trace_of(sale), "uploaded"),
        (msg.trace_of(unsigned), None),
    ]
    assert _host_cli("ledger", "--db", db) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].endswith("e-signed") and not table[1].endswith("e-signed")

    out = tmp_path / "sig.jbg"
    trace = str(msg.trace_of(sale))
    assert _host_cli("esign", "--db", db, "--batch", "1", "--trace", trace, "--out", str(out)) == 0
    assert "240 x 128" in capsys.readouterr().out
    assert out.read_bytes() == image
    pbm = tmp_path / "sig.pbm"
    subprocess.run([jbgtopbm, str(out), str(pbm)], check=True, capture_output=True)
    assert read_pbm(pbm.read_bytes()) == (AREA_WIDTH, AREA_HEIGHT, bitmap)
    assert decode(out.read_bytes())[2] == bitmap  # and our decoder agrees

    assert _host_cli("esign", "--db", db, "--json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["trace"], e["rrn"], e["bytes"]) for e in listed] == [
        (msg.trace_of(sale), sale[37], len(image))
    ]


def test_the_esign_command_refuses_with_one_line(host, c, tmp_path, capsys):
    db = host.call(lambda a: a.ledger.path)
    out = str(tmp_path / "x.jbg")
    assert _host_cli("esign", "--db", db, "--batch", "1", "--trace", "9", "--out", out) == 2
    assert capsys.readouterr().err == "esign: no upload stored for batch 000001 trace 000009\n"
    assert _host_cli("esign", "--db", db, "--out", out) == 2
    assert "--out needs --batch and --trace" in capsys.readouterr().err
    assert (
        _host_cli("esign", "--db", str(tmp_path / "none.db"), "--batch", "1", "--trace", "1", "--out", out)
        == 2
    )
    assert capsys.readouterr().err.startswith("esign: no ledger")
    sale = c.exchange(c.sale(3000))
    image, _ = signature()
    assert c.exchange(upload(c, sale, image))[39] == "00"
    trace = str(msg.trace_of(sale))
    missing_dir = str(tmp_path / "no" / "such" / "x.jbg")
    assert _host_cli("esign", "--db", db, "--batch", "1", "--trace", trace, "--out", missing_dir) == 2
    err = capsys.readouterr().err
    assert err.startswith("esign: ") and err.count("\n") == 1 and "Traceback" not in err


# ---- the receipt's signature (docs/RECEIPT.md) -------------------------------------------------
def _signed_slip(answer, image, private, signed=True):
    """F55 of the receipt of the sale `answer` (as the terminal builds it), signed by `private`."""
    view = dict(_VIEW, trace=msg.trace_of(answer), amount=msg.amount_of(answer), rrn=answer[37])
    view["f15"] = answer.get(15, "")
    p = Params()
    setattr(p, "terminal_id", ACC.terminal_id)
    setattr(p, "merchant_id", ACC.merchant_id)
    digest = hashlib.sha256(image).digest() if signed else None
    receipt = bytes(rct.encode(p, view, "signed" if signed else "no_pen", digest))
    r, s = decode_dss_signature(private.sign(receipt, ec.ECDSA(hashes.SHA256())))
    return rct.f55(receipt, r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def _trust(host, public):
    point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    host.call(lambda a: a.receipt_keys.__setitem__("10000001", point))


def test_with_the_terminals_key_the_host_verifies_the_receipt_and_refuses_a_bad_one_63(host, c):
    key = ec.generate_private_key(ec.SECP256R1())
    _trust(host, key.public_key())
    image, _ = signature()
    sale = c.exchange(c.sale(3000))
    other = ec.generate_private_key(ec.SECP256R1())
    assert c.exchange(upload(c, sale, image, slip=_signed_slip(sale, image, other)))[39] == "63"
    slip = _signed_slip(sale, image, key)
    changed = [(t, v if t != 0xFF0C else b"622588******9999") for t, v in slip]  # another card shown
    assert c.exchange(upload(c, sale, image, slip=changed))[39] == "63"
    assert c.exchange(upload(c, sale, image, slip=[i for i in slip if i[0] != 0xFF00]))[39] == "63"
    assert c.exchange(upload(c, sale, signature(1)[0], slip=slip))[39] == "63"  # another image
    assert stored(host) == []
    assert c.exchange(upload(c, sale, image, slip=slip))[39] == "00"
    unsigned = c.exchange(c.sale(500))
    assert c.exchange(upload(c, unsigned, None, slip=_signed_slip(unsigned, b"", key, False)))[39] == "00"
    assert stored(host)[-1]["image"] is None
    # a receipt that says signed without its image, or unsigned with one: not the receipt (30)
    third = c.exchange(c.sale(700))
    assert c.exchange(upload(c, third, None, slip=_signed_slip(third, image, key)))[39] == "30"
    assert c.exchange(upload(c, third, image, slip=_signed_slip(third, b"", key, False)))[39] == "30"
