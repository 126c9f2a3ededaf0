# The QR encoder (firmware/qr.py) against well-kept libraries, host tier: its tables against segno's,
# every version at every level with a given mask against python-qrcode (the data, the blocks, the
# error correction, the placement), the mask it chooses against segno's, and each symbol read back
# by zxing-cpp from an image of it, and from the simulated panel of the about screen's key.
import random
from typing import Any

import qrcode  # type: ignore[import-untyped]
import segno
import zxingcpp
from PIL import Image
from segno import consts

from firmware import qr

_QRCODE_LEVELS = (
    qrcode.constants.ERROR_CORRECT_L,
    qrcode.constants.ERROR_CORRECT_M,
    qrcode.constants.ERROR_CORRECT_Q,
    qrcode.constants.ERROR_CORRECT_H,
)


def rows(symbol):
    return [[symbol.module(x, y) for x in range(symbol.size)] for y in range(symbol.size)]


def image(modules, scale=3):
    """A grey image of a module matrix (1 = dark) with a four-module quiet zone."""
    n = len(modules)
    side = (n + 2 * qr.QUIET) * scale
    img = Image.new("L", (side, side), 255)
    px = img.load()
    assert px is not None
    for y in range(n):
        for x in range(n):
            if modules[y][x]:
                for dy in range(scale):
                    for dx in range(scale):
                        px[(x + qr.QUIET) * scale + dx, (y + qr.QUIET) * scale + dy] = 0
    return img


def decoded(modules):
    """The bytes zxing-cpp reads from the symbol, and the level it says."""
    found = [b for b in zxingcpp.read_barcodes(image(modules)) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1
    return found[0].bytes, found[0].ec_level


def test_tables_are_segnos():
    for version in range(1, qr.MAX_VERSION + 1):
        for level, name in enumerate(qr.LEVELS):
            table: Any = consts.ECC
            infos = table[version][getattr(consts, "ERROR_LEVEL_" + name)]
            i = level * qr.MAX_VERSION + version - 1
            assert qr._BLOCKS[i] == sum(info.num_blocks for info in infos)
            assert qr._ECC_PER_BLOCK[i] == infos[0].num_total - infos[0].num_data


def test_every_version_and_level_with_a_given_mask_is_python_qrcodes():
    rnd = random.Random(18004)
    for version in range(1, qr.MAX_VERSION + 1):
        for level in (qr.L, qr.M, qr.Q, qr.H):
            room = qr._data_codewords(version, level) - 3
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, room)))
            mask = rnd.randrange(8)
            symbol = qr.encode(data, level, version=version, mask=mask)
            ref = qrcode.QRCode(
                version=version, error_correction=_QRCODE_LEVELS[level], border=0, mask_pattern=mask
            )
            ref.add_data(data, optimize=0)
            ref.make(fit=False)
            assert rows(symbol) == [[1 if m else 0 for m in row] for row in ref.modules], (version, level)


def test_the_mask_chosen_is_segnos():
    # segno writes eight padding bits (a 0x00 codeword) when the terminator ends on a codeword
    # boundary, where ISO 18004 7.4.10 writes none; so it is compared only where the data does not:
    # in numeric and alphanumeric mode (byte mode always ends on a boundary).
    rnd = random.Random(7)
    compared = 0
    for version in range(1, 28):
        for level in (qr.L, qr.M, qr.Q, qr.H):
            for alphabet in ("0123456789", qr._ALNUM_CHARS.decode()):
                chars = qr._data_codewords(version, level) * (2 if len(alphabet) == 10 else 1)
                data = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(chars // 2, chars)))
                symbol = qr.encode(data, level)
                mode = qr._mode(data.encode())
                end = qr._bits_needed(mode, len(data), symbol.version) + 4
                if min(end, qr._data_codewords(symbol.version, level) * 8) % 8 == 0:
                    continue
                ref = segno.make_qr(data, error=qr.LEVELS[level], boost_error=False)
                assert (symbol.version, symbol.mask) == (ref.version, ref.mask), (data, level)
                assert rows(symbol) == [list(row) for row in ref.matrix]
                compared += 1
    assert compared > 150


def test_zxing_reads_every_mode_and_level():
    cases = [  # (zxing-cpp reports no symbol of empty content: none here)
        b"\x00\xff\x10binary",
        "签购单 e-receipt".encode(),
        b"HELLO WORLD $%*+-./:",
        b"31415926535897932384626433832795",
        bytes(range(256)) * 2,
    ]
    for data in cases:
        for level in (qr.L, qr.M, qr.Q, qr.H):
            symbol = qr.encode(data, level)
            got, said = decoded(rows(symbol))
            assert got == data and said == qr.LEVELS[level]


def test_the_about_screens_qr_code_reads_back_from_the_panels_pixels():
    # the whole 240 x 320 panel as the terminal shows it, 1 = dark: no help from where it was drawn
    from firmware.ui.keyqr import key_text
    from tests.portable.drive import boot, press

    board, term = boot()
    press(board, term, "ENTER", "8", "2", "ENTER")
    display = board.display
    width, height = display.pixels()
    panel = [[display.pixel(x, y) for x in range(width)] for y in range(height)]
    img = Image.new("L", (width, height), 255)
    img.putdata([0 if v else 255 for row in panel for v in row])
    found = [b for b in zxingcpp.read_barcodes(img) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1 and found[0].text == key_text(board.signer.public_key())


def test_the_about_screens_qr_code_reads_back_from_the_ili9341_panel():
    # the board's driver over the datasheet's fake panel: it may read a blitted bitmap until clear()
    from firmware.ui.keyqr import key_text
    from hal.drivers.font8x16 import Font8x16
    from tests.host.test_ili9341 import make
    from tests.portable.drive import boot, press

    display, panel, _ = make(font=Font8x16())
    board, term = boot(display=display)
    press(board, term, "ENTER", "8", "2", "ENTER")
    width, height = display.pixels()
    rows = panel.ink(0, 0, width, height)
    img = Image.new("L", (width, height), 255)
    img.putdata([0 if ch == "#" else 255 for row in rows for ch in row])
    found = [b for b in zxingcpp.read_barcodes(img) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1 and found[0].text == key_text(board.signer.public_key())
