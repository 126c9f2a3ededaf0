# The cardholder's signature (电子签名) after an approved sale or void: the amount, the 交易特征码
# and a signing area on the signature pad, at once and with no key press; then the signature
# uploads (firmware/esign.py) and the result. Never keeps a stroke past the image it made.

from firmware import esign
from firmware.jbig import MAX_IMAGE, ImageTooBig, encode_into
from firmware.money import format_fen
from firmware.sigimage import AREA_HEIGHT, AREA_WIDTH, Canvas, signature_image
from firmware.ui.widgets import Screen, center
from hal.contracts import (
    CAP_BLIT,
    CAP_PEN,
    CAP_PIXELS,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_ENTER,
    SIG_CLEAR,
    SIG_CONFIRM,
    SIG_PEN_UP,
    SIG_POINT,
    has,
    ticks_diff,
)
from hal.record import Damaged

_PEN_UP = 0xFF  # in the points buffer: a stroke ends (x is always below the area's width, 240)
_DRAW_EVERY = 8  # points between redraws while the pen moves (a pen-up always redraws)
_POINTS_MIN = 256  # the points' first buffer on a terminal without the host's frame buffer
_AREA_ROW = 4  # the text row the signing area starts at (the title, amount, code and prompt above)

SIGNED_KINDS = ("sale", "void", "refund")


def capture(term, record, then):
    """The screen after an approved transaction (a journal record: its kind, batch and trace):
    the signing screen, or, when it takes no signature (esign.unsigned_reason), that reason
    kept in the journal and the uploads of the queue. then: the result screen shown after.
    The sale, the void and the refund call it (firmware/ui/sale.py AuthorisingScreen, which the
    refund flow, firmware/ui/refund.py, hands its request to): a refund slip is signed too."""
    view = None
    try:
        view = term.journal.batch.by_trace(record["trace"])
    except (OSError, Damaged):  # a record that does not read back: no signature, the result stands
        view = None
    if view is None or view["batch"] != record["batch"] or view["kind"] not in SIGNED_KINDS:
        return UploadScreen(term, None, then)
    pad = term.signature_pad
    reason = esign.unsigned_reason(term.params, view, has(pad, CAP_PEN))
    if reason is None:
        return SignatureScreen(term, view, then)
    return unsigned(term, view, reason, then)


def sign_again(term, record, then):
    """At boot, the last transaction's result not yet shown (a power cut came before): when it is
    approved, of a kind that is signed, still in the current batch, and neither signed nor kept
    unsigned (its state `none` and no image: the cut came while the signing screen was up, and the
    strokes went with the RAM), the signing screen again, as a terminal asks at power-up
    (请持卡人签名), then `then` (the result). None otherwise (an image whose state still reads none
    is queued by esign.pending: it was signed)."""
    if record.get("state") != "approved" or record.get("kind") not in SIGNED_KINDS:
        return None
    try:
        view = term.journal.batch.by_trace(record["trace"])
        if view is None or view["batch"] != record["batch"] or view["esign"] != "none":
            return None
        if term.flow("firmware.sigfile").read_image(term.storage, view["batch"], view["trace"]) is not None:
            return None
    except (OSError, Damaged):
        return None
    return capture(term, record, then)


def unsigned(term, view, reason, then):
    """Keep why the transaction was not signed, then the uploads of the queue."""
    try:
        esign.keep_unsigned(term, view, reason)
    except (OSError, ValueError):
        _note(then, term.t("storage_failed"))
    return UploadScreen(term, None, then)


def _note(then, line):
    lines = getattr(then, "lines", None)
    if lines is not None:
        lines.append(line)


class _Points:
    """The strokes as the pen gave them, 2 bytes a point (x, y) and _PEN_UP between strokes, in
    the first `n` bytes of data: kept only for the rare signature whose image needs a thinner or
    smaller drawing to fit."""

    def __init__(self, data, n):
        self.data = data
        self.n = n

    def __iter__(self):
        data = self.data
        n = self.n
        start = 0
        i = 0
        while i < n:
            if data[i] == _PEN_UP:
                if i > start:
                    yield _Stroke(data, start, i)
                i += 1
                start = i
            else:
                i += 2
        if i > start:
            yield _Stroke(data, start, n)


class _Stroke:
    def __init__(self, data, start, end):
        self.data = data
        self.start = start
        self.end = end

    def __iter__(self):
        data = self.data
        for i in range(self.start, self.end, 2):
            yield (data[i], data[i + 1])


class SignatureScreen(Screen):
    """The signing area on the pad, the ink shown as it comes (a display with CAP_BLIT). OK (the
    pad's or ENTER) keeps the signature when it holds a stroke, else asks for one; CLEAR (the
    pad's or the key) starts again; CANCEL, or esign_timeout_s without the pen or a key, ends it
    unsigned. The image is made, kept and queued; the strokes are dropped."""

    times_out = False  # its own timeout: esign_timeout_s

    def __init__(self, term, view, then):
        super().__init__(term)
        self.title_key = "esign_title"
        self.view = view
        self.then = then
        self.code = esign.feature_code(view["f15"], view["rrn"])
        bitmap = term.sig_bitmap
        self.canvas = Canvas(bitmap=bitmap)  # type: Canvas | None
        if bitmap is not None:
            self.canvas.clear()
        # The points go into the host session's frame buffer, idle while the cardholder signs
        # (Terminal.scratch): a bytearray grown a point at a time strewed the heap with the copies
        # it left behind, and the sale stopped there (bench/README.md).
        self.points = term.scratch() or bytearray(_POINTS_MIN)
        self.n = 0  # the bytes of points used
        self.strokes = 0
        self._down = False
        self._last = (0, 0)
        self._moved = 0
        self._hint = None
        self._quiet_since = term.clock.ticks_ms()
        self._done = False
        self.top = 0

    def enter(self):
        term = self.term
        rows = term.display.size()[0]
        height = term.display.pixels()[1] if has(term.display, CAP_PIXELS) else 320
        self.top = height * _AREA_ROW // rows
        if self.top + AREA_HEIGHT > height:
            self.top = height - AREA_HEIGHT
        term.use("dev_signature_pad", term.signature_pad.start, 0, self.top, AREA_WIDTH, AREA_HEIGHT)
        if "dev_signature_pad" in term.device_faults:
            self._unsigned(esign.NO_PEN)

    def leave(self):
        if not self._done:
            self._drop()
        self.term.use("dev_signature_pad", self.term.signature_pad.stop)

    def _drop(self):
        self.points = None
        self.n = 0
        self.canvas = None
        self._done = True

    def on_signature(self, event):
        if self._done:
            return
        kind, data = event
        self._quiet_since = self.term.clock.ticks_ms()
        if kind == SIG_POINT:
            x, y = data
            if not (0 <= x < AREA_WIDTH and 0 <= y < AREA_HEIGHT):
                return  # the contract keeps points inside the area: a faulty pad's stray one is dropped
            if self._down:
                self.canvas.line(self._last[0], self._last[1], x, y)
            else:
                self.canvas.dot(x, y)
                self._down = True
            self._last = (x, y)
            self._put(x)
            self._put(y)
            self._moved += 1
            if self._moved >= _DRAW_EVERY:
                self._moved = 0
                self.term.redraw()
        elif kind == SIG_PEN_UP:
            if self._down:
                self.strokes += 1
                self._put(_PEN_UP)
            self._down = False
            self._hint = None
            self.term.redraw()
        elif kind == SIG_CLEAR:
            self.clear()
        elif kind == SIG_CONFIRM:
            self.confirm()

    def _put(self, byte):
        points = self.points
        n = self.n
        if n == len(points):  # a long signature: a buffer of its own, twice the size
            more = bytearray(2 * n)
            i = 0
            while i < n:
                more[i] = points[i]
                i += 1
            self.points = points = more
        points[n] = byte
        self.n = n + 1

    def on_key(self, key):
        if self._done:
            return False
        self._quiet_since = self.term.clock.ticks_ms()
        if key == KEY_ENTER:
            self.confirm()
        elif key == KEY_CLEAR:
            self.clear()
        elif key == KEY_CANCEL:
            self._unsigned(esign.CANCELLED_SIG)
        else:
            return False
        return True

    def on_second(self):
        if self._done:
            return False
        quiet_ms = ticks_diff(self.term.clock.ticks_ms(), self._quiet_since)
        if quiet_ms >= self.term.params.esign_timeout_s * 1000:
            self._unsigned(esign.TIMED_OUT)
        return True

    def clear(self):
        self.canvas.clear()
        self.n = 0
        self.strokes = 0
        self._down = False
        self._hint = None
        self.term.redraw()

    def confirm(self):
        canvas = self.canvas
        if (self.strokes == 0 and not self._down) or (canvas is not None and not any(canvas.bitmap)):
            # at least one stroke: OK on an empty pad asks again; a blank (all-white) drawing is an
            # empty pad too, never an image (the host refuses one: 30)
            self._hint = "esign_empty"
            self.term.redraw()
            return
        try:
            image = self._image()
        except ImageTooBig:  # not for the area's size (sigimage.FITS): kept unsigned, never cut
            image = None
        term = self.term
        view = self.view
        self._drop()  # the strokes go with the screen: only the image is kept
        if image is None:
            return self._unsigned(esign.CANCELLED_SIG)
        try:
            esign.keep_signed(term, view, image)
            first = (view["batch"], view["trace"])
        except (OSError, ValueError):
            _note(self.then, term.t("esign_not_kept"))
            first = None
        term.go(UploadScreen(term, first, self.then))

    def _image(self):
        # The encoder's output and context states: the terminal's, allocated at boot (new ones on
        # a terminal that has none).
        term = self.term
        out = term.sig_image if term.sig_image is not None else bytearray(MAX_IMAGE)
        st = term.sig_contexts
        try:  # the drawn canvas as it is: the image of pen 2, full size (sigimage.FITS' first)
            n = encode_into(out, self.canvas.bitmap, AREA_WIDTH, AREA_HEIGHT, st=st)
            return memoryview(out)[:n]  # no copy: kept, then the buffer is the next signature's
        except ImageTooBig:
            pass
        self.canvas = None  # signature_image draws again, in the same bitmap
        return signature_image(_Points(self.points, self.n), out, st=st, bitmap=term.sig_bitmap)[0]

    def _unsigned(self, reason):
        self._drop()
        term = self.term
        term.go(unsigned(term, self.view, reason, self.then))

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(1, center(format_fen(self.view["amount"]), cols))
        d.text(2, center(t("esign_code", self.code), cols))
        d.text(3, center(t(self._hint or "esign_prompt"), cols))
        d.text(rows - 1, center(t("esign_hint"), cols))
        canvas = self.canvas
        if canvas is not None and has(d, CAP_BLIT):
            d.blit(canvas.bitmap, 0, self.top, AREA_WIDTH, AREA_HEIGHT)


class UploadScreen(Screen):
    """The signatures waiting for upload, this transaction's first (firmware/esign.py
    UploadQueue), with the seconds left; CANCEL stops one not yet sent (it stays queued). Then
    `then`, with a line when one was refused or some are still queued."""

    times_out = False  # the session's own timeout ends each upload

    def __init__(self, term, first, then):
        super().__init__(term)
        self.title_key = "esign_title"
        self.first = first
        self.then = then
        self.queue = None

    def enter(self):
        self.queue = esign.UploadQueue(self.term, self.first)
        self._maybe_done()

    def tick(self):
        queue = self.queue
        if queue is None:
            return False
        moved = queue.step()
        return self._maybe_done() or moved

    def on_second(self):
        return True  # the countdown

    def on_key(self, key):
        if key == KEY_CANCEL and self.queue is not None:
            return self.queue.cancel()
        return False

    def _maybe_done(self):
        queue = self.queue
        if queue is None or not queue.done:
            return False
        self.queue = None
        t = self.term.t
        codes = []  # each code once: a host may refuse many
        for _trace, code in queue.refused:
            if code not in codes:
                codes.append(code)
                key = "esign_receipt_bad_line" if code == esign.RECEIPT_BAD else "esign_refused_line"
                _note(self.then, t(key, code))
        if queue.left:
            _note(self.then, t("esign_queued"))
        self.term.restart_idle_timer()
        self.term.go(self.then)
        return True

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(3, center(t("esign_uploading"), cols))
        queue = self.queue
        if queue is not None and queue.current is not None:
            d.text(5, center(t("auth_countdown", queue.remaining_s()), cols))
        d.text(rows - 1, center(t("auth_cancel_hint"), cols))
