# hal/drivers/ili9341.py against a fake panel written from the ILI9341 datasheet (V1.11): it decodes the
# 4-wire serial stream (D/CX low = command, high = parameters), keeps the frame memory in RGB565,
# and enforces what the datasheet asks (parameter counts, the waits after SWRESET and SLPOUT,
# COLMOD 16-bit before pixel data, windows inside 240x320). The tests compare the picture.
import os

import pytest

from hal.contracts import text_cells
from hal.drivers.font8x16 import Font8x16
from hal.drivers.fontfile import FontFile
from hal.drivers.ili9341 import ILI9341
from tests.host.fake_bus import SPI, Pin, SPIDevice

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FONT_FILE = os.path.join(REPO, "fonts", "qianpos16.qpf")

# Command codes and parameter counts, datasheet section 8.1 (the ones a driver may send).
SWRESET, SLPOUT, NORON, DISPON, CASET, PASET, RAMWR, MADCTL, COLMOD = (
    0x01, 0x11, 0x13, 0x29, 0x2A, 0x2B, 0x2C, 0x36, 0x3A,
)  # fmt: skip
NPARAMS = {SWRESET: 0, SLPOUT: 0, NORON: 0, DISPON: 0, CASET: 4, PASET: 4, MADCTL: 1, COLMOD: 1}
NOISE = 0x1234
INK, PAPER = 0x0000, 0xFFFF

# Unifont's glyphs as its .hex file spells them (lines 0041 and 4E2D), written out here so the
# test does not depend on the driver's own table.
GLYPH_A = bytes.fromhex("0000000018242442427E424242420000")
GLYPH_ZHONG = bytes.fromhex("01000100010001003FF8210821082108210821083FF821080100010001000100")


class Time:
    def __init__(self):
        self.ms = 0

    def sleep_ms(self, ms):
        self.ms += ms


class Panel(SPIDevice):
    def __init__(self, cs, dc, time):
        super().__init__(cs)
        self.dc, self.time = dc, time
        self.max_baudrate = 10_000_000  # serial write cycle >= 100 ns (datasheet 19.3.4)
        self.mem = [[NOISE] * 240 for _ in range(320)]
        self.sleeping, self.on, self.colmod, self.madctl = True, False, 0x66, 0
        self.cols, self.pages = (0, 239), (0, 319)
        self.log = []  # (command, parameters) in order; RAMWR with its pixel count
        self.cmd = None
        self.params = bytearray()
        self.pending = b""
        self.last_swreset = self.last_slpout = None

    def select(self):
        self.cmd = None

    def deselect(self):
        self._finish()

    def _finish(self):
        if self.cmd is None:
            return
        cmd, p = self.cmd, bytes(self.params)
        if cmd == RAMWR:
            assert not self.pending, "half a pixel left at the end of RAMWR"
            self.log.append((RAMWR, self.written))
        else:
            assert len(p) == NPARAMS[cmd], "command {:#x} takes {} parameters, got {}".format(
                cmd, NPARAMS[cmd], len(p)
            )
            self.log.append((cmd, p))
            self._apply(cmd, p)
        self.cmd = None

    def _apply(self, cmd, p):
        if cmd == CASET:
            sc, ec = (p[0] << 8) | p[1], (p[2] << 8) | p[3]
            assert sc <= ec <= 239, "CASET out of range"
            self.cols = (sc, ec)
        elif cmd == PASET:
            sp, ep = (p[0] << 8) | p[1], (p[2] << 8) | p[3]
            assert sp <= ep <= 319, "PASET out of range"
            self.pages = (sp, ep)
        elif cmd == COLMOD:
            self.colmod = p[0]
        elif cmd == MADCTL:
            self.madctl = p[0]
        elif cmd == DISPON:
            self.on = True

    def _start(self, cmd):
        self._finish()
        assert cmd in NPARAMS or cmd == RAMWR, "unknown command {:#x}".format(cmd)
        now = self.time.ms
        if self.last_swreset is not None and now - self.last_swreset < 5:
            raise AssertionError("a command within 5 ms of SWRESET")
        if self.last_slpout is not None and now - self.last_slpout < 5:
            raise AssertionError("a command within 5 ms of SLPOUT")
        if cmd == SWRESET:
            self.last_swreset = now
            self.sleeping, self.on, self.colmod, self.madctl = True, False, 0x66, 0
        elif cmd == SLPOUT:
            since = now - self.last_swreset if self.last_swreset is not None else -1
            assert since >= 120, "SLPOUT less than 120 ms after a reset"
            self.last_slpout = now
            self.sleeping = False
        elif cmd == RAMWR:
            assert self.colmod == 0x55, "pixel data before COLMOD 16-bit"
            assert not self.sleeping, "pixel data while in sleep"
            self.x, self.y, self.written = self.cols[0], self.pages[0], 0
        self.cmd = cmd
        self.params = bytearray()

    def transfer(self, out):
        if not self.dc.level:
            for b in out:
                self._start(b)
        elif self.cmd == RAMWR:
            data = self.pending + out
            n = len(data) // 2 * 2
            for i in range(0, n, 2):
                assert self.y <= self.pages[1], "pixel data past the window"
                self.mem[self.y][self.x] = (data[i] << 8) | data[i + 1]
                self.written += 1
                self.x += 1
                if self.x > self.cols[1]:
                    self.x, self.y = self.cols[0], self.y + 1
            self.pending = data[n:]
        else:
            assert self.cmd is not None, "parameters without a command"
            self.params += out
        return bytes(len(out))

    def commands(self):
        return [c for c, _ in self.log]

    def ink(self, x, y, w, h):
        """The region as rows of '#' (ink) and '.' (paper)."""
        out = []
        for yy in range(y, y + h):
            row = ""
            for xx in range(x, x + w):
                v = self.mem[yy][xx]
                assert v in (INK, PAPER), "pixel ({}, {}) is {:#06x}".format(xx, yy, v)
                row += "#" if v == INK else "."
            out.append(row)
        return out


def picture(glyph, cells=1, inverse=False):
    rows = []
    for y in range(16):
        bits = 0
        for c in range(cells):
            bits = (bits << 8) | glyph[y * cells + c]
        if inverse:
            bits ^= (1 << (8 * cells)) - 1
        rows.append("".join("#" if bits >> (8 * cells - 1 - i) & 1 else "." for i in range(8 * cells)))
    return rows


def make(font=None, baudrate=None, rst=True):
    time, spi = Time(), SPI()
    cs, dc, reset = Pin(1, "cs"), Pin(1, "dc"), Pin(1, "rst")
    panel = Panel(cs, dc, time)
    spi.devices.append(panel)
    if baudrate is None:
        spi.baudrate = 10_000_000
    d = ILI9341(spi, cs, dc, rst=reset if rst else None, font=font, sleep_ms=time.sleep_ms, baudrate=baudrate)
    return d, panel, spi


def test_init_follows_the_datasheet_and_blanks_the_noise_before_display_on():
    d, panel, _ = make()
    cmds = panel.commands()
    assert cmds[:5] == [SWRESET, SLPOUT, COLMOD, MADCTL, NORON]
    assert dict(panel.log)[COLMOD] == b"\x55" and dict(panel.log)[MADCTL] == b"\x48"
    assert cmds[5:8] == [CASET, PASET, RAMWR] and cmds[-1] == DISPON
    assert panel.log[7] == (RAMWR, 240 * 320)
    assert panel.on and all(v == PAPER for row in panel.mem for v in row)
    assert d.size() == (20, 30) and d.pixels() == (240, 320)


def test_text_draws_the_glyphs_in_their_cells():
    d, panel, _ = make(font=Font8x16())
    d.text(2, " A")
    d.show()
    assert panel.ink(8, 32, 8, 16) == picture(GLYPH_A)
    assert panel.ink(0, 32, 8, 16) == ["." * 8] * 16
    d.text(3, "A", inverse=True)
    d.show()
    assert panel.ink(0, 48, 8, 16) == picture(GLYPH_A, inverse=True)
    assert panel.ink(8, 48, 232, 16) == ["#" * 232] * 16  # the inverse bar spans the row


@pytest.mark.skipif(not os.path.isfile(FONT_FILE), reason="fonts/qianpos16.qpf not built (make font)")
def test_a_wide_character_takes_two_cells():
    with open(FONT_FILE, "rb") as f:
        d, panel, _ = make(font=FontFile(f, Font8x16()))
        d.text(0, "A中A")
        d.show()
    assert panel.ink(8, 0, 16, 16) == picture(GLYPH_ZHONG, cells=2)
    assert panel.ink(24, 0, 8, 16) == picture(GLYPH_A)
    assert d.missing == 0


def test_show_sends_only_the_changed_rows():
    d, panel, _ = make(font=Font8x16())
    panel.log.clear()
    d.show()
    assert panel.log == []  # nothing changed
    d.text(5, "x")
    d.show()
    # "x" inks pixel rows 6 to 13 of its cell (Font8x16): rows 86..93, the rest stays paper
    assert panel.log == [(CASET, b"\x00\x00\x00\xef"), (PASET, b"\x00\x56\x00\x5d"), (RAMWR, 240 * 8)]


def test_clear_then_the_same_text_sends_nothing_and_a_row_left_out_is_blanked():
    d, panel, _ = make(font=Font8x16())
    d.text(2, " A")
    d.text(3, "A", inverse=True)
    d.show()
    panel.log.clear()
    d.clear()
    d.text(2, " A")
    d.text(3, "A", inverse=True)
    d.show()
    assert panel.log == []  # the screen drawn again: nothing to send
    d.clear()
    d.text(2, " A")
    d.show()  # row 3 was not drawn: blanked, all of its 16 pixel rows (the inverse bar)
    assert panel.log[1:] == [(PASET, b"\x00\x30\x00\x3f"), (RAMWR, 240 * 16)]
    assert panel.ink(0, 48, 240, 16) == ["." * 240] * 16
    assert panel.ink(8, 32, 8, 16) == picture(GLYPH_A)
    panel.log.clear()
    d.text(3, "A", inverse=False)  # no clear(): replaced in place; the highlight counts as a change
    d.text(3, "A", inverse=True)
    d.show()
    assert panel.log[-1] == (RAMWR, 240 * 16)
    assert panel.ink(0, 48, 8, 16) == picture(GLYPH_A, inverse=True)


def test_a_key_on_the_amount_screen_sends_one_text_row_at_most():
    """The terminal clears and draws the whole screen on every key: only the amount line goes."""
    from firmware.params import Params
    from firmware.terminal import Terminal
    from tests.portable.fakes import make_board
    from virtual.storage import RamStorage

    d, panel, spi = make(font=Font8x16())
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
    for key in ("3", "CLEAR", "0"):
        sent = spi.sent
        panel.log.clear()
        board.keypad.press(key)
        term.settle()
        ramwr = [n for c, n in panel.log if c == RAMWR]
        assert 0 < sum(ramwr) <= 240 * 16, (key, panel.log)  # within the amount's 16 pixel rows
        assert spi.sent - sent <= 240 * 16 * 2 + 30, key  # its bytes and a window's commands


def test_text_is_cut_at_the_edge_and_rows_out_of_range_are_ignored():
    d, panel, _ = make(font=Font8x16())
    d.text(0, "A" * 31)
    d.text(20, "A")
    d.text(-1, "A")
    d.show()
    assert panel.ink(232, 0, 8, 16) == picture(GLYPH_A)
    assert all(v == PAPER for row in panel.mem[16:] for v in row)


def test_a_missing_glyph_is_a_visible_box():
    d, panel, _ = make(font=Font8x16())
    d.text(0, "\u00e9")
    d.show()
    assert d.missing == 1
    box = panel.ink(0, 0, 8, 16)
    assert box[1] == ".######." and box[7] == ".#....#." and box[0] == "........"


def test_blit_at_any_x_with_clipping_on_every_edge():
    d, panel, _ = make()
    w, h = 13, 5
    stride = (w + 7) // 8
    bits = bytearray(stride * h)
    expect = {}
    for yy in range(h):
        for xx in range(w):
            on = (xx * 7 + yy * 3) % 5 < 2
            expect[(xx, yy)] = on
            if on:
                bits[yy * stride + xx // 8] |= 0x80 >> (xx % 8)
    for x, y in ((3, 7), (-4, -2), (233, 317), (8, 0), (-8, 3), (232, 9), (0, -1), (16, 316)):
        d.clear()
        d.show()
        d.blit(bytes(bits), x, y, w, h)
        d.show()
        for yy in range(320):
            for xx in range(240):
                sx, sy = xx - x, yy - y
                want = INK if expect.get((sx, sy), False) else PAPER
                assert panel.mem[yy][xx] == want, (x, y, xx, yy)


def test_blit_draws_zero_bits_too():
    d, panel, _ = make(font=Font8x16())
    d.text(0, "A" * 30, inverse=True)
    d.blit(bytes(2), 4, 2, 12, 1)
    d.blit(bytes(2), 8, 3, 12, 1)  # byte-aligned: the last byte's other pixels stay
    d.show()
    assert panel.ink(0, 2, 24, 2) == ["####............########", "########............####"]


def test_the_bus_clock_is_set_before_every_transfer():
    d, panel, spi = make(font=Font8x16(), baudrate=10_000_000)
    spi.baudrate = 40_000_000  # another device left the bus faster than the panel's 10 MHz
    d.text(0, "A")
    d.show()  # the fake panel asserts the bus clock of every transfer
    assert spi.baudrate == 10_000_000 and panel.ink(0, 0, 8, 16) == picture(GLYPH_A)


def test_without_a_reset_pin_the_software_reset_still_waits():
    d, panel, _ = make(rst=False)
    assert panel.commands()[:2] == [SWRESET, SLPOUT] and panel.on


@pytest.mark.skipif(not os.path.isfile(FONT_FILE), reason="fonts/qianpos16.qpf not built (make font)")
def test_every_catalog_string_renders_without_a_missing_glyph():
    from firmware import strings
    from firmware.money import format_fen

    texts = [strings.text(key, lang) for key in strings.keys() for lang in strings.LANGUAGES]
    texts.append(format_fen(123456))
    with open(FONT_FILE, "rb") as f:
        d, _, _ = make(font=FontFile(f, Font8x16()))
        cols = d.size()[1]
        parts = []
        for s in texts:
            for start in range(0, len(s), cols // 2):  # long strings: every part of them
                parts.append(s[start : start + cols // 2])
                assert text_cells(parts[-1]) <= cols
        rows = d.size()[0]
        for at in range(0, len(parts), rows):  # a screenful at a time: show() composes the glyphs
            d.clear()
            for row, part in enumerate(parts[at : at + rows]):
                d.text(row, part)
            d.show()
            assert d.missing == 0, "missing a glyph in one of {!r}".format(parts[at : at + rows])
    assert len(texts) > 100


def test_other_colours_reach_every_kind_of_line():
    time, spi = Time(), SPI()
    spi.baudrate = 10_000_000
    cs, dc = Pin(1), Pin(1)
    panel = Panel(cs, dc, time)
    spi.devices.append(panel)
    d = ILI9341(spi, cs, dc, font=Font8x16(), sleep_ms=time.sleep_ms, ink=0xF800, paper=0x001F)
    assert {v for row in panel.mem for v in row} == {0x001F}
    d.text(0, "A")
    d.text(1, "A", inverse=True)
    d.show()
    want = picture(GLYPH_A)
    got = ["".join("#" if panel.mem[y][x] == 0xF800 else "." for x in range(8)) for y in range(16)]
    assert got == want
    assert panel.mem[16][100] == 0xF800 and panel.mem[31][100] == 0xF800  # the inverse bar
    assert panel.mem[100][100] == 0x001F


def test_the_display_passes_the_contract_conformance_check():
    """check_display observes every declared capability: the blit is read back from the panel's
    memory, decoded from the CASET/PASET/RAMWR stream."""
    from tests.portable import conformance

    panels = {}

    def fresh():
        d, panel, spi = make(font=Font8x16())
        panel.spi = spi
        panels[id(d)] = panel
        return d

    def pixel(d, x, y):
        if not (0 <= x < 240 and 0 <= y < 320):
            raise IndexError("pixel outside the panel")
        return 1 if panels[id(d)].mem[y][x] == INK else 0

    def sent(d):
        return panels[id(d)].spi.sent

    conformance.check_display(fresh, pixel=pixel, sent=sent)


# ---- without a frame buffer: what the driver keeps (each row's text, the bitmaps since clear(),
# a digest a pixel row) must still send exactly the pixel rows that changed ----------------------
def windows(panel):
    """The (first, last) pixel rows of each RAMWR since the log was cleared (full-width windows)."""
    out = []
    for i, (cmd, p) in enumerate(panel.log):
        if cmd == RAMWR:
            paset = panel.log[i - 1]
            assert paset[0] == PASET and panel.log[i - 2] == (CASET, b"\x00\x00\x00\xef")
            first, last = (paset[1][0] << 8) | paset[1][1], (paset[1][2] << 8) | paset[1][3]
            assert p == 240 * (last - first + 1)
            out.append((first, last))
    return out


def screen(panel):
    return panel.ink(0, 0, 240, 320)


def test_a_bitmap_over_part_of_a_text_row_then_its_text_again():
    d, panel, _ = make(font=Font8x16())
    d.text(2, "ABC")
    d.show()
    text_only = screen(panel)
    panel.log.clear()
    d.blit(b"\xff" * 4, 0, 36, 8, 4)  # over the top of "A" (pixel rows 36..39 of text row 2)
    d.show()
    assert windows(panel) == [(36, 39)]
    assert panel.ink(0, 36, 8, 4) == ["#" * 8] * 4
    assert panel.ink(8, 32, 232, 16) == [r[8:] for r in text_only[32:48]]  # "BC" as they were
    for redraw in (False, True):  # the text again, after clear() or over it without one
        panel.log.clear()
        if redraw:
            d.clear()
        d.text(2, "ABC")
        d.show()
        assert screen(panel) == text_only
        assert windows(panel) == [(36, 39)]  # the bitmap's rows only: the rest of the row is as sent
        d.blit(b"\xff" * 4, 0, 36, 8, 4)
        d.show()


def test_a_blit_then_clear_then_the_same_blit_sends_nothing():
    d, panel, _ = make(font=Font8x16())
    bits = bytes((i * 37) & 0xFF for i in range(4 * 50))
    d.text(0, "title")
    d.blit(bits, 40, 20, 32, 50)
    d.show()
    shown = screen(panel)
    panel.log.clear()
    d.clear()
    d.text(0, "title")
    d.blit(bits, 40, 20, 32, 50)
    d.show()
    assert panel.log == []
    d.blit(bits, 40, 20, 32, 50)  # again without clear(): the same pixels
    d.show()
    assert panel.log == [] and screen(panel) == shown
    changed = bytearray(bits)
    changed[4 * 30] ^= 0x80  # one pixel of the bitmap's row 30: pixel row 50
    d.clear()
    d.text(0, "title")
    d.blit(changed, 40, 20, 32, 50)
    d.show()
    assert windows(panel) == [(50, 50)]
    assert panel.ink(40, 50, 1, 1) == ["." if bits[120] & 0x80 else "#"]


def test_a_row_left_out_after_a_blit_is_blanked():
    d, panel, _ = make(font=Font8x16())
    d.text(1, "A")
    d.blit(b"\xff" * (2 * 24), 100, 20, 16, 24)  # pixel rows 20..43: text rows 1 and 2
    d.show()
    assert panel.ink(100, 20, 16, 24) == ["#" * 16] * 24
    panel.log.clear()
    d.clear()
    d.text(1, "A")
    d.show()  # the bitmap is gone, the text stays
    assert windows(panel) == [(20, 43)]
    assert panel.ink(100, 16, 16, 32) == ["." * 16] * 32
    assert panel.ink(0, 16, 8, 16) == picture(GLYPH_A)
    panel.log.clear()
    d.clear()
    d.show()  # the text row left out too: the pixel rows "A" inks (Font8x16: 4..13 of its cell)
    assert windows(panel) == [(20, 29)]
    assert all(v == PAPER for row in panel.mem for v in row)


def test_two_bitmaps_overlapping_the_last_drawn_wins():
    d, panel, _ = make(font=Font8x16())
    ink, paper = b"\xff\xff" * 16, bytes(32)
    d.blit(ink, 0, 0, 16, 16)
    d.blit(paper, 8, 8, 16, 16)
    d.show()
    want = ["#" * 16 + "." * 8] * 8 + ["#" * 8 + "." * 16] * 8
    assert panel.ink(0, 0, 24, 16) == want
    panel.log.clear()
    d.clear()
    d.blit(paper, 8, 8, 16, 16)  # the other order: the ink covers the paper's top-left
    d.blit(ink, 0, 0, 16, 16)
    d.show()
    assert panel.ink(0, 0, 24, 24) == ["#" * 16 + "." * 8] * 16 + ["." * 24] * 8
    assert windows(panel) == [(8, 15)]  # the ink's rows 8..15 changed (its columns 8..15)
    panel.log.clear()
    d.blit(paper, 4, 4, 4, 4)  # inside the ink's box, no clear(): the rows composed from both
    d.show()
    assert panel.ink(0, 0, 16, 8) == ["#" * 16] * 4 + ["####....########"] * 4
    assert windows(panel) == [(4, 7)]


def test_a_blit_clipped_at_every_edge_then_drawn_again_sends_nothing():
    d, panel, _ = make()
    w, h = 21, 19
    stride = (w + 7) // 8
    bits = bytes((i * 73 + 11) & 0xFF for i in range(stride * h))
    for x, y in ((-5, -7), (230, -3), (-9, 310), (229, 311), (3, -18), (-20, 100), (239, 319)):
        d.clear()
        d.blit(bits, x, y, w, h)
        d.show()
        for yy in range(320):
            for xx in range(240):
                sx, sy = xx - x, yy - y
                on = 0 <= sx < w and 0 <= sy < h and bits[sy * stride + sx // 8] & (0x80 >> (sx % 8))
                assert panel.mem[yy][xx] == (INK if on else PAPER), (x, y, xx, yy)
        panel.log.clear()
        d.clear()
        d.blit(bits, x, y, w, h)
        d.show()
        assert panel.log == [], (x, y)


def test_text_drawn_after_a_bitmap_replaces_it_on_its_row():
    d, panel, _ = make(font=Font8x16())
    d.blit(b"\xff" * (4 * 40), 0, 0, 32, 40)  # text rows 0, 1 and 2 (pixel rows 0..39)
    d.text(1, "A")  # row 1's 16 pixel rows: the text only
    d.show()
    assert panel.ink(0, 0, 32, 16) == ["#" * 32] * 16
    assert panel.ink(0, 16, 8, 16) == picture(GLYPH_A) and panel.ink(8, 16, 24, 16) == ["." * 24] * 16
    assert panel.ink(0, 32, 32, 8) == ["#" * 32] * 8
    d.blit(b"\x00" * 4, 0, 20, 8, 4)  # a bitmap after the text goes over it
    d.show()
    assert panel.ink(0, 20, 8, 4) == ["." * 8] * 4 and panel.ink(0, 24, 8, 8) == picture(GLYPH_A)[8:]


def test_more_bitmaps_than_slots_between_two_clears():
    from hal.drivers import ili9341

    d, panel, _ = make(font=Font8x16())
    n = ili9341._SLOTS * 3
    for i in range(n):  # small crosses side by side, none covering another
        d.blit(b"\x80\x80", 10 * i, 100 + i, 1, 2)
    d.text(0, "x")
    d.show()
    for i in range(n):
        assert panel.ink(10 * i, 100 + i, 2, 3) == ["#.", "#.", ".."]
    glyph = bytearray(32)
    Font8x16().glyph(ord("y"), 1, glyph)
    for i in range(n):  # each hidden under text drawn after it: dropped when the slots run out
        d.blit(b"\xff" * 16, 8 * i, 48, 8, 16)
        d.text(3, "y" * (i + 1))
    d.show()
    for i in range(n):
        assert panel.ink(8 * i, 48, 8, 16) == picture(glyph)
    assert len(d._bitmaps) == n + 1  # grown for the crosses (all on show), not for the hidden ones


class FailingSPI(SPI):
    """An SPI bus whose writes fail from the `fail_at`-th on (until it is set back to None)."""

    def __init__(self):
        super().__init__()
        self.fail_at = None
        self.writes = 0

    def write(self, data):
        self.writes += 1
        if self.fail_at is not None and self.writes >= self.fail_at:
            raise OSError(5, "EIO")
        super().write(data)


def test_rows_a_failed_show_did_not_send_go_at_the_next():
    time, spi = Time(), FailingSPI()
    spi.baudrate = 10_000_000
    cs, dc = Pin(1, "cs"), Pin(1, "dc")
    panel = Panel(cs, dc, time)
    spi.devices.append(panel)
    d = ILI9341(spi, cs, dc, font=Font8x16(), sleep_ms=time.sleep_ms)
    for row in range(20):
        d.text(row, "row {} QianPOS".format(row), inverse=row == 3)
    spi.fail_at = spi.writes + 40  # within the first window's pixel rows
    with pytest.raises(OSError):
        d.show()
    assert cs.level == 1  # the frame ended: the next command starts clean
    spi.fail_at = None
    d.show()
    d.clear()  # what it should show, on a display that never failed
    want, want_panel, _ = make(font=Font8x16())
    for row in range(20):
        want.text(row, "row {} QianPOS".format(row), inverse=row == 3)
    want.show()
    assert screen(panel) == screen(want_panel)
    panel.log.clear()
    for row in range(20):
        d.text(row, "row {} QianPOS".format(row), inverse=row == 3)
    d.show()
    assert panel.log == []


def test_a_full_width_bitmap_like_the_signature_pad():
    """A bitmap across the panel at x = 0 (the signing area) or clipped on the left at a byte
    boundary: its rows are digested straight from it; text rows around and under it still count."""
    d, panel, _ = make(font=Font8x16())
    for x, width in ((0, 240), (-16, 264)):
        stride = width // 8
        canvas = bytearray(stride * 50)
        canvas[stride * 10 + 5] = 0x81  # a stroke on its row 10
        d.clear()
        d.text(2, "Sign here")  # pixel rows 32..47: the canvas covers 40..47
        d.blit(canvas, x, 40, width, 50)
        d.blit(b"\xff", 200, 60, 8, 1)  # a small bitmap over the canvas
        d.show()
        shown = screen(panel)
        assert shown[50][(5 * 8 + x) : (5 * 8 + x) + 8] == "#......#"
        assert shown[60][200:208] == "#" * 8
        assert panel.ink(0, 32, 80, 8) == [r[:80] for r in want_text(2, "Sign here")[:8]]
        panel.log.clear()
        canvas[stride * 30 + stride - 2] = 0x18  # the pen moves at the right edge: pixel row 70
        d.clear()
        d.text(2, "Sign here")
        d.blit(canvas, x, 40, width, 50)
        d.blit(b"\xff", 200, 60, 8, 1)
        d.show()
        assert windows(panel) == [(70, 70)]
        at = (stride - 2) * 8 + x
        assert screen(panel)[70][at : at + 8] == "...##..."
        panel.log.clear()
        d.clear()
        d.text(2, "Sign here")
        d.show()  # the canvas gone
        assert all(v == PAPER for row in panel.mem[48:] for v in row)
        assert panel.ink(0, 32, 240, 16) == want_text(2, "Sign here")


def want_text(row, s):
    """Text row `row` with s on it, as a display drawing nothing else shows it."""
    d, panel, _ = make(font=Font8x16())
    d.text(row, s)
    d.show()
    return panel.ink(0, row * 16, 240, 16)
