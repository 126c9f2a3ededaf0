# Every message QianPOS sends to the acquirer host, and the checks an answer must pass before the
# terminal trusts it (what a host builds in answer is in answers.py). No I/O and no keys: the
# session MACs a frame with the security module over codec.mac_input and fills codec.put_mac.
#
# Builders take ints for money (fen), trace and batch numbers, and return a codec.Message whose
# fields are wire strings. The PAN travels only in F35 (track 2) of a request held in RAM; a
# reversal drops it. docs/PROTOCOL.md has a table per message.

from firmware.host.codec import (
    HEADER,
    MAC_ROOM,
    TPDU,
    Message,
    ProtocolError,
    answer_mti,
    f60,
    num,
    parse_f60,
    reply_tpdu,
    tlv_build,
)

# F3 processing codes
PROC_SALE = "000000"
PROC_VOID = "200000"
PROC_REFUND = "200000"
# 60.1 message types
TYPE_NETWORK = "00"
TYPE_ESIGN = "07"
TYPE_SALE = "22"
TYPE_VOID = "23"
TYPE_REFUND = "25"
# 60.3 network management codes
NET_NONE = "000"
NET_SIGN_IN_SINGLE = "001"  # single-length keys (refused by the security module)
NET_SIGN_OFF = "002"
NET_SIGN_IN = "003"  # double-length PIN and MAC keys: what we ask for
NET_SIGN_IN_TRACK = "004"  # double-length plus a track key
NET_SETTLE = "201"
NET_UPLOAD = "201"  # one batch-upload item
NET_UPLOAD_END = "202"  # end of the upload that follows an unbalanced settlement
NET_UPLOAD_END_BALANCED = "207"  # end of an upload after a balanced one
NET_ECHO = "301"
NET_ESIGN = "800"

CNY = "156"
CONDITION_NORMAL = "00"  # F25
PIN_MAX_LENGTH = "12"  # F26
SECURITY_PIN = "2600000000000000"  # F53: format 0 (with PAN), double-length key, track clear

# F39 of a reversal: why the terminal reverses (docs/PROTOCOL.md, Reversal)
REVERSE_NO_ANSWER = "98"
REVERSE_MAC = "A0"
REVERSE_TERMINAL = "96"  # approved, but the terminal could not complete
REVERSE_OTHER = "06"

APPROVED = "00"
REVERSAL_DONE = ("00", "12", "25")  # 12/25: nothing to reverse, also done
UPLOAD_DONE = ("00", "94")  # 94: the host has it already

# Settlement results (the digit after each set of totals in the 0510's F48)
BALANCED = 1
UNBALANCED = 2
SETTLE_ERROR = 3

MAC_MTIS = ("0100", "0110", "0200", "0210", "0220", "0230", "0400", "0410")

# F22 first two digits by card reader mode (hal.contracts CARD_*); "01" = no card read (a void
# without the card). Scanned codes are not supported yet.
_ENTRY = (("swipe", "02"), ("insert", "05"), ("tap", "07"))
_NO_CARD = "01"

# A reversal never carries these: PAN, PIN capture, track 2 and 3, RRN, PIN block and control.
_NOT_IN_REVERSAL = (2, 26, 35, 36, 37, 52, 53)

# Response codes with a message of their own in firmware/strings.py ("rc_" + code); any other
# shows "rc_other" with the code.
RESPONSE_CODES = (
    "00",
    "03",
    "05",
    "12",
    "13",
    "14",
    "22",
    "25",
    "30",
    "35",
    "41",
    "43",
    "51",
    "54",
    "55",
    "57",
    "58",
    "61",
    "64",
    "75",
    "91",
    "94",
    "96",
    "98",
    "A0",
)


class Acceptor:
    """Who asks (受卡方): terminal id (F41, 8 chars), merchant id (F42, 15 chars), read
    capability (60.4: "6" = contact and contactless chip), and the frames' TPDU and header."""

    __slots__ = ("terminal_id", "merchant_id", "capability", "tpdu", "header")

    def __init__(self, terminal_id, merchant_id, capability="6", tpdu=TPDU, header=HEADER):
        self.terminal_id = terminal_id
        self.merchant_id = merchant_id
        self.capability = capability
        self.tpdu = tpdu
        self.header = header


def acceptor(params):
    """The Acceptor of the terminal's parameters (terminal id, merchant id, the TPDU parameter: 10
    digits, 60 then the destination and source NII)."""
    tpdu = params.tpdu
    tpdu_bytes = bytes([int(tpdu[i : i + 2], 16) for i in range(0, 10, 2)]) if tpdu else TPDU
    return Acceptor(params.terminal_id, params.merchant_id, tpdu=tpdu_bytes)


def carries_mac(mti):
    """True if messages of this MTI carry F64 (financial requests, reversals, their answers)."""
    return mti in MAC_MTIS


def _trace(n):
    if type(n) is not int or not 0 < n <= 999999:
        raise ProtocolError("trace must be 1..999999")
    return num(n, 6)


def _amount(fen):
    if type(fen) is not int or not 0 < fen <= 999999999999:
        raise ProtocolError("amount must be 1..999999999999 fen")
    return num(fen, 12)


def _text(value, size, what):
    if type(value) is not str or len(value) != size:
        raise ProtocolError("{} must be {} characters".format(what, size))
    return value


def _base(acc, mti, trace):
    m = Message(mti, {41: acc.terminal_id, 42: acc.merchant_id}, acc.tpdu, acc.header)
    if trace is not None:
        m[11] = _trace(trace)
    return m


def _operator(op):
    if type(op) is not str or len(op) != 2 or not op.isdigit() or len(op.encode()) != 2:
        raise ProtocolError("operator must be 2 digits")
    return op.encode() + b" "  # 63.1, ans3


def _card(m, track2, entry, pin_block, track3, card_seq):
    mode = None
    for name, code in _ENTRY:
        if name == entry:
            mode = code
    if mode is None:
        raise ProtocolError("card entry mode not supported")
    if type(track2) is not str or (track3 is not None and type(track3) is not str):
        raise ProtocolError("track data must be a str")
    m[35] = track2.replace("=", "D")
    if track3:
        m[36] = track3.replace("=", "D")
    if card_seq is not None:
        m[23] = num(card_seq, 3)
    _pin(m, mode, pin_block)


def _pin(m, mode, pin_block):
    if pin_block is None:
        m[22] = mode + "2"
        return
    if (type(pin_block) is not bytes and type(pin_block) is not bytearray) or len(pin_block) != 8:
        raise ProtocolError("PIN block must be 8 bytes")
    m[22] = mode + "1"
    m[26] = PIN_MAX_LENGTH
    m[52] = bytes(pin_block)
    m[53] = SECURITY_PIN


# ---- network management -----------------------------------------------------------------------
def sign_in(acc, trace, batch, operator="01"):
    """0800 sign-in (签到), asking for double-length PIN and MAC keys (60.3 = 003)."""
    m = _base(acc, "0800", trace)
    m[60] = f60(TYPE_NETWORK, batch, NET_SIGN_IN)
    m[63] = _operator(operator)
    return m


def sign_off(acc, trace, batch, operator="01"):
    """0820 sign-off (签退), 60.3 = 002, F63 the operator signed in (as the 0800's)."""
    m = _base(acc, "0820", trace)
    m[60] = f60(TYPE_NETWORK, batch, NET_SIGN_OFF)
    m[63] = _operator(operator)
    return m


def echo(acc, batch):
    """0820 echo test (回响测试), 60.3 = 301; it consumes no trace number (no F11)."""
    m = _base(acc, "0820", None)
    m[60] = f60(TYPE_NETWORK, batch, NET_ECHO)
    return m


# ---- financial ----------------------------------------------------------------------------------
def sale(acc, trace, batch, amount, track2, entry, pin_block=None, track3=None, card_seq=None):
    """0200 sale (消费). `entry` is the reader mode ("swipe", "insert", "tap"); `pin_block` the
    8-byte encrypted block from PIN entry, or None. F64 is left as MAC_ROOM."""
    m = _base(acc, "0200", trace)
    m[3] = PROC_SALE
    m[4] = _amount(amount)
    _card(m, track2, entry, pin_block, track3, card_seq)
    m[25] = CONDITION_NORMAL
    m[49] = CNY
    m[60] = f60(TYPE_SALE, batch, NET_NONE, acc.capability, "0")
    m[64] = MAC_ROOM
    return m


def void(
    acc,
    trace,
    batch,
    amount,
    orig_batch,
    orig_trace,
    orig_rrn,
    orig_auth="",
    track2=None,
    entry=None,
    pin_block=None,
    track3=None,
):
    """0200 void (消费撤销) of a sale of this batch: proc 200000, 60.1 = 23, the original's full
    amount, RRN (F37), auth code (F38, when it had one), batch and trace (F61). The card is
    optional (a parameter): without it F22 says "012" and no card data is sent."""
    m = _base(acc, "0200", trace)
    m[3] = PROC_VOID
    m[4] = _amount(amount)
    if track2 is None:
        _pin(m, _NO_CARD, pin_block)
    else:
        _card(m, track2, entry, pin_block, track3, None)
    m[25] = CONDITION_NORMAL
    m[37] = _text(orig_rrn, 12, "RRN")
    if orig_auth:
        m[38] = _text(orig_auth, 6, "auth code")
    m[49] = CNY
    m[60] = f60(TYPE_VOID, batch, NET_NONE, acc.capability, "0")
    m[61] = num(orig_batch, 6) + _trace(orig_trace)
    m[64] = MAC_ROOM
    return m


def refund(
    acc,
    trace,
    batch,
    amount,
    orig_rrn,
    orig_date,
    track2,
    entry,
    pin_block=None,
    orig_batch=0,
    orig_trace=0,
    track3=None,
):
    """0220 refund (退货): the card, the original's RRN (F37) and date MMDD (61.3); 61.1/61.2
    carry the original batch and trace when the journal still has it, else zeros. track2 None:
    the card-less resend of a refund not confirmed (F22 "012", no card data)."""
    m = _base(acc, "0220", trace)
    m[3] = PROC_REFUND
    m[4] = _amount(amount)
    if track2 is None:
        _pin(m, _NO_CARD, pin_block)
    else:
        _card(m, track2, entry, pin_block, track3, None)
    m[25] = CONDITION_NORMAL
    m[37] = _text(orig_rrn, 12, "RRN")
    m[49] = CNY
    m[60] = f60(TYPE_REFUND, batch, NET_NONE, acc.capability, "0")
    if type(orig_date) is not str or len(orig_date) != 4 or not orig_date.isdigit():
        raise ProtocolError("original date must be MMDD")
    m[61] = num(orig_batch, 6) + num(orig_trace, 6) + orig_date
    m[64] = MAC_ROOM
    return m


def reversal(request, reason):
    """0400 reversal (冲正) built from the original 0200 (sale or void): the original's F11 and
    60.1, no PAN, track, PIN or RRN fields, F61 only for a void, F39 = `reason` (REVERSE_*).
    It consumes no trace number. F64 is left as MAC_ROOM."""
    if request.mti != "0200":
        raise ProtocolError("only a 0200 is reversed")
    if type(reason) is not str or len(reason) != 2:
        raise ProtocolError("reversal reason must be 2 characters")
    m = request.copy()
    m.mti = "0400"
    for n in _NOT_IN_REVERSAL:
        m.fields.pop(n, None)
    if parse_f60(m.get(60, ""))[0] != TYPE_VOID:
        m.fields.pop(61, None)
    m[39] = reason
    m[64] = MAC_ROOM
    return m


# ---- settlement and uploads -------------------------------------------------------------------
def _side(fen, count):
    if type(fen) is not int or type(count) is not int or not 0 <= count <= 999:
        raise ProtocolError("totals must be ints, count 0..999")
    return num(fen, 12) + num(count, 3)


def settlement_totals(debit_fen, debit_count, credit_fen, credit_count, foreign=(0, 0, 0, 0)):
    """F48 of a 0500 (62 digits): domestic debit amount n12 + count n3, credit amount + count,
    result digit 0; then the same for foreign cards. Debit = sales; credit = voids and refunds."""
    home = _side(debit_fen, debit_count) + _side(credit_fen, credit_count) + "0"
    away = _side(foreign[0], foreign[1]) + _side(foreign[2], foreign[3]) + "0"
    return home + away


def parse_settlement_totals(value):
    """((debit fen, debit count, credit fen, credit count, result), (the same, foreign)) of a
    62-digit F48; result is 0 in a request, BALANCED/UNBALANCED/SETTLE_ERROR in an answer."""
    if type(value) is not str or len(value) != 62 or not value.isdigit():
        raise ProtocolError("F48 is not settlement totals")
    out = []
    for at in (0, 31):
        s = value[at : at + 31]
        out.append((int(s[0:12]), int(s[12:15]), int(s[15:27]), int(s[27:30]), int(s[30])))
    return out[0], out[1]


def settlement(
    acc, trace, batch, debit_fen, debit_count, credit_fen, credit_count, operator="01", foreign=(0, 0, 0, 0)
):
    """0500 settlement (结算) of `batch` with its domestic totals and its foreign ones (debit fen,
    count, credit fen, count)."""
    m = _base(acc, "0500", trace)
    m[48] = settlement_totals(debit_fen, debit_count, credit_fen, credit_count, foreign)
    m[49] = CNY
    m[60] = f60(TYPE_NETWORK, batch, NET_SETTLE)
    m[63] = _operator(operator)
    return m


def settlement_result(answer):
    """(domestic, foreign) results of a 0510: BALANCED, UNBALANCED or SETTLE_ERROR each."""
    home, away = parse_settlement_totals(answer.get(48))
    for r in (home[4], away[4]):
        if r not in (BALANCED, UNBALANCED, SETTLE_ERROR):
            raise ProtocolError("F48 settlement result is not 1, 2 or 3")
    return home[4], away[4]


def batch_upload(acc, batch, msg_type, trace, amount, rrn, auth="", date="", time=""):
    """0320 batch upload (批上送) of one transaction of `batch` after an unbalanced settlement:
    its own trace (F11), type (60.1 = TYPE_SALE/VOID/REFUND), amount, RRN, auth code, and the
    local date MMDD and time hhmmss it was done (F13, F12) when known. 60.3 = 201."""
    if msg_type == TYPE_SALE:
        proc = PROC_SALE
    elif msg_type in (TYPE_VOID, TYPE_REFUND):
        proc = PROC_VOID
    else:
        raise ProtocolError("batch upload type must be sale, void or refund")
    m = _base(acc, "0320", trace)
    m[3] = proc
    m[4] = _amount(amount)
    if time:
        m[12] = time
    if date:
        m[13] = date
    m[37] = _text(rrn, 12, "RRN")
    if auth:
        m[38] = _text(auth, 6, "auth code")
    m[49] = CNY
    m[60] = f60(msg_type, batch, NET_UPLOAD)
    return m


def batch_upload_end(acc, trace, batch, count, balanced=False):
    """0320 end of the batch upload (批上送结束): F48 = how many items went up (n4); 60.3 =
    202 after an unbalanced settlement, 207 after a balanced one."""
    if type(count) is not int or not 0 <= count <= 9999:
        raise ProtocolError("upload count must be 0..9999")
    m = _base(acc, "0320", trace)
    m[48] = num(count, 4)
    m[60] = f60(TYPE_NETWORK, batch, NET_UPLOAD_END_BALANCED if balanced else NET_UPLOAD_END)
    return m


def esign_upload(acc, batch, orig_trace, amount, orig_rrn, slip, image, settle_date=""):
    """0820 e-signature upload (电子签名上送) of the transaction `orig_trace` of `batch`:
    60.1 = 07, 60.3 = 800, F55 = the slip elements as TLV ([(0xFF00, merchant name bytes), ...]),
    F62 = the compressed signature image (< 1 KB; None: an unsigned transaction's receipt, no F62).
    It uses the original's trace and RRN and consumes no trace number. 00 or 94 (duplicate) = done."""
    m = _base(acc, "0820", orig_trace)
    m[4] = _amount(amount)
    if settle_date:
        m[15] = settle_date
    m[37] = _text(orig_rrn, 12, "RRN")
    m[55] = tlv_build(slip)
    m[60] = f60(TYPE_ESIGN, batch, NET_ESIGN)
    if image is not None:
        m[62] = image
    return m


# ---- answers ----------------------------------------------------------------------------------
def check_answer(request, answer):
    """Raise ProtocolError unless `answer` (decoded) answers `request`: the MTI pair, the TPDU
    swapped, F39, and the same trace (F11, when we sent one), terminal (F41) and merchant (F42);
    processing code (F3) and amount (F4) equal when the answer has them; an approved answer to a
    financial (MAC-carrying) request carries the amount and an F64 (whose value the session
    checks with the security module). Returns the response code."""
    if answer.mti != answer_mti(request.mti):
        raise ProtocolError("answer MTI does not pair with the request")
    if answer.tpdu != reply_tpdu(request.tpdu):
        raise ProtocolError("answer TPDU is not ours swapped")
    code = answer.get(39)
    if code is None:
        raise ProtocolError("answer without F39")
    for n in (11, 41, 42):
        if n in request.fields and answer.get(n) != request.fields[n]:
            raise ProtocolError("answer F{} differs from the request".format(n))
    for n in (3, 4):
        if n in answer.fields and n in request.fields and answer.fields[n] != request.fields[n]:
            raise ProtocolError("answer F{} differs from the request".format(n))
    if code == APPROVED and carries_mac(answer.mti):
        if 4 in request.fields and 4 not in answer.fields:
            raise ProtocolError("approved answer without F4")
        if 64 not in answer.fields:
            raise ProtocolError("approved answer without MAC")
    return code


def response_key(code):
    """The catalog key of the message for a response code: "rc_05", or "rc_other"."""
    return "rc_" + code if code in RESPONSE_CODES else "rc_other"


def response_message(code):
    """(catalog key, args) to show for a response code: strings.text(key, lang, *args)."""
    key = response_key(code)
    return key, ((code,) if key == "rc_other" else ())


# ---- sign-in keys (F62 of the 0810) -------------------------------------------------------------
class WorkingKeys:
    """The working keys of a sign-in answer, still encrypted under the terminal master key, each
    with its 4-byte check value; for the security module to load. repr shows check values only."""

    __slots__ = ("pin_key", "pin_check", "mac_key", "mac_check", "track_key", "track_check")

    def __init__(self, pin_key, pin_check, mac_key, mac_check, track_key=b"", track_check=b""):
        self.pin_key = pin_key
        self.pin_check = pin_check
        self.mac_key = mac_key
        self.mac_check = mac_check
        self.track_key = track_key
        self.track_check = track_check

    def __repr__(self):
        return "WorkingKeys(pin {} mac {} track {})".format(
            self.pin_check.hex(), self.mac_check.hex(), self.track_check.hex() or "-"
        )


_KEY_LAYOUTS = ((24, 8, NET_SIGN_IN_SINGLE), (40, 16, NET_SIGN_IN), (60, 16, NET_SIGN_IN_TRACK))


def working_keys(answer):
    """The WorkingKeys in F62 of a sign-in answer: 24 bytes (60.3 = 001), 40 (003) or 60 (004).
    The check values are not verified here: the security module does that."""
    data = answer.get(62)
    if data is None:
        raise ProtocolError("sign-in answer without F62")
    net = parse_f60(answer.get(60, "00000000"))[2]
    for size, width, code in _KEY_LAYOUTS:
        if len(data) == size:
            if net and net != code:
                raise ProtocolError("F62 size does not match 60.3")
            parts = []
            at = 0
            while at < size:
                parts.append(data[at : at + width])
                parts.append(data[at + width : at + width + 4])
                at += width + 4
            return WorkingKeys(*parts)
    raise ProtocolError("F62 is not 24, 40 or 60 bytes")


# ---- reading a message ------------------------------------------------------------------------
def amount_of(msg):
    """F4 as int fen, or None."""
    v = msg.get(4)
    return None if v is None else int(v)


def trace_of(msg):
    """F11 as an int, or None."""
    v = msg.get(11)
    return None if v is None else int(v)


def batch_of(msg):
    """60.2 as an int, or None."""
    v = msg.get(60)
    return None if v is None else parse_f60(v)[1]
