# The ILI9341 240x320 SPI panel as a Display: a 1-bit shadow buffer (9.6 KB; RGB565 would be
# 150 KB) holding the text grid and bitmaps, expanded line by line to RGB565 on show(), only the
# pixel rows that changed. Never allocates in clear(), text(), blit() or show(); never imports machine.
#
# Only what changed goes over the bus: clear() blanks nothing at once, it marks every text row
# stale; text() on a stale row with the text and highlight it holds keeps it as it is, other text
# is painted byte by byte, marking the pixel rows whose bytes changed; show() blanks the rows still
# stale (those nothing was drawn on since clear()) and sends the changed pixel rows. A screen
# redrawn after clear() with one line changed sends that line's changed pixel rows only.
#
# RGB565 expansion: with framebuf (MicroPython), one palette blit a pixel row from a MONO_HLSB
# frame over the shadow into a one-line RGB565 frame (as Peter Hinch's nano-gui drivers do);
# without it (CPython), a Python loop. Both send the same bytes (tests/portable/test_drivers.py).
#
# Commands (ILI9341 datasheet V1.11, section 8): SWRESET 0x01, SLPOUT 0x11, NORON 0x13, DISPON 0x29,
# CASET 0x2A, PASET 0x2B, RAMWR 0x2C, MADCTL 0x36, COLMOD 0x3A. The 4-wire serial interface: D/CX low
# for a command byte, high for its parameters and pixel data; CSX low for the whole command.
#
# Text: cells of 8x16 pixels, 30 columns x 20 rows; a CJK character takes two cells (16x16).
# Text and bitmaps share the one buffer: text() repaints its row's 16 pixel rows, bitmaps under it
# included (the contract keeps them as separate layers; on this panel the last drawn wins).

from hal.contracts import CAP_BLIT, CAP_PIXELS, Display, char_cells

try:
    import framebuf
except ImportError:  # CPython: the Python loop expands the rows
    framebuf = None  # type: ignore[assignment]

WIDTH = 240
HEIGHT = 320
CELL_W = 8
CELL_H = 16
_STRIDE = WIDTH // 8  # bytes per row of the shadow buffer (MONO_HLSB: bit 7 = leftmost pixel)
_ROWS = HEIGHT // CELL_H

# What a text row holds (one byte a row in _state):
_STALE = 1  # clear() since it was drawn: show() blanks it unless text() draws on it first
_BLANK = 2  # all paper: blanking it changes nothing
_INVERSE = 4  # _texts[row] is drawn highlighted

_SWRESET = 0x01
_SLPOUT = 0x11
_NORON = 0x13
_DISPON = 0x29
_CASET = 0x2A
_PASET = 0x2B
_RAMWR = 0x2C
_MADCTL = 0x36
_COLMOD = 0x3A
_PIXEL_16BIT = 0x55  # COLMOD: DPI = DBI = 101, 16 bits a pixel (RGB565)
# MADCTL: MY 0x80, MX 0x40, MV 0x20, ML 0x10, BGR 0x08. 0x48 (MX | BGR) is portrait with the
# connector at the bottom on the common 2.4"/2.8" modules; another glass may need another value.
MADCTL_PORTRAIT = 0x48

BLACK = 0x0000
WHITE = 0xFFFF


def _default_sleep_ms():
    import time

    return time.sleep_ms


class ILI9341(Display):
    """spi: an initialised SPI bus (mode 0, MSB first); cs, dc: output pins; rst: output pin or None
    (then only the software reset); font: an object with glyph(code, cells, buf) (hal.drivers.font8x16 or
    hal.drivers.fontfile); baudrate: set on the bus before every transfer (the bus is shared with the
    touch controller at a lower clock), None to leave it; ink/paper: RGB565 colours of 1 and 0 bits."""

    capabilities = (CAP_PIXELS, CAP_BLIT)
    lacks = {}  # type: dict

    def __init__(
        self,
        spi,
        cs,
        dc,
        rst=None,
        font=None,
        sleep_ms=None,
        baudrate=None,
        madctl=MADCTL_PORTRAIT,
        ink=BLACK,
        paper=WHITE,
        use_framebuf=True,
    ):
        self._spi = spi
        self._cs = cs
        self._dc = dc
        self._rst = rst
        self._font = font
        self._sleep_ms = sleep_ms if sleep_ms is not None else _default_sleep_ms()
        self._baudrate = baudrate
        self._madctl = madctl
        self._colours = bytes((ink >> 8, ink & 255, paper >> 8, paper & 255))
        self.buffer = bytearray(_STRIDE * HEIGHT)  # the shadow: 1 = ink
        self._dirty = bytearray(HEIGHT)  # 1 = pixel row changed since the last show()
        self._state = bytearray(_ROWS)  # _STALE, _BLANK, _INVERSE a text row
        self._texts = [None] * _ROWS  # type: list  # the text each row holds; None: bitmaps drawn over it
        self._line = bytearray(WIDTH * 2)  # one RGB565 line
        self._mono = None  # type: framebuf.FrameBuffer | None
        if framebuf is not None and use_framebuf:
            self._mono = framebuf.FrameBuffer(self.buffer, WIDTH, HEIGHT, framebuf.MONO_HLSB)
            self._rgb = framebuf.FrameBuffer(self._line, WIDTH, 1, framebuf.RGB565)
            # framebuf keeps RGB565 little-endian; the panel takes the high byte first: swapped
            self._palette = framebuf.FrameBuffer(bytearray(4), 2, 1, framebuf.RGB565)
            self._palette.pixel(0, 0, ((paper & 255) << 8) | (paper >> 8))
            self._palette.pixel(1, 0, ((ink & 255) << 8) | (ink >> 8))
        else:
            self._ink_line = bytearray(WIDTH * 2)
            self._paper_line = bytearray(WIDTH * 2)
            for i in range(0, WIDTH * 2, 2):
                self._ink_line[i] = ink >> 8
                self._ink_line[i + 1] = ink & 255
                self._paper_line[i] = paper >> 8
                self._paper_line[i + 1] = paper & 255
        self._cmd = bytearray(1)
        self._args = bytearray(4)
        self._arg1 = memoryview(self._args)[:1]
        self.missing = 0  # characters drawn as a box because the font lacks them (a diagnostic)
        self._glyph = bytearray(32)
        cs.value(1)
        dc.value(1)
        self.reset()

    # ---- the panel ---------------------------------------------------------------------------
    def _command(self, cmd, nargs=0):
        """Send cmd and nargs (0, 1 or 4) bytes of self._args, in one CSX-low frame."""
        if self._baudrate is not None:
            self._spi.init(baudrate=self._baudrate)
        self._cs.value(0)
        self._dc.value(0)
        self._cmd[0] = cmd
        self._spi.write(self._cmd)
        self._dc.value(1)
        if nargs == 4:
            self._spi.write(self._args)
        elif nargs == 1:
            self._spi.write(self._arg1)
        self._cs.value(1)

    def reset(self):
        """Reset and initialise the panel, then show a blank screen (datasheet 8.2 and 15.4)."""
        sleep = self._sleep_ms
        if self._rst is not None:
            self._rst.value(1)
            sleep(5)
            self._rst.value(0)
            sleep(1)  # RESX low at least 10 us
            self._rst.value(1)
            sleep(120)  # 5 ms before a command, 120 ms before SLPOUT
        self._command(_SWRESET)
        sleep(120)  # 5 ms before the next command, 120 ms before SLPOUT
        self._command(_SLPOUT)
        sleep(120)  # 5 ms before the next command; the supply settles in 120 ms
        self._args[0] = _PIXEL_16BIT
        self._command(_COLMOD, 1)
        self._args[0] = self._madctl
        self._command(_MADCTL, 1)
        self._command(_NORON)
        # The frame memory holds noise after power-on: blank the shadow and send all of it
        # before DISPON.
        buf = self.buffer
        for i in range(len(buf)):
            buf[i] = 0
        for r in range(_ROWS):
            self._state[r] = _BLANK
            self._texts[r] = ""
        for y in range(HEIGHT):
            self._dirty[y] = 1
        self.show()
        self._command(_DISPON)

    def _window(self, x0, y0, x1, y1):
        # One assignment a byte: a 4-tuple assignment would build a tuple on the heap.
        a = self._args
        a[0] = x0 >> 8
        a[1] = x0 & 255
        a[2] = x1 >> 8
        a[3] = x1 & 255
        self._command(_CASET, 4)
        a[0] = y0 >> 8
        a[1] = y0 & 255
        a[2] = y1 >> 8
        a[3] = y1 & 255
        self._command(_PASET, 4)

    # ---- the contract --------------------------------------------------------------------------
    def size(self):
        return (HEIGHT // CELL_H, WIDTH // CELL_W)

    def pixels(self):
        return (WIDTH, HEIGHT)

    def clear(self):
        state = self._state
        for r in range(_ROWS):
            state[r] |= _STALE

    def text(self, row, s, inverse=False):
        if not 0 <= row < _ROWS:
            return
        state = self._state
        highlight = _INVERSE if inverse else 0
        if self._texts[row] == s and state[row] & _INVERSE == highlight:
            state[row] &= ~_STALE  # already drawn there: nothing to paint or send
            return
        buf, dirty = self.buffer, self._dirty
        y0 = row * CELL_H
        top = y0 * _STRIDE
        fill = 0xFF if inverse else 0
        col = 0
        glyph = self._glyph
        for ch in s:  # cut at the edge here: contracts.cut_cells allocates a tuple a character
            cells = char_cells(ch)
            if col + cells > _STRIDE:
                break
            if self._font is None or not self._font.glyph(ord(ch), cells, glyph):
                _missing(glyph, cells)
                self.missing += 1
            at = top + col
            for y in range(CELL_H):
                for c in range(cells):
                    v = glyph[y * cells + c] ^ fill
                    if buf[at + c] != v:
                        buf[at + c] = v
                        dirty[y0 + y] = 1
                at += _STRIDE
            col += cells
        if col < _STRIDE:  # the rest of the row: paper, or ink for a highlighted row
            at = top
            for y in range(CELL_H):
                for i in range(at + col, at + _STRIDE):
                    if buf[i] != fill:
                        buf[i] = fill
                        dirty[y0 + y] = 1
                at += _STRIDE
        self._texts[row] = s
        state[row] = highlight | (_BLANK if col == 0 and not fill else 0)

    def blit(self, bitmap, x, y, width, height):
        src_stride = (width + 7) >> 3
        if len(bitmap) < src_stride * height:
            raise ValueError("bitmap shorter than (width + 7) // 8 * height bytes")
        x0 = x if x > 0 else 0
        x1 = x + width if x + width < WIDTH else WIDTH
        y0 = y if y > 0 else 0
        y1 = y + height if y + height < HEIGHT else HEIGHT
        if x0 >= x1 or y0 >= y1:
            return
        state = self._state
        for r in range(y0 // CELL_H, (y1 - 1) // CELL_H + 1):
            if state[r] & _STALE:
                self._blank(r)  # the rest of the row must be blank around the bitmap
            state[r] = 0
            self._texts[r] = None
        buf = self.buffer
        if not x & 7:  # byte-aligned: whole bytes, the last one masked (8 times fewer steps)
            b0 = x0 >> 3
            b1 = (x1 + 7) >> 3
            skip = (x0 - x) >> 3  # source bytes clipped off on the left
            tail = (0xFF00 >> (x1 - ((b1 - 1) << 3))) & 0xFF  # pixels of the last byte drawn
            for py in range(y0, y1):
                src = (py - y) * src_stride + skip - b0
                dst = py * _STRIDE
                for b in range(b0, b1 - 1):
                    buf[dst + b] = bitmap[src + b]
                b = b1 - 1
                buf[dst + b] = (buf[dst + b] & ~tail) | (bitmap[src + b] & tail)
                self._dirty[py] = 1
            return
        for py in range(y0, y1):
            src = (py - y) * src_stride
            dst = py * _STRIDE
            for px in range(x0, x1):
                sx = px - x
                mask = 0x80 >> (px & 7)
                if bitmap[src + (sx >> 3)] & (0x80 >> (sx & 7)):
                    buf[dst + (px >> 3)] |= mask
                else:
                    buf[dst + (px >> 3)] &= ~mask
            self._dirty[py] = 1

    def _blank(self, row):
        """Paper over text row `row` in the shadow, marking the pixel rows that change."""
        buf, dirty = self.buffer, self._dirty
        y0 = row * CELL_H
        at = y0 * _STRIDE
        for y in range(y0, y0 + CELL_H):
            for i in range(at, at + _STRIDE):
                if buf[i]:
                    buf[i] = 0
                    dirty[y] = 1
            at += _STRIDE
        self._state[row] = _BLANK
        self._texts[row] = ""

    def show(self):
        state = self._state
        for r in range(_ROWS):
            if state[r] & _STALE:
                if state[r] & _BLANK:
                    state[r] = _BLANK
                    self._texts[r] = ""
                else:
                    self._blank(r)
        y = 0
        dirty = self._dirty
        while y < HEIGHT:
            if not dirty[y]:
                y += 1
                continue
            end = y
            while end + 1 < HEIGHT and dirty[end + 1]:
                end += 1
            self._flush(y, end)
            y = end + 1

    def _flush(self, y0, y1):
        """Send pixel rows y0..y1 (inclusive) in one RAMWR window."""
        self._window(0, y0, WIDTH - 1, y1)
        if self._baudrate is not None:
            self._spi.init(baudrate=self._baudrate)
        self._cs.value(0)
        self._dc.value(0)
        self._cmd[0] = _RAMWR
        self._spi.write(self._cmd)
        self._dc.value(1)
        if self._mono is not None:
            line, rgb, mono = self._line, self._rgb, self._mono  # three at most: more builds a tuple
            palette = self._palette
            dirty = self._dirty
            for py in range(y0, y1 + 1):
                # pixel row py of the shadow onto the line (the stubs type the palette as bytes;
                # MicroPython's blit takes a FrameBuffer there)
                rgb.blit(mono, 0, -py, -1, palette)  # type: ignore[arg-type]
                self._spi.write(line)
                dirty[py] = 0
        else:
            self._expand(y0, y1)
        self._cs.value(1)

    def _expand(self, y0, y1):
        """The Python expansion of pixel rows y0..y1, each written as it is made."""
        line, buf, dirty = self._line, self.buffer, self._dirty
        c = self._colours
        ink_hi = c[0]
        ink_lo = c[1]
        paper_hi = c[2]
        paper_lo = c[3]
        for py in range(y0, y1 + 1):
            row = py * _STRIDE
            # A line of one colour (the gaps between text rows, the edges of an inverse bar)
            # goes out from a ready line: 30 byte tests instead of 240 pixel steps.
            first = buf[row]
            if first == 0 or first == 0xFF:
                i = row + 1
                while i < row + _STRIDE and buf[i] == first:
                    i += 1
                if i == row + _STRIDE:
                    self._spi.write(self._ink_line if first else self._paper_line)
                    dirty[py] = 0
                    continue
            j = 0
            for i in range(row, row + _STRIDE):
                b = buf[i]
                m = 0x80
                while m:
                    if b & m:
                        line[j] = ink_hi
                        line[j + 1] = ink_lo
                    else:
                        line[j] = paper_hi
                        line[j + 1] = paper_lo
                    j += 2
                    m >>= 1
            self._spi.write(line)
            dirty[py] = 0


def _missing(glyph, cells):
    """A hollow box for a character the font lacks (visible, never silently blank)."""
    left, right = (0x7E, 0) if cells == 1 else (0x7F, 0xFE)  # top and bottom edges
    side_l, side_r = (0x42, 0) if cells == 1 else (0x40, 0x02)
    for y in range(CELL_H):
        edge = y in (1, CELL_H - 2)
        inside = 1 < y < CELL_H - 2
        glyph[y * cells] = left if edge else (side_l if inside else 0)
        if cells == 2:
            glyph[y * 2 + 1] = right if edge else (side_r if inside else 0)
