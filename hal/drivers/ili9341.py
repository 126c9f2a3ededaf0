# The ILI9341 240x320 SPI panel as a Display, without a frame buffer: what each text row holds (its
# text and highlight) and the bitmaps drawn since clear() (references to the callers' bitmaps), a
# 30-bit digest of each pixel row last sent, and one 16-pixel band composed at a time. show()
# composes the pixel rows that may have changed, compares their digests and sends the rows that
# changed. Never allocates in clear(), text(), blit() or show() (more than _SLOTS bitmaps on show
# aside, below); never imports machine.
#
# Only what changed goes over the bus: clear() blanks nothing at once, it marks every text row
# stale and drops the bitmaps; text() on a stale row with the text and highlight it holds keeps it
# as it is, other text marks the row's 16 pixel rows; blit() marks its pixel rows (and blanks the
# rest of a stale row); show() blanks the rows still stale (those nothing was drawn on since
# clear()), composes each marked band (glyphs from the font, then the bitmaps drawn over it; a row
# under a full-width bitmap at a byte boundary, the signing area's, is read from the bitmap as it
# is), digests each marked pixel row's 30 bytes and sends those whose digest differs, each run of
# them in one CASET/PASET/RAMWR window (the bands of a run composed again to send them: two
# passes, so that the window's end is known). A screen redrawn after clear() with one line changed
# sends that line's changed pixel rows only. When the bus (or the font's file) fails in show(), the
# rows not sent keep their mark and an impossible digest: the next show() sends them.
#
# The digest (_digest_row): two polynomial lanes over the row's 15 16-bit words, mod the primes
# 32749 and 32719, the second fed the first's state, 30 bits; every intermediate stays a small int
# (below 2**30) so nothing allocates on a 32-bit MicroPython. A change confined to one 16-bit word
# (16 pixels) is always seen (the first lane changes by a non-zero multiple below the prime); any
# other change goes unseen with odds of about 1 in 2**30 (1e-9) a changed pixel row, which then
# shows its old pixels until it changes again. 320 of them in an array('I'): 1,280 bytes.
#
# A bitmap is read until the next clear() (the contract's blit()): the driver keeps the reference
# and composes from it in show(), and again in a later show() when something is drawn over its
# rows before a clear(). The firmware clears before every redraw, so each bitmap lives one frame.
# A bitmap entirely under a later one's box is dropped at that blit(); up to _SLOTS on show between
# two clear()s need no allocation; past that, those hidden under text drawn after them are dropped,
# and only when none is does the table grow (allocating).
#
# RGB565 expansion: with framebuf (MicroPython), one palette blit a pixel row from a MONO_HLSB
# frame over the band into a one-line RGB565 frame (as Peter Hinch's nano-gui drivers do), and the
# glyphs blitted into the band (through an inverting palette on a highlighted row); without it
# (CPython), Python loops. Both send the same bytes (tests/portable/test_drivers.py).
#
# Commands (ILI9341 datasheet V1.11, section 8): SWRESET 0x01, SLPOUT 0x11, NORON 0x13, DISPON 0x29,
# CASET 0x2A, PASET 0x2B, RAMWR 0x2C, MADCTL 0x36, COLMOD 0x3A. The 4-wire serial interface: D/CX low
# for a command byte, high for its parameters and pixel data; CSX low for the whole command.
#
# Text: cells of 8x16 pixels, 30 columns x 20 rows; a CJK character takes two cells (16x16).
# text() replaces its row's 16 pixel rows, bitmaps drawn before it included; a bitmap drawn after
# it goes over it (the contract keeps them as separate layers; on this panel the last drawn wins).

from array import array

from hal.contracts import CAP_BLIT, CAP_PIXELS, Display, char_cells

try:
    import framebuf
except ImportError:  # CPython: the Python loop expands the rows
    framebuf = None  # type: ignore[assignment]

WIDTH = 240
HEIGHT = 320
CELL_W = 8
CELL_H = 16
_STRIDE = WIDTH // 8  # bytes per pixel row (MONO_HLSB: bit 7 = leftmost pixel)
_ROWS = HEIGHT // CELL_H

# What a text row holds (one byte a row in _state):
_STALE = 1  # clear() since it was drawn: show() blanks it unless text() or blit() draws on it first
_OVER = 2  # bitmaps drawn over its text since the text (the slots from _under[row] on)
_INVERSE = 4  # _texts[row] is drawn highlighted

# A bitmap's slot: 7 ints in _boxes (where its top-left corner is, its row stride, its clipped box).
_SLOT = 7
_SLOTS = 4  # bitmaps between two clear()s without allocating (the firmware draws one a frame)

# The digest's lanes (see the header): primes below 2**15, multipliers that keep a lane's
# product below 2**30 (32749 * 23251 + 65535 < 2**30).
_P1 = 32749
_M1 = 23251
_P2 = 32719
_M2 = 19937
_UNSENT = 0x3FFFFFFF  # no row's digest (its first lane would be 32767, above _P1)

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
        self._state = bytearray(_ROWS)  # _STALE, _OVER, _INVERSE a text row
        self._texts = [""] * _ROWS  # type: list  # the text each row holds
        self._under = bytearray(_ROWS)  # the slots drawn before the row's text: hidden on it
        self._bitmaps = [None] * _SLOTS  # type: list  # the bitmaps drawn since clear(), in order
        self._boxes = array("i", bytes(4 * _SLOT * _SLOTS))  # and where
        self._nblits = 0
        self._dirty = bytearray(HEIGHT)  # 1 = pixel row drawn on since the last show()
        self._digest = array("I", bytes(4 * HEIGHT))  # each pixel row's digest as last sent
        self._force = False  # show() sends every marked row, changed or not (after reset)
        self.missing = 0  # characters show() drew as a box because the font lacks them (a diagnostic)
        self._glyph = bytearray(32)
        self._band = bytearray(_STRIDE * CELL_H)  # one text row's 16 pixel rows, composed
        self._banded = -1  # the text row in _band (-1: none)
        self._line = bytearray(WIDTH * 2)  # one RGB565 line
        self._mono = None  # type: framebuf.FrameBuffer | None
        if framebuf is not None and use_framebuf:
            self._mono = framebuf.FrameBuffer(self._band, WIDTH, CELL_H, framebuf.MONO_HLSB)
            self._rgb = framebuf.FrameBuffer(self._line, WIDTH, 1, framebuf.RGB565)
            # framebuf keeps RGB565 little-endian; the panel takes the high byte first: swapped
            self._palette = framebuf.FrameBuffer(bytearray(4), 2, 1, framebuf.RGB565)
            self._palette.pixel(0, 0, ((paper & 255) << 8) | (paper >> 8))
            self._palette.pixel(1, 0, ((ink & 255) << 8) | (ink >> 8))
            # The glyph buffer as a frame of one cell and of two (glyph(): `cells` bytes a row),
            # and the palette that inverts a glyph onto a highlighted row.
            self._cell1 = framebuf.FrameBuffer(self._glyph, CELL_W, CELL_H, framebuf.MONO_HLSB)
            self._cell2 = framebuf.FrameBuffer(self._glyph, 2 * CELL_W, CELL_H, framebuf.MONO_HLSB)
            self._invert = framebuf.FrameBuffer(bytearray(1), 2, 1, framebuf.MONO_HLSB)
            self._invert.pixel(0, 0, 1)
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
        # The frame memory holds noise after power-on: send a blank screen, all of it, before DISPON.
        self._drop_bitmaps()
        for r in range(_ROWS):
            self._state[r] = 0
            self._texts[r] = ""
            self._under[r] = 0
        for y in range(HEIGHT):
            self._dirty[y] = 1
        self._force = True
        try:
            self.show()
        finally:
            self._force = False
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
        self._drop_bitmaps()  # every row is now blanked or drawn again before show() sends it

    def text(self, row, s, inverse=False):
        if not 0 <= row < _ROWS:
            return
        state = self._state
        highlight = _INVERSE if inverse else 0
        self._under[row] = self._nblits  # the bitmaps drawn so far: under this text
        if self._texts[row] == s and state[row] & (_INVERSE | _OVER) == highlight:
            state[row] = highlight  # already drawn there: nothing to compose or send
            return
        self._texts[row] = s
        state[row] = highlight
        self._mark(row * CELL_H, row * CELL_H + CELL_H)

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
        n = self._drop_covered(x0, x1, y0, y1)
        if n == len(self._bitmaps):
            n = self._make_room()
        state = self._state
        for r in range(y0 // CELL_H, (y1 - 1) // CELL_H + 1):
            if state[r] & _STALE:  # the rest of the row must be blank around the bitmap
                self._texts[r] = ""
                state[r] = 0
                self._under[r] = n
                self._mark(r * CELL_H, r * CELL_H + CELL_H)
            state[r] |= _OVER
        self._bitmaps[n] = bitmap
        b = self._boxes
        o = n * _SLOT
        b[o] = x
        b[o + 1] = y
        b[o + 2] = src_stride
        b[o + 3] = x0
        b[o + 4] = x1
        b[o + 5] = y0
        b[o + 6] = y1
        self._nblits = n + 1
        self._mark(y0, y1)

    def show(self):
        state = self._state
        for r in range(_ROWS):
            if state[r] & _STALE:
                if self._texts[r] != "" or state[r] & (_INVERSE | _OVER):
                    self._texts[r] = ""
                    self._under[r] = self._nblits
                    self._mark(r * CELL_H, r * CELL_H + CELL_H)
                state[r] = 0
        dirty, digest = self._dirty, self._digest
        try:
            self._unmark_unchanged()
            # Each run of changed rows in one window.
            y = 0
            while y < HEIGHT:
                if not dirty[y]:
                    y += 1
                    continue
                end = y
                while end + 1 < HEIGHT and dirty[end + 1]:
                    end += 1
                self._flush(y, end)
                y = end + 1
        except BaseException:  # the bus or the font failed: what is not sent goes at the next show()
            self._cs.value(1)
            for y in range(HEIGHT):
                if dirty[y]:
                    digest[y] = _UNSENT
            raise

    def _unmark_unchanged(self):
        """Digest each marked row as it would be sent, unmark those sent as they are now. A row
        under a full-width bitmap (x a multiple of 8) is digested from it; the others from their
        band, composed."""
        dirty, digest, force = self._dirty, self._digest, self._force
        b = self._boxes
        for r in range(_ROWS):
            top = r * CELL_H
            y = top
            while y < top + CELL_H and not dirty[y]:
                y += 1
            if y == top + CELL_H:
                continue
            k = self._full_width(r)
            if k >= 0:
                o = k * _SLOT
                bitmap = self._bitmaps[k]
                y0 = b[o + 5]
                y1 = b[o + 6]
                at = (-b[o]) >> 3  # the source bytes clipped off on the left
                at -= b[o + 1] * b[o + 2]  # ... less the rows above the bitmap's top
            composed = False
            for y in range(top, top + CELL_H):
                if not dirty[y]:
                    continue
                if k >= 0 and y0 <= y < y1:
                    d = _digest_row(bitmap, at + y * b[o + 2])
                else:
                    if not composed:
                        self._compose(r, True)
                        composed = True
                    d = _digest_row(self._band, (y - top) * _STRIDE)
                if d == digest[y] and not force:
                    dirty[y] = 0
                else:
                    digest[y] = d

    def _full_width(self, row):
        """The bitmap drawn last over text row `row` if it spans the panel's width from a byte
        boundary (its rows are what is sent where it lies), else -1."""
        b = self._boxes
        top = row * CELL_H
        for k in range(self._nblits - 1, self._under[row] - 1, -1):
            o = k * _SLOT
            if b[o + 5] < top + CELL_H and b[o + 6] > top:
                if not b[o] & 7 and b[o + 3] == 0 and b[o + 4] == WIDTH:
                    return k
                return -1
        return -1

    # ---- the bitmaps ---------------------------------------------------------------------------
    def _drop_bitmaps(self):
        bitmaps = self._bitmaps
        for k in range(len(bitmaps)):
            bitmaps[k] = None
        self._nblits = 0

    def _drop_covered(self, x0, x1, y0, y1):
        """Drop the bitmaps a new one with clipped box x0..x1, y0..y1 (exclusive ends) hides
        entirely. The number of bitmaps left."""
        b = self._boxes
        k = 0
        while k < self._nblits:
            o = k * _SLOT
            if b[o + 3] >= x0 and b[o + 4] <= x1 and b[o + 5] >= y0 and b[o + 6] <= y1:
                self._drop_slot(k)
            else:
                k += 1
        return self._nblits

    def _make_room(self):
        """Free a slot: drop the bitmaps hidden under later text; grow the table if none is.
        The free slot."""
        b = self._boxes
        k = 0
        while k < self._nblits:
            o = k * _SLOT
            hidden = True
            for r in range(b[o + 5] // CELL_H, (b[o + 6] - 1) // CELL_H + 1):
                if self._under[r] <= k:
                    hidden = False
                    break
            if hidden:
                self._drop_slot(k)
            else:
                k += 1
        n = self._nblits
        if n == len(self._bitmaps):  # more bitmaps on show than slots: the table grows (allocates)
            self._bitmaps.append(None)
            b.extend(array("i", bytes(4 * _SLOT)))
        return n

    def _drop_slot(self, k):
        """Take slot k out, the later ones moving down one."""
        n = self._nblits - 1
        bitmaps, b = self._bitmaps, self._boxes
        for j in range(k, n):
            bitmaps[j] = bitmaps[j + 1]
            for i in range(_SLOT):
                b[j * _SLOT + i] = b[(j + 1) * _SLOT + i]
        bitmaps[n] = None
        self._nblits = n
        under = self._under
        for r in range(_ROWS):
            if under[r] > k:
                under[r] -= 1

    def _mark(self, y0, y1):
        dirty = self._dirty
        for y in range(y0, y1):
            dirty[y] = 1

    # ---- composing a band ----------------------------------------------------------------------
    def _compose(self, row, count):
        """Text row `row`'s 16 pixel rows into _band: its text, then the bitmaps drawn over it.
        count: add the characters the font lacks to self.missing (the first pass only)."""
        band = self._band
        state = self._state[row]
        fill = 0xFF if state & _INVERSE else 0
        mono = self._mono
        if mono is not None:  # framebuf: the fill and each glyph in one call
            mono.fill(fill & 1)
        col = 0
        glyph = self._glyph
        font = self._font
        for ch in self._texts[row]:  # cut at the edge here: contracts.cut_cells allocates
            cells = char_cells(ch)
            if col + cells > _STRIDE:
                break
            if font is None or not font.glyph(ord(ch), cells, glyph):
                _missing(glyph, cells)
                if count:
                    self.missing += 1
            if mono is not None:
                cell = self._cell2 if cells == 2 else self._cell1
                if fill:
                    mono.blit(cell, col << 3, 0, -1, self._invert)  # type: ignore[arg-type]
                else:
                    mono.blit(cell, col << 3, 0)
                col += cells
                continue
            at = col
            k = 0
            for _ in range(CELL_H):
                band[at] = glyph[k] ^ fill
                if cells == 2:
                    band[at + 1] = glyph[k + 1] ^ fill
                k += cells
                at += _STRIDE
            col += cells
        if col < _STRIDE and mono is None:  # the rest of the row: paper, or ink for a highlighted row
            at = 0
            for _ in range(CELL_H):
                for i in range(at + col, at + _STRIDE):
                    band[i] = fill
                at += _STRIDE
        if state & _OVER:
            for k in range(self._under[row], self._nblits):
                self._overlay(k, row)
        self._banded = row

    def _overlay(self, k, row):
        """Slot k's bitmap over the band holding text row `row`, where they meet."""
        b = self._boxes
        o = k * _SLOT
        top = row * CELL_H
        y0 = b[o + 5] if b[o + 5] > top else top
        y1 = b[o + 6] if b[o + 6] < top + CELL_H else top + CELL_H
        if y0 >= y1:
            return
        bitmap = self._bitmaps[k]
        x = b[o]
        y = b[o + 1]
        src_stride = b[o + 2]
        x0 = b[o + 3]
        x1 = b[o + 4]
        band = self._band
        if not x & 7:  # byte-aligned: whole bytes, the last one masked (8 times fewer steps)
            b0 = x0 >> 3
            b1 = (x1 + 7) >> 3
            skip = (x0 - x) >> 3  # source bytes clipped off on the left
            tail = (0xFF00 >> (x1 - ((b1 - 1) << 3))) & 0xFF  # pixels of the last byte drawn
            for py in range(y0, y1):
                src = (py - y) * src_stride + skip - b0
                dst = (py - top) * _STRIDE
                for i in range(b0, b1 - 1):
                    band[dst + i] = bitmap[src + i]
                i = b1 - 1
                band[dst + i] = (band[dst + i] & ~tail) | (bitmap[src + i] & tail)
            return
        for py in range(y0, y1):
            src = (py - y) * src_stride
            dst = (py - top) * _STRIDE
            for px in range(x0, x1):
                sx = px - x
                mask = 0x80 >> (px & 7)
                if bitmap[src + (sx >> 3)] & (0x80 >> (sx & 7)):
                    band[dst + (px >> 3)] |= mask
                else:
                    band[dst + (px >> 3)] &= ~mask

    # ---- sending -------------------------------------------------------------------------------
    def _flush(self, y0, y1):
        """Send pixel rows y0..y1 (inclusive) in one RAMWR window, composing their bands."""
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
                if py >> 4 != self._banded:
                    self._compose(py >> 4, False)
                # pixel row py of the band onto the line (the stubs type the palette as bytes;
                # MicroPython's blit takes a FrameBuffer there)
                rgb.blit(mono, 0, -(py & 15), -1, palette)  # type: ignore[arg-type]
                self._spi.write(line)
                dirty[py] = 0
        else:
            self._expand(y0, y1)
        self._cs.value(1)

    def _expand(self, y0, y1):
        """The Python expansion of pixel rows y0..y1, each written as it is made."""
        line, band, dirty = self._line, self._band, self._dirty
        c = self._colours
        ink_hi = c[0]
        ink_lo = c[1]
        paper_hi = c[2]
        paper_lo = c[3]
        for py in range(y0, y1 + 1):
            if py >> 4 != self._banded:
                self._compose(py >> 4, False)
            row = (py & 15) * _STRIDE
            # A line of one colour (the gaps between text rows, the edges of an inverse bar)
            # goes out from a ready line: 30 byte tests instead of 240 pixel steps.
            first = band[row]
            if first == 0 or first == 0xFF:
                i = row + 1
                while i < row + _STRIDE and band[i] == first:
                    i += 1
                if i == row + _STRIDE:
                    self._spi.write(self._ink_line if first else self._paper_line)
                    dirty[py] = 0
                    continue
            j = 0
            for i in range(row, row + _STRIDE):
                b = band[i]
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


def _digest_row(buf, at):
    """The 30-bit digest of buf's 30 bytes from `at` (see the header)."""
    a = 1
    c = 7
    for i in range(at, at + _STRIDE, 2):
        w = (buf[i] << 8) | buf[i + 1]
        a = (a * _M1 + w) % _P1
        c = (c * _M2 + (w ^ a)) % _P2
    return (a << 15) | c


def _missing(glyph, cells):
    """A hollow box for a character the font lacks (visible, never silently blank)."""
    left, right = (0x7E, 0) if cells == 1 else (0x7F, 0xFE)  # top and bottom edges
    side_l, side_r = (0x42, 0) if cells == 1 else (0x40, 0x02)
    for y in range(CELL_H):
        edge = y == 1 or y == CELL_H - 2  # (a tuple here would be built on the heap each time)
        inside = 1 < y < CELL_H - 2
        glyph[y * cells] = left if edge else (side_l if inside else 0)
        if cells == 2:
            glyph[y * 2 + 1] = right if edge else (side_r if inside else 0)
