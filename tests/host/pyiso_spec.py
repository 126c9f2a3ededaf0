# The UnionPay POS subset written as a pyiso8583 (4.0.1) spec, from docs/PROTOCOL.md and the UnionPay
# POS field list, independently of firmware/host/codec.py's table: the cross-check between the
# two is what catches a mistake both sides would otherwise share. Used by tests and bench/codec.py.
#
# pyiso8583 sees a frame without our 2-byte length: "h" is the TPDU and header (11 bytes).

# Which of our values are bytes, and how to show them to pyiso8583.
BINARY = (52, 55, 62, 64)  # b: pyiso8583 gives upper-case hex
GBK_TEXT = (59, 63)  # ans that may carry GBK: latin-1 maps each byte to one character
TEXT = (37, 38, 39, 41, 42, 44, 49)  # an/ans: ASCII str


def _n(digits, prefix=0, pad="0", left_aligned=False):
    spec = {"data_enc": "b", "len_enc": "bcd", "len_type": prefix, "max_len": digits, "len_count": "nibbles"}
    if prefix or left_aligned:
        spec["right_pad"] = pad  # variable fields and F22: left-aligned, pad on the right
    else:
        spec["left_pad"] = "0"  # fixed fields: right-aligned
    return spec


def _text(size, prefix=0, enc="ascii"):
    return {"data_enc": enc, "len_enc": "bcd", "len_type": prefix, "max_len": size}


def _b(size, prefix=0):
    return {"data_enc": "b", "len_enc": "bcd", "len_type": prefix, "max_len": size}


def spec(pad="0"):
    """The spec; `pad` is the nibble pyiso8583 puts after an odd-length variable n/z field
    ("0" as we emit, "F" as some terminals do)."""
    return {
        "h": _b(11),
        "t": _b(2),
        "p": _b(8),
        "1": _b(8),
        "2": _n(19, 1, pad),
        "3": _n(6),
        "4": _n(12),
        "11": _n(6),
        "12": _n(6),
        "13": _n(4),
        "14": _n(4),
        "15": _n(4),
        "22": _n(3, left_aligned=True),
        "23": _n(3),
        "25": _n(2),
        "26": _n(2),
        "32": _n(11, 1, pad),
        "35": _n(37, 1, pad),  # z: digits and D, hex to pyiso8583
        "36": _n(104, 2, pad),
        "37": _text(12),
        "38": _text(6),
        "39": _text(2),
        "41": _text(8),
        "42": _text(15),
        "44": _text(25, 1),
        "48": _n(322, 2, pad),
        "49": _text(3),
        "52": _b(8),
        "53": _n(16),
        "55": _b(255, 2),
        "59": _text(600, 2, "latin-1"),
        "60": _n(17, 2, pad),
        "61": _n(29, 2, pad),
        "62": _b(999, 2),
        "63": _text(163, 2, "latin-1"),
        "64": _b(8),
    }


def to_pyiso(field, value):
    """Our field value as pyiso8583 represents it."""
    if field in BINARY:
        return bytes(value).hex().upper()
    if field in GBK_TEXT:
        return bytes(value).decode("latin-1")
    return value


def from_pyiso(field, value):
    """pyiso8583's field value as ours."""
    if field in BINARY:
        return bytes.fromhex(value)
    if field in GBK_TEXT:
        return value.encode("latin-1")
    return value


def doc_of(message):
    """A pyiso8583 document of one of our Messages."""
    doc = {"h": (message.tpdu + message.header).hex().upper(), "t": message.mti}
    for n, v in message.fields.items():
        doc[str(n)] = to_pyiso(n, v)
    return doc
