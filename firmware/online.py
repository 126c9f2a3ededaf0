# One online transaction (联机交易) in the order every one follows: sign in if needed, then the
# pending reversal, then the request. Driven by step() from the screen; never blocks, never sends a
# financial request unsigned or before its reversal record is on storage (firmware/journal.py).

from firmware import journal as J
from firmware.batch import org_ok
from firmware.dates import civil, local_day, unix_seconds
from firmware.host import messages
from firmware.host.codec import HEADER, MAC_ROOM, TPDU, Message, ProtocolError, parse_f60
from firmware.host.session import (
    BAD_MAC,
    BROKEN,
    CANCELLED,
    DONE,
    GARBAGE,
    MISMATCH,
    NEVER_SENT,
    NO_ANSWER,
    NO_KEY,
    NOT_WRITTEN,
)
from firmware.journal import needs_sign_in  # the idle screen asks it too, without this module
from firmware.version import BUILD_TIME
from hal.contracts import KEYS_DOUBLE, HalError, ticks_diff
from hal.record import Damaged

# Phases
SIGN_IN = "sign_in"
REVERSAL = "reversal"
REQUEST = "request"

# Outcomes (`outcome` once the transaction is over)
APPROVED = "approved"
DECLINED = "declined"
FAILED = "failed"  # `message` says why (a catalog key)
COMPLETED = "completed"  # a sign-in (and the reversals) without a request

# The F39 a reversal carries for each way the answer can be lost (docs/PROTOCOL.md, Reversal).
_REASONS = {BAD_MAC: messages.REVERSE_MAC, GARBAGE: messages.REVERSE_OTHER, MISMATCH: messages.REVERSE_OTHER}


def host_time(mmdd, hhmmss, floor, tz_minutes):
    """Unix seconds of a sign-in answer's F13 (MMDD) and F12 (hhmmss), local time, which have no
    year: the first such date whose day is not earlier than the day of `floor` (the later of the
    build date and the last time the terminal knew). None if they are not a date and time."""
    if type(mmdd) is not str or type(hhmmss) is not str or len(mmdd) != 4 or len(hhmmss) != 6:
        return None
    if not mmdd.isdigit() or not hhmmss.isdigit():
        return None
    month, day = int(mmdd[:2]), int(mmdd[2:])
    hour, minute, second = int(hhmmss[:2]), int(hhmmss[2:4]), int(hhmmss[4:])
    if not 1 <= month <= 12 or not 1 <= day <= 31 or hour > 23 or minute > 59 or second > 59:
        return None
    first = civil(floor, tz_minutes)
    floor_day = (first[0], first[1], first[2])
    for year in range(first[0], first[0] + 9):  # a 29 February comes within 8 years
        t = unix_seconds(year, month, day, hour, minute, second, tz_minutes)
        c = civil(t, tz_minutes)
        if c != (year, month, day, hour, minute, second):
            continue  # 29 February of a common year, 31 April ...
        if (c[0], c[1], c[2]) >= floor_day:
            return t
    return None


class Sale:
    """What a sale needs from the screens: the amount (fen), the Card (its track 2 is taken when
    the request is built) and the PIN block from the PIN entry (or None)."""

    __slots__ = ("amount", "card", "pin_block")
    kind = "sale"

    def __init__(self, amount, card, pin_block=None):
        self.amount = amount
        self.card = card
        self.pin_block = pin_block

    def message(self, acc, trace, batch, track2):
        return messages.sale(acc, trace, batch, self.amount, track2, self.card.mode, self.pin_block)

    def txn(self):
        """The txn record's fields of this kind: the card's (masked PAN, mode, organisation)."""
        card = self.card
        org = card.org if org_ok(card.org) else ""  # settlement splits its totals by it
        return {"card": card.masked_pan, "mode": card.mode, "org": org}


class Void(Sale):
    """A void (消费撤销) of `orig`, a sale of the current batch as the batch journal gives it
    (batch, trace, amount, card, org, rrn, auth, f13): its full amount, the Card read again (or
    None when the void_card parameter is off) and the PIN block (or None)."""

    __slots__ = ("orig",)
    kind = "void"

    def __init__(self, orig, card=None, pin_block=None):
        Sale.__init__(self, orig["amount"], card, pin_block)
        self.orig = orig

    def message(self, acc, trace, batch, track2):
        o = self.orig
        card = self.card
        mode = card.mode if card is not None else None
        args = (o["batch"], o["trace"], o["rrn"], o["auth"], track2, mode, self.pin_block)
        return messages.void(acc, trace, batch, self.amount, *args)

    def txn(self):
        o = self.orig
        if self.card is not None:
            out = Sale.txn(self)
        else:  # no card read: the original's (masked) card
            out = {"card": o["card"], "mode": "", "org": o["org"]}
        out["orig"] = {"batch": o["batch"], "trace": o["trace"], "rrn": o["rrn"], "date": o["f13"]}
        return out


class Refund(Sale):
    """A refund (退货, 0220) of `orig` ({"batch", "trace", "rrn", "date"}: the original's batch and
    trace as the journal holds them, else 0 and 0; its RRN and date MMDD as typed): `amount` fen
    (partial allowed), the Card, the reason (journal.REFUND_REASONS). No PIN: a refund takes none
    (退货不输密). Never reversed: its answer lost, the request held in RAM is resent once (the
    same trace), then it is not confirmed (`in_doubt`) and RefundResend goes later."""

    __slots__ = ("orig", "reason")
    kind = "refund"

    def __init__(self, orig, amount, card, reason):
        Sale.__init__(self, amount, card, None)
        self.orig = orig
        self.reason = reason

    def message(self, acc, trace, batch, track2):
        o = self.orig
        mode = self.card.mode if self.card is not None else None
        args = (o["rrn"], o["date"], track2, mode, None, o["batch"], o["trace"])
        return messages.refund(acc, trace, batch, self.amount, *args)

    def txn(self):
        out = Sale.txn(self)
        o = self.orig
        out["orig"] = {"batch": o["batch"], "trace": o["trace"], "rrn": o["rrn"], "date": o["date"]}
        out["reason"] = self.reason
        return out


class RefundResend:
    """The card-less resend of a refund not confirmed (`view`: Batch.by_trace's, state
    `in_doubt`; journal.unconfirmed_refunds() lists them): the same 0220 (its trace, batch,
    amount, original) without the card fields, which a power cut took. The host's repeat check
    leaves F22, F26, F35, F36, F52, F53 out of a 0220's digest (docs/HOST.md): a refund it booked
    gets its first answer again; one it never had gets 25, and the refund is not done. No trace is
    consumed and nothing is written ahead. Run by Online like a Sale: Online(term, RefundResend(view))."""

    __slots__ = ("view", "amount", "card", "pin_block")
    kind = "resend"

    def __init__(self, view):
        self.view = view
        self.amount = view["amount"]
        self.card = None
        self.pin_block = None

    def message(self, acc):
        v = self.view
        o = v["orig"]
        args = (o["rrn"], o["date"], None, None, None, o["batch"], o["trace"])
        return messages.refund(acc, v["trace"], v["batch"], v["amount"], *args)


class Online:
    """Sign in if needed, send the pending reversal, then `sale` (a Sale or a Void, or None for a
    sign-in alone): one path for every request (written ahead with its kind, reversed when its
    answer is lost, its outcome recorded and mirrored into the batch journal).
    Call step() every loop pass until `outcome` is set: APPROVED or DECLINED (`code`, and
    `record`, the transaction record), FAILED (`message`, a catalog key, and `code` when a host
    code explains it) or COMPLETED. `notices`: catalog keys the operator must see as well (a
    reversal given up: call support). `phase` and `session` tell the screen what is going on.
    Every way through ends in an outcome: an exchange started here is the only one whose answer
    is read here (the session is the terminal's one, an echo test's answer may be on it)."""

    def __init__(self, term, sale=None, force_sign_in=False):
        self.term = term
        self.sale = sale
        self.session = term.host_session()
        self.phase = None
        self.outcome = None
        self.code = None
        self.message = None
        self.record = None
        self.notices = []
        self._force = force_sign_in
        self._signed = False
        self._requested = False
        self._request = None
        self._held = None  # a refund's request, card fields and all, for its resend from RAM
        self._resends = 0  # a refund: its resends from RAM so far (one)
        self._exchange = None  # the session's number of the exchange started here
        self.session.reset()  # what an earlier user (an echo test, a transaction) left is not ours
        self._begin()

    # ---- driving -------------------------------------------------------------------------------
    def step(self):
        """Advance; True if anything changed (the screen redraws)."""
        if self.outcome is not None:
            return False
        session = self.session
        if self._exchange is None or session.exchange != self._exchange:
            self._interrupted()
            return True
        moved = session.step()
        if session.done():
            try:
                self._phase_over()
            except OSError:
                self._fail("storage_failed")
            if self.outcome is not None:
                session.reset()
            return True
        return moved

    def cancel(self):
        """CANCEL: True if the transaction stopped cleanly (nothing had been sent); step() then
        ends it (cancelled)."""
        return self.outcome is None and self.session.cancel()

    def remaining_s(self):
        return self.session.remaining_s()

    # ---- the order -----------------------------------------------------------------------------
    def _begin(self):
        if self.term.board.security is None or self.term.journal is None:
            return self._fail("not_available")
        try:
            self._next()
        except OSError:
            self._fail("storage_failed")

    def _next(self):
        term = self.term
        journal = term.journal
        journal.recover()  # what an earlier transaction's failed write left (docs/JOURNAL.md)
        if not self._signed and self._needs_sign_in():
            return self._start_sign_in()
        rev = journal.pending_reversal()
        if rev is not None:
            if rev["attempts"] >= term.params.reversal_attempts:
                # The last attempt went and was never answered (a cut while it was out, or the
                # half-done give-up of one that failed): given up, and the transaction goes on.
                self._give_up()
                return self._next()
            return self._start_reversal(rev)
        self._after_reversal()

    def _after_reversal(self):
        """Signed in, nothing pending: the request (a settlement adds its phases here instead:
        firmware/online_settle.py)."""
        if self.sale is not None and not self._requested:
            return self._start_request()
        if self._held is not None:
            return self._resend_held()
        if self.outcome is None:
            self.outcome = COMPLETED

    def _needs_sign_in(self):
        return self._force or needs_sign_in(self.term)

    def _fail(self, key, code=None):
        if self._held is not None and self._resends and key != "refund_unconfirmed":
            self.notices.append("refund_unconfirmed")  # its resend cannot go (a sign-in failed ...)
        self._drop_held()  # a refund's card fields never outlive the transaction
        self.outcome = FAILED
        self.message = key
        self.code = code

    def _acceptor(self):
        return messages.acceptor(self.term.params)

    def _start(self, phase, request, before_send=None):
        term = self.term
        self.phase = phase
        self._request = request
        timeout_ms = term.params.host_timeout_s * 1000
        self.session.start(request, term.params.host, timeout_ms, before_send)
        self._exchange = self.session.exchange

    def _interrupted(self):
        # The session is not on an exchange started here (another user started one, or none was
        # started): its state and answer are not this transaction's. A request that may have gone
        # stays in doubt with its reversal pending (98); a reversal keeps its counted attempt.
        try:
            if self.phase == REQUEST and self._refunding():
                self._refund_unconfirmed()
            elif self.phase == REQUEST:
                self.term.journal.keep_reversal(messages.REVERSE_NO_ANSWER)
                self.record = self.term.journal.last
        except OSError:
            return self._fail("storage_failed")
        self._fail("online_interrupted")

    def _phase_over(self):
        phase = self.phase
        if phase == SIGN_IN:
            self._sign_in_over()
        elif phase == REVERSAL:
            self._reversal_over()
        else:
            self._request_over()
        if self.outcome is None:
            self._next()

    # ---- sign-in (签到) ---------------------------------------------------------------------------
    def _start_sign_in(self):
        term = self.term
        trace = term.counters.next_trace()
        self._start(
            SIGN_IN, messages.sign_in(self._acceptor(), trace, term.counters.batch, term.operator_id())
        )

    def _sign_in_over(self):
        term = self.term
        session = self.session
        self._signed = True
        if session.state != DONE:
            return self._fail(unreachable_or(session.error, "signin_failed"))
        if session.code != messages.APPROVED:
            return self._fail("signin_failed", session.code)
        answer = session.answer
        try:
            net = parse_f60(answer.get(60, "00000000"))[2] or KEYS_DOUBLE
            messages.working_keys(answer)  # the layout matches 60.3, else ProtocolError
            term.board.security.load_working_keys(answer[62], net)
        except ProtocolError:
            return self._fail("host_protocol")
        except HalError:  # keys refused (check values), no TMK: the keys in force stay
            return self._fail("signin_keys")
        if not term.clock_valid:
            floor = max(BUILD_TIME, term.journal.known_time())
            t = host_time(answer.get(13), answer.get(12), floor, term.params.tz_minutes)
            if t is None:
                return self._fail("signin_no_time")
            term.set_clock(t)
        batch = messages.batch_of(answer)
        if batch is not None:
            term.counters.adopt_batch(batch)
        now = term.clock.time()
        term.journal.signed_in(local_day(now, term.params.tz_minutes), now)

    # ---- the pending reversal (冲正) ---------------------------------------------------------------
    def _start_reversal(self, rev):
        self._start(REVERSAL, reversal_request(rev), self.term.journal.count_attempt)

    def _reversal_over(self):
        term = self.term
        journal = term.journal
        session = self.session
        if session.state == DONE and session.code in messages.REVERSAL_DONE:
            journal.reversal_done(session.code)
            return
        if session.state != DONE and session.error in NEVER_SENT:
            # Not an attempt: the host was never reached (docs/PROTOCOL.md). The sale cannot go either.
            return self._fail(unreachable_or(session.error, "host_unreachable"))
        if session.error == BAD_MAC or session.code == "A0":  # ours or the host's MAC check failed
            self._mac_failed()
        if journal.reversal["attempts"] >= term.params.reversal_attempts:
            self._give_up()
            return
        self._fail("reversal_pending")

    def _give_up(self):
        term = self.term
        term.journal.give_up_reversal(term.clock.time())
        self.notices.append("reversal_gave_up")
        self.notices.append("call_support")

    def _mac_failed(self):
        term = self.term
        try:
            term.board.security.drop_working_keys()
        except HalError:
            pass  # the keys are not trusted either way: the sign-in below replaces them
        term.journal.need_sign_in()
        self._signed = False  # a reversal given up here: the request after it signs in again first

    # ---- the request (消费, 消费撤销) ----------------------------------------------------------------
    def _start_request(self):
        term = self.term
        journal = term.journal
        sale = self.sale
        self._requested = True
        if sale.kind == "resend":
            return self._start(REQUEST, sale.message(self._acceptor()))
        if journal.audit_full():
            self.notices.append("call_support")
            return self._fail("audit_full")
        if term.settling:  # a settlement started and not finished: nothing joins the batch
            return self._fail("settle_unfinished")
        if journal.batch.room(term.params.batch_size) is not None:
            # The batch journal cannot take one more (its count, or the storage's space): refused
            # before a trace number is consumed.
            return self._fail("settle_first")
        card = sale.card
        track2 = None
        if card is not None:
            track2 = card.take_track2()
            if track2 is None:
                return self._fail("retry_card")
        counters = term.counters
        trace = counters.next_trace()
        batch = counters.batch
        request = sale.message(self._acceptor(), trace, batch, track2)
        track2 = None
        sale.pin_block = None
        txn = sale.txn()
        txn["kind"] = sale.kind
        txn["trace"] = trace
        txn["batch"] = batch
        txn["amount"] = sale.amount
        txn["time"] = term.clock.time()
        txn["op"] = term.operator_id()
        if sale.kind == "refund":
            # Never reversed: written ahead alone; the request, card fields and all, stays in RAM
            # for its one resend (the same trace) until the outcome.
            journal.write_ahead(txn, None)
            self._start(REQUEST, request)
            self._held = request
            return
        reversal = messages.reversal(request, J.WRITTEN_AHEAD)
        fields = reversal.fields
        del fields[64]
        journal.write_ahead(txn, fields)
        self._start(REQUEST, request)
        for n in (35, 36, 52):  # encoded and MACed: the message keeps no card or PIN data
            request.fields.pop(n, None)

    def _request_over(self):
        kind = self.sale.kind
        if kind == "refund":
            return self._refund_over()
        if kind == "resend":
            return self._resend_over()
        term = self.term
        journal = term.journal
        session = self.session
        if session.state != DONE:
            error = session.error
            if error in NEVER_SENT:
                journal.clear_reversal()  # nothing left the terminal: nothing to reverse
                self.record = journal.last
                if error == NO_KEY:
                    journal.need_sign_in()
                return self._fail(unreachable_or(error, "host_unreachable"))
            if error == BAD_MAC:
                self._mac_failed()
            journal.keep_reversal(_REASONS.get(error, messages.REVERSE_NO_ANSWER))
            self.record = journal.last
            return self._fail("host_" + error)
        answer = session.answer
        code = session.code
        if code == messages.APPROVED:
            try:
                rrn, auth = answer.get(37, ""), answer.get(38, "")
                journal.record_outcome(J.APPROVED, code, rrn, auth, *_host_dates(answer))
            except OSError:
                # Approved, but the terminal cannot keep it: reversed (96), never charged silently.
                self._mac_safe_keep(messages.REVERSE_TERMINAL)
                return self._fail("txn_not_recorded", code)
            self.record = journal.last
            self.outcome = APPROVED
            self.code = code
            _quietly(journal.clear_reversal)  # if this fails, recover() clears it before anything else
            return
        if code == "A0":  # the host could not check our MAC: sign in again
            self._mac_failed()
        signed = 64 in answer.fields  # and verified by the session
        if not signed:
            # Anyone on the way could have written an unsigned decline over an approval: the
            # decline is shown, but the reversal stays (06), written before the outcome so that no
            # cut leaves a declined txn with its reversal still reading 98 (recover() clears that).
            journal.keep_reversal(messages.REVERSE_OTHER)
        journal.record_outcome(J.DECLINED, code, "", "", *_host_dates(answer))
        self.record = journal.last
        self.outcome = DECLINED
        self.code = code
        if signed:
            _quietly(journal.clear_reversal)

    # ---- the refund (退货): resent, never reversed ----------------------------------------------------
    def _refunding(self):
        return self.sale is not None and self.sale.kind in ("refund", "resend")

    def _refund_over(self):
        """The answer to a refund (or its resend from RAM): approved or a signed decline is its
        outcome; anything else (no answer, a broken link, garbage, a mismatch, a bad MAC, an
        unsigned decline, A0) leaves it not confirmed and resends it once, the same request (after
        a sign-in for a MAC failure); then it stays not confirmed for RefundResend."""
        term = self.term
        journal = term.journal
        session = self.session
        if session.state != DONE and session.error in NEVER_SENT:
            if self._resends == 0:
                self._drop_held()
                journal.refund_state(J.NOT_SENT)  # nothing left the terminal
                self.record = journal.last
                if session.error == NO_KEY:
                    journal.need_sign_in()
                return self._fail(unreachable_or(session.error, "host_unreachable"))
            return self._refund_unconfirmed()  # the first went: it may be booked
        if session.state == DONE and session.code == messages.APPROVED:
            answer = session.answer
            self._drop_held()
            try:
                rrn, auth = answer.get(37, ""), answer.get(38, "")
                journal.record_outcome(J.APPROVED, session.code, rrn, auth, *_host_dates(answer))
            except OSError:
                # Booked, and the terminal cannot keep it: not confirmed (a boot finds it sent, or
                # in doubt); the resend gets this approval again.
                return self._fail("refund_unconfirmed", session.code)
            self.record = journal.last
            self.outcome = APPROVED
            self.code = session.code
            return
        if session.state == DONE and session.code != "A0" and 64 in session.answer.fields:
            self._drop_held()
            journal.record_outcome(J.DECLINED, session.code, "", "", *_host_dates(session.answer))
            self.record = journal.last
            self.outcome = DECLINED
            self.code = session.code
            return
        if session.error == BAD_MAC or session.code == "A0":
            self._mac_failed()
            self._signed = False  # sign in again before the resend
        journal.refund_state(J.IN_DOUBT)
        self.record = journal.last
        if self._resends == 0 and self._held is not None:
            self._resends = 1  # _next() resends it (after the sign-in a MAC failure needs)
            return
        return self._refund_unconfirmed()

    def _resend_held(self):
        request = self._held
        request.fields.pop(52, None)  # no PIN block in a resend (a refund has none anyway)
        self._start(REQUEST, request)

    def _drop_held(self):
        request = self._held
        self._held = None
        if request is not None:
            for n in (35, 36, 52):
                request.fields.pop(n, None)

    def _refund_unconfirmed(self):
        """No valid answer after the resend: the refund stays not confirmed (`in_doubt`)."""
        self._drop_held()
        journal = self.term.journal
        if self.sale.kind == "refund":
            journal.refund_state(J.IN_DOUBT)
            self.record = journal.last
        self._fail("refund_unconfirmed")

    def _resend_over(self):
        """The answer to a card-less resend: approved (the host had it: its first answer again),
        25 (it never had it: not done), another signed decline (declined); nothing valid: still
        not confirmed."""
        term = self.term
        journal = term.journal
        session = self.session
        view = self.sale.view
        if session.state != DONE:
            if session.error == BAD_MAC:
                self._mac_failed()
            if session.error in NEVER_SENT:
                return self._fail(unreachable_or(session.error, "host_unreachable"))
            return self._fail("refund_unconfirmed")
        answer = session.answer
        code = session.code
        if code == "A0":
            self._mac_failed()
            return self._fail("refund_unconfirmed", code)
        if code == messages.APPROVED:
            state, rrn, auth = J.APPROVED, answer.get(37, ""), answer.get(38, "")
        elif 64 not in answer.fields or code == "94":
            # unsigned: it may hide an approval; 94: the host holds other content under this trace
            # (not this refund's answer): either way nothing is known, it stays not confirmed
            return self._fail("refund_unconfirmed", code)
        else:
            state, rrn, auth = (J.NOT_DONE if code == "25" else J.DECLINED), "", ""
        try:
            journal.refund_resent(view, state, code, rrn, auth, *_host_dates(answer), now=term.clock.time())
        except OSError:
            return self._fail("storage_failed", code)
        last = journal.last
        if last is not None and last["trace"] == view["trace"] and last["batch"] == view["batch"]:
            self.record = last
        elif view.get("archived"):  # settled before: its archive row holds the outcome
            self.record = None
        else:  # an older refund: the batch journal's view of it, as the result screen shows one
            try:
                self.record = journal.batch.by_trace(view["trace"])
            except (OSError, Damaged):
                self.record = None
        self.outcome = APPROVED if state == J.APPROVED else DECLINED
        self.code = code
        if state == J.NOT_DONE:
            self.message = "refund_not_done"

    def _mac_safe_keep(self, reason):
        try:
            self.term.journal.keep_reversal(reason)
        except OSError:
            pass  # the record still holds the reversal written ahead (98): it goes all the same


# ---- the echo test (回响测试) ----------------------------------------------------------------------
# Why an echo failed -> catalog key (anything else: "echo_bad_answer").
_ECHO_FAILURES = {
    CANCELLED: "online_cancelled",
    NO_ANSWER: "echo_no_answer",
    BROKEN: "echo_link_broke",
}


class OneMessage:
    """What the echo test and the sign-off share: one 0820 on the terminal's host session, driven
    by step() until `outcome` is set; a subclass's _check() reads the session once it is done."""

    def __init__(self, term):
        self.term = term
        self.session = term.host_session()
        self.outcome = None
        self.message = None
        self.code = None

    def step(self):
        """Advance; True if anything changed (the screen redraws)."""
        if self.outcome is not None:
            return False
        moved = self.session.step()
        return self._check() or moved

    def cancel(self):
        """CANCEL: True if it stopped (only before the 0820 was sent)."""
        return self.outcome is None and self.session.cancel() and self._check()

    def remaining_s(self):
        return self.session.remaining_s()

    def _check(self):
        raise NotImplementedError


class Echo(OneMessage):
    """The echo test: one 0820 (60.3 = 301; no F11, so no trace number is used; no MAC, so no
    sign-in or working key is needed) through the host session; nothing is written to storage.
    Call step() every loop pass until `outcome` is APPROVED (`round_trip_ms`, from the start to the
    answer) or FAILED (`message`, a catalog key; `code` when the host answered other than 00)."""

    def __init__(self, term):
        OneMessage.__init__(self, term)
        self.round_trip_ms = None
        p = term.params
        counters = term.counters
        batch = counters.batch if counters is not None else 1  # 60.2 only; lost counters: any
        self._start_ms = term.clock.ticks_ms()
        try:
            request = messages.echo(messages.acceptor(p), batch)
            self.session.start(request, p.host, p.host_timeout_s * 1000)
        except ProtocolError:  # no terminal or merchant id yet
            self._fail("host_protocol")
            return  # (an __init__ returns None: `return self._fail()` was a TypeError)
        except ValueError:  # the host parameter is not host:port
            self._fail("host_unreachable")
            return
        self._check()

    def _check(self):
        session = self.session
        if not session.done():
            return False
        if session.state != DONE:
            error = session.error
            return self._fail(_ECHO_FAILURES.get(error) or unreachable_or(error, "echo_bad_answer"))
        if session.code != messages.APPROVED:
            self.code = session.code
            return self._fail("echo_bad_answer")
        self.round_trip_ms = ticks_diff(self.term.clock.ticks_ms(), self._start_ms)
        self.outcome = APPROVED
        return True

    def _fail(self, key):
        self.outcome = FAILED
        self.message = key
        return True


def reversal_request(rev):
    """The 0400 of a reversal record (or an audit item): its kept fields, F64 to be MACed."""
    fields = {}
    for k in rev["f"]:
        fields[int(k)] = rev["f"][k]
    fields[64] = MAC_ROOM
    return Message("0400", fields, TPDU, HEADER)


def _host_dates(answer):
    """The answer's F12, F13, F15 ("" for one it lacks): the codec gives them as digits."""
    return answer.get(12, ""), answer.get(13, ""), answer.get(15, "")


def _quietly(write):
    try:
        write()
    except OSError:
        pass  # the outcome is recorded; journal.recover() finishes this write before the next one


def unreachable_or(error, other):
    if error == CANCELLED:
        return "online_cancelled"
    if error == NOT_WRITTEN:
        return "storage_failed"
    if error == NO_KEY:
        return "signin_failed"
    if error in NEVER_SENT:
        return "host_unreachable"
    return other


# ---- sign-off from the host (签退) ---------------------------------------------------------------
# Why a sign-off's 0820 failed -> catalog key (anything else: "echo_bad_answer").
_SIGN_OFF_FAILURES = {NO_ANSWER: "echo_no_answer", BROKEN: "echo_link_broke"}
_SUPERVISOR = "00"  # firmware.operators.SUPERVISOR (not loaded here): who signs off, in the event log


class SignOff(OneMessage):
    """签退: one 0820 (60.3 = 002, F11 a new trace number, F63 the operator signed in; no MAC, so no
    working key is needed to send it) through the host session, then the terminal signs off here:
    the next transaction signs in first (journal.need_sign_in) and the working keys are dropped.
    It signs off here whatever the host does (no answer, a decline, a host down: the host replaces
    its keys at the next 0800 anyway, and the supervisor meant the keys to end); only CANCEL
    before the 0820 went leaves everything as it was. Call step() every loop pass until `outcome`
    is APPROVED (the host confirmed) or FAILED (`message`, a catalog key; `code` when the host
    answered other than 00); `signed_off` then says whether the terminal signed off here."""

    def __init__(self, term):
        OneMessage.__init__(self, term)
        self.signed_off = False
        self.session.reset()  # what an earlier user left is not ours
        if term.board.security is None or term.journal is None or term.counters is None:
            self._over("not_available", False)
            return
        p = term.params
        counters = term.counters
        failed = None
        try:
            trace = counters.next_trace()
            request = messages.sign_off(messages.acceptor(p), trace, counters.batch, term.operator_id())
            self.session.start(request, p.host, p.host_timeout_s * 1000)
        except OSError:
            failed = "storage_failed"
        except ProtocolError:  # no terminal or merchant id yet
            failed = "host_protocol"
        except ValueError:  # the host parameter is not host:port
            failed = "host_unreachable"
        if failed is None:
            self._check()
        else:
            self._over(failed)

    def _check(self):
        session = self.session
        if not session.done():
            return False
        if session.state != DONE:
            error = session.error
            if error == CANCELLED:
                return self._over("online_cancelled", False)
            key = _SIGN_OFF_FAILURES.get(error) or unreachable_or(error, "echo_bad_answer")
            return self._over(key)
        if session.code != messages.APPROVED:
            self.code = session.code
            return self._over("echo_bad_answer")
        return self._over(None)

    def _over(self, message, sign_off=True):
        """The outcome (message None: APPROVED); sign_off: the terminal signs off here."""
        self.outcome = APPROVED if message is None else FAILED
        self.message = message
        self.session.reset()
        if sign_off:
            self._sign_off_here()
        return True

    def _sign_off_here(self):
        term = self.term
        done = False
        try:
            term.journal.need_sign_in()  # first: a cut before the keys go still signs in next
            done = True
        except OSError:
            self.message = self.message or "storage_failed"
            self.outcome = FAILED
        try:
            term.board.security.drop_working_keys()
            done = True
        except HalError:
            term.device_failed("dev_security")
        self.signed_off = done
        term.operator = None
        term.log_event("sign_off", _SUPERVISOR)
