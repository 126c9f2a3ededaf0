# hal/drivers/xpt2046.py against a fake XPT2046 written from its datasheet: it decodes each control byte
# (S, A2-A0, MODE, SER/DFR, PD), answers the channel's 12-bit conversion in the 24-clock frame
# (the result's MSB one clock after the control byte), and models a touch as raw plate readings
# that a rotated, scaled screen point produces.
import pytest

from hal.drivers.xpt2046 import DEFAULT_CALIBRATION, PEN_DOWN, PEN_MOVE, PEN_UP, XPT2046, calibration
from tests.host.fake_bus import SPI, Pin, SPIDevice

# Datasheet: A2-A0 for the differential (SER/DFR = 0) measurements.
CHANNELS = {0b101: "x", 0b001: "y", 0b011: "z1", 0b100: "z2"}


def raw_of(x, y):
    """A panel mounted turned: raw X grows along the screen's y, raw Y shrinks along its x."""
    return 300 + (y * 3500) // 319, 3800 - (x * 3450) // 239


class Touch(SPIDevice):
    def __init__(self, cs):
        super().__init__(cs)
        self.max_baudrate = 2_500_000
        self.point = None  # screen point pressed, or None
        self.spikes = []  # raw X values to answer instead of the true one, once each
        self.controls = []
        self.frame = []

    def select(self):
        self.frame = []

    def transfer(self, out):
        assert len(out) == 3, "a 24-clock conversion: control byte + 16 clocks"
        c = out[0]
        assert c & 0x80, "S bit"
        assert not c & 0x08, "MODE must be 12-bit"
        assert not c & 0x04, "SER/DFR must be differential for the plates"
        assert c & 0x03 == 0, "PD = 00 keeps PENIRQ enabled"
        ch = CHANNELS[(c >> 4) & 7]
        self.controls.append(ch)
        if self.point is None:
            value = {"x": 0, "y": 4095, "z1": 0, "z2": 4095}[ch]
        else:
            rx, ry = raw_of(*self.point)
            if ch == "x" and self.spikes:
                rx = self.spikes.pop(0)
            value = {"x": rx, "y": ry, "z1": 600, "z2": 3000}[ch]
        word = value << 3  # the busy clock, then 12 bits MSB first, then zeros
        return bytes((0, word >> 8, word & 0xFF))


def make(irq=None):
    spi, cs = SPI(), Pin(1)
    chip = Touch(cs)
    spi.devices.append(chip)
    spi.baudrate = 40_000_000  # the display left it fast
    corners = [(10, 10), (230, 20), (120, 310)]
    cal = calibration([raw_of(x, y) + (x, y) for x, y in corners])
    return chip, XPT2046(spi, cs, irq=irq, cal=cal), spi


def test_calibrated_points_land_within_a_pixel():
    chip, t, _ = make()
    for x, y in ((0, 0), (239, 319), (120, 160), (17, 301), (200, 45)):
        chip.point = (x, y)
        t.down = False
        assert t.poll() == PEN_DOWN
        assert abs(t.x - x) <= 1 and abs(t.y - y) <= 1, ((x, y), (t.x, t.y))


def test_down_move_up():
    chip, t, spi = make()
    assert t.poll() is None
    chip.point = (50, 60)
    assert t.poll() == PEN_DOWN and spi.baudrate <= 2_500_000
    assert t.poll() is None  # pen held still
    chip.point = (80, 60)
    assert t.poll() == PEN_MOVE and abs(t.x - 80) <= 1
    chip.point = None
    assert t.poll() is None  # one missed sample is a flicker
    chip.point = (81, 61)
    assert t.poll() == PEN_MOVE
    chip.point = None
    assert t.poll() is None
    assert t.poll() == PEN_UP and abs(t.x - 81) <= 1
    assert t.poll() is None


def test_one_spike_is_filtered_by_the_median():
    chip, t, _ = make()
    chip.point = (100, 100)
    chip.spikes = [4000]
    assert t.poll() == PEN_DOWN and abs(t.x - 100) <= 1 and abs(t.y - 100) <= 1


def test_penirq_high_means_no_bus_traffic():
    irq = Pin(1)
    chip, t, _ = make(irq=irq)
    chip.point = (5, 5)
    assert t.poll() is None and chip.controls == []
    irq.value(0)
    assert t.poll() == PEN_DOWN and "z1" in chip.controls


def test_points_are_clipped_to_the_screen():
    spi, cs = SPI(), Pin(1)
    chip = Touch(cs)
    spi.devices.append(chip)
    corners = [(10, 10), (230, 20), (120, 310)]
    shifted = calibration([raw_of(x, y) + (x + 30, y - 40) for x, y in corners])  # a stale calibration
    t = XPT2046(spi, cs, cal=shifted)
    chip.point = (230, 5)  # maps to about (260, -35)
    assert t.poll() == PEN_DOWN and (t.x, t.y) == (239, 0)
    assert t.raw_x == raw_of(230, 5)[0]


def test_the_default_calibration_covers_the_screen():
    a, b, c, d, e, f = DEFAULT_CALIBRATION
    assert (a * 200 + b * 200 + c + 32768) // 65536 == 0
    assert (d * 3900 + e * 3900 + f + 32768) // 65536 == 319


def test_calibration_is_six_small_ints_and_refuses_a_line():
    cal = calibration(((100, 100, 0, 0), (4000, 100, 239, 0), (100, 4000, 0, 319)))
    assert len(cal) == 6 and all(type(v) is int and abs(v) < 2**30 for v in cal)
    with pytest.raises(ValueError):
        calibration(((100, 100, 0, 0), (200, 200, 10, 10), (300, 300, 20, 20)))
    with pytest.raises(ValueError):
        XPT2046(SPI(), Pin(1), cal=(1.0, 0, 0, 0, 1, 0))
    with pytest.raises(ValueError):
        XPT2046(SPI(), Pin(1), baudrate=4_000_000)
