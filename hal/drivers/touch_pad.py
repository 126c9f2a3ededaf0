# The resistive touch screen as the SignaturePad: points of hal/xpt2046's pen reported as the pen
# moves (SIG_POINT / SIG_PEN_UP), and two touch buttons below the signing area (clear, confirm).
# Never blocks, never queues: each pen event of the controller gives at most one pad event.

from hal.contracts import (
    CAP_CALIBRATE,
    CAP_PEN,
    SIG_CLEAR,
    SIG_CONFIRM,
    SIG_PEN_UP,
    SIG_POINT,
    SIG_RAW,
    SignaturePad,
)
from hal.drivers.xpt2046 import PEN_DOWN, PEN_MOVE, PEN_UP, calibration

# The buttons of the signing screen, in screen pixels (x, y, width, height): a 40-pixel strip at
# the bottom of the 240x320 portrait screen, "clear" on the left and "confirm" on the right. The
# screen that asks for a signature draws them there (its signing area stays above y = 280).
SIGN_BUTTONS = ((SIG_CLEAR, 0, 280, 120, 40), (SIG_CONFIRM, 120, 280, 120, 40))


def _inside(x, y, left, top, width, height):
    return left <= x < left + width and top <= y < top + height


class TouchSignaturePad(SignaturePad):
    """touch: a hal.drivers.xpt2046.XPT2046 (calibrated: its points are screen pixels); buttons: (kind,
    x, y, width, height) areas where a tap (pen down and up inside the same one) reports kind.
    A stroke begins only with the pen put down inside the signing area; its points leaving the
    area are held at its edge. A pen already down at start() draws nothing until lifted.
    Calibration (CAP_CALIBRATE): calibrate_begin() reports each tap's raw plate readings; the
    calibration is hal.drivers.xpt2046.calibration()'s six ints."""

    capabilities = (CAP_PEN, CAP_CALIBRATE)
    lacks = {}  # type: dict

    def __init__(self, touch, buttons=SIGN_BUTTONS):
        self.touch = touch
        self.buttons = buttons
        self.area = None  # (x, y, width, height) while capturing
        self._inking = False
        self._button = None  # the button the pen went down on
        self._last = None  # the last point reported in this stroke (area-relative)
        self._raw = False  # calibrate_begin() until stop(): taps are reported raw
        self._raw_down = False  # the pen went down during the raw capture

    def start(self, x, y, width, height):
        if width <= 0 or height <= 0:
            raise ValueError("an empty signing area")
        self.area = (x, y, width, height)
        self._raw = False
        self._inking = False
        self._button = None
        self._last = None

    def stop(self):
        self.area = None
        self._inking = False
        self._button = None
        self._raw = False

    def calibrate_begin(self):
        self.stop()
        self._raw = True
        self._raw_down = False

    def calibration(self, samples):
        return calibration(samples)

    def set_calibration(self, cal):
        if type(cal) not in (tuple, list):
            raise ValueError("a calibration is six ints")
        self.touch.set_calibration(tuple(cal))

    def _poll_raw(self):
        pen = self.touch.poll()
        if pen == PEN_DOWN:
            self._raw_down = True
        elif pen == PEN_UP and self._raw_down:
            self._raw_down = False
            return (SIG_RAW, (self.touch.raw_x, self.touch.raw_y))
        return None

    def _relative(self, sx, sy):
        x, y, width, height = self.area  # type: ignore[misc]
        rx = sx - x
        ry = sy - y
        rx = 0 if rx < 0 else (width - 1 if rx >= width else rx)
        ry = 0 if ry < 0 else (height - 1 if ry >= height else ry)
        return rx, ry

    def _button_at(self, sx, sy):
        for button in self.buttons:
            if _inside(sx, sy, button[1], button[2], button[3], button[4]):
                return button
        return None

    def poll(self):
        if self._raw:
            return self._poll_raw()
        if self.area is None:
            return None
        pen = self.touch.poll()
        if pen is None:
            return None
        sx, sy = self.touch.x, self.touch.y
        if pen == PEN_DOWN:
            x, y, width, height = self.area
            if _inside(sx, sy, x, y, width, height):
                self._inking = True
                self._last = self._relative(sx, sy)
                return (SIG_POINT, self._last)
            self._button = self._button_at(sx, sy)
            return None
        if pen == PEN_MOVE:
            if self._inking:
                point = self._relative(sx, sy)
                if point != self._last:  # held at the edge: the same point is not news
                    self._last = point
                    return (SIG_POINT, point)
            return None
        if pen == PEN_UP:
            if self._inking:
                self._inking = False
                self._last = None
                return (SIG_PEN_UP, None)
            button = self._button
            self._button = None
            if button is not None and self._button_at(sx, sy) is button:
                return (button[0], None)
        return None
