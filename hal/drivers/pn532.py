# The PN532 NFC controller on I2C and a contactless read of a UnionPay (or other EMV) card's
# track-2-equivalent data. Never logs, stores or prints card data; never imports machine.
#
# Frames (PN532 User Manual UM0701-02, 6.2): normal information frame
#   00 00 FF LEN LCS TFI PD0..PDn DCS 00, LEN = bytes of TFI + PD, LEN + LCS = 0, TFI + PD + DCS = 0
# (mod 256), TFI D4 host to PN532, D5 back; extended frame 00 00 FF FF FF LENM LENL LCS ...;
# ACK 00 00 FF 00 FF 00; NACK 00 00 FF FF 00 00; error frame 00 00 FF 01 FF 7F 81 00.
# I2C (6.2.4): address 0x24; every read starts with a status byte whose bit 0 (RDY) says a frame
# follows; the host polls it, reads the ACK, polls again, reads the answer. An ACK sent by the host
# aborts the command in progress (how disarm() stops a pending InListPassiveTarget).
#
# The card read (EMV Book 1 11.3, Book 3 5.4, 6.5.8, 10.2; UnionPay QuickPass/qUICS): SELECT PPSE
# "2PAY.SYS.DDF01", SELECT the AID of the PPSE's highest-priority entry, GET PROCESSING OPTIONS
# with the PDOL filled (fill_pdol() says with what), then tag 57 from the GPO answer or from the
# records its AFL names (READ RECORD). The answer is the CardEvent: tag 57 as hex digits.

import os

from hal.contracts import CARD_TAP, CardEvent, HalError, ticks_diff

ADDRESS = 0x24
_HOST = 0xD4
_CHIP = 0xD5
_ACK = b"\x00\x00\xff\x00\xff\x00"

GET_FIRMWARE_VERSION = 0x02
SAM_CONFIGURATION = 0x14
IN_DATA_EXCHANGE = 0x40
IN_LIST_PASSIVE_TARGET = 0x4A
_BR_106_TYPE_A = 0x00

_MAX_FRAME = 1 + 8 + 2 + 264 + 2  # status, extended header, TFI + command, data, DCS + postamble


def frame(data):
    """The normal (or, past 254 bytes, extended) information frame carrying TFI D4 and data
    (command code first)."""
    n = len(data) + 1
    if n > 265:
        raise ValueError("PN532 frame data too long")
    checksum = _HOST
    for b in data:
        checksum += b
    if n < 256:
        head = bytes((0x00, 0x00, 0xFF, n, (-n) & 0xFF, _HOST))
    else:
        hi, lo = n >> 8, n & 0xFF
        head = bytes((0x00, 0x00, 0xFF, 0xFF, 0xFF, hi, lo, (-(hi + lo)) & 0xFF, _HOST))
    return head + bytes(data) + bytes(((-checksum) & 0xFF, 0x00))


def parse_frame(buf, start=0):
    """The data of the frame in buf from start (TFI D5 stripped, command code first) as bytes.
    b"" for an ACK. HalError for a NACK, an error frame, a wrong TFI or a bad checksum."""
    i, end = start, len(buf)
    while i < end and buf[i] == 0x00:  # preamble, and the first byte of the start code
        i += 1
    if i == start or i + 2 >= end or buf[i] != 0xFF:
        raise HalError("PN532: no frame start")
    n, lcs = buf[i + 1], buf[i + 2]
    i += 3
    if n == 0x00 and lcs == 0xFF:
        return b""  # ACK
    if n == 0xFF and lcs == 0x00:
        raise HalError("PN532: NACK")
    if n == 0xFF and lcs == 0xFF:  # extended frame
        if i + 3 > end:
            raise HalError("PN532: frame cut short")
        n, lcs = (buf[i] << 8) | buf[i + 1], buf[i + 2]
        if (buf[i] + buf[i + 1] + lcs) & 0xFF:
            raise HalError("PN532: length checksum wrong")
        i += 3
    elif (n + lcs) & 0xFF:
        raise HalError("PN532: length checksum wrong")
    if n == 0 or i + n + 1 > end:
        raise HalError("PN532: frame cut short")
    total = 0
    for k in range(i, i + n + 1):  # TFI, data and DCS sum to 0
        total += buf[k]
    if total & 0xFF:
        raise HalError("PN532: data checksum wrong")
    if buf[i] == 0x7F:
        raise HalError("PN532: error frame (syntax error)")
    if buf[i] != _CHIP:
        raise HalError("PN532: frame not from the PN532")
    return bytes(buf[i + 1 : i + n])


class PN532:
    """The controller. i2c: an initialised machine.I2C (or SoftI2C); ticks_ms/sleep_ms: the clock's;
    timeout_ms: how long a command may take before HalError (the reader does not answer)."""

    def __init__(self, i2c, ticks_ms, sleep_ms, address=ADDRESS, timeout_ms=500):
        self._i2c = i2c
        self._address = address
        self._ticks_ms = ticks_ms
        self._sleep_ms = sleep_ms
        self.timeout_ms = timeout_ms
        self._status = bytearray(1)
        self._ack = bytearray(7)
        self._buf = bytearray(_MAX_FRAME)
        self._pending = 0  # command code sent and acknowledged, answer not yet read

    def _write(self, data):
        try:
            self._i2c.writeto(self._address, data)
        except OSError:
            raise HalError("PN532 not answering on I2C")

    def _read(self, buf):
        try:
            self._i2c.readfrom_into(self._address, buf)
        except OSError:
            raise HalError("PN532 not answering on I2C")

    def ready(self):
        """True if the PN532 has a frame for the host (one status byte read; never waits)."""
        self._read(self._status)
        return bool(self._status[0] & 1)

    def _wait_ready(self, timeout_ms):
        start = self._ticks_ms()
        while not self.ready():
            if ticks_diff(self._ticks_ms(), start) >= timeout_ms:
                raise HalError("PN532 timed out")
            self._sleep_ms(2)

    def send(self, cmd, params=b""):
        """Send a command and read its ACK; the answer is read later by answer()."""
        self._write(frame(bytes((cmd,)) + bytes(params)))
        self._wait_ready(self.timeout_ms)
        self._read(self._ack)
        if parse_frame(self._ack, 1) != b"":
            raise HalError("PN532: no ACK")
        self._pending = cmd

    def answer(self, timeout_ms=None):
        """The answer to the command sent (its data after the answer code), waiting at most
        timeout_ms (default: self.timeout_ms)."""
        cmd = self._pending
        self._wait_ready(self.timeout_ms if timeout_ms is None else timeout_ms)
        self._read(self._buf)
        self._pending = 0
        data = parse_frame(self._buf, 1)
        if not data or data[0] != cmd + 1:
            raise HalError("PN532: answer to another command")
        return data[1:]

    def command(self, cmd, params=b"", timeout_ms=None):
        self.send(cmd, params)
        return self.answer(timeout_ms)

    def abort(self):
        """Abort the command in progress (an ACK from the host, UM 6.2.1.3)."""
        self._write(_ACK)
        self._pending = 0

    @property
    def pending(self):
        return self._pending

    def firmware_version(self):
        """(IC, Ver, Rev, Support): 0x32 for a PN532."""
        data = self.command(GET_FIRMWARE_VERSION)
        if len(data) != 4:
            raise HalError("PN532: bad firmware version answer")
        return data[0], data[1], data[2], data[3]

    def sam_configuration(self):
        """Normal mode (no SAM), timeout byte 0x14, the IRQ pin used (UM 7.2.10)."""
        self.command(SAM_CONFIGURATION, b"\x01\x14\x01")

    def start_listing(self):
        """InListPassiveTarget for one ISO 14443-A target (UM 7.3.5): the PN532 keeps looking
        until a card comes (its default MxRtyPassiveActivation, 0xFF, is forever); the answer is
        read with target() once ready() says so."""
        self.send(IN_LIST_PASSIVE_TARGET, bytes((0x01, _BR_106_TYPE_A)))

    def target(self):
        """The answer to start_listing(): True if one ISO-DEP (ISO 14443-4) target was activated."""
        data = self.answer()
        if not data or data[0] != 1:
            return False
        # Tg, SENS_RES (2), SEL_RES: bit 6 (0x20) says the card speaks ISO 14443-4 (EMV needs it)
        return len(data) >= 5 and bool(data[4] & 0x20)

    def exchange(self, apdu):
        """Send a command APDU to target 1, return the response APDU (data and SW1 SW2).
        CardGone if the card did not answer (it left the field)."""
        data = self.command(IN_DATA_EXCHANGE, b"\x01" + bytes(apdu))
        if not data or data[0] & 0x3F:
            raise CardGone("card did not answer")
        return data[1:]


class CardGone(HalError):
    """The card left the field or answered something that is not EMV (the tap is to be repeated)."""


# ---- EMV --------------------------------------------------------------------------------------
PPSE = b"2PAY.SYS.DDF01"

# The registered application provider ids (first 5 bytes of an AID) and their organisations.
_RIDS = (
    (b"\xa0\x00\x00\x03\x33", "CUP"),
    (b"\xa0\x00\x00\x00\x03", "VISA"),
    (b"\xa0\x00\x00\x00\x04", "MC"),
    (b"\xa0\x00\x00\x00\x65", "JCB"),
    (b"\xa0\x00\x00\x00\x25", "AMEX"),
)


def tlv_find(data, tag, start=0, end=None):
    """(offset, length) of the value of the first BER-TLV object with this tag (an int: 0x57,
    0x9F38, 0xBF0C) in data[start:end], searched depth-first through constructed objects;
    None if absent. ValueError for a malformed encoding."""
    if end is None:
        end = len(data)
    i = start
    while i < end:
        if data[i] in (0x00, 0xFF):  # padding between objects (EMV Book 3 annex B)
            i += 1
            continue
        first = data[i]
        t = first
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                if i >= end:
                    raise ValueError("TLV tag cut short")
                t = (t << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= end:
            raise ValueError("TLV length missing")
        n = data[i]
        i += 1
        if n & 0x80:
            count = n & 0x7F
            if count not in (1, 2) or i + count > end:
                raise ValueError("TLV length bad")
            n = 0
            for _ in range(count):
                n = (n << 8) | data[i]
                i += 1
        if i + n > end:
            raise ValueError("TLV value cut short")
        if t == tag:
            return i, n
        if first & 0x20:
            found = tlv_find(data, tag, i, i + n)
            if found is not None:
                return found
        i += n
    return None


def tlv_value(data, tag, start=0, end=None):
    found = tlv_find(data, tag, start, end)
    if found is None:
        return None
    return bytes(data[found[0] : found[0] + found[1]])


def _bcd(value, nbytes):
    out = bytearray(nbytes)
    for k in range(nbytes - 1, -1, -1):
        out[k] = (value % 10) | ((value // 10 % 10) << 4)
        value //= 100
    return bytes(out)


def _civil(seconds):
    """(year, month, day, hour, minute, second) UTC of seconds since 1970 (H. Hinnant's algorithm)."""
    days, rem = divmod(seconds, 86400)
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day, rem // 3600, rem // 60 % 60, rem % 60


# PDOL data elements with a numeric (n) format: padded and cut on the left (EMV Book 3 5.4).
_NUMERIC = (0x9F02, 0x9F03, 0x9F1A, 0x5F2A, 0x9A, 0x9C, 0x9F21)
TTQ = b"\x26\x80\x00\x00"  # qUICS + online PIN + signature; online cryptogram required


def terminal_data(amount, now, unpredictable):
    """The values this terminal gives for the PDOL tags it knows: amount (fen, n12), amount other
    0, country and currency 0156 (China, CNY), TVR zero (no checks failed yet), date and time of
    `now` (seconds since 1970, UTC), type 00 (goods and services), the 4 unpredictable bytes, the
    terminal transaction qualifiers TTQ, and 00 for the electronic cash support indicator 9F7A
    (no e-cash). Any other tag the card asks for is sent as zeros."""
    y, mo, d, h, mi, s = _civil(now)
    return {
        0x9F66: TTQ,
        0x9F02: _bcd(amount, 6),
        0x9F03: _bcd(0, 6),
        0x9F1A: b"\x01\x56",
        0x5F2A: b"\x01\x56",
        0x95: bytes(5),
        0x9A: _bcd(y % 100, 1) + _bcd(mo, 1) + _bcd(d, 1),
        0x9F21: _bcd(h, 1) + _bcd(mi, 1) + _bcd(s, 1),
        0x9C: b"\x00",
        0x9F37: bytes(unpredictable),
        0x9F7A: b"\x00",
    }


def fill_pdol(pdol, values):
    """The concatenated data for a PDOL (tag, length list) from values (tag -> bytes).
    ValueError for a PDOL cut short."""
    out = bytearray()
    i, end = 0, len(pdol)
    while i < end:
        t = pdol[i]
        i += 1
        if t & 0x1F == 0x1F:
            while True:
                if i >= end:
                    raise ValueError("PDOL tag cut short")
                t = (t << 8) | pdol[i]
                i += 1
                if not pdol[i - 1] & 0x80:
                    break
        if i >= end:
            raise ValueError("PDOL length missing")
        n = pdol[i]
        i += 1
        v = values.get(t, b"")
        if len(v) >= n:
            v = v[len(v) - n :] if t in _NUMERIC else v[:n]
        elif t in _NUMERIC:
            v = bytes(n - len(v)) + v
        else:
            v = v + bytes(n - len(v))
        out += v
    return bytes(out)


def _apdu(cla, ins, p1, p2, data=None, le=True):
    out = bytes((cla, ins, p1, p2))
    if data is not None:
        out += bytes((len(data),)) + bytes(data)
    if le:
        out += b"\x00"
    return out


def _transceive(exchange, apdu):
    """Send apdu, following 61xx (GET RESPONSE) and 6Cxx (resend with Le); return the data of a
    9000 answer. CardGone for any other status word."""
    r = exchange(apdu)
    for _ in range(4):
        if len(r) < 2:
            raise CardGone("short card answer")
        sw1, sw2 = r[-2], r[-1]
        if sw1 == 0x90 and sw2 == 0x00:
            return bytes(r[:-2])
        if sw1 == 0x61:
            r = exchange(bytes((0x00, 0xC0, 0x00, 0x00, sw2)))
        elif sw1 == 0x6C:
            r = exchange(bytes(apdu[:-1]) + bytes((sw2,)))
        else:
            raise CardGone("card refused: {:02X}{:02X}".format(sw1, sw2))
    raise CardGone("card keeps asking for more")


def _choose_aid(fci):
    """The AID of the PPSE directory entry (tag 61 under BF0C) with the best priority (87, lowest
    number first; an entry without one comes last)."""
    best = None
    best_priority = 256
    found = tlv_find(fci, 0xBF0C)
    if found is None:
        raise CardGone("PPSE without a directory")
    i, end = found[0], found[0] + found[1]
    while i < end:
        entry = tlv_find(fci, 0x61, i, end)
        if entry is None:
            break
        aid = tlv_value(fci, 0x4F, entry[0], entry[0] + entry[1])
        prio = tlv_value(fci, 0x87, entry[0], entry[0] + entry[1])
        rank = (prio[0] & 0x0F) if prio else 255
        if aid and (best is None or rank < best_priority):
            best, best_priority = aid, rank
        i = entry[0] + entry[1]
    if best is None:
        raise CardGone("PPSE lists no application")
    return best


def organisation(aid):
    for rid, org in _RIDS:
        if aid[:5] == rid:
            return org
    return ""


def read_track2(exchange, amount, now, unpredictable):
    """(track 2 equivalent as upper-case hex digits, organisation) read through exchange
    (apdu bytes -> response bytes with SW). CardGone if the card does not give them."""
    try:
        fci = _transceive(exchange, _apdu(0x00, 0xA4, 0x04, 0x00, PPSE))
        aid = _choose_aid(fci)
        fci = _transceive(exchange, _apdu(0x00, 0xA4, 0x04, 0x00, aid))
        pdol = tlv_value(fci, 0x9F38)
        values = terminal_data(amount, now, unpredictable)
        pdol_data = fill_pdol(pdol, values) if pdol else b""
        command_data = b"\x83" + bytes((len(pdol_data),)) + pdol_data  # tag 83: the PDOL data
        gpo = _transceive(exchange, _apdu(0x80, 0xA8, 0x00, 0x00, command_data))
        track2 = None
        if gpo[:1] == b"\x77":
            track2 = tlv_value(gpo, 0x57)
            afl = tlv_value(gpo, 0x94) or b""
        elif gpo[:1] == b"\x80":  # format 1: AIP (2 bytes), then the AFL
            at, n = tlv_find(gpo, 0x80) or (0, 0)
            if n < 2:
                raise CardGone("GPO answer without an AIP")
            afl = gpo[at + 2 : at + n]
        else:
            raise CardGone("GPO answer in no known format")
        k = 0
        while track2 is None and k + 4 <= len(afl):
            sfi = afl[k] >> 3
            for rec in range(afl[k + 1], afl[k + 2] + 1):
                record = _transceive(exchange, _apdu(0x00, 0xB2, rec, (sfi << 3) | 4))
                track2 = tlv_value(record, 0x57)
                if track2 is not None:
                    break
            k += 4
    except ValueError:
        raise CardGone("card data not BER-TLV")
    if not track2:
        raise CardGone("no track 2 equivalent data")
    return _hex(track2), organisation(aid)


def _hex(data):
    digits = "0123456789ABCDEF"
    return "".join(digits[b >> 4] + digits[b & 15] for b in data)


class ContactlessReader:
    """The contactless card source: arm() starts the PN532 looking for a card (InListPassiveTarget,
    answered only when one comes), poll() checks its ready bit (one I2C byte; it never waits for
    a card) and, once a card is there, reads it: a few hundred ms of APDU exchanges, each bounded
    by the PN532's timeout. Returns CardEvent(CARD_TAP, track 2 hex, org); a card that does not
    give its data returns CardEvent(CARD_TAP, "", "") so the firmware says the read failed. One
    read per arm(): a card left on the reader is not read again until the next arm().
    clock: the Clock (ticks, sleep, wall time for the GPO date); amount: set_amount() before the
    tap if the flow knows it (0 otherwise: a QuickPass card still answers a zero amount)."""

    def __init__(self, pn532, clock, random_bytes=None):
        self._pn = pn532
        self._clock = clock
        self._random = random_bytes if random_bytes is not None else os.urandom
        self._armed = False
        self._amount = 0
        pn532.sam_configuration()

    def set_amount(self, fen):
        self._amount = fen

    def arm(self):
        if not self._armed:
            self._pn.start_listing()
            self._armed = True

    def disarm(self):
        if self._armed:
            self._pn.abort()
            self._armed = False

    def poll(self):
        if not self._armed or not self._pn.ready():
            return None
        self._armed = False
        event = None
        if self._pn.target():
            try:
                data, org = read_track2(self._pn.exchange, self._amount, self._clock.time(), self._random(4))
                event = CardEvent(CARD_TAP, data, org)
            except CardGone:
                event = CardEvent(CARD_TAP, "", "")
        else:
            self.arm()  # not an EMV card (a transit tag, a phone's other app): keep looking
        return event
