# The current batch on flash (当前批次流水): every sale, void, refund, state change, reversal outcome
# and settlement of the batch as framed records appended to segment files, found by trace or RRN.
# Never rewrites or truncates a record, never holds more of a card than its first 6 and last 4
# digits (the validator refuses anything else), never trusts a frame whose CRC does not match.
#
# docs/JOURNAL.md ("The batch journal") gives the format, the resync rule and the capacity rules.

from firmware.compat import const, crc32
from firmware.sigfile import UPLOAD_DONE, file_key, upload_code
from hal.contracts import ENOENT
from hal.record import Damaged, decode, encode

# ---- The frame --------------------------------------------------------------------------------
# A 14-byte header, then the payload (the record in hal.record's canonical encoding):
#   0-1  b"QJ"    2  format version (1)    3  kind
#   4-7  sequence (big-endian, +1 each record, across segments)
#   8-9  payload length (big-endian, 1..PAYLOAD_MAX)
#   10-13 CRC-32 of bytes 0-9 and the payload (the record's CRC covers its header too)
HEADER = const(14)
PAYLOAD_MAX = const(1024)
BUF_BYTES = const(1038)  # HEADER + PAYLOAD_MAX: one whole frame
_VERSION = const(1)
_MAGIC0 = const(0x51)  # "Q"
_MAGIC1 = const(0x4A)  # "J"

# Kinds (header byte 3, and "k" nowhere: the header says it)
SALE = const(1)
VOID = const(2)
REFUND = const(3)
STATE = const(4)  # a state change of (batch, trace): the outcome, voided, refunded, e-signature
REVERSAL = const(5)  # a reversal's outcome for (batch, trace)
SETTLEMENT = const(6)  # the batch closed
ARCHIVED = const(7)  # one row of a settled batch, in its archive file
ARCHIVE_END = const(8)  # the archive file is complete
ESIGN_STATE = const(9)  # the e-signature's state of (batch, trace) alone: a small record
ARCHIVED_REFUND = const(10)  # a refund's row of a settled batch: its original, confirmed or not
REPORT = const(11)  # a settlement's report: in the segments before the settlement, then the archive
KIND_NAMES = {SALE: "sale", VOID: "void", REFUND: "refund", STATE: "state", REVERSAL: "reversal"}
KIND_NAMES[SETTLEMENT] = "settlement"
KIND_NAMES[ARCHIVED] = "archived"
KIND_NAMES[ARCHIVE_END] = "archive_end"
KIND_NAMES[ESIGN_STATE] = "esign"
KIND_NAMES[ARCHIVED_REFUND] = "archived_refund"
KIND_NAMES[REPORT] = "report"
TXN_KINDS = (SALE, VOID, REFUND)

# Transaction states, as firmware.journal names them, plus the two only the batch knows.
SENT = "sent"
APPROVED = "approved"
DECLINED = "declined"
UNSENT = "unsent"
IN_DOUBT = "in_doubt"
REVERSED = "reversed"
VOIDED = "voided"  # an approved sale a later void undid
NOT_DONE = "notdone"  # a refund the host never had: its card-less resend was answered 25
STATES = (SENT, APPROVED, DECLINED, UNSENT, IN_DOUBT, REVERSED, VOIDED, NOT_DONE)
_REVERSAL_FAILED = const(0x10)  # with IN_DOUBT in the state table: its reversal was given up
_STATE_CODES = {SENT: 1, APPROVED: 2, DECLINED: 3, UNSENT: 4, IN_DOUBT: 5, REVERSED: 6, VOIDED: 7}
_STATE_CODES[NOT_DONE] = 8

# The e-signature's upload state (电子签名上送)
# none: not asked (yet); pending, uploaded, failed: signed, the upload's state (firmware/esign.py);
# no_pen, no_sig_rule, timeout, cancelled: not signed, and why.
# Its index in ESIGN is kept in the state table's top three bits (_ESIGN_SHIFT): 8 states at most.
ESIGN = ("none", "pending", "uploaded", "failed", "no_pen", "no_sig_rule", "timeout", "cancelled")
_ESIGN_SHIFT = const(5)
REMOVE_CHUNK = const(32)  # per-batch files removed per walk of the folder (remove_batch_files)
_LOW_BITS = const(0x1F)  # the state's code and _REVERSAL_FAILED
_ESIGN_BITS = const(0xE0)
REVERSAL_RESULTS = ("reversed", "failed")

# Segment files: "batch.000001" upward. A segment is closed when the next record would take it
# past SEGMENT_BYTES, and at every open whose last segment ends in a damaged frame (a torn tail).
SEGMENT_PREFIX = "batch."
SEGMENT_BYTES = const(16384)
_SEGMENT_MAX = const(999999)

# Capacity: one transaction with its receipt, and the settlement always kept free.
TXN_ROOM = const(3072)  # its records (about 600 bytes) and its receipt (about 2 KB)
SETTLEMENT_ROOM = const(8192)
WARN_PERCENT = const(90)

_TRACE_MAX = const(999999)
_CHUNK = const(256)  # the resync reads this much at a time
_SLOTS_MAX = const(32768)  # far above a batch's 999 transactions
_ENTRIES = const(64)  # index entries a chunk of each table holds (Batch._grow adds one)
_ENTRIES_SHIFT = const(6)
_ENTRIES_MASK = const(63)
# Where a record lies, in the index's three bytes: (its segment's place in Batch.segments << 16) |
# its offset. A batch's journal holds at most this many segments (4 MB: more than any board's flash).
SEGMENTS_MAX = const(255)
_EFBIG = const(27)


class JournalFull(Exception):
    """No room for one more transaction: the batch must be settled first (请先结算)."""


# ---- validation --------------------------------------------------------------------------------
def _int(v, lo, hi):
    return type(v) is int and lo <= v <= hi


def _text(v, size):
    return type(v) is str and len(v) <= size


def _digits(v, size):
    return type(v) is str and len(v) == size and v.isdigit()


def _digits_or_empty(v, size):
    return v == "" or _digits(v, size)


def masked(v):
    """True if v is a card number masked to first 6 + last 4 (the only card data kept)."""
    if type(v) is not str or not 13 <= len(v) <= 19:
        return False
    middle = v[6:-4]
    return v[:6].isdigit() and v[-4:].isdigit() and middle == "*" * len(middle)


def _rrn(v):
    """A retrieval reference number (F37, an 12: the host may send letters) or empty."""
    if v == "":
        return True
    if type(v) is not str or len(v) != 12:
        return False
    for ch in v:
        if not " " <= ch <= "~":
            return False
    return True


def _org(v):
    if type(v) is not str or len(v) > 8:
        return False
    for ch in v:
        if not "A" <= ch <= "Z":
            return False
    return True


def org_ok(v):
    """True if v is a card organisation a record may hold (up to 8 capitals, or empty)."""
    return _org(v)


def domestic(org):
    """A card organisation the settlement counts as domestic (内卡): CUP, or none reported (a
    magnetic stripe read says nothing); every other one is foreign (外卡)."""
    return org in ("CUP", "")


def valid_orig(v):
    """True if v is a void's or refund's original as a record holds it: batch, trace, RRN, date."""
    return _orig(v)


def valid_refund_orig(v):
    """True if v is a refund's original: as a void's, but batch and trace 0 when the terminal's
    journal no longer had the original (61.1/61.2 are zeros then), and an RRN always."""
    return _orig(v, 0) and v["rrn"] != ""


def _orig(v, lo=1):
    if type(v) is not dict or len(v) != 4:
        return False
    return (
        _int(v.get("batch"), lo, _TRACE_MAX)
        and _int(v.get("trace"), lo, _TRACE_MAX)
        and _rrn(v.get("rrn"))
        and _digits_or_empty(v.get("date"), 4)
    )


# Every field of every kind: (name, check, arguments). A record holds exactly these, nothing else:
# no field can carry a PAN, track data or a PIN block in under another name. The table is constant
# data (tuples of literals: in flash on a frozen image), not a function per field: 45 lambdas and
# their tuples were 2 KB of a terminal's heap from boot on (bench/README.md).
_INT = const(0)  # an int in [lo, hi]
_TEXT = const(1)  # a str of at most n characters
_DIGITS = const(2)  # n digits
_DIGITS_OR_EMPTY = const(3)  # n digits or ""
_ONE_OF = const(4)  # one of a tuple's values
_FLAG = const(5)  # True or False
_MASKED = const(6)  # a card number masked to first 6 + last 4
_ORG = const(7)  # a card organisation (up to 8 capitals) or ""
_ORIG = const(8)  # a void's or refund's original: batch, trace, RRN, date
_RRN = const(9)  # an RRN (12 printable characters) or ""
_REFUND_ORIG = const(10)  # a refund's original: as _ORIG, batch and trace 0 when not known
_INTS = const(11)  # a list of exactly n ints in [0, 999999999999]
_TRACES = const(12)  # a list of at most n traces (1..999999)
_TXN = (
    ("batch", _INT, 1, 999999),
    ("trace", _INT, 1, 999999),
    ("amount", _INT, 1, 999999999999),
    ("card", _MASKED),
    ("org", _ORG),
    ("mode", _TEXT, 8),
    ("time", _INT, 0, 0x7FFFFFFF),
    ("op", _DIGITS, 2),
)
_STATE = (
    ("batch", _INT, 1, 999999),
    ("trace", _INT, 1, 999999),
    ("state", _ONE_OF, STATES),
    ("code", _TEXT, 2),
    ("rrn", _RRN),
    ("auth", _TEXT, 6),
    ("f12", _DIGITS_OR_EMPTY, 6),  # the host's time hhmmss
    ("f13", _DIGITS_OR_EMPTY, 4),  # the host's date MMDD
    ("f15", _DIGITS_OR_EMPTY, 4),  # the settlement date MMDD
    ("esign", _ONE_OF, ESIGN),
    ("refunded", _INT, 0, 999999999999),
    ("time", _INT, 0, 0x7FFFFFFF),
)
_REVERSAL = (
    ("batch", _INT, 1, 999999),
    ("trace", _INT, 1, 999999),
    ("result", _ONE_OF, REVERSAL_RESULTS),
    ("code", _TEXT, 2),
    ("time", _INT, 0, 0x7FFFFFFF),
)
_SETTLEMENT = (
    ("batch", _INT, 1, 999999),
    ("time", _INT, 0, 0x7FFFFFFF),
    ("dn", _INT, 0, 999),  # domestic: debit (sales) count and sum, credit (refunds) count and sum
    ("da", _INT, 0, 999999999999),
    ("dcn", _INT, 0, 999),
    ("dca", _INT, 0, 999999999999),
    ("fn", _INT, 0, 999),  # foreign, the same
    ("fa", _INT, 0, 999999999999),
    ("fcn", _INT, 0, 999),
    ("fca", _INT, 0, 999999999999),
    ("result", _TEXT, 2),  # F48's answer: "11" balanced both, "12", "21", "22", ""
)
_ARCHIVED = (
    ("batch", _INT, 1, 999999),
    ("trace", _INT, 1, 999999),
    ("kind", _ONE_OF, ("sale", "void", "refund")),
    ("rrn", _RRN),
    ("date", _DIGITS_OR_EMPTY, 4),
    ("amount", _INT, 1, 999999999999),
    ("voided", _FLAG),
    ("refunded", _INT, 0, 999999999999),
    ("open", _FLAG),  # an upload (signature or receipt) not done at the closing: kept until done
)
# A refund's archive row: confirmed (approved) or not (in doubt: resent by the next settlements'
# sweeps, never evicted), then, once a resend is answered, approved, declined or not done.
REFUND_ROW_STATES = (APPROVED, IN_DOUBT, DECLINED, NOT_DONE)
_ARCHIVED_REFUND = (
    ("batch", _INT, 1, 999999),
    ("trace", _INT, 1, 999999),
    ("rrn", _RRN),
    ("date", _DIGITS_OR_EMPTY, 4),
    ("amount", _INT, 1, 999999999999),
    ("orig", _REFUND_ORIG),  # the original (its RRN: the local guard sums a sale's refunds by it)
    ("state", _ONE_OF, REFUND_ROW_STATES),
    ("open", _FLAG),  # as an archive row's
)
_ARCHIVE_END = (("batch", _INT, 1, 999999), ("rows", _INT, 0, 99999))
# The settlement report (结算单) of a batch, as the report shows it (firmware/settle.py
# report_record): kept with the batch in its archive, so Reprint shows it after later settlements.
_REPORT = (
    ("batch", _INT, 1, 999999),
    ("op", _TEXT, 2),
    ("time", _INT, 0, 0x7FFFFFFF),  # the closing's
    ("t", _INTS, 8),  # F48's domestic and foreign debit and credit, count and sum
    ("k", _INTS, 6),  # sale, void, refund: count and sum
    ("result", _TEXT, 2),  # the host's answer to the 0500, per half: 1 balanced, 2 not
    ("sent", _INT, 0, 9999),  # a batch upload's items sent
    ("nfail", _INT, 0, 9999),  # and not sent (the first 16 by trace)
    ("fail", _TRACES, 16),
    ("stopped", _FLAG),
    ("ndoubt", _INT, 0, 9999),  # left out in doubt (the first 16 by trace)
    ("doubt", _TRACES, 16),
    ("rev", _TRACES, 16),  # reversals given up, still failed after the sweep
    ("nref", _INT, 0, 9999),  # refunds the sweep could not confirm (the first 16 by trace)
    ("ref", _TRACES, 16),
    ("nsig", _INT, 0, 9999),  # signatures the sweep could not upload (the first 16 by trace)
    ("sig", _TRACES, 16),
    ("bad", _INT, 0, 9999),  # records of the batch that did not read (left out of the totals)
)
_ESIGN_STATE = (
    ("batch", _INT, 1, 999999),
    ("trace", _INT, 1, 999999),
    ("esign", _ONE_OF, ESIGN),
    ("time", _INT, 0, 0x7FFFFFFF),
)
SCHEMA = {
    SALE: _TXN,
    VOID: _TXN + (("orig", _ORIG),),
    REFUND: _TXN + (("orig", _REFUND_ORIG), ("reason", _TEXT, 40)),
    STATE: _STATE,
    REVERSAL: _REVERSAL,
    SETTLEMENT: _SETTLEMENT,
    ARCHIVED: _ARCHIVED,
    ARCHIVE_END: _ARCHIVE_END,
    ESIGN_STATE: _ESIGN_STATE,
    ARCHIVED_REFUND: _ARCHIVED_REFUND,
    REPORT: _REPORT,
}
_ARCHIVE_ONLY = (ARCHIVED, ARCHIVE_END, ARCHIVED_REFUND)  # never in a segment


def _field_ok(spec, v):
    """True if v passes the check of a field spec (name, check, arguments...)."""
    check = spec[1]
    if check == _INT:
        return _int(v, spec[2], spec[3])
    if check == _TEXT:
        return _text(v, spec[2])
    if check == _DIGITS:
        return _digits(v, spec[2])
    if check == _DIGITS_OR_EMPTY:
        return _digits_or_empty(v, spec[2])
    if check == _ONE_OF:
        return type(v) is str and v in spec[2]
    if check == _FLAG:
        return v is True or v is False
    if check == _MASKED:
        return masked(v)
    if check == _ORG:
        return _org(v)
    if check == _ORIG:
        return _orig(v)
    if check == _REFUND_ORIG:
        return valid_refund_orig(v)
    if check == _INTS:
        return _list_of(v, spec[2], 999999999999, 0) and len(v) == spec[2]
    if check == _TRACES:
        return _list_of(v, spec[2], 999999, 1)
    return _rrn(v)  # _RRN


def _list_of(v, size, hi, lo):
    if type(v) is not list or len(v) > size:
        return False
    for x in v:
        if not _int(x, lo, hi):
            return False
    return True


def validate(kind, record):
    """The record if it holds exactly its kind's fields, each valid; Damaged otherwise."""
    fields = SCHEMA.get(kind)
    if fields is None or type(record) is not dict or len(record) != len(fields):
        raise Damaged("bad journal record")
    for spec in fields:
        name = spec[0]
        if name not in record or not _field_ok(spec, record[name]):
            raise Damaged("bad journal field " + name)
    return record


# ---- the frame ---------------------------------------------------------------------------------
def frame(kind, seq, record):
    """The bytes appended for one record (validated first: ValueError if it is not valid)."""
    try:
        validate(kind, record)
    except Damaged as exc:
        raise ValueError(str(exc))
    payload = encode(record)
    if len(payload) > PAYLOAD_MAX:
        raise ValueError("journal record too long")
    head = bytearray(HEADER)
    head[0] = _MAGIC0
    head[1] = _MAGIC1
    head[2] = _VERSION
    head[3] = kind
    head[4:8] = (seq & 0xFFFFFFFF).to_bytes(4, "big")
    head[8:10] = len(payload).to_bytes(2, "big")
    crc = crc32(payload, crc32(memoryview(head)[:10]))
    head[10:14] = crc.to_bytes(4, "big")
    return bytes(head) + payload


def segment_name(number):
    return "{}{:06d}".format(SEGMENT_PREFIX, number)


def segment_number(name):
    """The number of a segment file's name, or 0 if name is not one."""
    if not name.startswith(SEGMENT_PREFIX):
        return 0
    tail = name[len(SEGMENT_PREFIX) :]
    if len(tail) != 6 or not tail.isdigit():
        return 0
    return int(tail)


# The archive: one file per settled batch, "arch.<batch>", of ARCHIVED frames and an ARCHIVE_END,
# written as "arch.tmp" then renamed; evicted oldest batch first.
ARCHIVE_PREFIX = "arch."
ARCHIVE_TMP = "arch.tmp"


def archive_name(batch):
    return "{}{:06d}".format(ARCHIVE_PREFIX, batch)


def _archive_batch(name):
    if not name.startswith(ARCHIVE_PREFIX):
        return 0
    tail = name[len(ARCHIVE_PREFIX) :]
    return int(tail) if len(tail) == 6 and tail.isdigit() else 0


def owns(name):
    """True if `name` is one of the journal's files (a segment, an archive or its temporary)."""
    return bool(segment_number(name)) or bool(_archive_batch(name)) or name == ARCHIVE_TMP


class _BatchFiles:
    """The batch journal's entry in firmware/registry.py: its names are open-ended (numbered)."""

    name = "batch"

    def owns(self, name):
        return owns(name)


BATCH_FILES = _BatchFiles()


def files_of(storage):
    """The journal's files in storage, sorted."""
    out = [n for n in storage.names(SEGMENT_PREFIX) if owns(n)]
    out.extend(n for n in storage.names(ARCHIVE_PREFIX) if owns(n))
    out.sort()
    return out


def trace_after(a, b):
    """True if trace a was handed out after trace b: within half the cycle ahead (traces wrap at
    999999 to 1, so the highest trace is not the latest)."""
    d = (a - b) % _TRACE_MAX
    return 0 < d < _TRACE_MAX // 2


class _Reader:
    """Walks one segment's frames through read_into() in a fixed buffer. next() returns
    (kind, seq, offset, payload memoryview) or None at the end; a frame that is not whole and
    correct is skipped by the resync rule: look for the next "QJ" + version byte after its first
    byte, and try again there. `skipped` counts the bytes passed over (damage)."""

    def __init__(self, storage, name, buf):
        self.storage = storage
        self.name = name
        self.buf = buf
        self.size = storage.size(name)
        self.offset = 0
        self.skipped = 0
        self.tail_damaged = False  # the segment ends in bytes that are no frame
        self.gaps = 0  # damaged runs with a whole frame after them (not a torn tail)
        self._gap = False

    def _frame_at(self, offset):
        buf = self.buf
        mv = memoryview(buf)
        if self.storage.read_into(self.name, offset, mv[:HEADER]) != HEADER:
            return None
        if buf[0] != _MAGIC0 or buf[1] != _MAGIC1 or buf[2] != _VERSION or buf[3] not in SCHEMA:
            return None
        length = (buf[8] << 8) | buf[9]
        if not 0 < length <= PAYLOAD_MAX or offset + HEADER + length > self.size:
            return None
        payload = mv[HEADER : HEADER + length]
        if self.storage.read_into(self.name, offset + HEADER, payload) != length:
            return None
        crc = crc32(payload, crc32(mv[:10]))
        if crc != int.from_bytes(bytes(mv[10:14]), "big"):
            return None
        seq = int.from_bytes(bytes(mv[4:8]), "big")
        return buf[3], seq, length, payload

    def _resync(self, start):
        """The offset of the next possible frame start after `start`, or self.size."""
        buf = self.buf
        mv = memoryview(buf)
        offset = start + 1
        while offset < self.size:
            n = self.storage.read_into(self.name, offset, mv[:_CHUNK])
            if n < 3:
                return self.size
            i = 0
            while i < n - 2:
                if buf[i] == _MAGIC0 and buf[i + 1] == _MAGIC1 and buf[i + 2] == _VERSION:
                    return offset + i
                i += 1
            offset += n - 2
        return self.size

    def next(self):
        while self.offset < self.size:
            at = self.offset
            got = self._frame_at(at)
            if got is not None:
                kind, seq, length, payload = got
                self.offset = at + HEADER + length
                if self._gap:
                    self.gaps += 1
                    self._gap = False
                return kind, seq, at, payload
            nxt = self._resync(at)
            self.skipped += nxt - at
            self._gap = True
            self.offset = nxt
            if nxt >= self.size:
                self.tail_damaged = True
        return None


class _Column:
    """One table of the index, by entry: chunks of _ENTRIES values of `width` bytes each (little
    endian, in a bytearray), one more chunk as the batch grows. Nothing is copied when it grows and
    no allocation is larger than a chunk (192 bytes): a table that doubled needed its old and new
    arrays at once, in one run each, which a fragmented heap no longer had (bench/README.md)."""

    def __init__(self, width):
        self.width = width  # bytes a value: 1, 2 or 3
        self.chunks = []

    def add_chunk(self):
        self.chunks.append(bytearray(_ENTRIES * self.width))

    def __getitem__(self, i):
        c = self.chunks[i >> _ENTRIES_SHIFT]
        w = self.width
        o = (i & _ENTRIES_MASK) * w
        if w == 1:
            return c[o]
        if w == 2:
            return c[o] | (c[o + 1] << 8)
        return c[o] | (c[o + 1] << 8) | (c[o + 2] << 16)

    def __setitem__(self, i, value):
        c = self.chunks[i >> _ENTRIES_SHIFT]
        w = self.width
        o = (i & _ENTRIES_MASK) * w
        c[o] = value & 0xFF
        if w > 1:
            c[o + 1] = (value >> 8) & 0xFF
        if w > 2:
            c[o + 2] = value >> 16

    def rfind(self, value, count, below):
        """The largest entry i < below (of the count held) whose value is `value`, or -1. The
        bytes are searched by bytearray.rfind (C), chunk by chunk from the newest; a hit that does
        not start on a value's first byte is skipped."""
        w = self.width
        needle = bytes((value & 0xFF, (value >> 8) & 0xFF, value >> 16)[:w])
        k = (min(count, below) - 1) >> _ENTRIES_SHIFT
        end = (min(count, below) - (k << _ENTRIES_SHIFT)) * w
        while k >= 0:
            c = self.chunks[k]
            at = c.rfind(needle, 0, end)
            while at > 0 and at % w:
                at = c.rfind(needle, 0, at + w - 1)
            if at >= 0 and at % w == 0:
                return (k << _ENTRIES_SHIFT) + at // w
            k -= 1
            end = _ENTRIES * w
        return -1


class Batch:
    """The current batch's journal on `storage`. Opening scans every segment once and builds the
    look-up tables (per transaction: its trace, where its record and its latest change lie, its
    state, a hash of its RRN: 12 bytes in RAM, no record kept). Every
    append is synced before it returns; OSError if storage fails. `damaged_bytes`: bytes of the
    segments that no valid frame holds (a torn tail, garbage), kept in place as evidence.
    `settled`: the number of the last batch closed by a settlement record, or 0."""

    def __init__(self, storage, buf=None):
        self.storage = storage
        # buf: the frame buffer (BUF_BYTES), which the terminal allocates at boot before the heap
        # fragments (a run of 1 KB); else a new one
        self.buf = buf if buf is not None and len(buf) == BUF_BYTES else bytearray(BUF_BYTES)
        self.segments = []  # segment numbers of this journal, oldest first
        self.seq = 0  # the last sequence number appended (or found)
        self.damaged_bytes = 0
        self.settled = 0
        self.last = None  # (batch, trace) of the last transaction appended
        self.count_settled = 0  # > 0: the segments hold a settled batch not yet archived
        self.unreadable = []  # segment names that could not be read (OSError)
        # damaged records in the segments: runs of damage with a frame after them, and frames that
        # do not validate (a torn tail, which a cut leaves, is not counted); settlement lists them
        self.damaged_records = 0
        self._report_at = 0  # 1 + where the settlement's report lies (0: none)
        self._reset_index(64)
        self._open_segment = 0  # the segment appends go to (0: a new one)
        self._seg_size = 0
        self._scan()

    # ---- the index ----------------------------------------------------------------------------
    def _reset_index(self, capacity):
        self.count = 0
        self._cap = 0
        self._trace = _Column(3)
        self._at = _Column(3)  # where its own record lies
        self._change = _Column(3)  # 1 + where its latest change lies (0: none)
        self._rrn = _Column(2)  # 16-bit hash of its RRN (0: none yet); by_rrn reads to be sure
        self._state = _Column(1)
        self._columns = (self._trace, self._at, self._change, self._rrn, self._state)
        while self._cap < capacity:
            self._grow()

    def _grow(self):
        """One more chunk of entries (12 bytes an entry: no hash table, a look-up searches)."""
        cap = self._cap + _ENTRIES
        if cap > _SLOTS_MAX:
            raise JournalFull("too many transactions in one batch")
        for column in self._columns:
            column.add_chunk()
        self._cap = cap

    def _where(self, seg_index, offset):
        return (seg_index << 16) | offset

    def _index_txn(self, trace, where):
        if self.count == self._cap:
            self._grow()
        i = self.count
        self._trace[i] = trace
        self._at[i] = where
        self._change[i] = 0
        self._rrn[i] = 0
        self._state[i] = _STATE_CODES[SENT]
        self.count = i + 1

    def _find_t(self, trace):
        """The index entry of the latest transaction with this trace, or -1."""
        return self._trace.rfind(trace, self.count, self.count)

    def _index_change(self, kind, record, where):
        i = self._find_t(record["trace"])
        if i < 0:
            return
        sig = self._state[i] & _ESIGN_BITS
        if kind == REVERSAL:  # the state moves; the outcome fields stay those of the last change
            if record["result"] == "reversed":
                self._state[i] = _STATE_CODES[REVERSED] | sig
            else:
                self._state[i] = _STATE_CODES[IN_DOUBT] | _REVERSAL_FAILED | sig
            return
        sig = ESIGN.index(record["esign"]) << _ESIGN_SHIFT
        if kind == ESIGN_STATE:  # the e-signature alone: the state and the outcome fields stay
            self._state[i] = (self._state[i] & _LOW_BITS) | sig
            return
        self._change[i] = where + 1
        rrn = record["rrn"]
        if rrn and not self._rrn[i]:
            self._rrn[i] = _rrn_hash(rrn)
        self._state[i] = _STATE_CODES[record["state"]] | (self._state[i] & _REVERSAL_FAILED) | sig

    # ---- reading ------------------------------------------------------------------------------
    def _scan(self):
        numbers = []
        for name in self.storage.names(SEGMENT_PREFIX):
            n = segment_number(name)
            if n:
                numbers.append(n)
        numbers.sort()
        self.segments = numbers
        tail_damaged = False
        for index in range(len(numbers)):
            name = segment_name(numbers[index])
            try:
                reader = self._scan_segment(index, name)
            except OSError:
                # unreadable (a directory in the way, a failing block): kept as it is, reported,
                # never appended to
                self.unreadable.append(name)
                tail_damaged = True
                continue
            self.damaged_bytes += reader.skipped
            self.damaged_records += reader.gaps
            tail_damaged = reader.tail_damaged
            self._seg_size = reader.size
        if numbers and not tail_damaged and self._seg_size < SEGMENT_BYTES:
            self._open_segment = numbers[-1]
        else:
            self._open_segment = 0  # a torn tail is never appended to: the next record starts a segment
        if self.settled and self.count_settled:
            self._close()  # a cut came between the settlement record and the end of the closing

    def _scan_segment(self, index, name):
        reader = _Reader(self.storage, name, self.buf)
        if index >= SEGMENTS_MAX or reader.size > 0xFFFF:
            raise OSError(_EFBIG)  # its records' places would not fit the index's three bytes
        while True:
            got = reader.next()
            if got is None:
                return reader
            kind, seq, offset, payload = got
            try:
                record = validate(kind, decode(payload))
            except Damaged:
                self.damaged_bytes += HEADER + len(payload)
                self.damaged_records += 1
                continue
            if kind in _ARCHIVE_ONLY:  # only an archive holds these
                self.damaged_bytes += HEADER + len(payload)
                self.damaged_records += 1
                continue
            self._apply(kind, seq, record, self._where(index, offset))

    def _apply(self, kind, seq, record, where):
        if seq > self.seq:
            self.seq = seq
        if kind in TXN_KINDS:
            self._index_txn(record["trace"], where)
            self.last = (record["batch"], record["trace"])
        elif kind == SETTLEMENT:
            self.settled = record["batch"]
            self.count_settled = self.count  # the transactions the closing archives
        elif kind == REPORT:
            self._report_at = where + 1  # the closing copies it into the archive
        else:
            self._index_change(kind, record, where)

    def _read(self, where):
        """(kind, record) of the frame at `where`; Damaged if it no longer reads back."""
        index = where >> 16
        reader = _Reader(self.storage, segment_name(self.segments[index]), self.buf)
        got = reader._frame_at(where & 0xFFFF)
        if got is None:
            raise Damaged("journal frame unreadable")
        return got[0], validate(got[0], decode(got[3]))

    def _view(self, i):
        kind, record = self._read(self._at[i])
        view = dict(record)
        view["kind"] = KIND_NAMES[kind]
        for name in ("code", "rrn", "auth", "f12", "f13", "f15"):
            view[name] = ""
        view["refunded"] = 0
        if self._change[i]:
            change = self._read(self._change[i] - 1)[1]
            for name in ("code", "rrn", "auth", "f12", "f13", "f15", "refunded"):
                view[name] = change[name]
        code = self._state[i]
        view["esign"] = ESIGN[code >> _ESIGN_SHIFT]  # the latest STATE or ESIGN_STATE record's
        view["state"] = _STATE_NAMES[code & 0x0F]
        view["reversal"] = "failed" if code & _REVERSAL_FAILED else ""
        return view

    def by_trace(self, trace):
        """The transaction of this batch with this trace as a dict (its record, its latest state,
        code, RRN, auth, F12/F13/F15, e-signature state, refunded so far), or None."""
        i = self._find_t(trace)
        return None if i < 0 else self._view(i)

    def by_rrn(self, rrn):
        """The transaction whose answer carried this RRN, or None."""
        if not rrn:
            return None
        h = _rrn_hash(rrn)
        i = self._rrn.rfind(h, self.count, self.count)
        while i >= 0:
            view = self._view(i)
            if view["rrn"] == rrn:
                return view
            i = self._rrn.rfind(h, self.count, i)
        return None

    def transactions(self):
        """Every transaction of the batch, oldest first, as by_trace() gives it (one at a time)."""
        for i in range(self.count):
            yield self._view(i)

    def at(self, i):
        """The i-th transaction (0 the oldest), for a list scrolled on the screen."""
        return self._view(i)

    def index_of(self, trace):
        """i of the latest transaction with this trace (for at() and entry()), or -1 (from RAM)."""
        return self._find_t(trace)

    def entry(self, i):
        """(trace, state, e-signature state) of the i-th transaction, from RAM: nothing is read."""
        code = self._state[i]
        return self._trace[i], _STATE_NAMES[code & 0x0F], ESIGN[code >> _ESIGN_SHIFT]

    def state_of(self, trace):
        """The state of the transaction with this trace (from RAM: nothing is read), or None."""
        i = self._find_t(trace)
        return None if i < 0 else _STATE_NAMES[self._state[i] & 0x0F]

    def reversal_failed(self, trace):
        """True if the reversal of the transaction with this trace was given up (from RAM)."""
        i = self._find_t(trace)
        return i >= 0 and bool(self._state[i] & _REVERSAL_FAILED)

    def busy(self, batch):
        """True if the segments hold a transaction of `batch` that moved money or may have (sent,
        approved, in doubt, voided): the terminal's identity must not change before it is settled.
        A record that no longer reads back counts as busy (unknown is never "empty")."""
        for i in range(self.count):
            if _STATE_NAMES[self._state[i] & 0x0F] in (SENT, APPROVED, IN_DOUBT, VOIDED):
                try:
                    if self._view(i)["batch"] == batch:
                        return True
                except (Damaged, OSError):
                    return True
        return False

    def closed(self, batch):
        """True if `batch` was settled: its settlement record is in the segments, or its archive
        is on storage (one size() asked)."""
        if batch == self.settled:
            return True
        try:
            self.storage.size(archive_name(batch))
            return True
        except OSError:
            return False

    # ---- writing -------------------------------------------------------------------------------
    def _append(self, kind, record):
        data = frame(kind, self.seq + 1, record)
        if self._open_segment == 0 or self._seg_size + len(data) > SEGMENT_BYTES:
            number = (self.segments[-1] + 1) if self.segments else 1
            if number > _SEGMENT_MAX or len(self.segments) >= SEGMENTS_MAX:
                raise JournalFull("no segment number left")
            self.segments.append(number)
            self._open_segment = number
            self._seg_size = 0
        name = segment_name(self._open_segment)
        offset = self._seg_size
        try:
            self.storage.append(name, data)
            self.storage.sync()
        except OSError:
            # part of it may have landed: the next record starts a new segment after a re-read
            self._resync_after_failure(name)
            raise
        self._seg_size = offset + len(data)
        self.seq += 1
        self._apply(kind, self.seq, record, self._where(len(self.segments) - 1, offset))

    def _resync_after_failure(self, name):
        try:
            self._seg_size = self.storage.size(name)
        except OSError as exc:
            if exc.args and exc.args[0] == ENOENT and self.segments[-1] == self._open_segment:
                self.segments.pop()
        self._open_segment = 0

    def begin(self, kind, record):
        """Append a sale, void or refund in state sent (before its request goes). record: every
        field of its kind (SCHEMA). ValueError if it is not valid."""
        if kind not in TXN_KINDS:
            raise ValueError("not a transaction kind")
        self._append(kind, record)

    def change(self, batch, trace, now, **fields):
        """Append a state change of (batch, trace): its fields are the latest ones with `fields`
        over them (state, code, rrn, auth, f12, f13, f15, esign, refunded). The e-signature's state
        alone is an ESIGN_STATE record: a fraction of a whole STATE record's bytes."""
        i = self._find_t(trace)
        if i < 0:
            raise ValueError("no such transaction in the batch")
        if len(fields) == 1 and "esign" in fields:  # the e-signature alone: its small record
            self._append(ESIGN_STATE, {"batch": batch, "trace": trace, "esign": fields["esign"], "time": now})
            return
        view = self._view(i)
        record = {"batch": batch, "trace": trace, "time": now}
        for name in ("state", "code", "rrn", "auth", "f12", "f13", "f15", "esign", "refunded"):
            record[name] = fields.pop(name, view[name])
        if fields:
            raise ValueError("unknown field " + sorted(fields)[0])
        self._append(STATE, record)

    def reversal_outcome(self, batch, trace, result, code, now):
        """A reversal of (batch, trace) was answered (reversed) or given up (failed)."""
        rec = {"batch": batch, "trace": trace, "result": result, "code": code, "time": now}
        self._append(REVERSAL, rec)

    def settle(self, record, report=None):
        """Append the settlement's report (REPORT, when given) and its record, then close the
        batch: its rows and the report go into the archive and its segments are removed. A cut
        anywhere in between: the next open finishes the closing."""
        if report is not None:
            self._append(REPORT, report)
        self._append(SETTLEMENT, record)
        self._close()

    def _close(self):
        storage = self.storage
        batch = self.settled
        _remove(storage, ARCHIVE_TMP)
        seq = 0
        refunded = {}
        head = bytearray(6)  # an upload's answer code, read from its file (_upload_open)
        for t in self.transactions():
            if t["kind"] == "refund" and t["state"] in (APPROVED, IN_DOUBT, SENT):
                key = (t["orig"]["batch"], t["orig"]["trace"])  # (0, 0): an original not in the journal
                refunded[key] = refunded.get(key, 0) + t["amount"]
        for t in self.transactions():
            if t["kind"] == "refund" and t["state"] in (APPROVED, IN_DOUBT, SENT):
                # kept confirmed or not: one not confirmed is resent by later sweeps, never evicted
                seq += 1
                row = self._archive_row(t, head)
                row["orig"] = t["orig"]
                row["state"] = APPROVED if t["state"] == APPROVED else IN_DOUBT
                storage.append(ARCHIVE_TMP, frame(ARCHIVED_REFUND, seq, row))
                continue
            if t["state"] not in (APPROVED, VOIDED):
                continue
            seq += 1
            row = self._archive_row(t, head)
            row["kind"] = t["kind"]
            row["voided"] = t["state"] == VOIDED
            row["refunded"] = max(t["refunded"], refunded.get((t["batch"], t["trace"]), 0))
            storage.append(ARCHIVE_TMP, frame(ARCHIVED, seq, row))
        if self._report_at:
            try:
                report = self._read(self._report_at - 1)[1]
            except Damaged:
                report = None  # it no longer reads: the archive goes without it
            if report is not None and report["batch"] == batch:
                storage.append(ARCHIVE_TMP, frame(REPORT, seq + 1, report))
        storage.append(ARCHIVE_TMP, frame(ARCHIVE_END, seq + 1, {"batch": batch, "rows": seq}))
        storage.sync()
        storage.rename(ARCHIVE_TMP, archive_name(batch))
        storage.sync()
        for number in self.segments:
            _remove(storage, segment_name(number))
        self.segments = []
        self._report_at = 0
        self._open_segment = 0
        self._seg_size = 0
        self.count_settled = 0
        self._reset_index(64)

    def _archive_row(self, t, head):
        """What an archive row of a transaction holds whatever its kind (a sale's and a void's
        add theirs, a refund's its own: SCHEMA)."""
        return {
            "batch": t["batch"],
            "trace": t["trace"],
            "rrn": t["rrn"],
            "date": t["f13"],
            "amount": t["amount"],
            "open": self._upload_open(t, head),
        }

    def _upload_open(self, t, head):
        """The archive row's `open` of a transaction: its upload is not done (the host has not
        answered 00 or 94), the signature's (its e-signature state pending or failed) or an
        unsigned one's receipt (its file's code: firmware/sigfile.py upload_code)."""
        esign = t["esign"]
        if esign in ("pending", "failed"):
            return True
        if esign == "uploaded":
            return False
        code = upload_code(self.storage, t["batch"], t["trace"], head)
        return code is not None and code not in UPLOAD_DONE

    # ---- the archive -------------------------------------------------------------------------------
    def archives(self):
        """The batch numbers of the archive files, oldest first (by name: batch numbers rise)."""
        out = []
        for name in self.storage.names(ARCHIVE_PREFIX):
            b = _archive_batch(name)
            if b:
                out.append(b)
        out.sort()
        return out

    def archived(self, trace=None, rrn=None):
        """The archive row of a settled transaction by trace or RRN (the newest batch first), or
        None. A row: batch, trace, kind, rrn, date, amount, voided, refunded, open; a refund's
        row also `orig` (its original) and `state` (approved, in_doubt: not confirmed, declined,
        notdone)."""
        found = self.archive_rows(trace, rrn)
        return found[0] if found else None

    def archive_rows(self, trace=None, rrn=None, limit=1):
        out = []
        for b in reversed(self.archives()):
            for row in self._rows_of(b):
                if (trace is None or row["trace"] == trace) and (rrn is None or row["rrn"] == rrn):
                    out.append(row)
                    if limit and len(out) >= limit:
                        return out
        return out

    def archived_unconfirmed(self):
        """The archived refunds not confirmed (state in_doubt), oldest batch first, each as
        Batch.by_trace shows a refund (batch, trace, amount, orig, state, ...) with `archived`
        True: the settlement's sweep resends them card-less (firmware.online.RefundResend)."""
        out = []
        for b in self.archives():
            for row in self._rows_of(b):
                if row["kind"] == "refund" and row.get("state") == IN_DOUBT:
                    view = dict(row)
                    view["archived"] = True
                    view["esign"] = "none"
                    out.append(view)
        return out

    def archived_refunded(self, rrn, orig_batch):
        """Fen of the archived refunds of the original with this RRN that moved money or may have
        (approved, not confirmed), from batches other than the original's own (its row's
        `refunded` counts those): the local guard adds them."""
        total = 0
        for b in self.archives():
            if b == orig_batch:
                continue
            for row in self._rows_of(b):
                if "orig" in row and row["orig"]["rrn"] == rrn and row["state"] in (APPROVED, IN_DOUBT):
                    total += row["amount"]
        return total

    def archive_resolve(self, batch, trace, state, rrn=""):
        """An archived refund not confirmed got the answer to its resend: `state` approved (with
        its RRN), declined or notdone. Its archive is written again (arch.tmp, synced, renamed over
        it: a cut leaves the old one or the new) with the row's state, and for a refund not done or
        declined its original's `refunded` less its amount when the original is in the same
        archive. True if it was found not confirmed."""
        storage = self.storage
        name = archive_name(batch)
        row = None
        for r in self._rows_of(batch):
            if r["kind"] == "refund" and r["trace"] == trace and r.get("state") == IN_DOUBT:
                row = r
        if row is None:
            return False
        _remove(storage, ARCHIVE_TMP)
        undo = row["orig"] if state != APPROVED and row["orig"]["batch"] == batch else None
        reader = _Reader(storage, name, self.buf)
        while True:
            got = reader.next()
            if got is None:
                break
            kind, seq, _, payload = got
            data = bytes(self.buf[: HEADER + len(payload)])
            if kind in (ARCHIVED, ARCHIVED_REFUND):
                try:
                    r = validate(kind, decode(payload))
                except Damaged:
                    r = None
                mine = r is not None and kind == ARCHIVED_REFUND and r["trace"] == trace
                if mine and r["state"] == IN_DOUBT:
                    r["state"] = state
                    r["rrn"] = rrn if state == APPROVED and _rrn(rrn) else ""
                    data = frame(kind, seq, r)
                elif r is not None and undo is not None and kind == ARCHIVED and r["trace"] == undo["trace"]:
                    r["refunded"] = max(0, r["refunded"] - row["amount"])
                    data = frame(kind, seq, r)
            storage.append(ARCHIVE_TMP, data)
        storage.sync()
        storage.rename(ARCHIVE_TMP, name)
        storage.sync()
        return True

    def report(self, batch=None):
        """The settlement report kept in the archive of `batch` (the newest archive when None),
        or None (no archive, or one written without a report)."""
        if batch is None:
            got = self.archives()
            if not got:
                return None
            batch = got[-1]
        for row in self._rows_of(batch, False, REPORT):
            return row
        return None

    def _evictable(self, batch):
        """Only a whole archive (its end frame read back) with no open row (an upload not done, a
        refund not confirmed) may go. A row open at the closing is done once its file keeps the
        host's 00 or 94 (the settled batches' uploads write it there: firmware/esign.py), or has
        no file left to upload."""
        complete = False
        head = bytearray(6)
        for row in self._rows_of(batch, True):
            if row is None:
                complete = True
            elif row.get("state") == IN_DOUBT:
                return False
            elif row["open"]:
                code = upload_code(self.storage, batch, row["trace"], head)
                if code is not None and code not in UPLOAD_DONE:
                    return False
        return complete

    def open_rows(self):
        """Every archive row open at its closing (an upload not done then), oldest batch first, one
        at a time: the settlement's sweep reads their files for what is still to upload."""
        for b in self.archives():
            for row in self._rows_of(b):
                if row["open"]:
                    yield row

    def _rows_of(self, batch, with_end=False, want=ARCHIVED):
        """The valid rows of an archive (an unreadable one has none), a refund's row as
        archived() gives it; with_end: None for its end. want REPORT: its report instead."""
        name = archive_name(batch)
        try:
            reader = _Reader(self.storage, name, self.buf)
        except OSError:
            return
        while True:
            try:
                got = reader.next()
            except OSError:
                return
            if got is None:
                return
            kind = got[0]
            if kind not in (want, ARCHIVE_END, ARCHIVED_REFUND):
                continue
            try:
                row = validate(kind, decode(got[3]))
            except Damaged:
                continue
            if kind == want:
                yield row
            elif kind == ARCHIVED_REFUND:
                if want == ARCHIVED:
                    row["kind"] = "refund"
                    row["voided"] = False
                    row["refunded"] = 0
                    yield row
            elif with_end and row["batch"] == batch:
                yield None

    def evict(self, need):
        """Remove archived batches, oldest first, until `need` bytes are free; a batch with a row
        not yet uploaded or a refund not confirmed is never removed. Each batch removed takes its
        files (PER_BATCH: remove_batch_files) with it. Returns the batches removed."""
        gone = []
        kept = self.archives()
        for b in list(kept):
            if self.storage.free() >= need:
                break
            if self._evictable(b):
                kept.remove(b)
                # its files first, with any a cut left of batches already gone (below it, no
                # archive); then the archive: a cut between leaves the archive, evicted again next
                remove_batch_files(self.storage, PER_BATCH, lambda x, b=b: x <= b and x not in kept)
                self.storage.remove(archive_name(b))
                gone.append(b)
        return gone

    # ---- capacity -----------------------------------------------------------------------------
    def room(self, batch_size):
        """None if one more transaction fits (its records and receipt, a settlement kept free),
        else why not ("count" or "space"): checked before a trace number is consumed."""
        if self.count >= batch_size:
            return "count"
        need = TXN_ROOM + SETTLEMENT_ROOM
        if self.storage.free() < need:
            self.evict(need)
            if self.storage.free() < need:
                return "space"
        return None

    def fill_percent(self, batch_size):
        """How full the batch is, 0..100: by count against batch_size, or by the transactions the
        free space still holds, whichever is fuller."""
        by_count = self.count * 100 // batch_size
        left = (self.storage.free() - SETTLEMENT_ROOM) // TXN_ROOM
        if left < 0:
            left = 0
        total = self.count + left
        by_space = 100 if total == 0 else self.count * 100 // total
        return min(100, max(by_count, by_space))

    def totals(self):
        """batch_totals() of this batch."""
        return batch_totals(self.transactions())


def _remove(storage, name):
    """Remove a file; one already gone is fine (a cut may have come after its removal)."""
    try:
        storage.remove(name)
    except OSError as exc:
        if not exc.args or exc.args[0] != ENOENT:
            raise


# Files kept per transaction beside the journal, named "<prefix>BBBBBB.TTTTTT" (batch, trace): the
# signature images (firmware/sigfile.py) and the signed e-receipts (firmware/receipt.py). They go
# when their batch leaves the archive.
PER_BATCH = ("sig.", "rct.")


def per_batch_key(name, prefixes):
    """The batch number of a per-batch file's name ("<prefix>BBBBBB.TTTTTT"), or 0."""
    for prefix in prefixes:
        key = file_key(name, prefix)
        if key is not None:
            return key[0]
    return 0


def remove_batch_files(storage, prefixes, goes):
    """Remove every file named "<prefix>BBBBBB.TTTTTT" (one of `prefixes`) whose batch number b
    has goes(b) true: the one removal of per-batch files (eviction: the evicted batch's, and
    those of older batches no archive holds any more, which a cut left). One file at a time: a cut
    leaves some removed, which is all right (each file is whole or gone, and nothing at boot needs
    them); the next removal takes the rest. Returns how many went."""
    n = 0
    for prefix in prefixes:
        before = None
        while True:
            # names() must not run while files go: a few at a time, then the folder again (a
            # list of a batch's files would be kilobytes of heap at once)
            chunk = []
            for name in storage.names(prefix):
                b = per_batch_key(name, prefixes)
                if b and goes(b):
                    chunk.append(name)
                    if len(chunk) == REMOVE_CHUNK:
                        break
            if chunk and chunk == before:
                break  # removed and still listed: a folder that does not change is not walked forever
            for name in chunk:
                _remove(storage, name)
            n += len(chunk)
            if len(chunk) < REMOVE_CHUNK:
                break
            before = chunk
    return n


def _rrn_hash(rrn):
    """16 bits of an RRN (never 0): the index keeps this; by_rrn reads the record to be sure."""
    h = 5381
    for ch in rrn:
        h = ((h * 33) ^ ord(ch)) & 0x3FFFFFF
    return ((h ^ (h >> 16)) & 0xFFFF) or 1


_STATE_NAMES = {}
for _name in _STATE_CODES:
    _STATE_NAMES[_STATE_CODES[_name]] = _name


# What counts toward a batch's totals: an approved sale or refund (a void takes its sale out: the
# sale is voided, and the void itself is not counted); declined, unsent, in-doubt and reversed ones
# moved no money.
def batch_totals(transactions):
    """{kind: (count, sum in fen)} for sale, void, refund, and the settlement's split (F48):
    "domestic" and "foreign" each (debit count, debit sum, credit count, credit sum). Query shows
    it; settlement sends it."""
    out = {"sale": [0, 0], "void": [0, 0], "refund": [0, 0]}
    split = {"domestic": [0, 0, 0, 0], "foreign": [0, 0, 0, 0]}
    for t in transactions:
        kind = t["kind"]
        if t["state"] != APPROVED:
            continue
        out[kind][0] += 1
        out[kind][1] += t["amount"]
        side = split["domestic" if domestic(t["org"]) else "foreign"]
        if kind == "sale":
            side[0] += 1
            side[1] += t["amount"]
        elif kind == "refund":
            side[2] += 1
            side[3] += t["amount"]
    result = {}  # type: dict
    for k in out:
        result[k] = (out[k][0], out[k][1])
    for k in split:
        result[k] = tuple(split[k])
    return result
