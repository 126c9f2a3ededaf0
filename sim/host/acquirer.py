# The host's rules: one request frame in, one answer frame out (or None: close the connection).
# Runs on the ledger worker's thread inside its transaction. Never logs or returns a key, a PIN,
# a PAN or track data; stored answers carry none (a host never echoes F35/F52).
import datetime
from dataclasses import dataclass

from firmware import jbigdec
from firmware.host import messages as msg
from firmware.host.codec import (
    Message,
    ProtocolError,
    answer_mti,
    decode,
    encode,
    mac_input,
    num,
    parse_f60,
    put_mac,
    reply_tpdu,
    tlv_parse,
)
from firmware.sigimage import AREA_HEIGHT, AREA_WIDTH
from sim.cards import DECK
from sim.host import answers, crypto, receipts
from sim.host.ledger import merchant_net

# Requests the host answers; anything else (an answer MTI, 0100 ...) closes the connection.
REQUEST_MTIS = ("0200", "0220", "0320", "0400", "0500", "0800", "0820")
# Kinds whose (terminal, merchant, batch, trace, MTI) is remembered: a repeat gets the same answer.
# Not the e-signature upload: its one memory is the esigns table (a stored upload's repeat gets 94,
# a refused one is checked again), see _esign_upload.
IDEMPOTENT = (
    "sale",
    "void",
    "refund",
    "reversal",
    "settlement",
    "batch_upload",
    "batch_upload_end",
)

# Documented rules (docs/HOST.md). Amounts in fen.
OPENING_BALANCE = 5_000_000  # every deck card starts with ¥50,000.00 available
CLOSED_BATCH = "58"  # a reversal for a batch already settled (not permitted to the terminal)
PIN_TRIES = 3  # the third wrong PIN in a row answers 75, and so does every try after it
NO_PIN_TAP_LIMIT = 100_000  # contactless at or under ¥1,000.00 needs no PIN (免密)
REFUND_DAYS = 180  # a refund more than this many days after its original: 12
MAGIC = {999905: "05", 999951: "51", 999961: "61", 999996: "96"}  # ¥9,999.05 ... ¥9,999.96
MERCHANT_SHORT = "51"  # a refund the merchant's net of the day cannot cover
ACQUIRER_ID = "48021000"

# The answers to an e-signature upload the host refuses (docs/HOST.md); nothing is stored.
ESIGN_NOT_FOUND = "25"  # 找不到原始交易: nothing booked (or only reversed) at its terminal, batch, trace
ESIGN_MISMATCH = "22"  # 故障怀疑: booked there under another RRN (F37) or settlement date (F15)
ESIGN_AMOUNT = "64"  # 原始金额错误: booked there with another amount (F4)
ESIGN_FORMAT = "30"  # 报文格式错误: F62 not a JBIG image of the signing area, or F55 not slip TLV
ESIGN_DUPLICATE = "94"  # 重复交易: an upload is stored for it already (done, for the terminal)
RECEIPT_UNVERIFIED = (
    "63"  # 安全违规: the receipt rebuilt from the upload does not verify with the terminal's key
)
SLIP_TAGS = (0xFF00, 0xFF7F)  # the slip elements' tags in F55, first and last

_CARDS = {card.track2.split("=")[0]: card for card in DECK.values()}

# The host answers in China Standard Time (UTC+8, no daylight saving) whatever the machine's zone:
# the terminal reads F12/F13 as local time in its own zone, UTC+8 from the factory.
HOST_TZ = datetime.timezone(datetime.timedelta(hours=8), "CST")


def china_time(seconds):
    """The host's local time (a naive datetime, UTC+8) of Unix seconds."""
    return datetime.datetime.fromtimestamp(seconds, HOST_TZ).replace(tzinfo=None)


def china_now():
    """The host's default clock: now, in China time (a naive datetime), whatever TZ says."""
    return datetime.datetime.now(HOST_TZ).replace(tzinfo=None)


def clock_of(seconds):
    """A host clock that follows `seconds()` (Unix seconds, e.g. a simulator run's virtual clock)."""
    return lambda: china_time(seconds())


def card_pin(card):
    """The PIN the host expects for a deck card: its `pin` (sim.cards, docs/CARDS.md)."""
    return card.pin


class Malformed(Exception):
    """A request that decodes but lacks what its kind needs: answered 30."""


@dataclass(frozen=True, slots=True, repr=False)
class WorkingKeys:
    """A terminal's working keys in clear, in RAM only (a real host keeps them in its HSM)."""

    pik: bytes
    mak: bytes
    tdk: bytes = b""

    def __repr__(self):
        return "WorkingKeys(<hidden>)"


@dataclass(slots=True)
class Outcome:
    """What the host decided: the answer frame (bytes, None = close), and for the fate report the
    request's MTI, kind, terminal, trace and the answer's F39 ("" when there is none); `decoded`
    is False for a frame that did not decode (answered 30 or closed, never faulted)."""

    answer: bytes | None
    mti: str = ""
    kind: str = ""
    terminal_id: str = ""
    trace: int | None = None
    code: str = ""
    decoded: bool = False


def _need(req, n):
    v = req.get(n)
    if v is None:
        raise Malformed("F{} missing".format(n))
    return v


def parse_track2(track):
    """(PAN, YYMM, service code) of track 2 (D separator, maybe F padding), or None."""
    track = track.rstrip("F")
    pan, sep, rest = track.partition("D")
    if not sep or not 13 <= len(pan) <= 19 or not pan.isdigit() or len(rest) < 7 or not rest[:7].isdigit():
        return None
    return pan, rest[:4], rest[4:7]


def luhn_ok(pan):
    total = 0
    for i, d in enumerate(reversed(pan)):
        v = int(d) * (2 if i & 1 else 1)
        total += v - 9 if v > 9 else v
    return total % 10 == 0


# A 0220's digest leaves the card fields out too: a refund the terminal resends after a power cut
# took its card data (F22 entry mode, F26, F35, F36, F52, F53) is the same refund.
_REFUND_CARD_FIELDS = (22, 26, 35, 36, 52, 53, 64)


def _canonical(req):
    """The request's content for the repeat check: MTI and every field but the two that depend on
    the session's keys (F52 PIN block, F64 MAC): a repeat after a new sign-in is the same request.
    For a 0220 (refund) the card fields are left out as well (_REFUND_CARD_FIELDS): its card-less
    resend is a repeat of it."""
    out = bytearray(req.mti.encode())
    skip = _REFUND_CARD_FIELDS if req.mti == "0220" else (52, 64)
    for n in sorted(req.fields):
        if n in skip:
            continue
        v = req.fields[n]
        data = v.encode() if type(v) is str else bytes(v)
        out += "|{}:{}:".format(n, len(data)).encode() + data
    return bytes(out)


def batch_totals(db, terminal_id, merchant_id, batch):
    """The ledger's (domestic, foreign) totals of a batch: (debit fen, count, credit fen, count)
    each; debit = sales, credit = voids and refunds; reversed ones do not count."""
    out = {1: [0, 0, 0, 0], 0: [0, 0, 0, 0]}
    for kind, domestic, fen, count in db.execute(
        "SELECT kind, domestic, SUM(amount), COUNT(*) FROM txns WHERE terminal_id=? AND merchant_id=?"
        " AND batch=? AND status='ok' GROUP BY kind, domestic",
        (terminal_id, merchant_id, batch),
    ):
        side = 0 if kind == "sale" else 2
        out[domestic][side] += fen
        out[domestic][side + 1] += count
    return tuple(out[1]), tuple(out[0])


class Acquirer:
    """The host's decisions over a Ledger (sim.host.ledger) and the provisioned terminals.
    `clock()` gives the host's local time, China time (a naive datetime; default china_now);
    `unbalance` makes every settlement answer unbalanced."""

    def __init__(self, ledger, provisioning, clock=None, unbalance=False):
        self.ledger = ledger
        self.db = ledger.db
        self.provisioning = provisioning
        self.clock = clock or china_now
        self.unbalance = unbalance
        self.keys = {}  # terminal id -> WorkingKeys
        # terminal id -> its receipt public key (65 bytes, 0x04 || X || Y): the simulator's run gives
        # its terminal's at start; else the provisioning file's receipt_pubkey; none: not verified
        self.receipt_keys = {}

    # ---- the frame ----------------------------------------------------------------------------
    def process(self, frame):
        """The Outcome of one whole request frame (its 2-byte length first)."""
        try:
            req = decode(frame)
        except ProtocolError:
            return self._format_error(frame)
        if req.mti not in REQUEST_MTIS:
            return Outcome(None, req.mti)
        kind = answers.kind(req)
        tid = req.get(41, "")
        trace = msg.trace_of(req) if str(req.get(11, "")).isdigit() else None
        out = Outcome(None, req.mti, kind, tid, trace, decoded=True)
        term = self.provisioning.terminal(tid)
        if kind == "":
            return self._finish(out, answers.start_answer(req, "12"), term)
        if term is None or req.get(42) != term.merchant_id:
            return self._finish(out, answers.start_answer(req, "03"), None)
        keys = self.keys.get(tid)
        if msg.carries_mac(req.mti) and not self._mac_ok(frame, req, term, keys):
            answer = answers.start_answer(req, "A0")
            answer.fields.pop(64, None)  # no MAC under keys the terminal does not share
            return self._finish(out, answer, None)
        try:
            key = None
            if kind in IDEMPOTENT:
                _need(req, 11)
                _need(req, 60)
                where = (tid, req[42], msg.batch_of(req), msg.trace_of(req), req.mti)
                digest = self.ledger.keyed_hash(_canonical(req)).encode()
                row = self.db.execute(
                    "SELECT digest, answer FROM requests WHERE terminal_id=? AND merchant_id=? AND batch=?"
                    " AND trace=? AND mti=?",
                    where,
                ).fetchone()
                if row is not None:
                    if row[0] == digest and self._reversed_since(req, kind):
                        return self._finish(out, answers.start_answer(req, "12"), term)
                    if row[0] == digest:
                        return self._replay(out, row[1], term)
                    return self._finish(out, answers.start_answer(req, "94"), term)
                key = (*where, digest)
            answer = getattr(self, "_" + kind)(req, term)
        except (Malformed, ProtocolError, ValueError):
            answer = answers.start_answer(req, "30")
            key = None
        return self._finish(out, answer, term, key)

    def _mac_ok(self, frame, req, term, keys):
        mac = req.get(64)
        if keys is None or mac is None:
            return False
        return crypto.mac_equal(mac, crypto.mac(term.mac_algorithm, keys.mak, mac_input(frame)))

    def _finish(self, out, answer, term, key=None):
        """Encode the answer, MAC it when it carries F64 (no F64 when there is no key to MAC
        with), remember it under key."""
        if 64 in answer.fields and (term is None or term.terminal_id not in self.keys):
            del answer[64]
        frame = encode(answer)
        if key is not None:
            self.db.execute(
                "INSERT INTO requests VALUES (?,?,?,?,?,?,?,?)",
                key + (bytes(frame), self._now_text()),
            )
        if 64 in answer.fields:
            self._put_mac(frame, term)
        out.answer = bytes(frame)
        out.code = answer.get(39, "")
        return out

    def _put_mac(self, frame, term):
        keys = self.keys[term.terminal_id]
        put_mac(frame, crypto.mac(term.mac_algorithm, keys.mak, mac_input(frame)))

    def _replay(self, out, stored, term):
        """A repeat: the answer first sent, MACed again under the current key."""
        frame = bytearray(stored)
        answer = decode(frame)
        if 64 in answer.fields:
            self._put_mac(frame, term)
        out.answer = bytes(frame)
        out.code = answer.get(39, "")
        return out

    def _format_error(self, frame):
        """30 to a frame that does not decode but names a request MTI; else close."""
        if len(frame) < 15 or frame[2] != 0x60:
            return Outcome(None)
        mti = bytes(frame[13:15]).hex()
        if mti not in REQUEST_MTIS:
            return Outcome(None)
        answer = Message(answer_mti(mti), {39: "30"}, reply_tpdu(bytes(frame[2:7])), bytes(frame[7:13]))
        return Outcome(bytes(encode(answer)), mti, "", "", None, "30")

    # ---- helpers ------------------------------------------------------------------------------
    def _reversed_since(self, req, kind):
        """Whether the sale or void of req (a repeat) was reversed after its first answer."""
        if kind not in ("sale", "void"):
            return False
        row = self.db.execute(
            "SELECT 1 FROM txns WHERE terminal_id=? AND merchant_id=? AND batch=? AND trace=? AND kind=?"
            " AND status='reversed'",
            (req[41], req[42], msg.batch_of(req), msg.trace_of(req), kind),
        ).fetchone()
        return row is not None

    def _reversed_first(self, req, kind, amount):
        """Whether a reversal of this sale or void (its terminal, merchant, batch, trace and amount)
        came before it: then it is not booked, and is answered 12."""
        row = self.db.execute(
            "SELECT 1 FROM early_reversals WHERE terminal_id=? AND merchant_id=? AND batch=? AND trace=?"
            " AND kind=? AND amount=?",
            (req[41], req[42], msg.batch_of(req), msg.trace_of(req), kind, amount),
        ).fetchone()
        return row is not None

    def _now_text(self):
        return self.clock().isoformat(timespec="seconds")

    def _stamp(self, answer):
        now = self.clock()
        answer[12] = now.strftime("%H%M%S")
        answer[13] = now.strftime("%m%d")
        return now

    def _host_batch(self, term, batch):
        """The host's current batch of a terminal (first seen: the terminal's)."""
        row = self.db.execute(
            "SELECT batch FROM terminals WHERE terminal_id=?", (term.terminal_id,)
        ).fetchone()
        if row is not None:
            return row[0]
        self.db.execute(
            "INSERT INTO terminals VALUES (?,?,?,NULL)", (term.terminal_id, term.merchant_id, batch)
        )
        return batch

    def _card_row(self, pan):
        """(hash, balance, pin_fails) of a deck card, created with the opening balance."""
        card = self.ledger.keyed_hash(pan.encode())
        row = self.db.execute("SELECT balance, pin_fails FROM cards WHERE card=?", (card,)).fetchone()
        if row is None:
            masked = pan[:6] + "*" * (len(pan) - 10) + pan[-4:]
            self.db.execute("INSERT INTO cards VALUES (?,?,?,0)", (card, masked, OPENING_BALANCE))
            row = (OPENING_BALANCE, 0)
        return card, row[0], row[1]

    def _card(self, req, pin=True):
        """(PAN, deck card, card hash, balance) or a response code for a card the host refuses.
        pin False: no PIN check (a refund takes none)."""
        parsed = parse_track2(_need(req, 35))
        if parsed is None:
            return "14"
        pan, expiry, service = parsed
        card = _CARDS.get(pan)
        if card is None or not luhn_ok(pan):
            return "14"
        if expiry < self.clock().strftime("%y%m"):
            return "54"
        code = self._pin_check(req, pan, card, service) if pin else None
        if code:
            return code
        h, balance, _ = self._card_row(pan)
        return pan, card, h, balance

    def _pin_check(self, req, pan, card, service):
        """None when the PIN is right or not needed; 55 wrong (or missing when needed), 75 from
        the PIN_TRIES-th wrong try in a row on (a right PIN resets the count, except when locked)."""
        tap_small = str(req.get(22, "")).startswith("07") and int(req.get(4, "0")) <= NO_PIN_TAP_LIMIT
        required = service[2] in "03567" and not tap_small
        block = req.get(52)
        if block is None and not required:
            return None
        h, _, fails = self._card_row(pan)
        if fails >= PIN_TRIES:
            return "75"
        keys = self.keys.get(req.get(41))
        good = block is not None and crypto.pin_from_block(keys.pik, block, pan) == card_pin(card)
        if good:
            if fails:
                self.db.execute("UPDATE cards SET pin_fails=0 WHERE card=?", (h,))
            return None
        fails += 1
        self.db.execute("UPDATE cards SET pin_fails=? WHERE card=?", (fails, h))
        return "75" if fails >= PIN_TRIES else "55"

    def _book(self, req, kind, amount, card_hash, pan, domestic, orig_id=None):
        """Insert a transaction; returns (rrn, auth)."""
        now = self.clock()
        next_id = self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM txns").fetchone()[0]
        rrn = num(next_id, 12)
        auth = num(next_id * 7919 % 1000000, 6)
        masked = pan[:6] + "*" * (len(pan) - 10) + pan[-4:] if pan else None
        self.db.execute(
            "INSERT INTO txns (id, terminal_id, merchant_id, batch, trace, kind, amount, card, masked,"
            " domestic, rrn, auth, day, at, status, orig_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'ok',?)",
            (
                next_id,
                req[41],
                req[42],
                msg.batch_of(req),
                msg.trace_of(req),
                kind,
                amount,
                card_hash,
                masked,
                1 if domestic else 0,
                rrn,
                auth,
                now.date().isoformat(),
                now.isoformat(timespec="seconds"),
                orig_id,
            ),
        )
        return rrn, auth

    def _approve(self, req, rrn, auth):
        answer = answers.start_answer(req, "00")
        now = self._stamp(answer)
        answer[15] = now.strftime("%m%d")
        answer[37] = rrn
        if auth:
            answer[38] = auth
        return answer

    # ---- network management -------------------------------------------------------------------
    def _sign_in(self, req, term):
        net = parse_f60(_need(req, 60))[2]
        if net == msg.NET_SIGN_IN_SINGLE:
            return answers.start_answer(req, "12")  # single-length keys: this host hands out none
        batch = self._host_batch(term, msg.batch_of(req))
        tmk = term.tmk
        track = crypto.new_key() if net == msg.NET_SIGN_IN_TRACK else b""
        keys = WorkingKeys(crypto.new_key(), crypto.new_key(), track)
        parts = [
            crypto.ecb_encrypt(tmk, keys.pik),
            crypto.check_value(keys.pik),
            crypto.ecb_encrypt(tmk, keys.mak),
            crypto.check_value(keys.mak),
        ]
        if keys.tdk:
            parts += [crypto.ecb_encrypt(tmk, keys.tdk), crypto.check_value(keys.tdk)]
        self.keys[term.terminal_id] = keys
        answer = answers.start_answer(req, "00")
        self._stamp(answer)
        answer[32] = ACQUIRER_ID
        answer[60] = "00" + num(batch, 6) + net
        answer[62] = answers.keys_field(*parts)
        self.db.execute(
            "UPDATE terminals SET signed_in=? WHERE terminal_id=?", (self._now_text(), term.terminal_id)
        )
        return answer

    def _sign_off(self, req, term):
        self.keys.pop(term.terminal_id, None)
        return answers.start_answer(req, "00")

    def _echo(self, req, term):
        answer = answers.start_answer(req, "00")
        self._stamp(answer)
        return answer

    # ---- financial ----------------------------------------------------------------------------
    def _sale(self, req, term):
        amount = int(_need(req, 4))
        if amount <= 0:
            return answers.start_answer(req, "13")
        if self._reversed_first(req, "sale", amount):
            return answers.start_answer(req, "12")  # its reversal came first: it stays undone
        found = self._card(req)
        if type(found) is str:
            return answers.start_answer(req, found)
        pan, card, h, balance = found
        if amount in MAGIC:
            return answers.start_answer(req, MAGIC[amount])
        if amount > balance:
            return answers.start_answer(req, "51")
        self.db.execute("UPDATE cards SET balance=balance-? WHERE card=?", (amount, h))
        rrn, auth = self._book(req, "sale", amount, h, pan, card.domestic)
        return self._approve(req, rrn, auth)

    def _void(self, req, term):
        amount = int(_need(req, 4))
        f61 = _need(req, 61)
        rrn = _need(req, 37)
        if len(f61) < 12:
            raise Malformed("F61")
        if self._reversed_first(req, "void", amount):
            return answers.start_answer(req, "12")  # its reversal came first: it stays undone
        batch = msg.batch_of(req)
        orig = self.db.execute(
            "SELECT id, amount, card, rrn, voided, refunded, batch FROM txns"
            " WHERE terminal_id=? AND merchant_id=? AND batch=? AND trace=? AND kind='sale' AND status='ok'",
            (req[41], req[42], int(f61[:6]), int(f61[6:12])),
        ).fetchone()
        if orig is None or orig[3] != rrn:
            return answers.start_answer(req, "25")
        if orig[6] != batch or orig[4] or orig[5]:
            return answers.start_answer(req, "12")  # another batch, voided or refunded already
        if orig[1] != amount:
            return answers.start_answer(req, "13")
        if 35 in req.fields:
            parsed = parse_track2(req[35])
            card = _CARDS.get(parsed[0]) if parsed else None
            if card is None or self.ledger.keyed_hash(parsed[0].encode()) != orig[2]:
                return answers.start_answer(req, "14")
            code = self._pin_check(req, parsed[0], card, parsed[2])
            if code:
                return answers.start_answer(req, code)
        self.db.execute("UPDATE cards SET balance=balance+? WHERE card=?", (amount, orig[2]))
        self.db.execute("UPDATE txns SET voided=1 WHERE id=?", (orig[0],))
        domestic = self.db.execute("SELECT domestic FROM txns WHERE id=?", (orig[0],)).fetchone()[0]
        new_rrn, auth = self._book(req, "void", amount, orig[2], None, domestic, orig[0])
        return self._approve(req, new_rrn, auth)

    def _refund(self, req, term):
        amount = int(_need(req, 4))
        rrn = _need(req, 37)
        f61 = _need(req, 61)
        if len(f61) < 16 or amount <= 0:
            raise Malformed("F61")
        if 35 not in req.fields:
            # A card-less 0220: the resend of a refund after a power cut took its card data. Its
            # repeat check found no earlier one: this refund never came, and never will be booked
            # (this answer is remembered under its trace: the original, if it comes late, gets it).
            return answers.start_answer(req, "25")
        found = self._card(req, pin=False)  # 退货不输密: a refund takes no PIN
        if type(found) is str:
            return answers.start_answer(req, found)
        pan, card, h, _ = found
        orig = self.db.execute(
            "SELECT id, amount, card, day, voided, refunded, domestic FROM txns WHERE merchant_id=? AND rrn=?"
            " AND kind='sale' AND status='ok'",
            (req[42], rrn),
        ).fetchone()
        if orig is None or orig[3][5:7] + orig[3][8:10] != f61[12:16] or orig[2] != h:
            return answers.start_answer(req, "25")
        today = self.clock().date()
        if (today - datetime.date.fromisoformat(orig[3])).days > REFUND_DAYS:
            return answers.start_answer(req, "12")
        refundable = 0 if orig[4] else orig[1] - orig[5]  # refunded: both channels, terminal and back office
        if amount > refundable:
            return answers.start_answer(req, "35")
        if amount > merchant_net(self.db, req[42], today.isoformat()):
            return answers.start_answer(req, MERCHANT_SHORT)
        self.db.execute("UPDATE cards SET balance=balance+? WHERE card=?", (amount, h))
        self.db.execute("UPDATE txns SET refunded=refunded+? WHERE id=?", (amount, orig[0]))
        new_rrn, auth = self._book(req, "refund", amount, h, pan, orig[6], orig[0])
        return self._approve(req, new_rrn, auth)

    def _reversal(self, req, term):
        f60 = parse_f60(_need(req, 60))
        kind = {msg.TYPE_SALE: "sale", msg.TYPE_VOID: "void"}.get(f60[0])
        if kind is None:
            return answers.start_answer(req, "12")
        if self.settled(req[41], req[42], f60[1]) is not None:
            # Its batch is settled: nothing in it moves any more. Not a code a terminal takes as
            # done (00, 12, 25): the reversal stays with the terminal's support (its audit).
            return answers.start_answer(req, CLOSED_BATCH)
        orig = self.db.execute(
            "SELECT id, amount, card, voided, refunded, orig_id FROM txns"
            " WHERE terminal_id=? AND merchant_id=? AND batch=? AND trace=? AND kind=? AND status='ok'",
            (req[41], req[42], f60[1], msg.trace_of(req), kind),
        ).fetchone()
        amount = int(_need(req, 4))
        if orig is None or orig[1] != amount:
            if not self._seen(req, f60[1]):
                # The original never came (yet): remember the reversal, so that the original, if it
                # comes after all, is not booked (answered 12).
                self.db.execute(
                    "INSERT OR IGNORE INTO early_reversals VALUES (?,?,?,?,?,?,?)",
                    (req[41], req[42], f60[1], msg.trace_of(req), kind, amount, self._now_text()),
                )
            return answers.start_answer(req, "25")  # nothing to undo: the original was declined or never came
        if orig[3] or orig[4]:
            return answers.start_answer(req, "12")  # voided or refunded since: reverse that first
        if kind == "sale":
            self.db.execute("UPDATE cards SET balance=balance+? WHERE card=?", (orig[1], orig[2]))
        else:
            self.db.execute("UPDATE cards SET balance=balance-? WHERE card=?", (orig[1], orig[2]))
            self.db.execute("UPDATE txns SET voided=0 WHERE id=?", (orig[5],))
        self.db.execute("UPDATE txns SET status='reversed' WHERE id=?", (orig[0],))
        answer = answers.start_answer(req, "00")
        self._stamp(answer)
        return answer

    def _seen(self, req, batch):
        """Whether the host has answered the 0200 that a reversal names (by its batch and trace)."""
        row = self.db.execute(
            "SELECT 1 FROM requests WHERE terminal_id=? AND merchant_id=? AND batch=? AND trace=?"
            " AND mti='0200'",
            (req[41], req[42], batch, msg.trace_of(req)),
        ).fetchone()
        return row is not None

    # ---- settlement and uploads -----------------------------------------------------------------
    def totals(self, terminal_id, merchant_id, batch):
        """batch_totals() of the ledger."""
        return batch_totals(self.db, terminal_id, merchant_id, batch)

    def settled(self, terminal_id, merchant_id, batch):
        """(domestic, foreign) results of the batch's settlement, or None while it is open."""
        row = self.db.execute(
            "SELECT domestic, foreign_ FROM settlements WHERE terminal_id=? AND merchant_id=? AND batch=?"
            " ORDER BY rowid LIMIT 1",
            (terminal_id, merchant_id, batch),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def _settlement(self, req, term):
        home, away = msg.parse_settlement_totals(_need(req, 48))
        batch = msg.batch_of(req)
        answer = answers.start_answer(req, "00")
        now = self._stamp(answer)
        answer[15] = now.strftime("%m%d")
        first = self.settled(req[41], req[42], batch)
        if first is not None:
            # A batch settles once: a later 0500 for it (a repeat under a new trace after a lost
            # answer) gets the first result again and changes nothing.
            answer[48] = answers.settled_f48(req[48], first[0], first[1])
            return answer
        ours = self.totals(req[41], req[42], batch)
        results = []
        for theirs, mine in ((home, ours[0]), (away, ours[1])):
            results.append(msg.BALANCED if tuple(theirs[:4]) == mine else msg.UNBALANCED)
        if self.unbalance:
            results[0] = msg.UNBALANCED
        answer[48] = answers.settled_f48(req[48], results[0], results[1])
        self._host_batch(term, batch)
        self.db.execute(
            "UPDATE terminals SET batch=MAX(batch, ?) WHERE terminal_id=?", (batch + 1, term.terminal_id)
        )
        self.db.execute(
            "INSERT INTO settlements VALUES (?,?,?,?,?,?,?,?)",
            (req[41], req[42], batch, results[0], results[1], req[48], repr(ours), self._now_text()),
        )
        return answer

    def _batch_upload(self, req, term):
        self.db.execute(
            "INSERT INTO uploads VALUES (?,?,?,?,?,?,?,?)",
            (
                req[41],
                req[42],
                msg.batch_of(req),
                msg.trace_of(req),
                parse_f60(req[60])[0],
                int(_need(req, 4)),
                _need(req, 37),
                self._now_text(),
            ),
        )
        return answers.start_answer(req, "00")

    def _batch_upload_end(self, req, term):
        _need(req, 48)
        return answers.start_answer(req, "00")

    def _esign_upload(self, req, term):
        """Store the signature of a booked transaction once: 94 when one is stored for it already
        (whatever this one holds), else the checks (_esign_problem) and 00 with the upload stored."""
        _need(req, 11)
        _need(req, 60)
        where = (req[41], req[42], msg.batch_of(req), msg.trace_of(req))
        stored = self.db.execute(
            "SELECT 1 FROM esigns WHERE terminal_id=? AND merchant_id=? AND batch=? AND trace=?", where
        ).fetchone()
        if stored is not None:
            return answers.start_answer(req, ESIGN_DUPLICATE)
        code = self._esign_problem(req, where)
        if code:
            return answers.start_answer(req, code)
        self.db.execute(
            "INSERT INTO esigns VALUES (?,?,?,?,?,?,?,?,?)",
            (
                *where,
                req[37],
                int(req[4]),
                bytes(req[55]),
                bytes(req[62]) if 62 in req.fields else None,
                self._now_text(),
            ),
        )
        return answers.start_answer(req, "00")

    def _esign_problem(self, req, where):
        """The code refusing an upload, or None: it names a transaction booked at its terminal,
        merchant, batch and trace (any kind: a void's or refund's upload names the void or refund)
        with its RRN, amount and (when sent) settlement date; F62 decodes with our decoder to a
        bitmap of the signing area; F55 is slip TLV (tags FF00..FF7F, at least one)."""
        rrn = _need(req, 37)
        amount = int(_need(req, 4))
        slip = _need(req, 55)
        image = req.get(62)  # none: an unsigned transaction's receipt
        booked = self.db.execute(
            "SELECT rrn, amount, day FROM txns WHERE terminal_id=? AND merchant_id=? AND batch=? AND trace=?"
            " AND status='ok' ORDER BY id",
            where,
        ).fetchall()
        if not booked:
            return ESIGN_NOT_FOUND
        mine = [row for row in booked if row[0] == rrn]
        if not mine:
            return ESIGN_MISMATCH
        _, booked_amount, day = mine[-1]
        if 15 in req.fields and req[15] != day[5:7] + day[8:10]:
            return ESIGN_MISMATCH
        if amount != booked_amount:
            return ESIGN_AMOUNT
        if (image is not None and image_problem(image)) or slip_problem(slip):
            return ESIGN_FORMAT
        try:
            unverified = receipts.upload_problem(req, self.receipt_key(where[0]))
        except receipts.ReceiptProblem:
            return ESIGN_FORMAT
        return RECEIPT_UNVERIFIED if unverified else None

    def receipt_key(self, terminal_id):
        """The terminal's receipt public key (a cryptography key), or None (its receipts are not
        verified): the one the run gave, else its provisioning file's receipt_pubkey."""
        key = self.receipt_keys.get(terminal_id)
        if key is None:
            term = self.provisioning.terminal(terminal_id)
            key = getattr(term, "receipt_pubkey", None) if term is not None else None
        return receipts.public_key(key) if key else None


def image_problem(image):
    """Why F62 is not a signature image the host takes, or "" when it is: a JBIG1 BIE that our
    decoder (firmware/jbigdec.py) reads whole, of the signing area's size (240 x 128), with at
    least one black pixel (a blank one is no signature). The size is
    checked in the header first, so a forged header never costs a decode of millions of pixels."""
    try:
        width, height, _, _ = jbigdec.header(image)
        if (width, height) != (AREA_WIDTH, AREA_HEIGHT):
            return "an image of {} x {}, not the signing area's {} x {}".format(
                width, height, AREA_WIDTH, AREA_HEIGHT
            )
        bitmap = jbigdec.decode(image)[2]
    except ValueError as e:  # every malformed BIE (IndexError never: the decoder bounds its reads)
        return str(e) or "the image does not decode"
    if not any(bitmap):
        return "a blank image: nothing was drawn"
    return ""


def slip_problem(slip):
    """Why F55 is not the slip's TLV, or "" when it is: well-formed BER-TLV (codec.tlv_parse), at
    least one element, every tag a slip element's (FF00..FF7F)."""
    try:
        items = tlv_parse(slip)
    except ProtocolError as e:
        return str(e)
    if not items:
        return "no slip element"
    for tag, _ in items:
        if not SLIP_TAGS[0] <= tag <= SLIP_TAGS[1]:
            return "tag {:X} is not a slip element".format(tag)
    return ""
