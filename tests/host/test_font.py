# The font build (sim/fontbuild.py, `make font`): the committed glyphs are what the build makes
# from GNU Unifont (checked where the Debian package `unifont` is installed), and the font file
# reader finds what the file holds and nothing else.
import io
import os

import pytest

from hal.contracts import HalError
from hal.drivers.font8x16 import GLYPHS, Font8x16
from hal.drivers.fontfile import FontFile
from sim import fontbuild

HAVE_UNIFONT = os.path.isfile(fontbuild.UNIFONT)


@pytest.mark.skipif(not HAVE_UNIFONT, reason="apt-get install unifont to check the build")
def test_the_committed_glyphs_are_what_the_build_makes():
    glyphs = fontbuild.read_hex()
    assert (
        fontbuild.splice(fontbuild.FONT_PY, fontbuild.font_py(glyphs))
        == open(fontbuild.FONT_PY, encoding="utf-8").read()
    )
    want = fontbuild.font_file(glyphs, set(fontbuild.gb2312_set()) | fontbuild.catalog_chars())
    with open(fontbuild.FONT_FILE, "rb") as f:
        assert f.read() == want, "fonts/qianpos16.qpf is stale: run make font"


def test_the_common_set_is_gb2312_level_1():
    chars = fontbuild.gb2312_set()
    hanzi = [c for c in chars if 0x4E00 <= ord(c) <= 0x9FFF]
    assert len(hanzi) == 3755 and "啊" in hanzi and "座" in hanzi  # first and last of level 1


def test_builtin_font_has_ascii_and_yen_only():
    f, buf = Font8x16(), bytearray(32)
    assert len(GLYPHS) == 96 * 16
    assert f.glyph(ord("A"), 1, buf) and bytes(buf[:16]) == bytes.fromhex("0000000018242442427E424242420000")
    assert f.glyph(0xA5, 1, buf) and bytes(buf[:16]) == bytes.fromhex("00000000412214087F087F0808080000")
    assert not f.glyph(ord("A"), 2, buf) and not f.glyph(0x7F, 1, buf) and not f.glyph(0x4E2D, 2, buf)


def test_font_file_lookup():
    glyphs = {0x4E2D: bytes(range(32)), 0x4E00: bytes([7]) * 32, 0xB7: bytes([9]) * 16}
    blob = fontbuild.font_file(glyphs, {"中", "一", "\u00b7", "丁"})  # 丁 is not in the glyphs
    f, buf = FontFile(io.BytesIO(blob), Font8x16()), bytearray(32)
    assert len(f) == 3
    assert f.glyph(0x4E2D, 2, buf) and bytes(buf) == bytes(range(32))
    assert f.glyph(0x4E00, 2, buf) and bytes(buf) == bytes([7]) * 32
    assert f.glyph(0xB7, 1, buf) and bytes(buf[:16]) == bytes([9]) * 16
    assert not f.glyph(0xB7, 2, buf)  # the width must match the contract's cells
    assert not f.glyph(ord("丁"), 2, buf) and not f.glyph(0x4DFF, 2, buf) and not f.glyph(0xFFFF, 2, buf)
    assert f.glyph(ord("A"), 1, buf)  # the fallback answers first


def test_a_file_that_is_not_a_font_is_a_device_fault():
    with pytest.raises(HalError):
        FontFile(io.BytesIO(b"PK\x03\x04 not a font"))
