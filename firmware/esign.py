# The e-signature (电子签名) after the screen took it: the 交易特征码, the no-signature rule, the
# image file kept beside the batch journal's record, and the upload queue (0820, 60.3 800).
# Never keeps a stroke or a card number; never gives an upload a trace number of its own.
#
# docs/ESIGN.md (the capture, the image) and docs/JOURNAL.md (the file, the queue) say how.

from firmware.host import messages
from firmware.host.codec import ProtocolError
from firmware.host.session import BROKEN, CANCELLED, DONE, NO_ANSWER
from firmware.online import APPROVED, FAILED, _OneMessage, _unreachable_or
from firmware.sigfile import NO_CODE, name_key, read_image, write_image
from hal.contracts import CARD_TAP
from hal.record import Damaged

# The batch journal's e-signature states (firmware/batch.py ESIGN) this module writes
PENDING = "pending"  # the image is on storage, not yet taken by the host: the queue
UPLOADED = "uploaded"  # the host answered 00 or 94
FAILED_UPLOAD = "failed"  # the host answered another code (kept in the image file)
NO_PEN = "no_pen"  # not signed: the pad has no pen (a paper signature)
NO_SIGNATURE = "no_sig_rule"  # not signed: contactless at or under the no-signature limit (免签)
TIMED_OUT = "timeout"  # not signed: nobody signed within the esign_timeout_s parameter
CANCELLED_SIG = "cancelled"  # not signed: CANCEL on the signing screen
UNSIGNED = (NO_PEN, NO_SIGNATURE, TIMED_OUT, CANCELLED_SIG)
DONE_CODES = ("00", "94")  # 94: a duplicate, the host has it already


# ---- the capture's rules ----------------------------------------------------------------------------
def feature_code(f15, rrn):
    """The 交易特征码: the settlement date MMDD (F15, "0000" without one) and the RRN make 16
    characters; the first 8 XOR the last 8, as 8 hex digits. A character that is not a hex digit
    counts as its code's low 4 bits (an RRN is 12 printable characters, digits in practice)."""
    s = (f15 if len(f15) == 4 else "0000") + rrn
    s = s + "0" * (16 - len(s)) if len(s) < 16 else s[:16]
    out = ""
    for i in range(8):
        out += "0123456789ABCDEF"[_nibble(s[i]) ^ _nibble(s[8 + i])]
    return out


def _nibble(ch):
    v = "0123456789abcdef".find(ch.lower())
    return v if v >= 0 else ord(ch) & 0x0F


def unsigned_reason(params, view, has_pen):
    """Why a transaction (a batch journal view) takes no signature (an UNSIGNED state), or None: a
    pad without a pen, or contactless at or under the esign_free_fen parameter (免签)."""
    if view.get("mode") == CARD_TAP and view["amount"] <= params.esign_free_fen:
        return NO_SIGNATURE
    if not has_pen:
        return NO_PEN
    return None


def keep_unsigned(term, view, reason):
    """The journal says the transaction was not signed, and why."""
    term.journal.batch.change(view["batch"], view["trace"], term.clock.time(), esign=reason)


def keep_signed(term, view, image):
    """The image is kept, then the transaction queued (its state pending). A cut between the two
    leaves an image whose state is still none: pending() queues it all the same."""
    write_image(term.board.storage, view["batch"], view["trace"], image)
    term.journal.batch.change(view["batch"], view["trace"], term.clock.time(), esign=PENDING)


# ---- the queue -------------------------------------------------------------------------------------
def pending(term):
    """[(batch, trace)] of the current batch's signatures waiting for upload, oldest first: state
    pending, or an image whose state still reads none (a cut after the image was written: queued
    here). The state in the batch journal is the queue; the image files say which ones to look at."""
    batch = term.journal.batch
    current = term.counters.batch
    out = []
    for name in term.board.storage.list():
        key = name_key(name)
        if key is None or key[0] != current:
            continue
        view = batch.by_trace(key[1])
        if view is None or view["batch"] != key[0]:
            continue
        if view["esign"] == "none":
            batch.change(key[0], key[1], term.clock.time(), esign=PENDING)
            view["esign"] = PENDING
        if view["esign"] == PENDING:
            out.append(key)
    return out


def slip_elements(term, view):
    """F55's TLV of the e-receipt's elements (docs/PROTOCOL.md): merchant name, kind, masked card,
    auth code, operator, 交易特征码, date-time (Unix seconds)."""
    p = term.params
    return [
        (0xFF00, p.merchant_name.encode()),
        (0xFF01, view["kind"].encode()),
        (0xFF02, view["card"].encode()),
        (0xFF03, view.get("auth", "").encode()),
        (0xFF04, (view.get("op") or "01").encode()),
        (0xFF05, feature_code(view.get("f15", ""), view.get("rrn", "")).encode()),
        (0xFF06, str(view["time"]).encode()),
    ]


# Why an upload did not reach the host -> catalog key
_UPLOAD_FAILURES = {NO_ANSWER: "echo_no_answer", BROKEN: "echo_link_broke", CANCELLED: "online_cancelled"}


class Upload(_OneMessage):
    """One 0820 e-signature upload of (batch, trace): the original's trace (no trace consumed),
    its amount and RRN, F55 the slip's elements, F62 the kept image. Call step() until `outcome`:
    APPROVED (00 or 94: the state is uploaded), FAILED with `code` (another code: kept in the image
    file, state failed, never sent again by the queue) or FAILED with `message` only (no answer,
    no link, storage: still pending, sent again later under the same trace)."""

    def __init__(self, term, batch, trace):
        _OneMessage.__init__(self, term)
        self.batch = batch
        self.trace = trace
        self.session.reset()
        self._image = None
        try:
            view = term.journal.batch.by_trace(trace)
            got = read_image(term.board.storage, batch, trace) if view is not None else None
        except (OSError, Damaged):
            self._over("esign_image_bad")
            return
        if got is None:
            self._over("esign_image_bad")
            return
        self._image = got[0]
        p = term.params
        try:
            request = messages.esign_upload(
                messages.acceptor(p),
                batch,
                trace,
                view["amount"],
                view["rrn"],
                slip_elements(term, view),
                self._image,
                view["f15"],
            )
        except ProtocolError:  # no RRN from the host: nothing names the transaction to it
            self._answered(NO_CODE)
            return
        try:
            self.session.start(request, p.host, p.host_timeout_s * 1000)
        except ValueError:
            self._over("host_unreachable")
            return
        self._check()

    def _check(self):
        session = self.session
        if not session.done():
            return False
        if session.state != DONE:
            error = session.error
            return self._over(_UPLOAD_FAILURES.get(error) or _unreachable_or(error, "echo_bad_answer"))
        return self._answered(session.code)

    def unreachable(self):
        """True if the host was not reached (the queue stops: the next one would not go either)."""
        return self.outcome == FAILED and self.code is None and self.message != "esign_image_bad"

    def _answered(self, code):
        term = self.term
        try:
            if code in DONE_CODES:
                state = UPLOADED
            else:
                write_image(term.board.storage, self.batch, self.trace, self._image, code)
                state = FAILED_UPLOAD
            term.journal.batch.change(self.batch, self.trace, term.clock.time(), esign=state)
        except (OSError, ValueError):
            return self._over("storage_failed")  # still pending: sent again, the same trace
        self.code = code
        self.session.reset()
        self.outcome = APPROVED if state == UPLOADED else FAILED
        self.message = None if state == UPLOADED else "esign_refused"
        return True

    def _over(self, message):
        self.outcome = FAILED
        self.message = message
        self.session.reset()
        return True


class UploadQueue:
    """Every pending signature of the batch in turn (`first`, a (batch, trace), before the others),
    one Upload at a time; stops at the first that did not reach the host. step() until `done`;
    then `uploaded`, `refused` ([(trace, code)]) and `left` (still pending) say how it went.
    The settlement sweep is settlement_sweep(term)."""

    def __init__(self, term, first=None):
        self.term = term
        self.done = False
        self.uploaded = 0
        self.refused = []
        self.left = 0
        self.current = None
        try:
            keys = pending(term)
        except (OSError, Damaged, ValueError):
            keys = []
            self.left = -1  # unknown: the journal did not read
        if first is not None and first in keys:
            keys.remove(first)
            keys.insert(0, first)
        self._keys = keys
        self._next()

    def _next(self):
        while self._keys:
            batch, trace = self._keys.pop(0)
            upload = Upload(self.term, batch, trace)
            if upload.outcome is None:
                self.current = upload
                return
            if not self._count(upload):
                return
        self.current = None
        self.done = True

    def _count(self, upload):
        """Count an upload that ended; False (and the queue is done) if the host was not reached."""
        if upload.outcome == APPROVED:
            self.uploaded += 1
        elif upload.code is not None:
            self.refused.append((upload.trace, upload.code))
        else:
            self.left += 1
            if upload.unreachable():
                self.left += len(self._keys)
                self._keys = []
                self.current = None
                self.done = True
                return False
        return True

    def step(self):
        """Advance; True if anything changed."""
        upload = self.current
        if upload is None:
            return False
        moved = upload.step()
        if upload.outcome is not None:
            if self._count(upload):
                self._next()
            return True
        return moved

    def cancel(self):
        upload = self.current
        return upload is not None and upload.cancel()

    def remaining_s(self):
        upload = self.current
        return upload.remaining_s() if upload is not None else 0


def settlement_sweep(term):
    """The settlement's sweep (结算前上送): an UploadQueue of every pending signature of the batch."""
    return UploadQueue(term)
