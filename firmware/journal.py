# The transaction record written ahead (交易流水, the first record of the journal), the reversal
# record (冲正记录), the sign-in state and the audit of reversals given up. Never stores a full PAN,
# track data or a PIN block (the validators refuse them); never drops a pending reversal silently.
#
# docs/JOURNAL.md says how the records relate and what a boot recovers after a cut between them.
# Each is a firmware.store record (two generations, CRC); a reversal is cleared by writing a new
# generation {"state": "none"}, never by deleting files (a half-deleted pair could bring back an
# older reversal).

from firmware import batch as B
from firmware.batch import Batch, JournalFull
from firmware.compat import const
from firmware.dates import local_day
from firmware.errors import StoredDataCorrupt
from firmware.store import Damaged, RecordFile, load, older, raise_if_lost, save
from hal.contracts import ENOSPC, HalError

# Transaction states (txn record "state")
SENT = "sent"  # written ahead: the request may be on its way
APPROVED = "approved"
DECLINED = "declined"
NOT_SENT = "unsent"  # the request never left the terminal (no connection, cancelled)
IN_DOUBT = "in_doubt"  # no valid answer: its reversal is pending
REVERSED = "reversed"  # its reversal was answered: no charge
# A refund (退货, 0220) has no reversal: `in_doubt` is a refund not confirmed (no valid answer, or
# a cut after it may have gone), resent card-less (online.RefundResend); `notdone` (not done) one
# whose card-less resend the host answered 25 (it never had it): never resent, never counted.
NOT_DONE = B.NOT_DONE
TXN_STATES = (SENT, APPROVED, DECLINED, NOT_SENT, IN_DOUBT, REVERSED, NOT_DONE)
FINAL = (APPROVED, DECLINED, NOT_SENT, IN_DOUBT, REVERSED, NOT_DONE)

# Reversal states. One given up after its last attempt moves, with its fields, into the audit
# record (a fault slip for support, tried once more before settlement): see give_up_reversal().
NONE = "none"
PENDING = "pending"  # goes out before the next online transaction
REVERSAL_STATES = (NONE, PENDING)
WRITTEN_AHEAD = "98"  # the reason a reversal is written ahead with (no answer): see recover()

# Fields a reversal record may keep (the 0400's, as wire strings). Never 2, 26, 35, 36, 37, 52,
# 53 or 55: no PAN, track, PIN data or RRN (docs/PROTOCOL.md).
REVERSAL_FIELDS = ("3", "4", "11", "22", "23", "25", "38", "39", "41", "42", "49", "60", "61")

# The batch journal's state of a transaction moves only forward: from each state, the txn states
# the mirror appends (every move a sale makes: sent -> an outcome; in doubt -> declined (an
# unsigned decline, its reversal kept) or reversed; approved -> in doubt (its recording failed,
# reversed 96) or reversed). Anything else (a txn record fallen back to an older generation after
# damage, a state only the batch knows: voided) appends nothing.
_FORWARD = {
    SENT: (APPROVED, DECLINED, NOT_SENT, IN_DOUBT, REVERSED),
    IN_DOUBT: (DECLINED, REVERSED),
    APPROVED: (IN_DOUBT, REVERSED),
}
# A refund's moves: sent -> an outcome (no reversal: never reversed); not confirmed -> the outcome
# of a resend (approved, declined, not done).
_REFUND_FORWARD = {
    SENT: (APPROVED, DECLINED, NOT_SENT, IN_DOUBT),
    IN_DOUBT: (APPROVED, DECLINED, NOT_DONE),
}
# What the batch may hold further on than a refund's txn (written once, `sent`): any outcome.
_REFUND_LATER = {SENT: (APPROVED, DECLINED, NOT_SENT, IN_DOUBT, NOT_DONE)}
# A refund's reasons (退货原因), as records keep them; the screens name each "rr_<reason>".
REFUND_REASONS = ("quality", "dispute", "return", "system", "other")

AUDIT_MAX = const(8)  # failed reversals kept; a full audit refuses new sales (never drops one)


def _int(v, lo, hi):
    return type(v) is int and lo <= v <= hi


def masked(v):
    """True if v is a PAN masked to first 6 + last 4 (what a record may hold)."""
    if type(v) is not str or not 13 <= len(v) <= 19:
        return False
    middle = v[6:-4]
    return v[:6].isdigit() and v[-4:].isdigit() and middle == "*" * len(middle)


def _flag(v):
    """A stored yes/no: JSON true or false only (on CPython 1 == True and 0 == False)."""
    return v is True or v is False


def _text(v, size):
    return type(v) is str and len(v) <= size


def _digits_or_empty(v, size):
    return v == "" or (type(v) is str and len(v) == size and v.isdigit())


# Fields a txn record gained with the batch journal: (name, check, what a record without it reads
# as). A record written by earlier firmware lacks them; one that has them is checked.
_TXN_LATER = (
    ("org", B.org_ok, ""),  # the card organisation (CardEvent.org)
    ("op", lambda v: type(v) is str and len(v) == 2 and v.isdigit(), "01"),  # the operator
    ("f12", lambda v: _digits_or_empty(v, 6), ""),  # the answer's local time hhmmss
    ("f13", lambda v: _digits_or_empty(v, 4), ""),  # the answer's date MMDD
    ("f15", lambda v: _digits_or_empty(v, 4), ""),  # the settlement date MMDD
)


def _validate_txn(r):
    if type(r.get("v")) is not int or r["v"] != 1 or r.get("state") not in TXN_STATES:
        raise Damaged("bad txn")
    for name, check, _ in _TXN_LATER:
        if name in r and not check(r[name]):
            raise Damaged("bad txn")
    kind = r.get("kind")
    if kind == "void":
        # the original sale (batch, trace, RRN, date MMDD), as the batch's VOID record holds it
        if not B.valid_orig(r.get("orig")) or "reason" in r:
            raise Damaged("bad txn")
    elif kind == "refund":
        # the original (its batch and trace 0 when the journal no longer had it) and the reason
        if not B.valid_refund_orig(r.get("orig")) or r.get("reason") not in REFUND_REASONS:
            raise Damaged("bad txn")
    elif kind != "sale" or "orig" in r or "reason" in r:
        raise Damaged("bad txn")
    elif r.get("state") == NOT_DONE:
        raise Damaged("bad txn")  # only a refund is ever not done
    ok = (
        _int(r.get("trace"), 1, 999999)
        and _int(r.get("batch"), 1, 999999)
        and _int(r.get("amount"), 1, 999999999999)
        and masked(r.get("card"))
        and _int(r.get("time"), 0, 0x7FFFFFFF)
        and _text(r.get("code"), 2)
        and _text(r.get("rrn"), 12)
        and _text(r.get("auth"), 6)
        and _text(r.get("mode"), 8)
        and _flag(r.get("shown"))
    )
    if not ok:
        raise Damaged("bad txn")
    return r


def _validate_reversal(r):
    state = r.get("state")
    if type(r.get("v")) is not int or r["v"] != 1 or state not in REVERSAL_STATES:
        raise Damaged("bad reversal")
    if state == NONE:
        return r
    fields = r.get("f")
    ok = (
        _int(r.get("trace"), 1, 999999)
        and _int(r.get("batch"), 1, 999999)
        and _int(r.get("amount"), 1, 999999999999)
        and _int(r.get("attempts"), 0, 99)
    )
    if not ok:
        raise Damaged("bad reversal")
    _check_fields(fields, r["trace"])
    return r


def _check_fields(fields, trace):
    if type(fields) is not dict:
        raise Damaged("bad reversal")
    for k in fields:
        if k not in REVERSAL_FIELDS or type(fields[k]) is not str:
            raise Damaged("bad reversal field")
    f11 = fields.get("11")
    if type(f11) is not str or not f11.isdigit() or int(f11) != trace or fields.get("39") is None:
        raise Damaged("bad reversal")


def _validate_shown(r):
    ok = type(r.get("v")) is int and r["v"] == 1
    if not (ok and _int(r.get("batch"), 1, 999999) and _int(r.get("trace"), 1, 999999)):
        raise Damaged("bad shown")
    return r


def _validate_host(r):
    ok = (
        type(r.get("v")) is int
        and r["v"] == 1
        and _int(r.get("day"), -1, 0x7FFFFFFF)
        and _flag(r.get("need"))
        and _int(r.get("known"), 0, 0x7FFFFFFF)
    )
    if not ok:
        raise Damaged("bad host state")
    return r


def _validate_audit(r):
    items = r.get("items")
    if type(r.get("v")) is not int or r["v"] != 1 or type(items) is not list or len(items) > AUDIT_MAX:
        raise Damaged("bad audit")
    for item in items:
        ok = (
            type(item) is dict
            and item.get("what") == "failed_reversal"
            and _int(item.get("trace"), 1, 999999)
            and _int(item.get("batch"), 1, 999999)
            and _int(item.get("amount"), 1, 999999999999)
            and _text(item.get("reason"), 2)
            and _int(item.get("time"), 0, 0x7FFFFFFF)
        )
        if not ok:
            raise Damaged("bad audit item")
        _check_fields(item.get("f"), item["trace"])
    return r


TXN = RecordFile("txn", _validate_txn, 512)
REVERSAL = RecordFile("reversal", _validate_reversal, 512)
HOST_STATE = RecordFile("hoststate", _validate_host, 256)
AUDIT = RecordFile("audit", _validate_audit, 4096)
RECORDS = (TXN, REVERSAL, HOST_STATE, AUDIT)
# The (batch, trace) whose result the operator saw: {"v": 1, "batch", "trace"}. Not one of
# RECORDS: a copy lost to damage reads as "not seen" (the result is shown once more), never a fault.
SHOWN = RecordFile("shown", _validate_shown, 128)

_NO_REVERSAL = {"v": 1, "state": NONE}


class Journal:
    """The loaded records and every change to them, and the batch journal (`batch`, which mirrors
    `txn`: mirror()). `last`: the last transaction's record (a dict) or None; `reversal`: the
    reversal record ({"state": "none"} when nothing is pending); `host`: {"day": day of the last
    sign-in (-1 never), "need": sign in before anything financial, "known": the latest wall time
    the terminal knew}; `audit`: the reversals given up. Every method that changes a record writes
    it (synced) before it returns; OSError if storage fails."""

    def __init__(self, storage, buf=None):
        self.storage = storage
        self._loaded = {}
        for spec in RECORDS:
            loaded = load(storage, spec)
            raise_if_lost(loaded, spec.name)
            self._loaded[spec.name] = loaded
        txn = self._loaded[TXN.name]
        rev = self._loaded[REVERSAL.name]
        if rev.fell_back and (txn.fell_back or (txn.record is None and rev.record["state"] == PENDING)):
            # The reversal fell back to an older copy and the transaction did too, or is gone (a
            # power cut touches only the record being written): the pair may be an answered sale's
            # written-ahead state, and recover() would reverse an approved sale. The journal is not
            # trusted: a fault, never a guess.
            raise StoredDataCorrupt("journal")
        self._loaded[SHOWN.name] = load(storage, SHOWN)
        self.reversal = self._record(REVERSAL) or dict(_NO_REVERSAL)
        self.host = self._record(HOST_STATE) or {"v": 1, "day": -1, "need": True, "known": 0}
        self.audit = self._record(AUDIT) or {"v": 1, "items": []}
        # The current batch's every transaction (firmware/batch.py): Query, Reprint, void, refund
        # and settlement read it there.
        self.batch = Batch(storage, buf)  # buf: the terminal's, allocated at boot
        self._reversal_code = ""  # the code the last reversal was answered with (for its mirror)
        # txn is the request written ahead; the batch holds its outcome: `last` is the two merged.
        self.last = self._merged(_with_later_fields(self._record(TXN)))
        if self._outcome_lost():
            # The request went (its reversal was written ahead, then cleared: an answer was
            # recorded) but the batch journal no longer shows that outcome: damage, not a cut. Not
            # "never sent": a fault, never a guess.
            raise StoredDataCorrupt("journal")

    def _merged(self, txn):
        """The txn record (the request written ahead; earlier firmware wrote its outcome and
        "shown" into it too) with the batch journal's latest state of the same (batch, trace) over
        it when that state is further on (_FORWARD), and "shown" from the shown record."""
        if txn is None:
            return None
        out = dict(txn)
        try:
            view = self.batch.by_trace(txn["trace"])
        except (Damaged, OSError):
            view = None  # its frames no longer read back: txn alone (the rule below guards it)
        if view is not None and view["batch"] != txn["batch"]:
            view = None  # the same trace of another batch (wrapped): not this transaction
        forward = _REFUND_LATER if out.get("kind") == "refund" else _FORWARD
        if view is not None and view["state"] in forward.get(out["state"], ()):
            for name in ("state", "code", "rrn", "auth", "f12", "f13", "f15"):
                out[name] = view[name]
        elif view is None and out["state"] == SENT and self.batch.closed(txn["batch"]):
            # Its batch was settled (nothing was pending then) and its rows went to the archive:
            # approved if the archive has it (its RRN there), else it charged nothing (declined,
            # unsent or reversed: the archive keeps no state). Its result was seen long ago.
            row = self.batch.archived(trace=txn["trace"])
            if row is not None and row["batch"] == txn["batch"]:
                # a refund's row keeps its state: not confirmed (resent by later sweeps) or its
                # resend's outcome
                out["state"] = row.get("state", APPROVED)
                out["rrn"] = row["rrn"]
            else:
                out["state"] = NOT_SENT
            out["shown"] = True
        seen = self._record(SHOWN)
        if seen is not None and seen["batch"] == txn["batch"] and seen["trace"] == txn["trace"]:
            out["shown"] = True
        return out

    def _outcome_lost(self):
        """True when the last transaction reads sent (no outcome anywhere) and its reversal is not
        pending, although the reversal record's previous generation was this trace's, pending: the
        reversal was written ahead and cleared afterwards, which the firmware does only once the
        outcome is in the batch journal (and a request that never left is recorded unsent first)."""
        last = self.last
        if last is None or last["state"] != SENT or self._pending_for(last):
            return False
        before = older(self.storage, REVERSAL, self._loaded[REVERSAL.name])
        return (
            before is not None
            and before["state"] == PENDING
            and before["trace"] == last["trace"]
            and before["batch"] == last["batch"]
        )

    def _pending_for(self, last):
        rev = self.reversal
        return rev["state"] == PENDING and rev["trace"] == last["trace"] and rev["batch"] == last["batch"]

    def _record(self, spec):
        return self._loaded[spec.name].record

    def _save(self, spec, record):
        save(self.storage, spec, record, self._loaded[spec.name])

    def _set_txn(self, record):
        """A new state (and outcome) of the last transaction: appended to the batch journal (with
        the transaction's own record first if the batch lacks it), synced; OSError if not, and
        `last` unchanged. Then, quietly, what follows from it (a void's original, the audit's
        outcomes): the next recover() appends what a failure left out."""
        try:
            self._mirror_own(record, True)
        except JournalFull:
            raise OSError(ENOSPC, "batch journal full")
        except Damaged:
            raise OSError("batch journal unreadable")
        self.last = record
        self._mirror_quietly()

    # ---- the batch journal mirrors txn -----------------------------------------------------------
    def mirror(self):
        """Append to the batch journal what it lacks of the last transaction (its sale record, its
        latest state, its reversal's outcome) and of the reversals given up (the audit's). Never
        appends one twice: it compares with the batch's view of (batch, trace). OSError if the
        batch journal cannot be read or appended to."""
        try:
            if self.last is not None:
                self._mirror_txn(self.last)
            self._mirror_audit()
        except JournalFull:
            raise OSError(ENOSPC, "batch journal full")
        except Damaged:  # a frame the tables point at no longer reads back: storage is failing
            raise OSError("batch journal unreadable")

    def _mirror_quietly(self):
        try:
            self.mirror()
        except OSError:
            pass  # recover() appends it before the next transaction (docs/JOURNAL.md)

    def _mirror_txn(self, last):
        self._mirror_own(last)
        if last["kind"] == "void":
            self._mirror_voided(last)
        elif last["kind"] == "refund":
            self._mirror_refunded(last["orig"]["rrn"], last["time"])

    def _mirror_own(self, last, fast=False):
        batch = self.batch
        trace = last["trace"]
        if fast and batch.last == (last["batch"], trace):
            # a step of the transaction the batch appended last: its state from RAM, no frame read
            # and decoded (mirror(), before each transaction, reads it: a frame that no longer
            # reads back refuses the transaction)
            self._mirror_state(last, batch.state_of(trace))
            return
        view = batch.by_trace(trace)
        if view is not None and view["batch"] != last["batch"]:
            view = None  # the same trace of another batch (wrapped): not this transaction
        if view is None:
            if batch.closed(last["batch"]):
                return  # settled: its rows are in the archive, never appended again
            record = {"batch": last["batch"], "trace": trace, "amount": last["amount"]}
            record["card"] = last["card"]
            record["org"] = last["org"]
            record["mode"] = last["mode"]
            record["time"] = last["time"]
            record["op"] = last["op"]
            if last["kind"] == "void":
                record["orig"] = last["orig"]
                batch.begin(B.VOID, record)
            elif last["kind"] == "refund":
                record["orig"] = last["orig"]
                record["reason"] = last["reason"]
                batch.begin(B.REFUND, record)
            else:
                batch.begin(B.SALE, record)
            self._mirror_state(last, B.SENT)
            return
        self._mirror_state(last, view["state"])

    def _mirror_state(self, last, now):
        """Append the state `last` holds if the batch's (`now`) may move to it."""
        batch = self.batch
        trace = last["trace"]
        state = last["state"]
        forward = _REFUND_FORWARD if last["kind"] == "refund" else _FORWARD
        if state not in forward.get(now, ()):
            return  # the batch has it, or is past it (an older generation of txn never moves it back)
        if state == REVERSED:
            batch.reversal_outcome(last["batch"], trace, "reversed", self._reversal_code, last["time"])
            return
        rrn = last["rrn"] if B._rrn(last["rrn"]) else ""
        fields = {"state": state, "code": last["code"], "rrn": rrn, "auth": last["auth"]}
        fields["f12"] = last["f12"]
        fields["f13"] = last["f13"]
        fields["f15"] = last["f15"]
        batch.change(last["batch"], trace, last["time"], **fields)

    def _mirror_voided(self, void):
        """The original of a void follows the void's state in the batch: voided while the void is
        approved there, approved otherwise (a void reversed, declined, unsent or in doubt: the host
        has the sale live, or makes it live again when the void's reversal goes). Appended after
        the void's own change, so a cut between the two is finished by the next mirror."""
        batch = self.batch
        orig = void["orig"]
        sale = batch.by_trace(orig["trace"])
        if sale is None or sale["batch"] != orig["batch"] or sale["kind"] != "sale":
            return
        own = batch.by_trace(void["trace"])
        if own is None or own["batch"] != void["batch"]:
            return
        want = B.VOIDED if own["state"] == B.APPROVED else B.APPROVED
        if sale["state"] in (B.APPROVED, B.VOIDED) and sale["state"] != want:
            batch.change(orig["batch"], orig["trace"], void["time"], state=want)

    def _mirror_audit(self):
        batch = self.batch
        for item in self.audit["items"]:
            trace = item["trace"]
            if batch.state_of(trace) != B.IN_DOUBT or batch.reversal_failed(trace):
                continue
            if batch.by_trace(trace)["batch"] == item["batch"]:
                batch.reversal_outcome(item["batch"], trace, "failed", item["reason"], item["time"])

    # ---- at boot ---------------------------------------------------------------------------------
    def recover(self):
        """Settle what a power cut left between the records (docs/JOURNAL.md). Returns nothing; the
        screen to show comes from needs_showing()."""
        last = self.last
        rev = self.reversal
        same = last is not None and self._pending_for(last)
        if last is not None and last["state"] == SENT and last["kind"] == "refund":
            # A refund written ahead has no reversal: it may have gone. Not confirmed: its
            # card-less resend (online.RefundResend) finds out whether the host has it.
            self._txn_state(IN_DOUBT)
        elif last is not None and last["state"] == SENT:
            if same:
                # Sent, no outcome recorded: the answer is lost. The reversal goes out next.
                self._txn_state(IN_DOUBT)
            else:
                # The reversal is written before the send: without it the request never left.
                self._txn_state(NOT_SENT)
        elif same and last["state"] in (APPROVED, DECLINED) and rev["f"]["39"] == WRITTEN_AHEAD:
            # The outcome was recorded and the cut came before the reversal was cleared: the
            # answer was valid, so the reversal is done with. (A reason other than the one it was
            # written ahead with means the terminal decided to reverse: it stays.)
            self.clear_reversal()
        elif same and last["state"] == APPROVED:
            self._txn_state(IN_DOUBT)  # approved, but its recording failed: reversed (96)
        elif same and last["state"] in (REVERSED, NOT_SENT):
            # The reversal was answered, or the request never left (the batch says so, written
            # before the clear), and the cut came before the reversal was cleared.
            self.clear_reversal()
        # The batch journal gets what it lacks of the last transaction before anything can write
        # the next one over it: an OSError here refuses the transaction.
        self.mirror()

    def needs_showing(self):
        """The last transaction's record when its result was recorded but never shown (a cut before
        the result screen was dismissed), else None."""
        last = self.last
        if last is not None and last["state"] != SENT and not last["shown"]:
            return last
        return None

    # ---- a transaction -------------------------------------------------------------------------
    def write_ahead(self, txn, reversal_fields):
        """Before the request goes: the transaction record (state SENT) then its reversal record
        (PENDING, reason 98, no attempts), each synced. reversal_fields: the 0400's fields as
        {number: wire str} (messages.reversal of the request)."""
        record = dict(txn)
        record["v"] = 1
        record["state"] = SENT
        record["code"] = ""
        record["rrn"] = ""
        record["auth"] = ""
        record["shown"] = False
        for name, _, default in _TXN_LATER:
            if name not in record:
                record[name] = default
        for name in ("f12", "f13", "f15"):
            record[name] = ""
        # The only write of txn for this transaction: its outcome and "shown" go elsewhere (the
        # batch journal, the shown record), so a sale writes it once.
        self._save(TXN, record)
        self.last = record
        self._mirror_quietly()  # the batch's sale record; recover() appends it if this fails
        if reversal_fields is None:
            return  # a refund: never reversed (its recovery is the resend)
        fields = {}
        for n in reversal_fields:
            key = str(n)
            if key in REVERSAL_FIELDS:
                fields[key] = reversal_fields[n]
        fields["39"] = WRITTEN_AHEAD
        rev = {
            "v": 1,
            "state": PENDING,
            "trace": record["trace"],
            "batch": record["batch"],
            "amount": record["amount"],
            "attempts": 0,
            "f": fields,
        }
        self._save(REVERSAL, rev)
        self.reversal = rev

    def record_outcome(self, state, code="", rrn="", auth="", f12="", f13="", f15=""):
        """The answer's outcome into the transaction record (before the reversal is cleared): F39,
        F37, F38, and the host's F12, F13, F15 (digits, or "" when the answer had none)."""
        record = dict(self.last)
        record["state"] = state
        record["code"] = code
        record["rrn"] = rrn
        record["auth"] = auth
        record["f12"] = f12
        record["f13"] = f13
        record["f15"] = f15
        self._set_txn(record)

    def _txn_state(self, state):
        record = dict(self.last)
        record["state"] = state
        self._set_txn(record)

    def mark_shown(self):
        """The operator saw the result: a reboot no longer shows it again."""
        last = self.last
        if last is not None and not last["shown"]:
            self._save(SHOWN, {"v": 1, "batch": last["batch"], "trace": last["trace"]})
            record = dict(last)
            record["shown"] = True
            self.last = record

    # ---- the reversal --------------------------------------------------------------------------
    def pending_reversal(self):
        """The reversal record to send before the next transaction, or None."""
        return self.reversal if self.reversal["state"] == PENDING else None

    def failed_reversals(self):
        """The reversals given up to support (each with its fields, "f"): settlement tries each
        once more (audit_done) and lists those still failed on its report."""
        return self.audit["items"]

    def audit_done(self, item, code, now):
        """A failed reversal tried once more (before settlement) was answered done (00, 12, 25:
        `code`): the batch journal gets its outcome (reversed) first, then it leaves the audit. A
        cut between the two leaves it in the audit: tried again, the host answers it done again."""
        trace = item["trace"]
        view = self.batch.by_trace(trace)
        if view is not None and view["batch"] == item["batch"] and view["state"] == B.IN_DOUBT:
            self.batch.reversal_outcome(item["batch"], trace, "reversed", code, now)
        self._reversal_code = code
        items = _audit_without(self.audit["items"], item)
        audit = {"v": 1, "items": items}
        self._save(AUDIT, audit)
        self.audit = audit

    def audit_full(self):
        """No room for another failed reversal: sales are refused until support clears it."""
        return len(self.audit["items"]) >= AUDIT_MAX

    def keep_reversal(self, reason):
        """No valid answer: the reversal stays pending with F39 = reason (98, A0, 96, 06)."""
        rev = self.reversal
        if rev["state"] != PENDING:
            return
        if rev["f"]["39"] != reason:
            rev = _copy_reversal(rev)
            rev["f"]["39"] = reason
            self._save(REVERSAL, rev)
            self.reversal = rev
        last = self.last
        if last is not None and last["trace"] == rev["trace"] and last["state"] in (SENT, APPROVED):
            self._txn_state(IN_DOUBT)

    def count_attempt(self):
        """A reversal is about to be sent: one attempt more, durably, before the first byte."""
        rev = _copy_reversal(self.reversal)
        rev["attempts"] += 1
        self._save(REVERSAL, rev)
        self.reversal = rev

    def clear_reversal(self):
        """A valid answer came (to the request, or to the reversal itself): nothing to reverse."""
        rev = self.reversal
        last = self.last
        # The state first: a cut before the clear leaves it unsent or reversed with its reversal
        # pending, which recover() clears. (A clear first would leave it sent with its reversal
        # gone, which reads as an outcome lost to damage.)
        if last is not None and rev.get("trace") == last["trace"] and last["state"] in (SENT, IN_DOUBT):
            self._txn_state(NOT_SENT if last["state"] == SENT else REVERSED)
        self._save(REVERSAL, dict(_NO_REVERSAL))
        self.reversal = dict(_NO_REVERSAL)

    def reversal_done(self, code="00"):
        """The host answered the reversal (00, 12, 25: `code`): the original is undone."""
        self._reversal_code = code
        rev = self.reversal
        last = self.last
        undone = (SENT, IN_DOUBT, APPROVED)
        # txn first: a cut before the clear leaves txn reversed with its reversal pending, which
        # recover() clears. (The other order left txn in doubt with nothing pending: a sale that
        # nobody would ever reverse or confirm.)
        if last is not None and rev.get("trace") == last["trace"] and last["state"] in undone:
            self._txn_state(REVERSED)
        self._save(REVERSAL, dict(_NO_REVERSAL))
        self.reversal = dict(_NO_REVERSAL)

    def give_up_reversal(self, now):
        """The last attempt failed: the reversal moves into the audit record (a fault slip, not a
        voucher, with its fields for the retry before settlement), then the reversal record is
        cleared. A cut between the two leaves it in both: the audit entry of a trace still pending
        is dropped again by the next give_up (see _audit_without)."""
        rev = self.reversal
        items = _audit_without(self.audit["items"], rev)
        items.append(
            {
                "what": "failed_reversal",
                "trace": rev["trace"],
                "batch": rev["batch"],
                "amount": rev["amount"],
                "reason": rev["f"]["39"],
                "time": now,
                "f": dict(rev["f"]),
            }
        )
        audit = {"v": 1, "items": items}
        self._save(AUDIT, audit)
        self.audit = audit
        self._mirror_quietly()
        self._save(REVERSAL, dict(_NO_REVERSAL))
        self.reversal = dict(_NO_REVERSAL)

    # ---- refunds (退货): no reversal, resent instead ----------------------------------------------
    def refund_state(self, state):
        """The refund in flight (`last`) is not sent (`unsent`: nothing left the terminal) or not
        confirmed (`in_doubt`: no valid answer)."""
        if self.last is not None and self.last["kind"] == "refund" and self.last["state"] != state:
            self._txn_state(state)

    def unconfirmed_refunds(self):
        """The refunds not confirmed (state `in_doubt`), oldest first, as Batch.by_trace gives
        them: those of the archive (settled before their resend was answered: `archived` True),
        then the current batch's. For the settlement's sweep (resend each with
        firmware.online.RefundResend) and its report. Reads every transaction of the batch and
        every archive row."""
        out = self.batch.archived_unconfirmed()
        for t in self.batch.transactions():
            if t["kind"] == "refund" and t["state"] == IN_DOUBT:
                out.append(t)
        return out

    def refunded_against(self, rrn):
        """Fen of the current batch's refunds of the original with this RRN that moved money or may
        have (sent, approved, not confirmed): the local guard's sum. Reads every transaction."""
        total = 0
        for t in self.batch.transactions():
            if t["kind"] == "refund" and t["orig"]["rrn"] == rrn and t["state"] in (SENT, APPROVED, IN_DOUBT):
                total += t["amount"]
        return total

    def refund_resent(self, view, state, code="", rrn="", auth="", f12="", f13="", f15="", now=0):
        """The outcome of a refund's resend (view: Batch.by_trace's, state `in_doubt`): `approved`,
        `declined` or `notdone`. The last transaction's goes into `txn` (then its mirror); an
        older one's is one state change of the batch journal (one append: a cut leaves it whole or
        not at all, and then the refund stays not confirmed); an archived one's is its archive row
        (Batch.archive_resolve: the archive written again, atomically)."""
        last = self.last
        if view.get("archived"):
            if state not in _REFUND_FORWARD[IN_DOUBT]:
                return
            try:
                self.batch.archive_resolve(view["batch"], view["trace"], state, rrn)
            except Damaged:
                raise OSError("batch journal unreadable")
            if last is not None and last["trace"] == view["trace"] and last["batch"] == view["batch"]:
                record = dict(last)  # the txn record stays `sent`: the archive row is its outcome
                record["state"] = state
                record["rrn"] = rrn if state == APPROVED else ""
                self.last = record
            return
        if last is not None and last["trace"] == view["trace"] and last["batch"] == view["batch"]:
            if last["kind"] == "refund" and last["state"] == IN_DOUBT:
                self.record_outcome(state, code, rrn, auth, f12, f13, f15)
                self.mirror()
            return
        if state not in _REFUND_FORWARD[IN_DOUBT] or self.batch.state_of(view["trace"]) != IN_DOUBT:
            return
        rrn = rrn if B._rrn(rrn) else ""
        fields = {"state": state, "code": code, "rrn": rrn, "auth": auth, "f12": f12, "f13": f13, "f15": f15}
        try:
            self.batch.change(view["batch"], view["trace"], now, **fields)
            self._mirror_refunded(view["orig"]["rrn"], now)
        except JournalFull:
            raise OSError(ENOSPC, "batch journal full")
        except Damaged:
            raise OSError("batch journal unreadable")

    def _mirror_refunded(self, rrn, now):
        """The original sale of a refund, when in the current batch, has `refunded` = its refunds
        that moved money or may have (refunded_against): a void of it is then refused. Appended
        after the refund's own change; every mirror finishes what a cut left."""
        batch = self.batch
        sale = batch.by_rrn(rrn)
        if sale is None or sale["kind"] != "sale":
            return
        want = self.refunded_against(rrn)
        if sale["refunded"] != want:
            batch.change(sale["batch"], sale["trace"], now, refunded=want)

    # ---- the batch ---------------------------------------------------------------------------
    def batch_busy(self, batch):
        """None when the current batch (`batch`, the counters') holds no transaction and nothing is
        pending (a reversal, a failed reversal waiting for its retry before settlement); else the
        catalog key of the reason. The one check before an identity parameter changes or a
        factory reset (firmware/admin.py): the single place a fuller journal (the batch's
        transactions, uploads pending) extends."""
        if self.reversal["state"] == PENDING:
            return "busy_reversal"
        if self.audit["items"]:
            return "busy_failed_reversal"
        last = self.last
        if last is not None and last["batch"] == batch and last["state"] in (SENT, APPROVED, IN_DOUBT):
            return "busy_batch"
        if self.batch.busy(batch):  # an earlier transaction of the batch (the last one declined)
            return "busy_batch"
        return None

    # ---- sign-in -------------------------------------------------------------------------------
    def signed_in(self, day, known):
        """A sign-in answer loaded the working keys on `day` (days since 1970, local time)."""
        host = {"v": 1, "day": day, "need": False, "known": max(known, self.host["known"])}
        self._save(HOST_STATE, host)
        self.host = host

    def need_sign_in(self):
        """A MAC failure: nothing financial goes out before the next sign-in."""
        if not self.host["need"]:
            host = dict(self.host)
            host["need"] = True
            self._save(HOST_STATE, host)
            self.host = host

    def known_time(self):
        """The latest wall time the records show (sign-in, last transaction): 0 if none."""
        known = self.host["known"]
        if self.last is not None and self.last["time"] > known:
            known = self.last["time"]
        return known


def _with_later_fields(record):
    """A txn record with the fields earlier firmware did not write, as such a record reads."""
    if record is None:
        return None
    out = dict(record)
    for name, _, default in _TXN_LATER:
        if name not in out:
            out[name] = default
    return out


def _audit_without(items, rev):
    out = []
    for item in items:
        if item["trace"] != rev["trace"] or item["batch"] != rev["batch"]:
            out.append(item)
    return out


def _copy_reversal(rev):
    out = dict(rev)
    out["f"] = dict(rev["f"])
    return out


def needs_sign_in(term):
    """True before the first sign-in, after a MAC failure, on a new day (the sign_in_daily
    parameter), without working keys, or while the clock is not valid (the answer sets it).
    Here, not in firmware.online, so that the idle screen can ask without loading the host modules."""
    host = term.journal.host
    if host["need"] or host["day"] < 0 or not term.clock_valid:
        return True
    try:
        if term.board.security.key_set() is None:
            return True
    except HalError:
        return True
    if term.params.sign_in_daily:
        return local_day(term.clock.time(), term.params.tz_minutes) != host["day"]
    return False
