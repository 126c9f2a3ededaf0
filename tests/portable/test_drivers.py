# The board drivers on both runtimes, with fakes that allocate nothing: what must not allocate
# (a keypad scan, a touch sample, a text row and its show(), bytes of a UART line) does not, on
# MicroPython (gc.mem_alloc) as on CPython (tracemalloc). The drivers' behaviour against fakes
# written from the datasheets is tested in tests/host/test_{keymatrix,xpt2046,ili9341,...}.py.

from hal.drivers.buzzer import Buzzer
from hal.drivers.ili9341 import ILI9341
from hal.drivers.keymatrix import KeyMatrix, PinLines
from hal.drivers.uart_reader import UartLines
from hal.drivers.xpt2046 import PEN_DOWN, PEN_MOVE, XPT2046
from tests.portable.heap import heap_probe


class _Pin:
    def __init__(self, level=1):
        self.level = level

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v
        return None


class _Column:
    """A column pin that reads low when its switch is closed and its row is driven low."""

    def __init__(self, rows, col):
        self.rows = rows
        self.col = col
        self.closed_row = -1  # the row whose switch in this column is closed, or -1

    def value(self, v=None):
        r = self.closed_row
        return 0 if r >= 0 and self.rows[r].level == 0 else 1


class _Ticks:
    def __init__(self):
        self.ms = 0

    def __call__(self):
        return self.ms


def test_a_keypad_scan_allocates_nothing():
    rows = [_Pin() for _ in range(4)]
    cols = [_Column(rows, c) for c in range(4)]
    ticks = _Ticks()
    kp = KeyMatrix(PinLines(rows, cols), ticks, beeper=Buzzer(_Pin(), ticks))
    kp.poll()
    kp.beep(20)  # ends within the polls below
    start, stop = heap_probe()
    start()
    for _ in range(50):  # idle
        ticks.ms += 5
        kp.poll()
    cols[1].closed_row = 2  # "8" held
    got = None
    for _ in range(50):
        ticks.ms += 5
        got = kp.poll() or got
    used = stop()
    assert got == "8"
    assert used < 100, "100 scans allocated {} bytes".format(used)


class _Bus:
    """An SPI bus whose write_readinto answers an XPT2046 conversion of preset values."""

    def __init__(self):
        self.values = [0] * 16  # by channel bits A2-A0
        self.written = 0
        self.baudrate = 0

    def init(self, baudrate=0):
        self.baudrate = baudrate

    def write(self, buf):
        self.written += len(buf)

    def write_readinto(self, out, into):
        v = self.values[(out[0] >> 4) & 7] << 3
        into[0] = 0
        into[1] = v >> 8
        into[2] = v & 0xFF


def test_a_touch_sample_allocates_nothing():
    bus = _Bus()
    t = XPT2046(bus, _Pin())
    bus.values[3] = 500  # Z1: pressed
    bus.values[5] = 1000  # X
    bus.values[1] = 2000  # Y
    assert t.poll() == PEN_DOWN
    start, stop = heap_probe()
    start()
    moves = 0
    for i in range(50):
        bus.values[5] = 1000 + 40 * i
        if t.poll() == PEN_MOVE:
            moves += 1
    used = stop()
    assert moves >= 45
    assert used < 100, "50 touch samples allocated {} bytes".format(used)


def test_a_text_row_and_its_show_allocate_nothing():
    from hal.drivers.font8x16 import Font8x16

    bus = _Bus()
    d = ILI9341(bus, _Pin(), _Pin(), font=Font8x16(), sleep_ms=lambda ms: None)
    assert bus.written >= 240 * 320 * 2  # the blank first frame
    s = "Amount  \u00a51,234.56"
    d.text(3, s)
    d.show()
    start, stop = heap_probe()
    start()
    for i in range(3):
        d.text(3 + i, s, inverse=bool(i & 1))
        d.show()
    used = stop()
    assert used < 200, "3 text rows shown allocated {} bytes".format(used)


class _Uart:
    def __init__(self, data):
        self.data = data
        self.at = 0

    def any(self):
        return len(self.data) - self.at

    def readinto(self, buf):
        n = len(self.data) - self.at
        if n <= 0:
            return None
        if n > len(buf):
            n = len(buf)
        for i in range(n):
            buf[i] = self.data[self.at + i]
        self.at += n
        return n


def test_uart_bytes_are_assembled_without_allocation():
    uart = _Uart(b"1" * 200)  # no line end yet: nothing to hand out
    lines = UartLines(uart, max_len=256, chunk=32)
    lines.poll()
    start, stop = heap_probe()
    start()
    for _ in range(10):
        lines.poll()
    used = stop()
    assert uart.at == 200
    assert used < 100, "200 bytes of a line allocated {} bytes".format(used)
    uart.data += b"\r"
    assert lines.poll() == "1" * 200


def test_pn532_frames_and_emv_data_on_this_runtime():
    from hal.drivers.pn532 import fill_pdol, frame, parse_frame, terminal_data, tlv_value

    # UM0701-02 7.2.2: GetFirmwareVersion and its answer for a PN532 v1.6
    assert frame(b"\x02") == b"\x00\x00\xff\x02\xfe\xd4\x02\x2a\x00"
    assert parse_frame(b"\x00\x00\xff\x06\xfa\xd5\x03\x32\x01\x06\x07\xe8\x00") == b"\x03\x32\x01\x06\x07"
    fci = b"\x6f\x0a\x84\x01X\xa5\x05\x9f\x38\x02\x9a\x03"
    pdol = tlv_value(fci, 0x9F38)
    assert pdol == b"\x9a\x03"
    # 2026-11-29 13:05:09 UTC: the date in n6 BCD, whatever the runtime's epoch
    assert fill_pdol(pdol, terminal_data(0, 1795957509, bytes(4))) == b"\x26\x11\x29"


def test_stripe_track2_on_this_runtime():
    from hal.drivers.uart_reader import track2

    assert track2("%B1^X^1?;6217002430012345675=311222012345?") == "6217002430012345675=311222012345"
    assert track2(";62170024=3112?") == "62170024=3112" and track2(";6217?") == ""


def test_chinese_text_from_a_font_file_allocates_nothing():
    import io

    from hal.drivers.font8x16 import Font8x16
    from hal.drivers.fontfile import FontFile
    from hal.drivers.ili9341 import ILI9341

    # A two-glyph QPF1 file: U+4E2D (all ink) and U+6587 (top row only), 16x16 each.
    blob = b"QPF1\x00\x02" + b"\x4e\x2d\x02" + b"\x65\x87\x02" + b"\xff" * 32 + b"\xff\xff" + bytes(30)
    font = FontFile(io.BytesIO(blob), Font8x16())
    d = ILI9341(_Bus(), _Pin(), _Pin(), font=font, sleep_ms=lambda ms: None)
    s = "A\u4e2d\u6587\u4e2d"
    d.text(0, s)
    start, stop = heap_probe()
    start()
    for _ in range(3):
        d.text(0, s)
        d.show()
    used = stop()
    assert d.missing == 0
    assert d.buffer[1] == 0xFF and d.buffer[3] == 0xFF and d.buffer[30 + 3] == 0 and d.buffer[30 + 5] == 0xFF
    assert used < 200, "3 Chinese rows allocated {} bytes".format(used)


def test_the_drivers_pass_the_contract_conformance_checks():
    from hal.drivers.font8x16 import Font8x16
    from tests.portable import conformance

    def keypad():
        rows = [_Pin() for _ in range(4)]
        return KeyMatrix(PinLines(rows, [_Column(rows, c) for c in range(4)]), _Ticks(), beeper=None)

    def display():
        return ILI9341(_Bus(), _Pin(), _Pin(), font=Font8x16(), sleep_ms=lambda ms: None)

    conformance.check_keypad(keypad)  # no buzzer: lacks beep
    # The display's pixels are read back by the fake panel of tests/host/test_ili9341.py, which runs
    # the whole display check; here the text grid alone (a panel that takes the bytes unread).
    assert display().capabilities == ("pixels", "blit")
