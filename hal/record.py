# The record codec: canonical JSON and the stored-file format (header with sequence, length and CRC-32)
# shared by the firmware's record layer (firmware/store.py) and the key store (hal/soft/keystore.py).
# Pure bytes in, bytes out: never touches a Storage, never imports firmware/.
#
# One generation of a record is a 28-byte header "QPR2 <seq:8 hex> <length:4 hex> <crc32:8 hex>\n"
# and the payload: the record in canonical JSON. The CRC-32 covers the header's first 19 bytes
# ("QPR2 <seq> <length> ", spaces included) and then the payload: a record whose header does not
# check is damaged like one whose payload does not. QPR1 (the first format: the same header, the
# CRC over the payload only) is still read; save() writes QPR2 only, so a QPR1 record becomes QPR2
# at its next save.

import json

try:
    from binascii import crc32
except ImportError:  # a port built without binascii.crc32: the same CRC-32 (IEEE 802.3) in Python

    def crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF


# Plain module constants (no const(): hal/ has no compat shim; these are read rarely).
_MAGIC = b"QPR2 "
_MAGIC_V1 = b"QPR1 "
HEADER_SIZE = 28
_COVERED = 19  # the header bytes under the CRC: magic, sequence, length and the spaces after them
_MAX_DEPTH = 4  # records are flat dicts with short lists at most: deeper means damage


class Damaged(Exception):
    """A stored file that cannot be trusted; the message says why (never its content)."""


# ---- Canonical encoding ----------------------------------------------------------------------
# The same record gives the same bytes on CPython and MicroPython (their json.dumps differ on
# non-ASCII text and dict order): keys sorted, no spaces, text as UTF-8 with only '"', '\' and
# control characters escaped. Anything hashed or signed uses this encoding.


_HEX = "0123456789abcdef"


# The parts go into an _Out joined at the end. A part is a constant or a string the record already
# holds (never a slice of it when nothing needs escaping: on MicroPython a slice is a new string);
# a dict entry's punctuation is one part (',"' then '":' or, before a str, '":"'), and a dict
# inside a record is joined into one part of its own. Every _PARTS parts are joined into one, so
# the list's array stays at _PARTS words (128 bytes) whatever the record's size: a sale's record
# is about 70 parts, and a list grown to 128 of them needed a 512-byte run of a fragmented heap
# (where a whole sale's smallest heap stopped, bench/README.md); the joins' strings are no longer
# than the record.
_PARTS = 32


class _Out:
    __slots__ = ("parts",)

    def __init__(self):
        self.parts = []

    def append(self, part):
        parts = self.parts
        parts.append(part)
        if len(parts) >= _PARTS:
            joined = "".join(parts)
            parts.clear()  # the array is kept: no new one
            parts.append(joined)

    def text(self):
        return "".join(self.parts)


def _encode_str(s, out, close='"'):
    start = 0
    for i in range(len(s)):
        ch = s[i]
        if ch == '"' or ch == "\\":
            out.append(s[start:i])
            out.append("\\" + ch)
            start = i + 1
        elif ch < " " or ch == "\x7f":
            out.append(s[start:i])
            out.append("\\u00" + _HEX[ord(ch) >> 4] + _HEX[ord(ch) & 15])
            start = i + 1
    out.append(s if start == 0 else s[start:])
    out.append(close)


def _encode_value(value, out, nested=False):
    t = type(value)
    if t is str:
        out.append('"')
        _encode_str(value, out)
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif t is int:
        out.append(str(value))
    elif t is dict:
        if not value:
            out.append("{}")
            return
        whole = out
        if nested:
            out = _Out()
        sep = '{"'
        for key in sorted(value):
            if type(key) is not str:
                raise TypeError("record keys are str")
            out.append(sep)
            sep = ',"'
            item = value[key]
            if type(item) is str:
                _encode_str(key, out, '":"')
                _encode_str(item, out)
            else:
                _encode_str(key, out, '":')
                _encode_value(item, out, True)
        out.append("}")
        if nested:
            whole.append(out.text())
    elif t is list or t is tuple:
        out.append("[")
        for i in range(len(value)):
            if i:
                out.append(",")
            _encode_value(value[i], out, True)
        out.append("]")
    else:
        raise TypeError("cannot store a {}".format(t.__name__))


def encode(record):
    """A record (dict of str, int, bool, None, lists and dicts of them) to canonical UTF-8 bytes."""
    out = _Out()
    _encode_value(record, out)
    return out.text().encode()


def _depth_ok(text):
    """False if the JSON text nests deeper than _MAX_DEPTH (checked before parsing: a deep document
    exhausts CPython's recursion limit, which json.loads does not turn into ValueError)."""
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{" or ch == "[":
            depth += 1
            if depth > _MAX_DEPTH:
                return False
        elif ch == "}" or ch == "]":
            depth -= 1
    return True


def decode(payload):
    """Canonical bytes back to a dict; Damaged if they are not a bounded JSON object."""
    try:
        text = bytes(payload).decode()
    except UnicodeError:
        raise Damaged("not UTF-8")
    if not _depth_ok(text):
        raise Damaged("nested too deep")
    try:
        record = json.loads(text)
    except ValueError:
        raise Damaged("not JSON")
    if type(record) is not dict:
        raise Damaged("not a record")
    return record


# ---- The file format -------------------------------------------------------------------------


def _hex(n, width):
    s = "%x" % n
    return "0" * (width - len(s)) + s


def pack(seq, record, version=2):
    """The bytes of one generation of a record (version 1: the QPR1 format, for tests and for
    checking a QPR1 file byte for byte)."""
    return pack_payload(seq, encode(record), version)


def pack_payload(seq, payload, version=2):
    """The bytes of one generation of a record already encoded (encode()): for a caller that
    checked the payload first, without encoding the record again."""
    if len(payload) > 0xFFFF:
        raise ValueError("record too large")
    head = ("QPR1 " if version == 1 else "QPR2 ") + _hex(seq, 8) + " " + _hex(len(payload), 4) + " "
    head = head.encode()
    crc = crc32(payload) if version == 1 else crc32(payload, crc32(head))
    return head + (_hex(crc, 8) + "\n").encode() + payload


def version(raw):
    """1 for a QPR1 file, 2 for QPR2; Damaged if it starts with neither."""
    magic = bytes(raw[:5])
    if magic == _MAGIC:
        return 2
    if magic == _MAGIC_V1:
        return 1
    raise Damaged("no header")


def header(raw):
    """(seq, length, crc) from a file's header (QPR2 or QPR1); Damaged if there is no well-formed
    header. The values are not checked yet: unpack() checks the CRC."""
    if len(raw) < HEADER_SIZE or raw[13:14] != b" " or raw[18:19] != b" ":
        raise Damaged("no header")
    version(raw)
    if raw[27:28] != b"\n":
        raise Damaged("no header")
    for i in range(5, 27):
        c = raw[i]
        if i != 13 and i != 18 and not (48 <= c <= 57 or 97 <= c <= 102):
            raise Damaged("bad header")  # lower-case hex only (int() would take "+", "_", "A")
    return int(raw[5:13], 16), int(raw[14:18], 16), int(raw[19:27], 16)


def unpack(raw, limit):
    """(seq, dict) from the bytes of one generation; Damaged if anything is off."""
    seq, length, crc = header(raw)
    if length > limit:
        raise Damaged("too long")
    if len(raw) != HEADER_SIZE + length:
        raise Damaged("wrong length")
    payload = memoryview(raw)[HEADER_SIZE:]
    if version(raw) == 1:
        computed = crc32(payload)
    else:
        computed = crc32(payload, crc32(memoryview(raw)[:_COVERED]))
    if computed != crc:
        raise Damaged("bad checksum")
    return seq, decode(payload)


def salvage(raw, limit=0xFFFF):
    """The record a damaged file still holds, ignoring the checksum (for recovering counters from
    evidence: only values that then pass a validator may be used); None if nothing is readable."""
    body = raw[HEADER_SIZE:] if bytes(raw[:5]) in (_MAGIC, _MAGIC_V1) else raw
    if len(body) > limit:
        return None
    try:
        return decode(body)
    except Damaged:
        return None
