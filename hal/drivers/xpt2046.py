# The XPT2046 (ADS7846-compatible) resistive touch controller on the display's SPI bus (its own
# chip select, at most 2.5 MHz): raw 12-bit positions to screen pixels through a 3-point affine
# calibration, reported as pen down / move / up. Never allocates in poll(); never blocks.
#
# Control byte (XPT2046 datasheet, "Control byte" table): bit 7 S = 1, bits 6-4 A2-A0 the channel,
# bit 3 MODE (0 = 12 bits), bit 2 SER/DFR (0 = differential reference, the accurate one for the
# touch plates), bits 1-0 PD (00 = power down between conversions with PENIRQ enabled). With 24
# clocks a conversion (control byte, then 16 clocks in), the 12-bit result is bits 14..3 of the two
# bytes read: ((b1 << 8) | b2) >> 3.

X_POSITION = 0xD0  # A = 101
Y_POSITION = 0x90  # A = 001
Z1_PRESSURE = 0xB0  # A = 011
Z2_PRESSURE = 0xC0  # A = 100

PEN_DOWN = 1
PEN_MOVE = 2
PEN_UP = 3

_HALF = 32768
_SCALE = 65536  # calibration coefficients are fixed point: every product stays a small int
_MAX_BAUDRATE = 2_500_000


def calibration(samples):
    """The calibration tuple (a, b, c, d, e, f) from three (raw_x, raw_y, screen_x, screen_y)
    samples, not on one line: screen_x = (a*raw_x + b*raw_y + c) / 65536, screen_y likewise
    with d, e, f. Six ints: the caller stores them (the service menu's calibration result).
    ValueError if the three raw points are (nearly) on one line."""
    if len(samples) != 3:
        raise ValueError("calibration takes three points")
    (x0, y0, u0, v0), (x1, y1, u1, v1), (x2, y2, u2, v2) = samples
    det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1)
    if abs(det) < 4096:
        raise ValueError("calibration points are on one line")
    out = []
    for s0, s1, s2 in ((u0, u1, u2), (v0, v1, v2)):
        # Cramer's rule; the constant term's numerator is scaled like the others.
        na = s0 * (y1 - y2) - y0 * (s1 - s2) + (s1 * y2 - s2 * y1)
        nb = x0 * (s1 - s2) - s0 * (x1 - x2) + (x1 * s2 - x2 * s1)
        nc = x0 * (y1 * s2 - y2 * s1) - y0 * (x1 * s2 - x2 * s1) + s0 * (x1 * y2 - x2 * y1)
        out += [_div_round(na * _SCALE, det), _div_round(nb * _SCALE, det), _div_round(nc * _SCALE, det)]
    return tuple(out)


def _div_round(n, d):
    if d < 0:
        n, d = -n, -d
    return (2 * n + d) // (2 * d)


# Raw 200..3900 on both plates to the 240x320 portrait screen, X plate along the width: a guess
# for an uncalibrated module, good enough to reach the calibration screen.
DEFAULT_CALIBRATION = calibration(((200, 200, 0, 0), (3900, 200, 239, 0), (200, 3900, 0, 319)))


class XPT2046:
    """spi: the shared bus; cs: this chip's select pin (output, idle high); irq: the PENIRQ pin
    (input, low while touched) or None to decide by pressure alone; cal: a calibration() tuple;
    size: (width, height) of the screen the points are clipped to; z_min: the Z1 reading under
    which the plate counts as not touched; baudrate: set on the bus before each read."""

    def __init__(
        self, spi, cs, irq=None, cal=DEFAULT_CALIBRATION, size=(240, 320), z_min=80, baudrate=2_000_000
    ):
        if baudrate > _MAX_BAUDRATE:
            raise ValueError("the XPT2046 clocks at most 2.5 MHz")
        self._spi = spi
        self._cs = cs
        self._irq = irq
        self._width, self._height = size
        self._z_min = z_min
        self._baudrate = baudrate
        self._out = bytearray(3)
        self._in = bytearray(3)
        self.set_calibration(cal)
        self.down = False
        self._misses = 0  # consecutive untouched samples while down (a light pen flickers)
        self.x = self.y = 0  # the last point reported, in screen pixels
        self.raw_x = self.raw_y = 0  # the last raw reading (the calibration screen uses them)
        cs.value(1)

    def set_calibration(self, cal):
        if len(cal) != 6 or [v for v in cal if type(v) is not int]:
            raise ValueError("a calibration is six ints")
        self._cal = cal

    def _read(self, control):
        self._out[0] = control
        self._spi.write_readinto(self._out, self._in)
        return ((self._in[1] << 8) | self._in[2]) >> 3

    def sample(self):
        """Read the plates once: True (raw_x, raw_y set) if the pen presses, else False."""
        if self._irq is not None and self._irq.value():
            return False  # PENIRQ high: nothing touches; no bus traffic
        self._spi.init(baudrate=self._baudrate)
        self._cs.value(0)  # every control byte has PD = 00: PENIRQ stays armed after the last
        z1 = self._read(Z1_PRESSURE)
        touched = z1 >= self._z_min
        if touched:
            # Three readings of each plate, the median of them: one spike does not move the ink.
            x = _median(self._read(X_POSITION), self._read(X_POSITION), self._read(X_POSITION))
            y = _median(self._read(Y_POSITION), self._read(Y_POSITION), self._read(Y_POSITION))
            touched = self._read(Z1_PRESSURE) >= self._z_min  # still down after the readings
            if touched:
                self.raw_x, self.raw_y = x, y
        self._cs.value(1)
        return touched

    def poll(self):
        """PEN_DOWN, PEN_MOVE or PEN_UP with the point in .x, .y (PEN_UP: the last point), or
        None if nothing changed. A move is reported once the point moved at least one pixel."""
        if self.sample():
            self._misses = 0
            a, b, c, d, e, f = self._cal
            x = (a * self.raw_x + b * self.raw_y + c + _HALF) // _SCALE  # to the nearest pixel
            y = (d * self.raw_x + e * self.raw_y + f + _HALF) // _SCALE
            x = 0 if x < 0 else (self._width - 1 if x >= self._width else x)
            y = 0 if y < 0 else (self._height - 1 if y >= self._height else y)
            if not self.down:
                self.down = True
                self.x, self.y = x, y
                return PEN_DOWN
            if x != self.x or y != self.y:
                self.x, self.y = x, y
                return PEN_MOVE
            return None
        if self.down:
            self._misses += 1
            if self._misses >= 2:
                self.down = False
                return PEN_UP
        return None


def _median(a, b, c):
    if a > b:
        a, b = b, a
    if b > c:
        b = c
    return a if a > b else b
