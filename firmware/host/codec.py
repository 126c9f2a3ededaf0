# ISO 8583 as UnionPay POS terminals speak it: frame, TPDU, header, MTI, bitmap, field formats,
# the MAC input, field 60 and TLV. Never interprets a field's meaning (messages.py does) and never
# puts field content into an error: a reason names the field, never its data.
#
# Types: n/z fields are digit strings (leading zeros carry meaning: F13 "0105"; z uses "D" as the
# track separator), an/ans fields str of printable ASCII, F59/F63 (ans that may carry GBK) and b
# fields bytes. Money, trace and batch numbers become ints in messages.py, not here.

from firmware.compat import const
from firmware.errors import PosError

MAX_BODY = const(2048)  # bytes after the 2-byte length: our largest message (e-signature) < 1.5 KB
MAC_SIZE = const(8)
TPDU = b"\x60\x00\x03\x00\x00"  # 60, destination (host NII 0003), source 0000
HEADER = b"\x60\x31\x00\x00\x00\x01"  # 60 31 00 + version 000001
MAC_ROOM = bytes(8)  # what F64 holds until the MAC is computed (put_mac)

# Frame layout: [length 2][TPDU 5][header 6][MTI 2][bitmap 8][fields]
_TPDU_AT = const(2)
_HEADER_AT = const(7)
_MTI_AT = const(13)
_BITMAP_AT = const(15)
_FIELDS_AT = const(23)

# Field formats. _NL is n fixed but left-aligned (F22: "021" -> 02 10).
_N = const(0)
_NL = const(1)
_Z = const(2)
_A = const(3)  # an / ans: printable ASCII, a str
_S = const(4)  # ans that may carry GBK text: kept as bytes
_B = const(5)

# field: (format, length prefix bytes (0 fixed, 1 LLVAR, 2 LLLVAR, BCD), size). For n/z the size
# counts digits, for the others bytes; fixed fields must have exactly that size.
_ROWS = (
    (2, _N, 1, 19),  # primary account number
    (3, _N, 0, 6),  # processing code
    (4, _N, 0, 12),  # amount, fen
    (11, _N, 0, 6),  # trace (凭证号)
    (12, _N, 0, 6),  # local time hhmmss
    (13, _N, 0, 4),  # local date MMDD
    (14, _N, 0, 4),  # expiry YYMM
    (15, _N, 0, 4),  # settlement date MMDD
    (22, _NL, 0, 3),  # entry mode, left-aligned
    (23, _N, 0, 3),  # card sequence number
    (25, _N, 0, 2),  # condition code
    (26, _N, 0, 2),  # PIN capture code
    (32, _N, 1, 11),  # acquirer id
    (35, _Z, 1, 37),  # track 2
    (36, _Z, 2, 104),  # track 3
    (37, _A, 0, 12),  # retrieval reference number (参考号)
    (38, _A, 0, 6),  # authorisation code (授权码)
    (39, _A, 0, 2),  # response code
    (41, _A, 0, 8),  # terminal id
    (42, _A, 0, 15),  # merchant id
    (44, _A, 1, 25),  # additional response data (issuer, acquirer)
    (48, _N, 2, 322),  # additional data: settlement totals, batch-upload count
    (49, _A, 0, 3),  # currency
    (52, _B, 0, 8),  # PIN block
    (53, _N, 0, 16),  # security control
    (55, _B, 2, 255),  # chip data / e-signature slip TLV
    (59, _S, 2, 600),  # TLV (scanned codes and more in later specs)
    (60, _N, 2, 17),  # 60.1 type, 60.2 batch, 60.3 network code, 60.4, 60.5
    (61, _N, 2, 29),  # original batch, trace, date
    (62, _B, 2, 999),  # working keys / signature image
    (63, _S, 2, 163),  # operator, card organisation, issuer text (GBK)
    (64, _B, 0, 8),  # MAC
)


# Fixed fields that need no pad nibble take a short path in encode and decode (measured: the
# general path costs a third more on CPython, bench/codec.py).
_FAST_DIGITS = const(1)
_FAST_TEXT = const(2)
_FAST_BYTES = const(3)


def _table():
    """field -> (format, prefix bytes, size, short path or 0, bytes of a fixed field,
    bitmap byte, bitmap bit)."""
    spec: list = [None] * 65
    for n, fmt, pre, size in _ROWS:
        fast = 0
        nbytes = size
        if not pre:
            if fmt == _N and not size & 1:
                fast = _FAST_DIGITS
                nbytes = size >> 1
            elif fmt == _A:
                fast = _FAST_TEXT
            elif fmt == _B:
                fast = _FAST_BYTES
        spec[n] = (fmt, pre, size, fast, nbytes, _BITMAP_AT + ((n - 1) >> 3), 0x80 >> ((n - 1) & 7))
    return spec


_SPEC = _table()


def _bytes_table():
    """Per bitmap byte: the supported fields it holds (as bytes: small on a board), and their mask."""
    fields = []
    masks = bytearray(8)
    for i in range(8):
        held = bytearray()
        for bit in range(8):
            n = i * 8 + bit + 1
            if n > 1 and _SPEC[n] is not None:
                held.append(n)
                masks[i] |= 0x80 >> bit
        fields.append(bytes(held))
    return tuple(fields), bytes(masks)


_BYTE_FIELDS, _BYTE_MASKS = _bytes_table()


class ProtocolError(PosError):
    """A frame or field outside our ISO 8583 subset, or an answer that does not answer our
    request. `detail` is a short reason naming a field, never its content."""

    key = "host_protocol"


def supported(field):
    """True if `field` is in our table (2..64, no secondary bitmap)."""
    return type(field) is int and 0 < field <= 64 and _SPEC[field] is not None


def num(value, width):
    """A non-negative int as exactly `width` digits ("{:06d}"), or ProtocolError."""
    if type(value) is not int or value < 0:
        raise ProtocolError("number must be an int >= 0")
    s = str(value)
    if len(s) > width:
        raise ProtocolError("number wider than {} digits".format(width))
    return "0" * (width - len(s)) + s


class Message:
    """One ISO 8583 message: `mti` ("0200"), `fields` {number: value}, and the TPDU and header
    it travels with. repr shows safe fields only (never a PAN, track, PIN block or key)."""

    __slots__ = ("mti", "fields", "tpdu", "header")

    def __init__(self, mti, fields=None, tpdu=TPDU, header=HEADER):
        self.mti = mti
        self.fields = {} if fields is None else fields
        self.tpdu = tpdu
        self.header = header

    def __getitem__(self, field):
        return self.fields[field]

    def __setitem__(self, field, value):
        self.fields[field] = value

    def __delitem__(self, field):
        del self.fields[field]

    def __contains__(self, field):
        return field in self.fields

    def get(self, field, default=None):
        return self.fields.get(field, default)

    def copy(self):
        return Message(self.mti, dict(self.fields), self.tpdu, self.header)

    def __eq__(self, other):
        return (
            isinstance(other, Message)
            and self.mti == other.mti
            and self.fields == other.fields
            and self.tpdu == other.tpdu
            and self.header == other.header
        )

    def __repr__(self):
        parts = [str(self.mti)]
        for n in sorted(self.fields):
            v = self.fields[n]
            if n in _SHOWN and type(v) is str:
                parts.append("{}={}".format(n, v))
            else:
                size = len(v) if type(v) in (str, bytes, bytearray) else "?"
                parts.append("{}=<{}>".format(n, size))
        return "Message({})".format(" ".join(parts))

    __str__ = __repr__


# Fields whose content repr may show: none is card data, a PIN block or a key.
_SHOWN = (3, 4, 11, 12, 13, 15, 22, 23, 25, 26, 32, 37, 38, 39, 41, 42, 44, 48, 49, 53, 60, 61)


# ---- encoding ---------------------------------------------------------------------------------
def _printable(data):
    # min/max run in C on both runtimes: much faster than a loop over the bytes
    return not data or (min(data) >= 32 and max(data) <= 126)


def _bcd(s, field):
    """bytes.fromhex of a digit string already checked with isdigit(); field 0 is the MTI."""
    try:
        return bytes.fromhex(s)
    except ValueError:  # CPython's isdigit() accepts non-ASCII digits; fromhex does not
        raise ProtocolError("F{} must be ASCII digits".format(field) if field else "MTI must be digits")


def _field_data(n, fmt, pre, size, value):
    """(count for the length prefix, the field's bytes) of one value, checked against its spec."""
    if fmt <= _Z:
        if type(value) is not str:
            raise ProtocolError("F{} must be a str of digits".format(n))
        count = len(value)
        s = value
        if fmt == _Z:
            s = s.replace("=", "D")
            bare = s.replace("D", "")
            if bare and not bare.isdigit():
                raise ProtocolError("F{} must be digits and D".format(n))
        elif count and not s.isdigit():
            raise ProtocolError("F{} must be digits".format(n))
        if count & 1:
            s = "0" + s if fmt == _N and not pre else s + "0"
        data = _bcd(s, n)
    elif fmt == _A:
        if type(value) is not str:
            raise ProtocolError("F{} must be a str".format(n))
        data = value.encode()
        count = len(data)
        if count != len(value) or not _printable(data):
            raise ProtocolError("F{} must be printable ASCII".format(n))
    elif type(value) is bytes or type(value) is bytearray or type(value) is memoryview:
        data = value  # a memoryview: a buffer's part, sent without a copy (the signature's image)
        count = len(data)
    else:
        raise ProtocolError("F{} must be bytes".format(n))
    if pre:
        if count > size:
            raise ProtocolError("F{} longer than {}".format(n, size))
    elif count != size:
        raise ProtocolError("F{} must have exactly {}".format(n, size))
    return count, data


_ZERO8 = bytes(8)


def encode_into(msg, buf):
    """Write the whole frame of msg (2-byte length first) at the start of the preallocated
    bytearray `buf` (the device's one frame buffer); return the frame's length. F64, when
    present, is written as it is (MAC_ROOM until put_mac fills it). ProtocolError if msg cannot
    be sent or does not fit."""
    mti = msg.mti
    if type(mti) is not str or len(mti) != 4 or not mti.isdigit():
        raise ProtocolError("MTI must be 4 digits")
    tpdu = msg.tpdu
    if type(tpdu) is not bytes or len(tpdu) != 5 or tpdu[0] != 0x60:
        raise ProtocolError("TPDU must be 5 bytes starting 60")
    if type(msg.header) is not bytes or len(msg.header) != 6:
        raise ProtocolError("header must be 6 bytes")
    limit = len(buf)
    if limit > MAX_BODY + 2:
        limit = MAX_BODY + 2
    if limit < _FIELDS_AT:
        raise ProtocolError("frame buffer too small")
    buf[_TPDU_AT:_HEADER_AT] = tpdu
    buf[_HEADER_AT:_MTI_AT] = msg.header
    buf[_MTI_AT:_BITMAP_AT] = _bcd(mti, 0)
    buf[_BITMAP_AT:_FIELDS_AT] = _ZERO8
    pos = _FIELDS_AT
    fields = msg.fields
    for n in sorted(fields):
        spec = _SPEC[n] if type(n) is int and 1 < n <= 64 else None
        if spec is None:
            raise ProtocolError("field {} not supported".format(n))
        fmt, pre, size, fast, _, at, bit = spec
        value = fields[n]
        kind = type(value)
        if fast == _FAST_DIGITS and kind is str and len(value) == size and value.isdigit():
            data = _bcd(value, n)
        elif fast == _FAST_TEXT and kind is str and len(value) == size:
            data = value.encode()
            if len(data) != size or min(data) < 32 or max(data) > 126:
                raise ProtocolError("F{} must be printable ASCII".format(n))
        elif fast == _FAST_BYTES and (kind is bytes or kind is bytearray) and len(value) == size:
            data = value
        else:  # variable, odd or wrong: the general path, which also names what is wrong
            count, data = _field_data(n, fmt, pre, size, value)
        stop = pos + pre + len(data)
        if stop > limit:
            too_long = limit == MAX_BODY + 2
            raise ProtocolError("message longer than 2048 bytes" if too_long else "frame buffer too small")
        if pre == 1:
            buf[pos] = (count // 10) << 4 | count % 10
        elif pre == 2:
            buf[pos] = count // 100
            buf[pos + 1] = (count // 10 % 10) << 4 | count % 10
        buf[pos + pre : stop] = data
        pos = stop
        buf[at] |= bit
    buf[0] = (pos - 2) >> 8
    buf[1] = (pos - 2) & 0xFF
    return pos


def encode(msg):
    """The whole frame of msg as a new bytearray: encode_into() without a buffer of your own."""
    buf = bytearray(MAX_BODY + 2)
    return buf[: encode_into(msg, buf)]


# ---- decoding ---------------------------------------------------------------------------------
def frame_size(head):
    """Total bytes of the frame whose first two bytes are `head` (for reading a stream)."""
    if len(head) < 2:
        raise ProtocolError("need the 2-byte length")
    size = head[0] << 8 | head[1]
    if size < _FIELDS_AT - _TPDU_AT or size > MAX_BODY:
        raise ProtocolError("length prefix out of range")
    return size + 2


def _decode_field(data, pos, end, n, fields):
    fmt, pre, size = _SPEC[n][:3]
    if pre:
        if pos + pre > end:
            raise ProtocolError("F{} length cut off".format(n))
        b = data[pos]
        if pre == 1:
            hi = b >> 4
            lo = b & 15
            count = hi * 10 + lo
            bad = hi > 9 or lo > 9
        else:
            b1 = data[pos + 1]
            hi = b1 >> 4
            lo = b1 & 15
            count = b * 100 + hi * 10 + lo
            bad = b > 9 or hi > 9 or lo > 9
        if bad:
            raise ProtocolError("F{} length is not BCD".format(n))
        if count > size:
            raise ProtocolError("F{} longer than allowed".format(n))
        pos += pre
    else:
        count = size
    stop = pos + ((count + 1) >> 1 if fmt <= _Z else count)
    if stop > end:
        raise ProtocolError("F{} cut off".format(n))
    raw = data[pos:stop]
    if fmt <= _Z:
        if not count:  # MicroPython's b"".hex() is b"", not ""
            fields[n] = ""
            return stop
        s = raw.hex()
        if count & 1:
            if fmt == _N and not pre:  # fixed n: right-aligned, the pad leads
                pad = s[0]
                s = s[1:]
            else:
                pad = s[-1]
                s = s[:-1]
            if pad != "0" and pad != "f":
                raise ProtocolError("F{} bad pad nibble".format(n))
        if fmt == _Z:
            bare = s.replace("d", "")
            if bare and not bare.isdigit():
                raise ProtocolError("F{} is not track data".format(n))
            s = s.upper()
        elif not s.isdigit():
            raise ProtocolError("F{} is not BCD".format(n))
        fields[n] = s
    elif fmt == _A:
        if not _printable(raw):
            raise ProtocolError("F{} is not printable ASCII".format(n))
        fields[n] = raw.decode()
    else:
        fields[n] = raw
    return stop


def decode(frame):
    """The Message in one whole frame (bytes, bytearray or memoryview, its 2-byte length first).
    Raises ProtocolError, and only that, for anything malformed."""
    data = frame if type(frame) is bytes else bytes(frame)
    end = len(data)
    if end < _FIELDS_AT:
        raise ProtocolError("frame too short")
    if (data[0] << 8 | data[1]) != end - 2:
        raise ProtocolError("length prefix does not match the frame")
    if end - 2 > MAX_BODY:
        raise ProtocolError("frame too long")
    if data[_TPDU_AT] != 0x60:
        raise ProtocolError("TPDU does not start 60")
    mti = data[_MTI_AT:_BITMAP_AT].hex()
    if not mti.isdigit():
        raise ProtocolError("MTI is not BCD")
    if data[_BITMAP_AT] & 0x80:
        raise ProtocolError("secondary bitmap not supported")
    fields: dict = {}
    pos = _FIELDS_AT
    for i in range(8):
        byte = data[_BITMAP_AT + i]
        if not byte:
            continue
        if byte & ~_BYTE_MASKS[i]:
            raise ProtocolError("a field of bitmap byte {} not supported".format(i + 1))
        for n in _BYTE_FIELDS[i]:
            if not byte & (0x80 >> ((n - 1) & 7)):
                continue
            fast = _SPEC[n][3]
            if not fast:
                pos = _decode_field(data, pos, end, n, fields)
                continue
            stop = pos + _SPEC[n][4]
            if stop > end:
                raise ProtocolError("F{} cut off".format(n))
            raw = data[pos:stop]
            if fast == _FAST_DIGITS:
                value = raw.hex()
                if not value.isdigit():
                    raise ProtocolError("F{} is not BCD".format(n))
                fields[n] = value
            elif fast == _FAST_TEXT:
                if min(raw) < 32 or max(raw) > 126:
                    raise ProtocolError("F{} is not printable ASCII".format(n))
                fields[n] = raw.decode()
            else:
                fields[n] = raw
            pos = stop
    if pos != end:
        raise ProtocolError("bytes after the last field")
    return Message(mti, fields, data[_TPDU_AT:_HEADER_AT], data[_HEADER_AT:_MTI_AT])


# ---- MAC, TPDU --------------------------------------------------------------------------------
def _mac_frame_end(frame, length):
    end = len(frame) if length is None else length
    if end < _FIELDS_AT + MAC_SIZE or end > len(frame):
        raise ProtocolError("frame too short for a MAC")
    if (frame[0] << 8 | frame[1]) != end - 2:
        raise ProtocolError("length prefix does not match the frame")
    if not frame[_FIELDS_AT - 1] & 1:
        raise ProtocolError("F64 not in the bitmap")
    return end


def mac_input(frame, length=None):
    """What the MAC covers: from the MTI through the last field before F64 (bit 64 set in the
    bitmap); length, TPDU and header are outside it. `length` limits a reused buffer."""
    end = _mac_frame_end(frame, length)
    return bytes(memoryview(frame)[_MTI_AT : end - MAC_SIZE])


def put_mac(frame, mac, length=None):
    """Write the 8-byte MAC into F64, the last 8 bytes of the encoded frame (a bytearray)."""
    end = _mac_frame_end(frame, length)
    if (type(mac) is not bytes and type(mac) is not bytearray) or len(mac) != MAC_SIZE:
        raise ProtocolError("MAC must be 8 bytes")
    frame[end - MAC_SIZE : end] = mac


def reply_tpdu(tpdu):
    """The TPDU of an answer: destination and source swapped."""
    return tpdu[:1] + tpdu[3:5] + tpdu[1:3]


def answer_mti(mti):
    """The MTI that answers `mti`: 0200 -> 0210, 0820 -> 0830."""
    return mti[:2] + str((int(mti[2]) + 1) % 10) + mti[3]


# ---- field 60 ---------------------------------------------------------------------------------
def f60(msg_type, batch, net_code, capability="", fallback=""):
    """Field 60: 60.1 message type (n2), 60.2 batch (int, n6), 60.3 network management code
    (n3), then for financial messages 60.4 read capability (n1) and 60.5 fallback flag (n1)."""
    for part in (msg_type, net_code, capability, fallback):
        if type(part) is not str:
            raise ProtocolError("F60 sub-fields must be str")
    s = msg_type + num(batch, 6) + net_code
    if capability:
        s += capability + (fallback or "0")
    if len(msg_type) != 2 or len(net_code) != 3 or len(s) not in (11, 13) or not s.isdigit():
        raise ProtocolError("F60 sub-fields malformed")
    return s


def parse_f60(value):
    """(60.1, 60.2 as int, 60.3, 60.4, 60.5); the absent trailing sub-fields are ""."""
    if type(value) is not str or len(value) < 8 or not value.isdigit():
        raise ProtocolError("F60 too short")
    return (value[:2], int(value[2:8]), value[8:11], value[11:12], value[12:13])


# ---- TLV (F55, F59) ---------------------------------------------------------------------------
TLV_LIMIT = const(64)


def _tag_bytes(tag):
    if type(tag) is not int or tag <= 0 or tag > 0xFFFFFF:
        raise ProtocolError("TLV tag out of range")
    width = 1 if tag <= 0xFF else 2 if tag <= 0xFFFF else 3
    tb = tag.to_bytes(width, "big")
    ok = (tb[0] & 0x1F == 0x1F) == (width > 1)
    for i in range(1, width):
        ok = ok and bool(tb[i] & 0x80) == (i < width - 1)
    if not ok:
        raise ProtocolError("TLV tag is not BER")
    return tb


def tlv_build(items):
    """BER-TLV bytes of [(tag int, value bytes), ...] in the order given (e.g. 0xFF00 merchant
    name); values up to 65535 bytes."""
    out = bytearray()
    for tag, value in items:
        if type(value) is not bytes and type(value) is not bytearray:
            raise ProtocolError("TLV value must be bytes")
        out += _tag_bytes(tag)
        size = len(value)
        if size < 0x80:
            out.append(size)
        elif size <= 0xFF:
            out += bytes((0x81, size))
        elif size <= 0xFFFF:
            out += bytes((0x82, size >> 8, size & 0xFF))
        else:
            raise ProtocolError("TLV value too long")
        out += value
    return bytes(out)


def tlv_parse(data, limit=TLV_LIMIT):
    """[(tag, value bytes), ...] of flat BER-TLV (constructed values stay bytes: parse them
    again). At most `limit` items, tags of 3 bytes, lengths of 2 bytes; else ProtocolError."""
    items = []
    pos = 0
    end = len(data)
    while pos < end:
        if len(items) >= limit:
            raise ProtocolError("too many TLV items")
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            for _ in range(2):
                if pos >= end:
                    raise ProtocolError("TLV tag cut off")
                b = data[pos]
                pos += 1
                tag = tag << 8 | b
                if not b & 0x80:
                    break
            else:
                raise ProtocolError("TLV tag longer than 3 bytes")
        if pos >= end:
            raise ProtocolError("TLV length cut off")
        size = data[pos]
        pos += 1
        if size & 0x80:
            width = size & 0x7F
            if width == 0 or width > 2 or pos + width > end:
                raise ProtocolError("TLV length malformed")
            size = 0
            for i in range(width):
                size = size << 8 | data[pos + i]
            pos += width
        if pos + size > end:
            raise ProtocolError("TLV value cut off")
        items.append((tag, bytes(data[pos : pos + size])))
        pos += size
    return items
