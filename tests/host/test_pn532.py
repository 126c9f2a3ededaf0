# hal/drivers/pn532.py against a fake PN532 on a fake I2C bus, written from the PN532 User Manual
# (UM0701-02): it checks every host frame (preamble, start code, LEN/LCS, TFI D4, DCS, postamble),
# answers with a status byte, an ACK, then the answer frame once "ready"; and a scripted EMV card
# behind it that answers SELECT PPSE, SELECT AID, GPO and READ RECORD from TLV built here (EMV
# Book 1 and 3, UnionPay QuickPass). The frames in the first tests are spelled out byte by byte.
import pytest

from hal.contracts import CARD_TAP, HalError
from hal.drivers.pn532 import (
    PN532,
    CardGone,
    ContactlessReader,
    fill_pdol,
    frame,
    parse_frame,
    read_track2,
    terminal_data,
    tlv_find,
)
from sim.cards import event

ACK = bytes.fromhex("0000FF00FF00")


# ---- frames, from the manual's examples -------------------------------------------------------
def test_frames_are_built_as_the_manual_spells_them():
    # UM0701-02 7.2.2 GetFirmwareVersion: 00 00 FF 02 FE D4 02 2A 00
    assert frame(b"\x02") == bytes.fromhex("0000FF02FED4022A00")
    # SAMConfiguration normal mode, timeout 0x14, IRQ: 00 00 FF 05 FB D4 14 01 14 01 02 00
    assert frame(b"\x14\x01\x14\x01") == bytes.fromhex("0000FF05FBD41401140102 00".replace(" ", ""))
    # Past 254 data bytes, the extended frame (UM 6.2.1.2): 00 00 FF FF FF LENM LENL LCS D4 ...
    long = frame(bytes([0x40, 0x01]) + bytes(258))
    assert long[:9] == bytes((0, 0, 0xFF, 0xFF, 0xFF, 0x01, 0x05, (-(0x01 + 0x05)) & 0xFF, 0xD4))
    assert len(long) == 8 + 261 + 2
    with pytest.raises(ValueError):
        frame(bytes(265))


def test_frames_are_parsed_and_checked():
    # GetFirmwareVersion answer for a PN532 v1.6: 00 00 FF 06 FA D5 03 32 01 06 07 E8 00
    assert parse_frame(bytes.fromhex("0000FF06FAD50332010607E800")) == bytes.fromhex("0332010607")
    assert parse_frame(ACK) == b""
    body = bytes([0xD5, 0x41, 0x00]) + bytes(range(256)) + b"\x90\x00"
    hi, lo = len(body) >> 8, len(body) & 255
    extended = bytes([0, 0, 0xFF, 0xFF, 0xFF, hi, lo, (-(hi + lo)) & 255])
    assert parse_frame(extended + body + bytes([(-sum(body)) & 255, 0])) == body[1:]
    with pytest.raises(HalError, match="NACK"):
        parse_frame(bytes.fromhex("0000FFFF0000"))
    with pytest.raises(HalError, match="error frame"):
        parse_frame(bytes.fromhex("0000FF01FF7F8100"))
    with pytest.raises(HalError, match="data checksum"):
        parse_frame(bytes.fromhex("0000FF06FAD50332010607E900"))
    with pytest.raises(HalError, match="length checksum"):
        parse_frame(bytes.fromhex("0000FF06FBD50332010607E800"))
    with pytest.raises(HalError, match="not from the PN532"):
        parse_frame(frame(b"\x02"))  # our own TFI D4 echoed back
    with pytest.raises(HalError, match="cut short"):
        parse_frame(bytes.fromhex("0000FF06FAD50332"))


# ---- TLV and the PDOL ----------------------------------------------------------------------------
def tlv(tag, *parts):
    value = b"".join(parts)
    t = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    n = len(value)
    length = bytes([n]) if n < 0x80 else (bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255]))
    return t + length + value


def test_tlv_find_goes_into_templates_and_knows_long_forms():
    directory = tlv(0xA5, tlv(0xBF0C, tlv(0x61, tlv(0x4F, b"AID"))))
    data = tlv(0x6F, tlv(0x84, b"X"), directory, tlv(0x9F38, bytes(200)))
    at, n = tlv_find(data, 0x4F)
    assert data[at : at + n] == b"AID"
    assert tlv_find(data, 0x9F38)[1] == 200 and tlv_find(data, 0x57) is None
    with pytest.raises(ValueError):
        tlv_find(data[:-5], 0x57)


def test_the_pdol_is_filled_with_what_the_terminal_knows():
    # 2026-11-29 13:05:09 UTC = 1795957509
    values = terminal_data(12345, 1795957509, b"\xde\xad\xbe\xef")
    pdol = bytes.fromhex("9F6604 9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704 DF6001 9F2103")
    got = fill_pdol(pdol, values)
    assert got.hex().upper() == ("2680000000000001234500000000000001560000000000015626112900DEADBEEF00130509")
    # lengths other than the element's: numeric ones cut/padded on the left, others on the right
    assert fill_pdol(bytes.fromhex("9F0204 9F6602".replace(" ", "")), values) == bytes.fromhex("000123452680")
    for cut in ("9F", "9F02", "9F0206 9A"):
        with pytest.raises(ValueError):
            fill_pdol(bytes.fromhex(cut), values)


# ---- a scripted card ----------------------------------------------------------------------------
CUP_DEBIT_AID = bytes.fromhex("A000000333010101")
CUP_CREDIT_AID = bytes.fromhex("A000000333010102")
PDOL = bytes.fromhex("9F66049F02069F03069F1A0295055F2A029A039C019F3704")


class Card:
    """An EMV contactless card. track2_in: "gpo" (tag 57 in the format 2 GPO answer), "record"
    (SFI 1 record 2, named by the AFL of a format 1 answer), or "none"."""

    def __init__(self, name="debit", track2_in="gpo"):
        self.t2 = bytes.fromhex(event(name, CARD_TAP).data)
        self.track2_in = track2_in
        self.selected = None
        self.log = []
        self.gpo_data = b""
        self.pdol = PDOL

    def apdu(self, c):
        self.log.append(c[:2].hex())
        cla, ins, p1, p2 = c[0], c[1], c[2], c[3]
        if ins == 0xA4 and p1 == 0x04:
            lc = c[4]
            name, le = c[5 : 5 + lc], c[5 + lc :]
            assert le == b"\x00", "SELECT with Le 00"
            if name == b"2PAY.SYS.DDF01":
                self.selected = "ppse"
                credit = tlv(0x61, tlv(0x4F, CUP_CREDIT_AID), tlv(0x50, b"CREDIT"), tlv(0x87, b"\x02"))
                debit = tlv(0x61, tlv(0x4F, CUP_DEBIT_AID), tlv(0x50, b"DEBIT"), tlv(0x87, b"\x01"))
                entries = credit + debit  # the debit application has the better priority
                return tlv(0x6F, tlv(0x84, name), tlv(0xA5, tlv(0xBF0C, entries))) + b"\x90\x00"
            if name == CUP_DEBIT_AID and self.selected == "ppse":
                self.selected = "aid"
                fci = tlv(0xA5, tlv(0x50, b"DEBIT"), tlv(0x9F38, self.pdol))
                return tlv(0x6F, tlv(0x84, name), fci) + b"\x90\x00"
            return b"\x6a\x82"  # file not found
        if cla == 0x80 and ins == 0xA8:
            assert self.selected == "aid", "GPO before the application is selected"
            data = c[5 : 5 + c[4]]
            assert data[0] == 0x83 and data[1] == len(data) - 2 == 33, "PDOL data: 33 bytes"
            self.gpo_data = data[2:]
            assert self.gpo_data[10:16] == bytes(6) and self.gpo_data[16:18] == b"\x01\x56"
            if self.track2_in == "gpo":
                answer = tlv(0x82, b"\x00\x80"), tlv(0x57, self.t2), tlv(0x9F26, bytes(8))
                return tlv(0x77, *answer) + b"\x90\x00"
            return tlv(0x80, b"\x00\x80", bytes.fromhex("08010200")) + b"\x90\x00"
        if ins == 0xB2:
            sfi, rec = p2 >> 3, p1
            assert p2 & 7 == 4, "READ RECORD: P1 is a record number"
            if sfi == 1 and rec == 1:
                return tlv(0x70, tlv(0x5F20, b"CARDHOLDER")) + b"\x90\x00"
            if sfi == 1 and rec == 2:
                inner = tlv(0x57, self.t2) if self.track2_in == "record" else tlv(0x5F28, b"\x01\x56")
                return tlv(0x70, inner) + b"\x90\x00"
            return b"\x6a\x83"
        return b"\x6d\x00"


def test_track2_from_the_gpo_answer():
    card = Card()
    data, org = read_track2(card.apdu, 100, 1795957509, b"\x01\x02\x03\x04")
    assert (data, org) == (event("debit", CARD_TAP).data, "CUP")
    assert card.log == ["00a4", "00a4", "80a8"]
    assert card.gpo_data[4:10] == bytes.fromhex("000000000100")  # ¥1.00 in the amount


def test_track2_from_the_records_the_afl_names():
    card = Card("credit", track2_in="record")
    data, org = read_track2(card.apdu, 0, 1795957509, bytes(4))
    assert (data, org) == (event("credit", CARD_TAP).data, "CUP")
    assert card.log == ["00a4", "00a4", "80a8", "00b2", "00b2"]


def test_a_card_without_track2_is_refused():
    with pytest.raises(CardGone):
        read_track2(Card(track2_in="none").apdu, 0, 0, bytes(4))


def test_a_malformed_pdol_is_a_failed_read():
    card = Card()
    card.pdol = PDOL[:-1]  # the last element's length is missing
    with pytest.raises(CardGone):
        read_track2(card.apdu, 0, 0, bytes(4))
    assert card.log == ["00a4", "00a4"]


# ---- the PN532 over I2C -------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.ms = 0

    def ticks_ms(self):
        return self.ms

    def sleep_ms(self, ms):
        self.ms += ms

    def time(self):
        return 1795957509


class FakePN532:
    """At I2C address 0x24. Reads start with the status byte (RDY = bit 0)."""

    def __init__(self, card=None, busy_polls=2):
        self.card = card
        self.busy_polls = busy_polls
        self.out: bytes | None = None  # frame waiting to be read
        self.busy = 0
        self.queue = []  # frames to send after the ACK
        self.listing = False
        self.commands = []
        self.corrupt_next_answer = False
        self.silent = False

    def _check(self, data):
        assert data[:3] == b"\x00\x00\xff", "preamble and start code"
        n, lcs = data[3], data[4]
        assert (n + lcs) & 0xFF == 0, "LCS"
        body = data[5 : 5 + n]
        assert body[0] == 0xD4, "TFI host to PN532"
        assert (sum(body) + data[5 + n]) & 0xFF == 0, "DCS"
        assert data[6 + n :] == b"\x00", "postamble"
        return body[1:]

    def _answer(self, data):
        n = len(data) + 1
        body = bytes([0xD5]) + data
        dcs = (-sum(body)) & 0xFF
        if self.corrupt_next_answer:
            dcs ^= 1
            self.corrupt_next_answer = False
        return bytes([0, 0, 0xFF, n, (-n) & 0xFF]) + body + bytes([dcs, 0])

    def writeto(self, address, data):
        if self.silent:
            raise OSError(19)  # ENODEV: no ACK on the address
        assert address == 0x24
        data = bytes(data)
        if data == ACK:
            self.listing = False
            self.queue, self.out = [], None
            return
        cmd = self._check(data)
        self.commands.append(cmd[0])
        self.out, self.busy = ACK, 0
        if cmd[0] == 0x02:
            self.queue = [self._answer(bytes.fromhex("0332010607"))]
        elif cmd[0] == 0x14:
            assert cmd[1:] == b"\x01\x14\x01"
            self.queue = [self._answer(b"\x15")]
        elif cmd[0] == 0x4A:
            assert cmd[1:] == b"\x01\x00", "one target, 106 kbps type A"
            self.listing = True
            self.queue = []
        elif cmd[0] == 0x40:
            assert cmd[1] == 0x01, "target 1"
            if self.card is None:
                self.queue = [self._answer(b"\x41\x01")]  # status 01: timeout, the card is gone
            else:
                self.queue = [self._answer(b"\x41\x00" + self.card.apdu(cmd[2:]))]
        else:
            raise AssertionError("unexpected command {:#x}".format(cmd[0]))

    def tap(self):
        """A card enters the field while InListPassiveTarget runs."""
        assert self.listing
        self.listing = False
        # Tg 1, SENS_RES 0004, SEL_RES 20 (ISO 14443-4), NFCID 4 bytes
        self.queue = [self._answer(bytes.fromhex("4B01010004200401020304"))]
        if self.out is None:
            self.out, self.busy = self.queue.pop(0), 0

    def readfrom_into(self, address, buf):
        if self.silent:
            raise OSError(19)
        assert address == 0x24
        out = self.out
        ready = out is not None and self.busy >= self.busy_polls
        if out is not None and not ready:
            self.busy += 1
        buf[0] = 1 if ready else 0
        if out is None or len(buf) == 1 or not ready:
            for i in range(1, len(buf)):
                buf[i] = 0
            return
        frame_bytes = out + bytes(max(0, len(buf) - 1 - len(out)))
        buf[1:] = frame_bytes[: len(buf) - 1]
        self.out = self.queue.pop(0) if self.queue else None
        self.busy = 0


def make(card=None):
    chip, clock = FakePN532(card), Clock()
    pn = PN532(chip, clock.ticks_ms, clock.sleep_ms)
    return chip, clock, pn


def test_firmware_version_over_i2c():
    chip, _, pn = make()
    assert pn.firmware_version() == (0x32, 0x01, 0x06, 0x07)


def test_a_reader_that_never_answers_is_a_device_fault():
    chip, clock, pn = make()
    chip.silent = True
    with pytest.raises(HalError, match="not answering"):
        pn.firmware_version()
    chip.silent = False
    chip.busy_polls = 10**9  # present on the bus but never ready
    with pytest.raises(HalError, match="timed out"):
        pn.firmware_version()
    assert clock.ms >= pn.timeout_ms


def test_a_bad_checksum_is_a_device_fault():
    chip, _, pn = make()
    chip.corrupt_next_answer = True
    with pytest.raises(HalError, match="checksum"):
        pn.firmware_version()


def test_a_tap_gives_the_track2_event_once():
    card = Card()
    chip, clock, pn = make(card)
    reader = ContactlessReader(pn, clock, random_bytes=lambda n: bytes(n))
    assert chip.commands == [0x14]
    reader.set_amount(2500)
    reader.arm()
    assert chip.listing
    before = clock.ms
    for _ in range(5):
        assert reader.poll() is None  # no card: one status byte, no waiting
    assert clock.ms == before
    chip.tap()
    got = None
    for _ in range(5):
        got = got or reader.poll()
    assert got is not None
    want = event("debit", CARD_TAP)
    assert (got.mode, got.data, got.org) == (want.mode, want.data, "CUP")
    assert card.gpo_data[4:10] == bytes.fromhex("000000002500")
    assert reader.poll() is None and not chip.listing  # one read per arm()


def test_disarm_aborts_the_listing_with_an_ack():
    chip, clock, pn = make(Card())
    reader = ContactlessReader(pn, clock)
    reader.arm()
    reader.disarm()
    assert not chip.listing and reader.poll() is None


def test_a_card_pulled_away_mid_read_is_a_failed_read_not_a_fault():
    chip, clock, pn = make(None)
    reader = ContactlessReader(pn, clock)
    reader.arm()
    chip.tap()
    got = None
    for _ in range(5):
        got = got or reader.poll()
    assert got is not None and got.mode == CARD_TAP and got.data == ""
    assert "tap" in repr(got) and "6217" not in repr(got)
