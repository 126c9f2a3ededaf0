# The signing key's public key as a QR code (About, ENTER: firmware/ui/keyqr.py): the modules on the
# display's pixels are the encoder's symbol of the key's hexadecimal digits, with a light quiet zone,
# between the title and the last row, on the simulated board's screen and the ESP32 board's; as
# hexadecimal lines on a display without pixels; never offered without a usable key.
from firmware import qr
from firmware.ui.keyqr import key_text, qr_box
from hal.contracts import CAP_BLIT, CAP_PIXELS
from tests.portable.drive import boot, press
from tests.portable.fakes import FakeSigner
from virtual.devices import VirtualDisplay

KEY = FakeSigner().public_key()


class TextOnlyDisplay(VirtualDisplay):
    """A VirtualDisplay that declares no pixel layer (as a serial console's)."""

    capabilities = ()  # type: tuple
    lacks = {CAP_PIXELS: "text only", CAP_BLIT: "text only"}


def _key_qr(**devices):
    board, term = boot(**devices)
    press(board, term, "ENTER", "8", "2")
    about = term.screen
    press(board, term, "ENTER")
    return board, term, about


def _modules(display, box):
    """The module matrix read back from the shown pixels at box: each module's centre pixel, after
    checking that every pixel of the module has its colour."""
    x0, y0, scale, size = box
    out = []
    for row in range(size):
        line = []
        for col in range(size):
            x, y = x0 + col * scale, y0 + row * scale
            v = display.pixel(x, y)
            for dy in range(scale):
                for dx in range(scale):
                    assert display.pixel(x + dx, y + dy) == v
            line.append(v)
        out.append(line)
    return out


def _check_symbol(display, box, rows):
    x0, y0, scale, size = box
    symbol = qr.encode(key_text(KEY), qr.M)
    assert size == symbol.size == 41 and symbol.version == 6  # 130 alphanumeric characters at M
    expected = [[symbol.module(c, r) for c in range(size)] for r in range(size)]
    assert _modules(display, box) == expected
    width, height = display.pixels()
    quiet = qr.QUIET * scale
    # the quiet zone inside the panel and light, below the title row and above the last row
    assert x0 - quiet >= 0 and x0 + size * scale + quiet <= width
    assert y0 - quiet >= height // rows and y0 + size * scale + quiet <= height * (rows - 1) // rows
    for y in range(y0 - quiet, y0 + size * scale + quiet):
        for x in range(x0 - quiet, x0 + size * scale + quiet):
            if not (x0 <= x < x0 + size * scale and y0 <= y < y0 + size * scale):
                assert display.pixel(x, y) == 0


def test_enter_on_about_shows_the_public_key_as_a_qr_code():
    assert key_text(KEY) == "".join("{:02X}".format(b) for b in KEY) and len(key_text(KEY)) == 130
    board, term, about = _key_qr()
    lines = board.display.lines()
    assert "Signing public key" in lines[0] and "Press any key" in lines[9]
    assert lines[1:9] == [""] * 8
    box = term.screen.qr_box
    assert box == (32, 78, 4, 41)  # 4 pixels a module; x on a byte boundary
    _check_symbol(board.display, box, 10)
    screen = term.screen
    press(board, term, "7")  # any key: back to About, the symbol gone with its screen
    assert term.screen is about and screen.symbol is None and screen.qr_box is None
    assert "About" in board.display.lines()[0]


def test_the_qr_code_fits_the_esp32_boards_screen():
    # the ILI9341: 240 x 320 pixels, 20 rows of 30 cells (hal/drivers/ili9341.py)
    board, term, _ = _key_qr(display=VirtualDisplay(rows=20, cols=30, width=240, height=320))
    box = term.screen.qr_box
    assert box[2] == 4 and box[0] % 8 == 0
    _check_symbol(board.display, box, 20)
    assert "Signing public key" in board.display.lines()[0] and "Press any key" in board.display.lines()[19]


def test_chinese_screen_and_the_same_symbol():
    board, term, _ = _key_qr(language="zh")
    lines = board.display.lines()
    assert "签名公钥" in lines[0] and "按任意键返回" in lines[9]
    _check_symbol(board.display, term.screen.qr_box, 10)


def test_a_display_without_pixels_shows_the_key_as_hexadecimal_lines():
    board, term, _ = _key_qr(display=TextOnlyDisplay())
    lines = board.display.lines()
    assert "".join(lines[1:9]) == key_text(KEY) and term.screen.qr_box is None
    assert term.screen.symbol is None  # never encoded for a display that cannot show it
    board, term, _ = _key_qr(display=TextOnlyDisplay(rows=4, cols=20))
    lines = board.display.lines()
    assert lines[2].strip() == "Screen too small" and key_text(KEY)[:20] not in "".join(lines)


def test_no_qr_code_without_a_usable_signing_key():
    from hal.soft.keystore import StorageKeyStore
    from hal.soft.signer import KEY_NAME, SoftSigner
    from virtual.storage import RamStorage

    keys = StorageKeyStore(RamStorage())
    keys.save(KEY_NAME, bytes(32))  # not a P-256 scalar: a damaged key
    for signer in (None, SoftSigner(keys)):
        board, term = boot(signer=signer)
        press(board, term, "ENTER", "8", "2", "ENTER")  # ENTER on About: back to the menu, as before
        assert "Set date and time" in "\n".join(board.display.lines())


def test_the_box_on_displays_of_other_sizes():
    symbol = qr.encode(key_text(KEY), qr.M)
    assert qr_box(symbol, (240, 320), 10) == (32, 78, 4, 41)
    assert qr_box(symbol, (480, 640), 10) == (48, 135, 9, 41)
    assert qr_box(symbol, (128, 64), 4) is None  # 49 modules with the quiet zone: 1 a module does not fit
    assert qr_box(symbol, (50, 200), 4) == (4, 79, 1, 41)  # too narrow to move x onto a byte
