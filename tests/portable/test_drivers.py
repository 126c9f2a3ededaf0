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


def test_a_missing_glyph_and_a_blit_allocate_nothing():
    from hal.drivers.font8x16 import Font8x16

    d = ILI9341(_Bus(), _Pin(), _Pin(), font=Font8x16(), sleep_ms=lambda ms: None)
    cross = b"\x01\x00" * 15
    d.text(3, "caf\u00e9 \u4e2d")  # Font8x16 has neither: boxes, drawn in show()
    d.show()
    start, stop = heap_probe()
    start()
    for i in range(3):
        d.clear()
        d.text(3, "caf\u00e9 \u4e2d", inverse=bool(i & 1))
        d.blit(cross, 100 + i, 150, 15, 15)  # the calibration cross: an unaligned x
        d.show()
    used = stop()
    assert d.missing == 2 * 3  # composed three times: first, then highlighted, then plain again
    assert used < 200, "3 rows with boxes and a cross allocated {} bytes".format(used)


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
    d.show()
    start, stop = heap_probe()
    start()
    for i in range(3):
        d.text(0, s, inverse=bool(i & 1))  # the highlight changes: composed from the file each time
        d.show()
    used = stop()
    assert d.missing == 0
    assert used < 200, "3 Chinese rows allocated {} bytes".format(used)
    # What reached the panel: A, 中 (all ink), 文 (its top row only), 中.
    shown = _panel_display(font=FontFile(io.BytesIO(blob), Font8x16()))
    shown.text(0, s)
    shown.show()
    pic = _BUSES[id(shown)].picture
    assert [pic[x] for x in range(8, 24)] == [1] * 16 and [pic[240 + x] for x in range(8, 24)] == [1] * 16
    assert [pic[x] for x in range(24, 40)] == [1] * 16 and [pic[240 + x] for x in range(24, 40)] == [0] * 16
    assert [pic[240 * 15 + x] for x in range(40, 56)] == [1] * 16
    assert shown.missing == 0


def test_the_drivers_pass_the_contract_conformance_checks():
    from hal.drivers.font8x16 import Font8x16
    from tests.portable import conformance

    def keypad():
        rows = [_Pin() for _ in range(4)]
        return KeyMatrix(PinLines(rows, [_Column(rows, c) for c in range(4)]), _Ticks(), beeper=None)

    def display():
        return ILI9341(_Bus(), _Pin(), _Pin(), font=Font8x16(), sleep_ms=lambda ms: None)

    conformance.check_keypad(keypad)  # no buzzer: lacks beep
    # The display's whole check, its pixels read back through _PanelBus: on MicroPython the rows go
    # through framebuf (tests/host/test_ili9341.py runs it against the datasheet's panel on CPython).
    conformance.check_display(_panel_display, pixel=_PanelBus.pixel_of, sent=_PanelBus.sent_by)


# ---- the ILI9341's rows on this runtime ---------------------------------------------------------
_INK = 0xF800  # not black and white: a swapped byte order shows
_PAPER = 0x001F


class _PanelBus:
    """An SPI bus with an ILI9341 behind it: counts the bytes (`sent`), keeps each transfer with
    its D/CX level (`wire`, when keep), and decodes CASET/PASET/RAMWR into `picture` (1 = ink,
    0 = paper, one byte a pixel; a pixel of another colour fails the write)."""

    def __init__(self, dc, keep=False):
        self.dc = dc
        self.sent = 0
        self.wire = [] if keep else None
        self.picture = bytearray(240 * 320)
        self.cmd = 0
        self.args = bytearray()
        self.cols = (0, 239)
        self.pages = (0, 319)
        self.x = self.y = 0

    def init(self, baudrate=None):
        pass

    def write(self, data):
        self.sent += len(data)
        if self.wire is not None:
            self.wire.append((self.dc.value(), bytes(data)))
        if not self.dc.value():
            self._finish()
            self.cmd = data[0]
            self.args = bytearray()
            self.x, self.y = self.cols[0], self.pages[0]
        elif self.cmd == 0x2C:
            assert len(data) % 2 == 0
            for i in range(0, len(data), 2):
                colour = (data[i] << 8) | data[i + 1]
                assert colour in (_INK, _PAPER), "pixel colour {:#06x}".format(colour)
                assert self.y <= self.pages[1], "pixel data past the window"
                self.picture[self.y * 240 + self.x] = 1 if colour == _INK else 0
                self.x += 1
                if self.x > self.cols[1]:
                    self.x, self.y = self.cols[0], self.y + 1
        else:
            self.args.extend(data)
            self._finish()

    def _finish(self):
        a = self.args
        if len(a) == 4 and self.cmd in (0x2A, 0x2B):
            span = ((a[0] << 8) | a[1], (a[2] << 8) | a[3])
            if self.cmd == 0x2A:
                self.cols = span
            else:
                self.pages = span

    @staticmethod
    def pixel_of(d, x, y):
        if not (0 <= x < 240 and 0 <= y < 320):
            raise IndexError("pixel outside the panel")
        return _BUSES[id(d)].picture[y * 240 + x]

    @staticmethod
    def sent_by(d):
        return _BUSES[id(d)].sent


_BUSES = {}  # type: dict  # id(display): its _PanelBus


def _panel_display(keep=False, use_framebuf=True, font=None):
    from hal.drivers.font8x16 import Font8x16

    dc = _Pin()
    bus = _PanelBus(dc, keep)
    d = ILI9341(
        bus,
        _Pin(),
        dc,
        font=font if font is not None else Font8x16(),
        sleep_ms=lambda ms: None,
        ink=_INK,
        paper=_PAPER,
        use_framebuf=use_framebuf,
    )
    _BUSES[id(d)] = bus
    return d


def _drawing(d):
    """Text, highlighted rows, wide characters (boxes: Font8x16 has none), bitmaps at any x, over
    text and over each other, a full-width one, a clear() and partial redraws: each shown."""
    d.text(0, "QianPOS")
    d.text(1, "Sale  \u00a512.34", inverse=True)
    d.text(3, "\u4e2d\u6587 A", inverse=True)
    d.text(4, "\u4e2d\u6587 A")
    d.text(19, "x" * 40)
    d.show()
    d.blit(b"\xa5\x5a\xff" * 20, 3, 40, 20, 20)
    d.blit(b"\x0f" * 64, 232, 300, 8, 64)
    d.show()
    canvas = bytearray(bytes(range(240)) * 5)
    d.clear()
    d.text(0, "QianPOS")
    d.text(2, "Amount", inverse=True)
    d.blit(canvas, 0, 100, 240, 40)
    d.blit(b"\xff\x00" * 8, 20, 110, 16, 8)
    d.show()
    canvas[600] ^= 0xFF
    d.clear()
    d.text(0, "QianPOS")
    d.text(2, "Amount", inverse=True)
    d.blit(canvas, -8, 100, 248, 38)
    d.show()
    d.clear()
    d.show()


def test_framebuf_and_the_python_loop_send_the_same_bytes():
    import sys

    from hal.drivers import ili9341

    if sys.implementation.name == "micropython":  # the comparison must compare two paths there
        assert ili9341.framebuf is not None
    fast = _panel_display(keep=True)
    loop = _panel_display(keep=True, use_framebuf=False)
    for d in (fast, loop):
        _drawing(d)
    a, b = _BUSES[id(fast)], _BUSES[id(loop)]
    assert len(a.wire) > 320 and a.sent > 240 * 320 * 2
    assert a.wire == b.wire
    assert a.picture == b.picture


def test_a_full_show_allocates_nothing():
    d = _panel_display()
    _BUSES[id(d)].write = lambda data: None  # the bytes go nowhere: the driver's own heap alone
    bits = (bytes(range(256)) * 38, bytes(range(255, -1, -1)) * 38)
    start, stop = heap_probe()
    start()
    for i in range(10):
        d.blit(bits[i & 1], 0, 0, 240, 320)  # every pixel row changed, mixed pixels
        d.show()
    d.clear()
    d.show()
    used = stop()
    assert used < 200, "11 full shows allocated {} bytes".format(used)


def test_a_key_on_the_amount_screen_sends_one_text_row_at_most():
    from firmware.params import Params
    from firmware.terminal import Terminal
    from tests.portable.fakes import make_board
    from virtual.storage import RamStorage

    d = _panel_display()
    storage = RamStorage()
    p = Params.load(storage)
    p.language = "en"
    p.save(storage)
    board = make_board(display=d, storage=storage)
    term = Terminal(board)
    term.settle()
    for key in ("ENTER", "1", "1", "2"):
        board.keypad.press(key)
        term.settle()
    assert type(term.screen).__name__ == "AmountScreen"
    full = 240 * 320 * 2
    for key in ("3", "CLEAR", "0"):
        sent = _BUSES[id(d)].sent
        board.keypad.press(key)
        term.settle()
        # the amount's 16 pixel rows at most, and a window's commands
        assert 0 < _BUSES[id(d)].sent - sent <= 240 * 16 * 2 + 30 < full // 10, (
            key,
            _BUSES[id(d)].sent - sent,
        )
