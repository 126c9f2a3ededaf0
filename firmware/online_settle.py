# Settlement's exchanges (结算) on the one request path: Settlement is firmware.online.Online with
# its phases after the pending reversal (sign-in and the pending reversal are Online's own): the
# sweep, the 0500, the batch upload (0320 60.3 201, item by item) and its end (202 / 207), then the
# batch closes. Every step is written ahead into the settlement record (firmware/settle.py), so a
# power cut anywhere resumes where it stopped: the 0500 and the end message again with a new trace,
# the upload at the item it had reached (each item under its own trace: the host answers a repeat
# as it answered the first, never books it twice).

from firmware import settle as S
from firmware.host import messages
from firmware.host.codec import ProtocolError
from firmware.host.session import DONE, NEVER_SENT
from firmware.online import (
    APPROVED,
    COMPLETED,
    FAILED,
    Online,
    RefundResend,
    reversal_request,
    unreachable_or,
)
from hal.record import Damaged

# Phases (besides Online's sign-in and reversal)
AUDIT = "audit"  # a failed reversal (the audit's) once more
SETTLE = "settle"  # the 0500
UPLOAD = "upload"  # one 0320 item
UPLOAD_END = "upload_end"  # the 0320 end message

# What the settlement drops once its sweep is over (Terminal.drop): the 0500, the batch upload and
# the closing never upload an e-signature or make a receipt. firmware.sigfile stays: the journal's
# module holds its functions.
DROPPED_AFTER_SWEEP = ("firmware.esign", "firmware.receipt")

_UPLOAD_TYPES = {"sale": messages.TYPE_SALE, "void": messages.TYPE_VOID, "refund": messages.TYPE_REFUND}

# The sweep before the 0500 (a list of steps): each is a method name of Settlement, run in turn
# until it starts an exchange or reports itself done. The pending reversal goes first, as Online
# sends it before anything (its phase is Online's).
SWEEP = (
    "_sweep_audit",  # each failed reversal in the audit once more
    "_sweep_refunds",  # each refund not confirmed resent card-less (its own trace: RefundResend)
    "_sweep_esign",  # each pending e-signature upload (its own trace: firmware.esign.UploadQueue)
)


class Settlement(Online):
    """The settlement of `state` (a firmware.settle.State whose step is one of UNFINISHED), driven
    by step() like Online until `outcome` is COMPLETED (the batch closed: the record is its report)
    or FAILED (`message`, a catalog key; `code` when the host's code explains it). `done`: items
    of the batch upload answered so far (`state.rec["sent"]`), for the screen."""

    def __init__(self, term, state):
        self.state = state
        self._sweep_at = 0  # the sweep's step
        self._audit = []  # the audit's items as the sweep found them
        self._audit_read = False
        self._audit_at = 0
        self._item = {}  # the batch view of the upload item out
        self._refunds = None  # the refunds not confirmed as the sweep found them
        self._refund_at = 0
        self._esign_done = False
        self._sub = None  # a sweep step's own driver (an Online of a RefundResend, an UploadQueue)
        self.swept = []  # what the sweep could not settle: ("refund" | "esign", trace, code or None)
        self._sig_left = 0  # signatures not uploaded that `swept` does not list (not reached, or
        # refused past the queue's first REFUSED_LISTED)
        self.sent = [0, 0, 0]  # what the sweep settled: reversals answered, refunds confirmed, uploads
        Online.__init__(self, term, None)

    def step(self):
        if self._sub is not None:
            return self._sub_step()
        try:
            return Online.step(self)
        except Damaged:
            # A batch record that no longer reads back (damaged since the boot's scan, which leaves
            # such a frame out): unfinished, said; a reboot's scan lets it go on without it.
            self.session.reset()
            self._fail("qry_unreadable")
            return True

    # ---- the order -----------------------------------------------------------------------------
    def _next(self):
        if self.state.step == S.CLOSE:  # the closing is local: no sign-in or host needed for it
            return self._close()
        Online._next(self)

    def _reversal_over(self):
        session = self.session
        if session.state == DONE and session.code in messages.REVERSAL_DONE:
            self.sent[0] += 1
        Online._reversal_over(self)
        if self.outcome == FAILED and self.message == "reversal_pending":
            # Settlement does not wait for it: given up into the audit now (tried once more below,
            # listed on the report if it still fails), never dropped.
            self.outcome = None
            self.message = None
            self._give_up()

    def _after_reversal(self):
        step = self.state.step
        if step == S.SWEEP:
            return self._sweep()
        if step == S.SEND:
            return self._start_settle()
        if step == S.UPLOAD:
            return self._next_item()
        if step == S.END:
            return self._start_end()
        if step == S.CLOSE:
            return self._close()
        if self.outcome is None:
            self.outcome = COMPLETED

    def _request_over(self):
        phase = self.phase
        if phase == AUDIT:
            self._audit_over()
        elif phase == SETTLE:
            self._settle_over()
        elif phase == UPLOAD:
            self._item_over()
        else:
            self._end_over()

    def _lost(self):
        """The exchange did not end in an answer: the settlement stays unfinished (a reboot or
        the menu continues it). True if so."""
        session = self.session
        if session.state == DONE:
            return False
        error = session.error
        if error in NEVER_SENT:
            self._fail(unreachable_or(error, "host_unreachable"))
        else:
            self._fail("settle_no_answer")
        return True

    # ---- the sweep -----------------------------------------------------------------------------
    def _sweep(self):
        while self._sweep_at < len(SWEEP):
            if getattr(self, SWEEP[self._sweep_at])():
                return  # an exchange started
            self._sweep_at += 1
        self._swept()

    def _swept(self):
        """The sweep is over: the 0500 next (Sweep: the end)."""
        self._start_settle(True)

    def _sweep_audit(self):
        if not self._audit_read:
            self._audit = list(self.term.journal.failed_reversals())
            self._audit_read = True
        if self._audit_at >= len(self._audit):
            return False
        self._start(AUDIT, reversal_request(self._audit[self._audit_at]))
        return True

    def _sweep_refunds(self):
        if self._refunds is None:
            try:
                self._refunds = list(self.term.journal.unconfirmed_refunds())
            except (OSError, Damaged):
                self._refunds = []
        if self._refund_at >= len(self._refunds):
            return False
        self._sub = Online(self.term, RefundResend(self._refunds[self._refund_at]))
        return True

    def _sweep_esign(self):
        if self._esign_done:
            return False
        self._esign_done = True
        try:
            from firmware import esign
        except ImportError:  # a build without the e-signature: nothing pending to send
            return False
        self._sub = esign.settlement_sweep(self.term)
        return True

    def _sub_step(self):
        """Step the sweep's own driver; when it ends, note what did not settle and go on."""
        sub = self._sub
        if isinstance(sub, Online):
            moved = sub.step()
            if sub.outcome is None:
                return moved
            view = (self._refunds or [])[self._refund_at]
            self._refund_at += 1
            if sub.outcome == APPROVED:
                self.sent[1] += 1
            else:
                # declined (25: never booked, the refund is not done) or no answer: listed, kept
                self.swept.append(("refund", view["trace"], sub.code))
        else:
            moved = sub.step()
            if not sub.done:
                return moved
            self.sent[2] += sub.uploaded
            for trace, code in sub.refused:
                self.swept.append(("esign", trace, code))
            self._sig_left += sub.nrefused - len(sub.refused)
            if sub.left:
                self.swept.append(("esign", None, None))  # not reached: still pending
                self._sig_left += max(sub.left, 0)
            self._sub = sub = None  # the queue goes before its modules do
            self.term.drop(DROPPED_AFTER_SWEEP)
        self._sub = None
        self.session.reset()
        self._sweep()
        return True

    def swept_fields(self):
        """What the sweep could not do, as the record (and the report) keep it: the refunds not
        confirmed and the signatures not uploaded, counted, the first LISTED_MAX by trace."""
        ref = []
        sig = []
        for what, trace, _code in self.swept:
            if trace is not None:
                (ref if what == "refund" else sig).append(trace)
        nsig = len(sig) + self._sig_left
        return {"nref": len(ref), "ref": ref[: S.LISTED_MAX], "nsig": nsig, "sig": sig[: S.LISTED_MAX]}

    def _audit_over(self):
        session = self.session
        item = self._audit[self._audit_at]
        if session.state != DONE and session.error in NEVER_SENT:
            return self._fail(unreachable_or(session.error, "host_unreachable"))
        self._audit_at += 1
        if session.state == DONE and session.code in messages.REVERSAL_DONE:
            self.term.journal.audit_done(item, session.code, self.term.clock.time())
            self.sent[0] += 1
        # else: it stays in the audit, listed on the report

    # ---- the 0500 ------------------------------------------------------------------------------
    def _start_settle(self, first=False):
        term = self.term
        st = self.state
        changes = {}
        if first:  # the totals once the sweep is over (its reversals move transactions out)
            try:
                t, k, doubt, ndoubt = S.settle_totals(term.journal.batch.transactions())
            except Damaged:  # unknown totals are never sent: unfinished, the record named
                return self._fail("qry_unreadable")
            rev = [item["trace"] for item in term.journal.failed_reversals()]
            changes = {"step": S.SEND, "t": t, "k": k, "doubt": doubt, "ndoubt": ndoubt, "rev": rev}
            changes.update(self.swept_fields())
            changes["bad"] = min(term.journal.batch.damaged_records, 9999)
        trace = term.counters.next_trace()  # a new trace each time (the recovery table)
        st.write(trace=trace, **changes)
        rec = st.rec
        t = rec["t"]
        request = messages.settlement(
            self._acceptor(),
            trace,
            rec["batch"],
            t[1],
            t[0],
            t[3],
            t[2],
            rec["op"],
            (t[5], t[4], t[7], t[6]),
        )
        self._start(SETTLE, request)

    def _settle_over(self):
        if self._lost():
            return
        session = self.session
        st = self.state
        code = session.code
        try:
            home, away = messages.settlement_result(session.answer) if code == messages.APPROVED else (0, 0)
        except ProtocolError:
            return self._fail("host_protocol")
        if code != messages.APPROVED or messages.SETTLE_ERROR in (home, away):
            # The host said no: shown, the batch stays open (nothing unfinished: sales go on)
            st.write(step=S.NONE, code=code or "")
            self.term.settling = False
            return self._fail("settle_error", code)
        result = str(home) + str(away)
        if messages.UNBALANCED in (home, away):
            st.write(step=S.UPLOAD, result=result, code=code, up=0, tries=0)
        else:
            st.write(step=S.END, result=result, code=code)

    # ---- the batch upload ----------------------------------------------------------------------
    def _next_item(self):
        st = self.state
        batch = self.term.journal.batch
        i = st.rec["up"]
        while i < batch.count:
            try:
                view = batch.at(i)  # one at a time: the batch is never held in RAM
            except Damaged:  # a record that no longer reads back: counted as not uploaded
                st.write(up=i + 1, tries=0, nfail=st.rec["nfail"] + 1)
                i += 1
                continue
            if view["batch"] == st.rec["batch"] and S.uploadable(view):
                if view["rrn"]:
                    self._item = view
                    msg_type = _UPLOAD_TYPES[view["kind"]]
                    request = messages.batch_upload(
                        self._acceptor(),
                        st.rec["batch"],
                        msg_type,
                        view["trace"],
                        view["amount"],
                        view["rrn"],
                        view["auth"],
                        view["f13"],
                        view["f12"],
                    )
                    if i != st.rec["up"]:
                        st.write(up=i, tries=0)
                    return self._start(UPLOAD, request)
                self._item_failed(i, view["trace"], False)  # no RRN to name it by: listed
            i += 1
        st.write(step=S.END, up=i)
        self._start_end()

    def _item_failed(self, i, trace, stopped):
        rec = self.state.rec
        failed = list(rec["fail"])
        if len(failed) < S.LISTED_MAX:
            failed.append(trace)
        changes = {"up": i + 1, "tries": 0, "nfail": rec["nfail"] + 1, "fail": failed}
        if stopped:
            changes["step"] = S.END
            changes["stopped"] = True
        self.state.write(**changes)

    def _item_over(self):
        session = self.session
        st = self.state
        rec = st.rec
        i = rec["up"]
        trace = self._item["trace"]
        if session.state != DONE:
            if session.error in NEVER_SENT:
                return self._fail(unreachable_or(session.error, "host_unreachable"))
            tries = rec["tries"] + 1
            if tries < S.UPLOAD_TRIES:
                st.write(tries=tries)  # resent next (its own trace)
            else:
                self._item_failed(i, trace, True)  # the upload ends here; the report says so
            return
        if session.code in messages.UPLOAD_DONE:
            st.write(up=i + 1, tries=0, sent=rec["sent"] + 1)
        else:
            self._item_failed(i, trace, False)

    # ---- the end message, the closing -----------------------------------------------------------
    def _start_end(self):
        term = self.term
        st = self.state
        trace = term.counters.next_trace()
        st.write(end=trace)
        rec = st.rec
        balanced = str(messages.UNBALANCED) not in rec["result"]
        request = messages.batch_upload_end(self._acceptor(), trace, rec["batch"], rec["sent"], balanced)
        self._start(UPLOAD_END, request)

    def _end_over(self):
        if self._lost():
            return
        self.state.write(step=S.CLOSE)

    def _close(self):
        term = self.term
        st = self.state
        b = st.rec["batch"]
        batch = term.journal.batch
        now = term.clock.time()
        if not batch.closed(b):
            # the archive, the report kept in it; a cut: the boot finishes it
            batch.settle(S.settlement_record(st.rec, now), S.report_record(st.rec, now))
        if term.counters.batch == b:
            term.counters.next_batch()  # the next sign-in's 60.2 confirms it
        st.write(step=S.DONE, time=now)
        term.settling = False
        self.outcome = COMPLETED


class Sweep(Settlement):
    """The sweep alone, for an empty batch that still has work open (open_work): sign-in if due,
    the pending reversal, each failed reversal in the audit, each refund not confirmed (a settled
    batch's), each upload waiting (a settled batch's), each under its own trace as in a
    settlement's sweep; then COMPLETED. No settlement record is written and no 0500 goes (an empty
    batch has nothing to settle), so nothing is refused meanwhile and a cut loses nothing: every
    item's outcome is kept where the item lives, and the next run sends what is still open.
    `sent` and swept_fields() say what went and what did not."""

    def __init__(self, term):
        Settlement.__init__(self, term, None)

    def _next(self):
        Online._next(self)

    def _after_reversal(self):
        self._sweep()

    def _swept(self):
        self.outcome = COMPLETED


def open_work(term):
    """True if the sweep has work with the batch empty: the pending reversal, a failed one in the
    audit, a settled batch's refund not confirmed or upload waiting (reads every archive). An
    archive that does not read counts as work: unknown is never "nothing"."""
    journal = term.journal
    if journal.pending_reversal() is not None or journal.failed_reversals():
        return True
    try:
        if journal.batch.archived_unconfirmed():
            return True
        from firmware import esign
    except ImportError:  # a build without the e-signature: no upload waits
        return False
    except (OSError, Damaged):
        return True
    try:
        for _ in esign.archived_pending(term):
            return True
        return False
    except (OSError, Damaged, ValueError):
        return True
