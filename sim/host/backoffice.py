# Back-office refunds (后台退单) over the host's ledger: one user submits a refund of a sale (found
# by its RRN, date and terminal) with a reason and a note of the evidence, another user reviews it;
# an approved one is booked against the same sale as the terminal refunds (txns.refunded, one
# cumulative limit for both channels) and in the merchant's net of the day, never in a terminal's
# batch. Each function runs inside the caller's transaction (`transaction` below for the command
# line) and raises Refused, with a line for the user, when the rules say no.
import datetime
import re

from sim.host.acquirer import REFUND_DAYS

# (id, English, Chinese): the five reasons of a refund. The ids are stored and typed: never rename.
REASONS = (
    ("quality", "goods quality", "商品质量问题"),
    ("dispute", "dispute", "交易纠纷"),
    ("return", "customer return", "消费者退货"),
    ("system", "system error", "系统错误"),
    ("other", "other", "其他"),
)
REASON_IDS = tuple(r[0] for r in REASONS)
STATES = ("submitted", "approved", "rejected")
TEXT_MAX = 200  # characters of an evidence note or a review note
_USER = re.compile(r"[A-Za-z0-9._@-]{1,32}\Z")
_TERMINAL = re.compile(r"[ -~]{8}\Z")  # F41: 8 printable ASCII characters
_CARD_LIKE = re.compile(r"\d{13,}")  # 13 digits in a row may be a card number: never stored


class Refused(Exception):
    """What the back office will not do, in one line for the user."""


def reason_names(reason):
    """(English, Chinese) of a reason id."""
    for r in REASONS:
        if r[0] == reason:
            return r[1], r[2]
    raise Refused("unknown reason {!r} (one of: {})".format(reason, ", ".join(REASON_IDS)))


def check_user(user):
    if not _USER.match(user or ""):
        raise Refused("a user id is 1 to 32 letters, digits or . _ @ -: {!r}".format(user))
    return user


def check_text(what, text, required=True):
    """A note as given (stripped); Refused when empty (if required), too long, with control
    characters, or holding what may be a card number."""
    text = (text or "").strip()
    if not text:
        if required:
            raise Refused("{} is empty: say what it rests on (receipt numbers, ...)".format(what))
        return ""
    if len(text) > TEXT_MAX:
        raise Refused("{} is longer than {} characters".format(what, TEXT_MAX))
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 or 0xD800 <= ord(ch) < 0xE000 for ch in text):
        raise Refused("{} holds control characters or bytes that are not UTF-8".format(what))
    if _CARD_LIKE.search(text):
        raise Refused(
            "{} holds 13 or more digits in a row, maybe a card number: never write one".format(what)
        )
    return text


def parse_amount(text):
    """Fen from a whole positive number of fen ("1250" is ¥12.50)."""
    text = str(text).strip()
    if not text.isdigit() or not text.isascii():
        raise Refused("the amount is in fen, a whole number above 0 (1250 is 12.50 yuan): {!r}".format(text))
    fen = int(text)
    if fen <= 0:
        raise Refused("the amount must be above 0 fen")
    return fen


def _now(clock):
    return clock().isoformat(timespec="seconds")


def _sale(db, orig_id):
    """A txns row: (id, terminal, merchant, amount, card, day, status, voided, refunded, kind, rrn)."""
    return db.execute(
        "SELECT id, terminal_id, merchant_id, amount, card, day, status, voided, refunded, kind, rrn"
        " FROM txns WHERE id=?",
        (orig_id,),
    ).fetchone()


def _left(row, clock):
    """What is left to refund of a sale row (fen); Refused when it cannot be refunded at all."""
    _, _, _, amount, _, day, status, voided, refunded, kind, rrn = row
    if kind != "sale":
        raise Refused("RRN {} is a {}, not a sale".format(rrn, kind))
    if status != "ok":
        raise Refused("the sale of RRN {} was reversed: no money was taken".format(rrn))
    if voided:
        raise Refused("the sale of RRN {} was voided: nothing is left to refund".format(rrn))
    if day and (clock().date() - datetime.date.fromisoformat(day)).days > REFUND_DAYS:
        raise Refused("the sale of RRN {} is more than {} days old".format(rrn, REFUND_DAYS))
    return amount - refunded


def submit(db, clock, user, rrn, date, terminal, amount, reason, evidence):
    """Record a submitted request; its id. The sale is found by RRN, its day (MMDD, as on its slip)
    and its terminal; the merchant is the sale's."""
    check_user(user)
    reason_names(reason)
    evidence = check_text("the evidence", evidence)
    fen = parse_amount(amount)
    if not (len(rrn) == 12 and rrn.isdigit() and rrn.isascii()):
        raise Refused("an RRN is 12 digits: {!r}".format(rrn))
    if not _TERMINAL.match(terminal):
        raise Refused("a terminal id is 8 characters, as on the slip: {!r}".format(terminal))
    if not (len(date) == 4 and date.isdigit() and date.isascii()):
        raise Refused("the date is MMDD, as on the slip: {!r}".format(date))
    try:
        datetime.date(2024, int(date[:2]), int(date[2:]))  # a leap year: 0229 is a date
    except ValueError:
        raise Refused("no such date: {}".format(date)) from None
    found = db.execute("SELECT id, terminal_id, day FROM txns WHERE rrn=?", (rrn,)).fetchone()
    if found is None or found[1] != terminal or not found[2] or found[2][5:7] + found[2][8:10] != date:
        raise Refused("no sale with RRN {} on {} at terminal {}".format(rrn, date, terminal))
    row = _sale(db, found[0])
    left = _left(row, clock)
    if fen > left:
        raise Refused(
            "{} fen is over what is left of the sale: {} of {} fen".format(fen, max(left, 0), row[3])
        )
    cur = db.execute(
        "INSERT INTO backoffice (orig_id, terminal_id, merchant_id, rrn, orig_day, amount, reason, evidence,"
        " state, submitted_by, submitted_at) VALUES (?,?,?,?,?,?,?,?,'submitted',?,?)",
        (row[0], row[1], row[2], rrn, row[5], fen, reason, evidence, user, _now(clock)),
    )
    return cur.lastrowid


def review(db, clock, request_id, user, approve, note=""):
    """Approve or reject a submitted request as user (not its submitter). Approving checks the sale
    again (terminal refunds may have come since) and books the refund: the sale's refunded amount,
    the card's balance, the merchant's net of today. Returns the request as `request` gives it."""
    check_user(user)
    note = check_text("the note", note, required=False)
    found = request(db, request_id)
    if found is None:
        raise Refused("no back-office refund {}".format(request_id))
    if found["state"] != "submitted":
        raise Refused(
            "back-office refund {} was {} by {} at {}: a request is reviewed once".format(
                request_id, found["state"], found["reviewed_by"], found["reviewed_at"]
            )
        )
    if user == found["submitted_by"]:
        raise Refused("{} submitted back-office refund {}: another user reviews it".format(user, request_id))
    now = clock()
    if approve:
        row = _sale(db, found["orig_id"])
        left = _left(row, clock)
        if found["amount"] > left:
            raise Refused(
                "cannot approve: {} fen is over what is left of the sale now: {} of {} fen"
                " (refunded since it was submitted); reject it".format(found["amount"], max(left, 0), row[3])
            )
        db.execute("UPDATE txns SET refunded=refunded+? WHERE id=?", (found["amount"], row[0]))
        db.execute("UPDATE cards SET balance=balance+? WHERE card=?", (found["amount"], row[4]))
    db.execute(
        "UPDATE backoffice SET state=?, reviewed_by=?, reviewed_at=?, note=?, day=? WHERE id=?",
        (
            "approved" if approve else "rejected",
            user,
            now.isoformat(timespec="seconds"),
            note,
            now.date().isoformat() if approve else None,
            request_id,
        ),
    )
    return request(db, request_id)


_COLUMNS = (
    "id",
    "orig_id",
    "terminal_id",
    "merchant_id",
    "rrn",
    "orig_day",
    "amount",
    "reason",
    "evidence",
    "state",
    "submitted_by",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "note",
    "day",
)


def _dict(row):
    out = dict(zip(_COLUMNS, row, strict=True))
    out["reason_en"], out["reason_zh"] = reason_names(out["reason"])
    return out


def requests(db):
    """Every request as a dict (the table's columns, and the reason's two names), oldest first."""
    cur = db.execute("SELECT {} FROM backoffice ORDER BY id".format(", ".join(_COLUMNS)))
    return [_dict(row) for row in cur.fetchall()]


def request(db, request_id):
    """One request as a dict, or None."""
    row = db.execute(
        "SELECT {} FROM backoffice WHERE id=?".format(", ".join(_COLUMNS)), (request_id,)
    ).fetchone()
    return None if row is None else _dict(row)


class transaction:
    """`with transaction(db):` BEGIN IMMEDIATE (waiting up to the ledger's busy timeout for the
    host's worker), COMMIT on success, ROLLBACK on any exception."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
        return False
