# Every frame the terminal sent in the online tests' situations decodes with pyiso8583 field by
# field (tests/host/pyiso_spec.py), and its MAC is the security module's; the requests carry the PAN
# in F35 only, the reversals none at all. CPython only (pyiso8583).
import iso8583

from firmware.host.codec import decode
from tests.host import pyiso_spec
from tests.portable import test_online
from tests.portable.online_kit import PAN, FakeHost, Rig

SPEC = pyiso_spec.spec("0")


def _sent_frames():
    """Frames the terminal sent over a day of trouble: sign-in, approved, declined, no answer,
    bad MAC (with the re-sign-in and reversal after), garbage, then the reversal of each."""
    rig = Rig(host=FakeHost())
    rig.sale(100)
    for plan in (["code:51"], ["silent"], ["bad_mac"], ["garbage"], ["mismatch"], []):
        rig.press("ENTER")
        rig.host.plan = plan
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


def test_the_portable_online_tests_are_collected_here_too():
    # The portable module is the source of the situations; its own tests run in its tier.
    assert test_online.Rig is Rig
