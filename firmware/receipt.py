# The signed e-receipt (电子签购单) of one approved sale, void or refund: its canonical bytes, its
# signature (the board's Signer), its file beside the batch journal and its elements in the 0820's F55.
# Never holds more of a card than its first 6 and last 4 digits; never signs other content again.
#
# docs/RECEIPT.md gives the encoding byte by byte, the file and the upload.

import hashlib

from firmware.compat import const, crc32, is_missing
from firmware.sigfile import RECEIPT_MAGIC, RECEIPT_PREFIX, TransactionFiles, file_key, file_name, image_hash
from firmware.version import VERSION
from hal.record import Damaged

# ---- the encoding -------------------------------------------------------------------------------
# b"QRC" + version 1, then elements in ascending tag order: tag (1 byte), length (1 byte), value.
MAGIC = b"QRC\x01"
T_NAME = const(0x01)  # merchant name, UTF-8, 1..80 bytes
T_MERCHANT = const(0x02)  # merchant number, 15 digits
T_TERMINAL = const(0x03)  # terminal id, 8 digits
T_OPERATOR = const(0x04)  # operator, 2 digits
T_CODES = const(0x05)  # kind, entry mode, signature, refund reason: 1 byte each
T_BATCH = const(0x06)  # 6 digits
T_TRACE = const(0x07)  # 6 digits
T_RRN = const(0x08)  # 12 characters, or empty
T_AUTH = const(0x09)  # 0..6 characters
T_TIME = const(0x0A)  # Unix seconds (4 bytes) and the zone's minutes east of UTC (2 bytes, signed)
T_AMOUNT = const(0x0B)  # 12 digits of fen
T_CARD = const(0x0C)  # the card masked to first 6 + last 4
T_ORG = const(0x0D)  # the card organisation, 0..8 capitals
T_ORIG = const(0x0E)  # a void's or refund's original: batch 6, trace 6, RRN 12, date MMDD 4
T_FEATURE = const(0x0F)  # the 交易特征码, 8 hex digits
T_IMAGE = const(0x10)  # SHA-256 of the signature image (a signed one only)
T_VERSION = const(0x11)  # the firmware's version, 1..8 characters
NAME_BYTES = const(80)

KINDS = ("", "sale", "void", "refund")  # the code's index; the journal's kind numbers
MODES = ("", "swipe", "insert", "tap", "scan")  # "": no card read (a card-less void or resend)
# 1 signed; else why not (firmware/esign.py's states); "none": the capture never finished
SIGNATURES = ("", "signed", "no_pen", "no_sig_rule", "timeout", "cancelled", "none")
REASONS = ("", "quality", "dispute", "return", "system", "other")  # firmware/ui/refund.py's

# The elements the 0820 carries in F55 under 0xFF00 | tag (the others are its own fields, or
# computed from them); FF00 is the signature.
F55_TAGS = (T_NAME, T_OPERATOR, T_CODES, T_AUTH, T_TIME, T_CARD, T_ORG, T_ORIG, T_VERSION)
SIG_TAG = const(0xFF00)


class ReceiptError(ValueError):
    """A transaction the receipt cannot encode (a value outside the documented ranges)."""


def _put(out, tag, value):
    if len(value) > 255:
        raise ReceiptError("element {} too long".format(tag))
    out.append(tag)
    out.append(len(value))
    out.extend(value)


def _code(table, value, what):
    try:
        return table.index(value)
    except ValueError:
        raise ReceiptError("no {} code for {}".format(what, value))


def signature_of(storage, view):
    """(signature code name, SHA-256 of the image or None) of a transaction: signed when its image
    file reads back (whatever the journal's state says: a cut may have come before the state was
    written), else the journal's reason. Damaged when the journal says signed and no image reads."""
    digest = image_hash(storage, view["batch"], view["trace"])
    if digest is not None:
        return "signed", digest
    state = view.get("esign") or "none"
    if state in ("pending", "uploaded", "failed"):
        raise Damaged("signed, and its image is gone")
    return state, None


def encode(params, view, signed, image_hash, out=None):
    """The receipt's bytes (appended to `out`, a bytearray, returned) of a batch journal view: the
    slip as first shown (never a reprint's stamp), `signed` a SIGNATURES name, image_hash 32 bytes
    or None. ReceiptError for a value the encoding has no room or code for."""
    if out is None:
        out = bytearray()
    out.extend(MAGIC)
    name = params.merchant_name.encode()
    if not 0 < len(name) <= NAME_BYTES:
        raise ReceiptError("merchant name over 80 bytes")
    _put(out, T_NAME, name)
    _put(out, T_MERCHANT, params.merchant_id.encode())
    _put(out, T_TERMINAL, params.terminal_id.encode())
    _put(out, T_OPERATOR, (view.get("op") or "01").encode())
    kind = view["kind"]
    codes = bytes(
        (
            _code(KINDS, kind, "kind"),
            _code(MODES, view.get("mode") or "", "entry mode"),
            _code(SIGNATURES, signed, "signature"),
            _code(REASONS, view.get("reason") or "", "reason"),
        )
    )
    _put(out, T_CODES, codes)
    _put(out, T_BATCH, "{:06d}".format(view["batch"]).encode())
    _put(out, T_TRACE, "{:06d}".format(view["trace"]).encode())
    rrn = view.get("rrn") or ""
    _put(out, T_RRN, rrn.encode())
    _put(out, T_AUTH, (view.get("auth") or "").encode())
    tz = params.tz_minutes & 0xFFFF
    _put(out, T_TIME, view["time"].to_bytes(4, "big") + tz.to_bytes(2, "big"))
    _put(out, T_AMOUNT, "{:012d}".format(view["amount"]).encode())
    _put(out, T_CARD, view["card"].encode())
    _put(out, T_ORG, (view.get("org") or "").encode())
    orig = view.get("orig")
    if kind != "sale":
        if orig is None:
            raise ReceiptError("a void or refund without its original")
        o = "{:06d}{:06d}{:12s}{:4s}".format(orig["batch"], orig["trace"], orig["rrn"], orig["date"])
        _put(out, T_ORIG, o.encode())
    _put(out, T_FEATURE, _feature(view.get("f15") or "", rrn).encode())
    if signed == "signed":
        if image_hash is None or len(image_hash) != 32:
            raise ReceiptError("a signed receipt needs its image's SHA-256")
        _put(out, T_IMAGE, image_hash)
    _put(out, T_VERSION, VERSION.encode())
    return out


def _feature(f15, rrn):
    from firmware.esign import feature_code

    return feature_code(f15, rrn)


def elements(receipt):
    """[(tag, value bytes)] of a receipt's bytes, in order; Damaged unless it is well formed: the
    magic, whole elements, tags strictly ascending."""
    if len(receipt) < 4 or bytes(receipt[:4]) != MAGIC:
        raise Damaged("not a receipt")
    out = []
    pos = 4
    last = 0
    while pos < len(receipt):
        if pos + 2 > len(receipt):
            raise Damaged("receipt element cut off")
        tag = receipt[pos]
        size = receipt[pos + 1]
        if tag <= last:
            raise Damaged("receipt tags out of order")
        last = tag
        pos += 2
        if pos + size > len(receipt):
            raise Damaged("receipt element cut off")
        out.append((tag, bytes(receipt[pos : pos + size])))
        pos += size
    return out


def f55(receipt, signature):
    """The 0820's F55 items [(tag, value)] of a receipt: FF00 its signature (when there is one),
    then 0xFF00 | tag of each element of F55_TAGS it holds, in tag order."""
    items = [] if signature is None else [(SIG_TAG, bytes(signature))]
    for tag, value in elements(receipt):
        if tag in F55_TAGS:
            items.append((0xFF00 | tag, value))
    return items


# ---- the file ------------------------------------------------------------------------------------
# "rct.BBBBBB.TTTTTT" (batch, trace): b"QRF1", the upload's answer code (2 characters, "--" before
# any; only an unsigned receipt's upload writes it: a signed one's is the journal's e-signature
# state, or its image file's once its batch is settled), the receipt's length (2 bytes, big-endian),
# CRC-32 of the code, the length, the receipt and the signature (4 bytes), the receipt, its
# signature (64 bytes, r || s).
# Written to TMP_NAME, synced, renamed over the name, synced: a cut leaves no file, or the whole one.
PREFIX = RECEIPT_PREFIX  # "rct."
TMP_NAME = "rct.tmp"
_FILE_MAGIC = RECEIPT_MAGIC  # b"QRF1": firmware/sigfile.py reads the answer code after it too
_HEAD = const(12)
SIG_BYTES = const(64)
NO_CODE = "--"


def receipt_name(batch, trace):
    return file_name(PREFIX, batch, trace)


def name_key(name):
    """(batch, trace) of a receipt file's name, or None if name is not one."""
    return file_key(name, PREFIX)


RECEIPT_FILES = TransactionFiles(PREFIX, TMP_NAME)  # for the registry
# A batch's receipt files go with its archive, as its sig.* files (firmware/batch.py PER_BATCH).


def _fill_head(buf, code):
    n = len(buf) - _HEAD - SIG_BYTES
    buf[0:4] = _FILE_MAGIC
    buf[4:6] = code.encode()
    buf[6:8] = n.to_bytes(2, "big")
    crc = crc32(memoryview(buf)[_HEAD:], crc32(memoryview(buf)[4:8]))
    buf[8:12] = crc.to_bytes(4, "big")


def _check(data):
    """The receipt's length in a receipt file's bytes; Damaged if they are not one."""
    if len(data) < _HEAD or bytes(data[:4]) != _FILE_MAGIC:
        raise Damaged("not a receipt file")
    n = int.from_bytes(bytes(data[6:8]), "big")
    if len(data) != _HEAD + n + SIG_BYTES or n == 0:
        raise Damaged("receipt file of the wrong length")
    if crc32(memoryview(data)[_HEAD:], crc32(memoryview(data)[4:8])) != int.from_bytes(
        bytes(data[8:12]), "big"
    ):
        raise Damaged("receipt file CRC")
    return n


def unpack(data):
    """(receipt bytes, signature bytes, code) of a receipt file's bytes; Damaged if it is not one."""
    n = _check(data)
    try:
        code = bytes(data[4:6]).decode()
    except UnicodeError:
        raise Damaged("receipt file code")
    return bytes(data[_HEAD : _HEAD + n]), bytes(data[_HEAD + n :]), code


def _store(storage, batch, trace, data):
    storage.write(TMP_NAME, data)
    storage.sync()
    storage.rename(TMP_NAME, receipt_name(batch, trace))
    storage.sync()


def read(storage, batch, trace):
    """(receipt, signature, code) of (batch, trace); None if it has none; Damaged if it does not
    read back."""
    try:
        data = storage.read(receipt_name(batch, trace))
    except OSError as exc:
        if is_missing(exc):
            return None
        raise
    return unpack(data)


def waiting(storage, name, head):
    """True if the receipt file `name` has no upload answer yet (its code "--"), read into `head`
    (6 bytes: the magic and the code) alone. A file that is not one is not waiting (kept as it is;
    the host would refuse it)."""
    try:
        n = storage.read_into(name, 0, head)
    except OSError:
        return False
    return n == 6 and bytes(head[:4]) == _FILE_MAGIC and bytes(head[4:6]) == b"--"


def answered(storage, batch, trace, code, work=None):
    """Keep the upload's answer code in the receipt's file: the receipt and its signature kept as
    they are (never signed again), atomically. The file is read into one buffer, checked, and its
    head rewritten there: `work` when it is large enough (the terminal's scratch buffer, idle once
    the upload's answer is read: a day's receipts each come to this, in a heap settlement left in
    pieces), else a new one."""
    name = receipt_name(batch, trace)
    try:
        size = storage.size(name)
        buf = memoryview(work)[:size] if work is not None and len(work) >= size else bytearray(size)
        got = storage.read_into(name, 0, buf)
    except OSError as exc:
        if is_missing(exc):
            raise Damaged("no receipt to keep an answer in")
        raise
    if got != len(buf):
        raise Damaged("receipt file shorter than its size")
    _check(buf)
    _fill_head(buf, code)
    _store(storage, batch, trace, buf)


def make(term, view):
    """The receipt of an approved transaction (a batch journal view): (receipt, signature, code).
    An existing one is read back and returned as it is: a receipt is signed once. Else it is
    encoded, signed by the board's Signer (ECDSA P-256 over its SHA-256) and stored. None on a board
    without a signer. OSError, Damaged, ReceiptError or the signer's HalError when it cannot be."""
    storage = term.board.storage
    got = read(storage, view["batch"], view["trace"])
    if got is not None:
        return got
    signer = term.board.signer
    if signer is None:
        return None
    signed, image_hash = signature_of(storage, view)
    buf = bytearray(_HEAD)  # the file built in one buffer: head, receipt, signature
    encode(term.params, view, signed, image_hash, buf)
    signature = signer.sign_digest(hashlib.sha256(memoryview(buf)[_HEAD:]).digest())
    if len(signature) != SIG_BYTES:
        raise ReceiptError("the signer gave no 64-byte signature")
    receipt = bytes(memoryview(buf)[_HEAD:])
    buf.extend(signature)
    _fill_head(buf, NO_CODE)
    _store(storage, view["batch"], view["trace"], buf)
    return receipt, signature, NO_CODE
