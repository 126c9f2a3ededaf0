# Touch calibration (触摸屏校准, service menu item 6): three crosses to tap; the record is
# firmware/touchcal.py. Loaded when chosen; dropped with the service menu back at idle.

from firmware import touchcal
from firmware.ui.service import ServiceScreen
from firmware.ui.widgets import center
from hal.contracts import CAP_BLIT, CAP_CALIBRATE, CAP_PIXELS, KEY_CANCEL, SIG_RAW, has


def _cross():
    """A 15x15 cross, 2 bytes a row (MONO_HLSB): the calibration target, centred on pixel (7, 7)."""
    rows = bytearray(30)
    for r in range(15):
        if r == 7:
            rows[2 * r] = 0xFF
            rows[2 * r + 1] = 0xFE
        else:
            rows[2 * r] = 0x01
    return bytes(rows)


_CROSS = _cross()


class TouchCalScreen(ServiceScreen):
    """Touch calibration (触摸屏校准): three crosses drawn one after another where the display has
    pixels; each tap's raw reading from the signature pad (SIG_RAW) is paired with its cross; the
    pad's calibration of the three is stored (firmware/touchcal.py, given back to the pad at every
    boot) and used at once. CANCEL backs out with the calibration in force unchanged."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.samples = []
        self.problem = None
        self.pad = term.signature_pad if has(term.signature_pad, CAP_CALIBRATE) else None
        d = term.display
        w, h = d.pixels() if has(d, CAP_PIXELS) else (240, 320)
        self.targets = ((w // 8, h // 8), (w - w // 8, h // 2), (w // 2, h - h // 8))

    def enter(self):
        if self.pad is not None:
            self.term.use("dev_signature_pad", self.pad.calibrate_begin)

    def leave(self):
        if self.pad is not None:
            self.term.use("dev_signature_pad", self.pad.stop)

    def on_key(self, key):
        if key == KEY_CANCEL or self.pad is None:
            self.back()
            return True
        return False

    def on_signature(self, event):
        kind, raw = event
        if kind != SIG_RAW or self.pad is None:
            return
        x, y = self.targets[len(self.samples)]
        self.samples.append((raw[0], raw[1], x, y))
        self.problem = None
        if len(self.samples) == 3:
            self.finish()
        self.term.redraw()

    def finish(self):
        term = self.term
        try:
            cal = self.pad.calibration(self.samples)
        except ValueError:  # the three taps on one line (a slip): again from the first cross
            self.samples = []
            self.problem = "svc_cal_failed"
            return
        try:
            touchcal.store(term.storage, cal)
        except OSError:
            self._done("storage_failed")
            return
        term.use("dev_signature_pad", self.pad.set_calibration, cal)
        self._done("svc_cal_done")

    def _done(self, key):
        self.end([self.term.t(key)])

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        if self.pad is None:
            d.text(2, center(t("svc_no_touch"), cols))
            return
        n = len(self.samples)
        x, y = self.targets[n]
        d.text(2, center(t("svc_cal_tap", n + 1), cols))
        if self.problem:
            d.text(4, center(t(self.problem), cols))
        if has(d, CAP_BLIT):
            d.blit(_CROSS, x - 7, y - 7, 15, 15)
        else:
            d.text(3, center("({}, {})".format(x, y), cols))
