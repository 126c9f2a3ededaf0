# The e-signature (电子签名) after the screen took it: the 交易特征码, the no-signature rule, the
# image file kept beside the batch journal's record, and the upload queue (0820, 60.3 800).
# Never keeps a stroke or a card number; never gives an upload a trace number of its own.
#
# docs/ESIGN.md (the capture, the image) and docs/JOURNAL.md (the file, the queue) say how.

from firmware import receipt, sigfile
from firmware.host import messages
from firmware.host.codec import ProtocolError
from firmware.host.session import BROKEN, CANCELLED, DONE, NO_ANSWER
from firmware.online import APPROVED, FAILED, OneMessage, unreachable_or
from firmware.sigfile import NO_CODE, UPLOAD_DONE, name_key, read_image, upload_code, write_image
from firmware.store import exists
from hal.contracts import CARD_TAP, HalError
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
DONE_CODES = UPLOAD_DONE  # ("00", "94"); 94: a duplicate, the host has it already
RECEIPT_BAD = "63"  # the host's answer to a receipt whose signature does not verify (docs/HOST.md)
SLIP_STATES = ("approved", "voided")  # a transaction with a slip, so a receipt
REFUSED_LISTED = 16  # refused uploads an UploadQueue lists by trace (settle.LISTED_MAX); more are counted


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


def settle_date(code, rrn):
    """The F15 (settlement date MMDD) feature_code(f15, rrn) was made from: its first 4 characters
    are F15's digits XOR the RRN's 5th to 8th. "" when it was made without one ("0000"), or when
    code and rrn are not a feature code's 8 hex digits and an RRN's 12 characters. A settled batch's
    upload reads its F15 back from its receipt this way (the archive keeps none)."""
    if len(code) != 8 or len(rrn) != 12:
        return ""
    out = ""
    for i in range(4):
        v = "0123456789ABCDEF".find(code[i]) ^ _nibble(rrn[4 + i])
        if not 0 <= v <= 9:
            return ""
        out += str(v)
    return "" if out == "0000" else out


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
def pending(term, skip=None):
    """(batch, trace) of each of the current batch's uploads waiting, oldest first, one at a time
    (skip: one not to give): a signature (state pending, or an image whose state still reads none:
    a cut after the image was written, queued here) and an unsigned transaction's receipt not yet
    answered (its file's code "--"). The last transaction's receipt is made first when a cut left
    it unmade (firmware/receipt.py). The state in the batch journal is the signatures' queue; the
    files say which ones to look at, walked once each (Storage.names), never listed: a batch's
    files are hundreds of names, and a day with the host down leaves hundreds waiting, which no
    list holds (count / 4 bytes of bitmaps, whatever waits)."""
    batch = term.journal.batch
    current = term.counters.batch
    storage = term.board.storage
    _receipt_of_last(term)
    images = _present(storage, sigfile.PREFIX, name_key, batch, current)
    receipts = _present(storage, receipt.PREFIX, receipt.name_key, batch, current)
    head = bytearray(6)  # a receipt file's magic and answer code: all the queue needs to read
    for i in range(batch.count):
        if _waits(term, i, _bit(images, i), _bit(receipts, i), head):
            key = (current, batch.entry(i)[0])
            if key != skip:
                yield key


def _waits(term, i, has_image, has_receipt, head):
    """True if the i-th transaction of the batch journal has an upload waiting (pending())."""
    batch = term.journal.batch
    current = term.counters.batch
    trace, _, state = batch.entry(i)
    if has_image:
        if state != "none" and state != PENDING:
            return False
        if batch.at(i)["batch"] != current:
            return False
        if state == "none":
            batch.change(current, trace, term.clock.time(), esign=PENDING)
        return True
    name = receipt.receipt_name(current, trace)
    return bool(has_receipt) and receipt.waiting(term.board.storage, name, head)


def _key_waits(term, key):
    """True if (batch, trace) of the current batch has an upload waiting (pending())."""
    batch, trace = key
    i = term.journal.batch.index_of(trace) if batch == term.counters.batch else -1
    if i < 0:
        return False
    storage = term.board.storage
    image = exists(storage, sigfile.image_name(batch, trace))
    return _waits(term, i, image, exists(storage, receipt.receipt_name(batch, trace)), bytearray(6))


def waiting(term, first=None, archived=False):
    """What an UploadQueue sends, in its order, one at a time: `first` when it waits, then
    (archived) the settled batches' (archived_pending), then the batch's (pending)."""
    _receipt_of_last(term)
    if first is not None and _key_waits(term, first):
        yield first
    else:
        first = None
    if archived:
        for key in archived_pending(term):
            yield key
    for key in pending(term, first):
        yield key


def _present(storage, prefix, key_of, batch, current):
    """Bit i set: the file `prefix` names for the i-th transaction of the batch journal, of batch
    `current`, exists (one walk of the folder; count / 8 bytes)."""
    bits = bytearray((batch.count + 7) >> 3)
    for name in storage.names(prefix):
        key = key_of(name)
        if key is not None and key[0] == current:
            i = batch.index_of(key[1])
            if i >= 0:
                bits[i >> 3] |= 1 << (i & 7)
    return bits


def _bit(bits, i):
    return bits[i >> 3] & (1 << (i & 7))


def archived_pending(term):
    """(batch, trace) of each of the settled batches' uploads waiting, oldest batch first, one at a
    time: an archive row open at its closing (Batch.open_rows) whose file keeps no answer yet (its
    image's code, or an unsigned one's receipt's, "--"). One refused (another code) is not sent
    again, as in its batch. Reads every archive: the settlement's sweep asks, not the round after
    each transaction."""
    storage = term.board.storage
    head = bytearray(6)
    for row in term.journal.batch.open_rows():
        if upload_code(storage, row["batch"], row["trace"], head) == NO_CODE:
            yield row["batch"], row["trace"]


def archived_upload(storage, batch, trace):
    """What the upload of a settled transaction sends, from its receipt file (the archive keeps no
    card, time or operator): (amount, RRN, F15, F55 items, image or None). Damaged when it has no
    receipt (a board without a signer keeps none) or its files do not agree; OSError."""
    got = receipt.read(storage, batch, trace)
    if got is None:
        raise Damaged("no receipt to upload from")
    rrn = ""
    amount = -1
    code = ""
    signed = False
    for tag, value in receipt.elements(got[0]):
        if tag == receipt.T_RRN:
            rrn = value.decode()
        elif tag == receipt.T_AMOUNT and value.isdigit():
            amount = int(value.decode())
        elif tag == receipt.T_FEATURE:
            code = value.decode()
        elif tag == receipt.T_CODES:
            signed = len(value) == 4 and value[2] == 1
        elif tag in (receipt.T_BATCH, receipt.T_TRACE):
            if value.decode() != "{:06d}".format(batch if tag == receipt.T_BATCH else trace):
                raise Damaged("a receipt of another transaction")
    image = read_image(storage, batch, trace)
    if amount < 0 or signed != (image is not None):
        raise Damaged("receipt and image disagree")
    return amount, rrn, settle_date(code, rrn), receipt.f55(got[0], got[1]), image[0] if image else None


def _receipt_of_last(term):
    """Make the receipt of the batch's last transaction when it has a slip and none was stored (a
    cut between its approval and its receipt): the content it would have had then."""
    last = term.journal.batch.last
    if last is None or last[0] != term.counters.batch:
        return
    if exists(term.board.storage, receipt.receipt_name(last[0], last[1])):
        return
    make_receipt(term, term.journal.batch.by_trace(last[1]))


def make_receipt(term, view):
    """The receipt of a transaction with a slip (approved, or a sale voided since), made and stored
    when it has none: (receipt, signature, code), or None (no slip, no signer, or it could not be
    made: storage, a damaged image, the signer failed; made at the next try)."""
    if view is None or view["state"] not in SLIP_STATES or view["kind"] not in receipt.KINDS:
        return None
    try:
        return receipt.make(term, view)
    except (OSError, Damaged, ValueError, HalError):
        return None


def make_missing(term):
    """Every receipt of the current batch not yet made (settlement's sweep: the one pass that reads
    every transaction); returns how many could not be made."""
    batch = term.journal.batch
    current = term.counters.batch
    made = _present(term.board.storage, receipt.PREFIX, receipt.name_key, batch, current)
    failed = 0
    for i in range(batch.count):
        if _bit(made, i) or batch.entry(i)[1] not in SLIP_STATES:
            continue
        view = batch.at(i)
        if view["batch"] != current:
            continue
        if make_receipt(term, view) is None and term.board.signer is not None:
            failed += 1
    return failed


def slip_elements(term, view):
    """F55 of the upload of (a batch journal view): the receipt's elements and its signature
    (docs/RECEIPT.md), made now if a cut left it unmade. A board without a signer sends the
    elements alone. Damaged, OSError, ValueError or HalError when it cannot be made."""
    got = receipt.make(term, view)
    if got is not None:
        return receipt.f55(got[0], got[1])
    signed, image_hash = receipt.signature_of(term.board.storage, view)
    return receipt.f55(receipt.encode(term.params, view, signed, image_hash), None)


# Why an upload did not reach the host -> catalog key
_UPLOAD_FAILURES = {NO_ANSWER: "echo_no_answer", BROKEN: "echo_link_broke", CANCELLED: "online_cancelled"}


class Upload(OneMessage):
    """One 0820 upload of (batch, trace): the original's trace (no trace consumed), its amount and
    RRN, F55 its receipt's elements and signature, F62 the kept image when it was signed. Call
    step() until `outcome`: APPROVED (00 or 94), FAILED with `code` (another code: kept, in the
    image file and the state failed for a signed one, in the receipt's file for an unsigned one;
    never sent again by the queue) or FAILED with `message` only (no answer, no link, storage:
    still waiting, sent again later under the same trace). A settled batch's (`archived`) is built
    from its receipt (archived_upload) and its answer, 00 and 94 too, kept in its image file (an
    unsigned one's in its receipt's): its archive row is done then."""

    def __init__(self, term, batch, trace):
        OneMessage.__init__(self, term)
        self.batch = batch
        self.trace = trace
        self.session.reset()
        self._image = None
        # a settled batch's (its archive row open): sent from its receipt, its answer kept in its file
        self.archived = batch != term.counters.batch
        storage = term.board.storage
        try:
            if self.archived:
                amount, rrn, f15, slip, self._image = archived_upload(storage, batch, trace)
            else:
                view = term.journal.batch.by_trace(trace)
                if view is not None and view["batch"] != batch:
                    view = None  # the same trace in another batch (traces wrapped): not this one
                # into the terminal's image buffer: idle while uploading (a copy of half a KB, in a
                # heap the signature left fragmented, was where a whole sale ran out of it first)
                got = read_image(storage, batch, trace, term.sig_image) if view is not None else None
                if view is None or (got is None and not exists(storage, receipt.receipt_name(batch, trace))):
                    self._over("esign_image_bad")
                    return
                slip = slip_elements(term, view)
                amount, rrn, f15 = view["amount"], view["rrn"], view["f15"]
                if got is not None:
                    self._image = got[0]
        except (OSError, Damaged, ValueError, HalError):
            self._over("esign_image_bad")
            return
        p = term.params
        try:
            request = messages.esign_upload(
                messages.acceptor(p),
                batch,
                trace,
                amount,
                rrn,
                slip,
                self._image,
                f15,
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
            return self._over(_UPLOAD_FAILURES.get(error) or unreachable_or(error, "echo_bad_answer"))
        return self._answered(session.code)

    def unreachable(self):
        """True if the host was not reached (the queue stops: the next one would not go either)."""
        return self.outcome == FAILED and self.code is None and self.message != "esign_image_bad"

    def _answered(self, code):
        term = self.term
        storage = term.board.storage
        done = code in DONE_CODES
        try:
            if self._image is None:  # an unsigned transaction's receipt: its file keeps the answer
                receipt.answered(storage, self.batch, self.trace, code, term.scratch())
            elif self.archived:  # a settled batch's: its image file keeps the answer, 00 and 94 too
                write_image(storage, self.batch, self.trace, self._image, code)
            else:
                if not done:
                    write_image(storage, self.batch, self.trace, self._image, code)
                state = UPLOADED if done else FAILED_UPLOAD
                term.journal.batch.change(self.batch, self.trace, term.clock.time(), esign=state)
        except (OSError, ValueError, Damaged):
            return self._over("storage_failed")  # still waiting: sent again, the same trace
        self.code = code
        self.session.reset()
        self.outcome = APPROVED if done else FAILED
        self.message = None if done else ("esign_receipt_bad" if code == RECEIPT_BAD else "esign_refused")
        return True

    def _over(self, message):
        self.outcome = FAILED
        self.message = message
        self.session.reset()
        return True


class UploadQueue:
    """Every pending signature of the batch in turn (`first`, a (batch, trace), before the others;
    archived: the settled batches' waiting ones before all), one Upload at a time; stops at the
    first that did not reach the host. step() until `done`; then `uploaded`, `nrefused` (the host
    refused them), `refused` ([(trace, code)] of the first REFUSED_LISTED of those: a host that
    refuses a whole batch does not fill the heap) and `left` (still pending) say how it went. The
    settlement sweep is settlement_sweep(term)."""

    def __init__(self, term, first=None, archived=False):
        self.term = term
        self.done = False
        self.uploaded = 0
        self.refused = []
        self.nrefused = 0
        self.left = 0
        self.current = None
        self._keys = waiting(term, first, archived)  # one at a time: a full batch may wait
        self._next()

    def _take(self):
        """The next (batch, trace) waiting, or None; None too (left -1: unknown) if the journal or
        a file did not read."""
        try:
            return next(self._keys)
        except StopIteration:
            return None
        except (OSError, Damaged, ValueError):
            self.left = -1
            return None

    def _next(self):
        while True:
            key = self._take()
            if key is None:
                break
            upload = Upload(self.term, key[0], key[1])
            if upload.outcome is None:
                self.current = upload
                return
            if not self._count(upload):
                return
        self.current = None
        self.done = True

    def _count(self, upload):
        """Count an upload that ended; False (and the queue is done) if the host was not reached:
        the ones after it are counted as left."""
        if upload.outcome == APPROVED:
            self.uploaded += 1
        elif upload.code is not None:
            self.nrefused += 1
            if len(self.refused) < REFUSED_LISTED:
                self.refused.append((upload.trace, upload.code))
        else:
            self.left += 1
            if upload.unreachable():
                while self.left >= 0 and self._take() is not None:
                    self.left += 1
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
    """The settlement's sweep (结算前上送): every receipt of the batch not yet made is made, then an
    UploadQueue of every upload still waiting: the settled batches' (their archives' open rows),
    then the batch's."""
    try:
        make_missing(term)
    except (OSError, Damaged, ValueError):
        pass  # the queue reads the journal again and says what it could not
    return UploadQueue(term, archived=True)
