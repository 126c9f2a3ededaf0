# Every frame the terminal sent in the online tests' situations decodes with pyiso8583 field by
# field (tests/host/pyiso_spec.py), and the F64 of each request that carries one is the X9.19 MAC
# of its MAC input under the MAC key the test host delivered at sign-in (recomputed here with
# hal/soft/mac.py from the kit's known key, not taken from the terminal); the requests carry the PAN
# in F35 only, the reversals none at all. CPython only (pyiso8583).
import iso8583

from firmware.host.codec import decode, mac_input
from firmware.host.messages import carries_mac
from hal.soft.des import TripleDES
from hal.soft.mac import x919_mac
from tests.host import pyiso_spec
from tests.portable.online_kit import MAK, PAN, FakeHost, Rig

SPEC = pyiso_spec.spec("0")


def _sent_frames():
    """Frames the terminal sent over a day of trouble: sign-in, approved, declined, no answer,
    bad MAC (with the re-sign-in and reversal after), garbage, a mismatch, each lost sale reversed
    before the next one, then an approved sale. Each trouble hits the sale itself: the reversal
    and sign-in that go before it are answered."""
    rig = Rig(host=FakeHost())
    rig.sale(100)
    for action in ("code:51", "silent", "bad_mac", "garbage", "mismatch", "ok"):
        rig.press("ENTER")
        journal = rig.term.journal
        before = (journal.pending_reversal() is not None) + journal.host["need"]
        rig.host.plan = ["ok"] * before + [action]
        rig.sale(321)
        if "Waiting for host" in rig.screen():
            rig.wait(31)
    return rig.host.frames


def test_every_frame_the_terminal_sent_decodes_with_pyiso8583():
    frames = _sent_frames()
    mtis = set()
    for frame in frames:
        ours = decode(frame)
        doc, _ = iso8583.decode(frame[2:], SPEC)
        assert doc["t"] == ours.mti
        mtis.add(ours.mti)
        fields = sorted(int(k) for k in doc if k.isdigit())
        assert fields == sorted(ours.fields)
        for n in fields:
            assert pyiso_spec.from_pyiso(n, doc[str(n)]) == ours.fields[n], (ours, n)
        if ours.mti == "0400":
            assert not {2, 26, 35, 36, 37, 52, 53} & set(ours.fields)
            assert PAN.encode() not in frame
        else:
            assert 2 not in ours.fields
    assert mtis == {"0800", "0200", "0400"}
    assert len(frames) >= 10


def test_the_day_of_trouble_sends_each_lost_sale_reversed_with_its_reason_before_the_next():
    sent = [(m.mti, m.get(11), m.get(39)) for m in (decode(f) for f in _sent_frames())]
    assert sent == [
        ("0800", "000001", None),  # the sign-in at the first sale
        ("0200", "000002", None),  # approved
        ("0200", "000003", None),  # declined 51 (signed): nothing to reverse
        ("0200", "000004", None),  # no answer
        ("0400", "000004", "98"),
        ("0200", "000005", None),  # the answer's MAC is wrong: keys dropped
        ("0800", "000006", None),  # a new sign-in before anything else
        ("0400", "000005", "A0"),
        ("0200", "000007", None),  # garbage
        ("0400", "000007", "06"),
        ("0200", "000008", None),  # an answer that does not match
        ("0400", "000008", "06"),
        ("0200", "000009", None),  # approved
    ]


def test_the_mac_of_every_request_that_carries_one_is_x919_under_the_delivered_mac_key():
    mak = TripleDES(MAK)
    checked = 0
    for frame in _sent_frames():
        ours = decode(frame)
        if not carries_mac(ours.mti):
            assert 64 not in ours.fields
            continue
        assert x919_mac(mak, mac_input(frame)) == ours[64], ours
        spoiled = bytearray(frame)
        spoiled[len(frame) // 2] ^= 0x01  # one bit of the content: the MAC no longer fits
        assert x919_mac(mak, mac_input(bytes(spoiled))) != ours[64]
        checked += 1
    assert checked == 11  # the seven 0200s and four 0400s above
