# The signed e-receipt (firmware/receipt.py): its canonical bytes (byte-identical on both runtimes:
# the expected hex below), its file and the damage it refuses, the receipt of every approved sale,
# void and refund (signed or not) over a real batch journal and a fake host, its upload in the
# 0820's F55 (with and without the image), the host's refusal reported, a receipt never signed
# again, and a power cut at every storage operation from the signature to the next sale.
# FakeSigner signs here (shaped like P-256, not cryptography), but for one sale signed by the boards'
# soft signer (hal/soft/signer.py) and checked with its verify; tests/host checks against cryptography.
import hashlib

from firmware import esign, registry
from firmware import receipt as rct
from firmware.host.codec import tlv_parse
from firmware.params import Params
from firmware.sigfile import read_image
from hal.contracts import KeyStore
from hal.record import Damaged
from hal.soft.signer import KEY_NAME as SIGNER_KEY
from hal.soft.signer import SoftSigner
from hal.soft.signer import verify as soft_verify
from tests.portable.campaign import CUT_SAMPLE, power_cut_campaign
from tests.portable.fakes import FakeSigner
from tests.portable.online_kit import PAN, Rig, tap
from virtual.storage import PowerCut, RamStorage

SAMPLE = CUT_SAMPLE  # campaign.py: MicroPython cuts each operation once (and checks every 5th byte)

VIEW = {
    "batch": 1,
    "trace": 7,
    "amount": 12345,
    "card": "622588******1234",
    "org": "CUP",
    "mode": "insert",
    "time": 1796000000,
    "op": "01",
    "kind": "sale",
    "state": "approved",
    "rrn": "000000000007",
    "auth": "A1B2C3",
    "f15": "1201",
    "esign": "pending",
}
# encode(Params(), VIEW, "signed", sha256(b"image")): the canonical bytes, the same on every runtime
# (docs/RECEIPT.md explains each; tests/host/test_receipt_doc.py checks its worked example)
EXPECTED_HEX = (
    "51524301"  # magic, version 1
    "0111" + "5169616e504f532044656d6f2053686f70"  # 01 merchant name
    "020f" + "383938313030303132333430303031"  # 02 merchant number
    "0308" + "3130303030303031"  # 03 terminal
    "0402" + "3031"  # 04 operator
    "0504" + "01020100"  # 05 codes: sale, insert, signed, no reason
    "0606" + "303030303031"  # 06 batch
    "0706" + "303030303037"  # 07 trace
    "080c" + "303030303030303030303037"  # 08 RRN
    "0906" + "413142324333"  # 09 auth
    "0a06" + "6b0cc90001e0"  # 0A time, UTC+8 (480 minutes)
    "0b0c" + "303030303030303132333435"  # 0B amount
    "0c10" + "3632323538382a2a2a2a2a2a31323334"  # 0C card
    "0d03" + "435550"  # 0D org
    "0f08" + "3132303130303037"  # 0F 交易特征码
    "1020" + "6105d6cc76af400325e94d588ce511be5bfdbb73b437dc51eca43917d7a43e3d"  # 10 image SHA-256
    "1105" + "302e322e30"  # 11 firmware version
)


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    raise AssertionError("no {}".format(exc.__name__))


def _hex(data):
    return "".join("{:02x}".format(b) for b in data)


def _receipt_of(rig, trace):
    return rct.read(rig.storage, 1, trace)


def _signed_rig(**kw):
    rig = Rig(**kw)
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    rig.host.uploads = []
    return rig


def _uploads_of(rig, trace):
    return [m for m in rig.host.uploads if int(m[11]) == trace]


def _checks(receipt, signature, key=b"fake terminal key"):
    return FakeSigner(key).sign_digest(hashlib.sha256(receipt).digest()) == signature


# ---- the encoding ----------------------------------------------------------------------------------
def test_the_encoding_is_the_documented_bytes():
    got = rct.encode(Params(), VIEW, "signed", hashlib.sha256(b"image").digest())
    assert _hex(got) == EXPECTED_HEX, _hex(got)
    tags = [t for t, _ in rct.elements(bytes(got))]
    assert tags == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17]


def test_a_void_and_a_refund_carry_their_original_and_an_unsigned_one_no_image_hash():
    refund = dict(VIEW, kind="refund", mode="", reason="return")
    refund["orig"] = {"batch": 1, "trace": 3, "rrn": "000000000003", "date": "1130"}
    got = dict(rct.elements(bytes(rct.encode(Params(), refund, "no_sig_rule", None))))
    assert got[rct.T_CODES] == bytes((3, 0, 3, 3))
    assert got[rct.T_ORIG] == b"000001000003000000000003" + b"1130"
    assert rct.T_IMAGE not in got
    void = dict(VIEW, kind="void")
    void["orig"] = {"batch": 1, "trace": 3, "rrn": "", "date": ""}
    got = dict(rct.elements(bytes(rct.encode(Params(), void, "none", None))))
    assert got[rct.T_ORIG] == b"000001000003" + b" " * 16 and got[rct.T_CODES] == bytes((2, 2, 6, 0))


def test_what_the_encoding_has_no_room_or_code_for_is_refused():
    p = Params()
    setattr(p, "merchant_name", "钱" * 27)  # 81 bytes of UTF-8: the parameter refuses it too
    raises(rct.ReceiptError, rct.encode, p, VIEW, "signed", b"\x00" * 32)
    raises(ValueError, p.save, RamStorage())
    raises(rct.ReceiptError, rct.encode, Params(), dict(VIEW, mode="telepathy"), "none", None)
    raises(rct.ReceiptError, rct.encode, Params(), VIEW, "signed", None)  # signed: its image's hash
    raises(rct.ReceiptError, rct.encode, Params(), dict(VIEW, kind="void"), "none", None)  # no original


def test_elements_refuse_what_is_not_a_receipt():
    good = bytes(rct.encode(Params(), VIEW, "none", None))
    raises(Damaged, rct.elements, b"QRC\x02" + good[4:])
    raises(Damaged, rct.elements, good[:-1])
    swapped = good[:4] + good[4 + 2 + good[5] :][:0] + bytes((2, 1, 0x31, 1, 1, 0x41))
    raises(Damaged, rct.elements, swapped)  # tags out of order


def test_f55_holds_the_signature_and_the_elements_the_0820_does_not_carry_within_255_bytes():
    worst = dict(VIEW, kind="refund", reason="quality", card="6225881234567890123"[:6] + "*" * 9 + "0123")
    worst["org"] = "ABCDEFGH"
    worst["orig"] = {"batch": 999999, "trace": 999999, "rrn": "ABCDEFGHIJKL", "date": "1231"}
    p = Params()
    setattr(p, "merchant_name", "钱" * 26 + "ab")  # 80 bytes, the most the parameter takes
    receipt = bytes(rct.encode(p, worst, "signed", b"\x01" * 32))
    items = rct.f55(receipt, b"\x02" * 64)
    from firmware.host.codec import tlv_build

    assert len(tlv_build(items)) <= 255, len(tlv_build(items))
    assert items[0] == (0xFF00, b"\x02" * 64)
    assert [t for t, _ in items[1:]] == [0xFF00 | t for t in rct.F55_TAGS]


# ---- the file ------------------------------------------------------------------------------------
def test_the_file_refuses_every_changed_bit_and_a_cut_tail():
    rig = _signed_rig()
    trace = rig.term.journal.last["trace"]
    data = bytearray(rig.storage.read(rct.receipt_name(1, trace)))
    receipt, signature, code = rct.unpack(bytes(data))
    assert code == "--" and _checks(receipt, signature)
    for i in range(0, len(data), SAMPLE):
        for bit in range(8):
            spoiled = bytearray(data)
            spoiled[i] ^= 1 << bit
            raises(Damaged, rct.unpack, bytes(spoiled))
    raises(Damaged, rct.unpack, bytes(data[:-1]))


def test_every_single_byte_change_of_the_signed_bytes_fails_the_signature():
    rig = _signed_rig()
    receipt, signature, _ = _receipt_of(rig, rig.term.journal.last["trace"])
    for i in range(0, len(receipt), SAMPLE):
        spoiled = bytearray(receipt)
        spoiled[i] ^= 0x01
        assert not _checks(bytes(spoiled), signature), i
    for i in range(0, 64, SAMPLE):
        spoiled = bytearray(signature)
        spoiled[i] ^= 0x80
        assert not _checks(receipt, bytes(spoiled)), i
    assert not _checks(receipt, signature, b"another terminal")


class DictKeys(KeyStore):
    """A key store double: blobs in a dict (the signer's key made at its first use lands here)."""

    def __init__(self):
        self.blobs = {}

    def load(self, name):
        return self.blobs.get(name)

    def save(self, name, blob):
        self.blobs[name] = bytes(blob)

    def delete(self, name):
        self.blobs.pop(name, None)

    def names(self):
        return sorted(self.blobs)


def test_a_sale_receipt_signed_by_the_soft_signer_verifies_and_a_changed_byte_does_not():
    # The boards' own signer (hal/soft/signer.py): a real ECDSA P-256 signature, checked with the
    # module's verify (about 6 ms a signature on MicroPython, so one sale and a few checks only).
    rig = Rig()
    keys = DictKeys()
    rig.board.signer = SoftSigner(keys, urandom=lambda n: b"\x5a" * n)
    assert "Approved" in rig.sale(1234)
    trace = rig.term.journal.last["trace"]
    receipt, signature, _ = _receipt_of(rig, trace)
    public = rig.board.signer.public_key()
    assert keys.names() == [SIGNER_KEY] and len(signature) == 64
    assert soft_verify(public, hashlib.sha256(receipt).digest(), signature)
    assert not _checks(receipt, signature)  # not the fake's
    for i in (0, len(receipt) // 2, len(receipt) - 1):  # one byte changed: no longer verifies
        spoiled = bytearray(receipt)
        spoiled[i] ^= 0x01
        assert not soft_verify(public, hashlib.sha256(bytes(spoiled)).digest(), signature), i
    spoiled = bytearray(signature)
    spoiled[40] ^= 0x01
    assert not soft_verify(public, hashlib.sha256(receipt).digest(), bytes(spoiled))
    # the upload carried that signature: the host rebuilds the receipt from it (docs/RECEIPT.md)
    (up,) = _uploads_of(rig, trace)
    assert (0xFF00, signature) in tlv_parse(up[55])


# ---- the receipts of the flows -------------------------------------------------------------------
def test_a_signed_sale_leaves_a_receipt_of_its_slip_and_image_uploaded_with_it():
    rig = _signed_rig()
    rig.sale(1234)
    trace = rig.term.journal.last["trace"]
    view = rig.term.journal.batch.by_trace(trace)
    receipt, signature, code = _receipt_of(rig, trace)
    assert _checks(receipt, signature) and code == "--"  # a signed one's answer: the journal's state
    got = dict(rct.elements(receipt))
    image = read_image(rig.storage, 1, trace)[0]
    assert got[rct.T_IMAGE] == hashlib.sha256(image).digest()
    assert got[rct.T_CODES] == bytes((1, 2, 1, 0))  # sale, chip, signed
    assert got[rct.T_TRACE] == "{:06d}".format(trace).encode() and got[rct.T_RRN] == view["rrn"].encode()
    assert got[rct.T_AMOUNT] == b"000000001234" and got[rct.T_CARD] == view["card"].encode()
    assert got[rct.T_FEATURE] == esign.feature_code(view["f15"], view["rrn"]).encode()
    (up,) = _uploads_of(rig, trace)
    assert up[62] == image
    items = tlv_parse(up[55])
    assert items == rct.f55(receipt, signature)
    assert view["esign"] == "uploaded"


def test_an_unsigned_sale_gets_a_signed_receipt_uploaded_without_an_image():
    rig = _signed_rig()
    rig.sale(700, tap(), pin=None)  # contactless under the no-signature limit
    trace = rig.term.journal.last["trace"]
    receipt, signature, code = _receipt_of(rig, trace)
    assert _checks(receipt, signature) and code == "00"  # its answer is kept in its own file
    got = dict(rct.elements(receipt))
    assert got[rct.T_CODES] == bytes((1, 3, 3, 0)) and rct.T_IMAGE not in got  # tap, no_sig_rule
    (up,) = _uploads_of(rig, trace)
    assert 62 not in up.fields and tlv_parse(up[55]) == rct.f55(receipt, signature)
    rig.press("ENTER")
    assert "Approved" in rig.sale(800, tap(), pin=None)
    assert len(_uploads_of(rig, trace)) == 1  # answered: never sent again


def test_a_void_and_a_refund_leave_their_receipts():
    rig = _signed_rig()
    rig.sale(2000)
    sale = rig.term.journal.last["trace"]
    rig.press("ENTER")
    assert "Approved" in rig.void(sale)
    void = rig.term.journal.last["trace"]
    got = dict(rct.elements(_receipt_of(rig, void)[0]))
    assert got[rct.T_CODES][0] == 2 and got[rct.T_ORIG][6:12] == "{:06d}".format(sale).encode()
    before = _receipt_of(rig, sale)
    assert before is not None and rig.term.journal.batch.by_trace(sale)["state"] == "voided"
    rig.press("ENTER")
    rrn = rig.host.sales and sorted(rig.host.sales)[0]
    assert "Approved" in rig.refund(rrn, "1129", 50)
    refund = rig.term.journal.last["trace"]
    receipt, signature, _ = _receipt_of(rig, refund)
    got = dict(rct.elements(receipt))
    assert got[rct.T_CODES][0] == 3 and got[rct.T_CODES][3] == 1 and _checks(receipt, signature)
    assert _receipt_of(rig, sale) == before  # the voided sale's receipt stays what it was


def test_a_receipt_is_never_signed_again_and_a_reprint_changes_nothing():
    rig = _signed_rig()
    rig.sale(300)
    trace = rig.term.journal.last["trace"]
    data = rig.storage.read(rct.receipt_name(1, trace))
    view = rig.term.journal.batch.by_trace(trace)
    assert rct.make(rig.term, view)[:2] == rct.unpack(data)[:2]
    rig.press("ENTER", "5", "2")  # Reprint by trace: stamped on the screen only
    rig.press(*list(str(trace)))
    rig.press("ENTER")
    assert rig.storage.read(rct.receipt_name(1, trace)) == data


def test_the_host_refusing_a_receipt_is_reported_and_kept():
    rig = _signed_rig()
    rig.host.esign_plan = ["code:63"]
    shown = rig.sale(900, tap(), pin=None)
    trace = rig.term.journal.last["trace"]
    assert "Receipt refused 63" in shown, shown
    assert _receipt_of(rig, trace)[2] == "63"
    rig.press("ENTER")
    rig.sale(901, tap(), pin=None)
    assert len(_uploads_of(rig, trace)) == 1  # refused: kept, never sent again


def test_an_upload_that_got_no_answer_goes_again_and_the_sweep_makes_what_is_missing():
    rig = _signed_rig()
    rig.host.esign_plan = ["lost"]
    rig.sale(900, tap(), pin=None)
    trace = rig.term.journal.last["trace"]
    assert _receipt_of(rig, trace)[2] == "--"
    assert list(esign.pending(rig.term)) == [(1, trace)]
    rig.storage.remove(rct.receipt_name(1, trace))  # as if a cut came before it was stored
    sweep = esign.settlement_sweep(rig.term)
    for _ in range(100):
        if sweep.done:
            break
        sweep.step()
    assert sweep.done and sweep.left == 0
    receipt, signature, code = _receipt_of(rig, trace)
    assert code == "00" and _checks(receipt, signature)
    first = rct.elements(receipt)
    assert dict(first)[rct.T_CODES] == bytes((1, 3, 3, 0))


def test_no_stored_file_holds_the_full_card_number_and_every_receipt_file_is_registered():
    rig = _signed_rig()
    rig.sale(600)
    rig.press("ENTER")
    rig.sale(700, tap(), pin=None)
    rig.press("ENTER")
    digits = PAN.encode()
    names = rig.storage.list()
    assert len([n for n in names if n.startswith(rct.PREFIX)]) == 3
    for name in names:
        data = rig.storage.read(name)
        assert digits not in data and digits[6:] not in data and digits[:12] not in data, name
    assert registry.unknown_files(rig.storage) == []


# ---- power cuts ----------------------------------------------------------------------------------
def _cut_run(n, tear, signs):
    """A sale approved and on its signing screen; the power cut at the n-th storage operation from
    there on (the image when it is signed, or why not when CANCEL leaves it unsigned; the receipt,
    signed and stored; the upload; the result dismissed); reboot and one more sale.
    (fired, rig, trace)."""
    rig = _signed_rig()
    rig.sale(999, sign=False)
    trace = rig.term.journal.last["trace"]
    assert rig.signing()
    rig.storage.cut_at(n, tear)
    fired = False
    try:
        if signs:
            rig.sign()
        else:
            rig.press("CANCEL")
        rig.press("ENTER")
    except PowerCut:
        fired = True
    if not fired:
        rig.storage.cut_at(None)
        return False, rig, trace
    rig = rig.reboot()
    if "Last transaction" in rig.screen():
        rig.press("ENTER")
    assert "Approved" in rig.sale(100), rig.screen()
    return True, rig, trace


def same_receipt_as_made_again(rig, trace):
    """The stored receipt is the one the terminal would make now (the same bytes), and verifies."""
    receipt, signature, _ = _receipt_of(rig, trace)
    view = rig.term.journal.batch.by_trace(trace)
    signed, image_hash = rct.signature_of(rig.storage, view)
    assert bytes(rct.encode(rig.term.params, view, signed, image_hash)) == receipt
    assert _checks(receipt, signature)


def test_a_power_cut_at_every_storage_operation_of_an_unsigned_sales_receipt_leaves_one_receipt():
    """The signed path's cuts are test_esign.py's campaign, which checks its receipt the same way."""

    def attempt(n, tear):
        fired, rig, trace = _cut_run(n, tear, False)
        if not fired:
            return False
        where = "cut {} {}".format(n, tear)
        if _receipt_of(rig, trace) is None:  # a cut before it was stored: the sweep makes it
            esign.make_missing(rig.term)
        same_receipt_as_made_again(rig, trace)
        for up in _uploads_of(rig, trace):  # every upload carried the receipt kept
            assert tlv_parse(up[55]) == rct.f55(*_receipt_of(rig, trace)[:2]), where
        same_receipt_as_made_again(rig, rig.term.journal.last["trace"])
        assert registry.unknown_files(rig.storage) == [], where
        return True

    runs = power_cut_campaign(attempt, step=SAMPLE)
    assert runs >= 5 * 4 // SAMPLE, runs
