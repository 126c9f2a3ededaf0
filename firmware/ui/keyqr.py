# The e-receipts' public key as a QR code (About, ENTER): what a verifier scans to check the
# terminal's signed receipts (docs/RECEIPT.md). Never shows anything but the public key; the symbol
# lives only while this screen does.

import binascii

from firmware.qr import QUIET, M, encode
from firmware.ui.widgets import MessageScreen, center
from hal.contracts import CAP_BLIT, HalError, has


def key_text(public_key):
    """What the QR holds: the 65-byte public key (04 X Y) as 130 hexadecimal digits in capitals
    (alphanumeric mode: a version 6 symbol at level M, where the PEM would need version 9)."""
    return binascii.hexlify(public_key).decode().upper()


def qr_box(symbol, pixels, rows):
    """(x, y, scale, size): where a symbol of `size` modules goes on a display of `pixels` (width,
    height) with `rows` text rows, `scale` pixels a module, between the title row and the last row
    with its quiet zone inside the screen; x a multiple of 8 where the quiet zone allows (the
    ILI9341 blits whole bytes). None when not one pixel a module fits."""
    width, height = pixels
    top = height // rows
    room = height * (rows - 1) // rows - top
    side = symbol.size + 2 * QUIET
    scale = min(width // side, room // side)
    if scale < 1:
        return None
    span = symbol.size * scale
    x = (width - span) // 2
    if x & 7 and x - (x & 7) >= QUIET * scale:
        x -= x & 7
    return (x, top + (room - span) // 2, scale, symbol.size)


def scaled(symbol, scale):
    """The symbol as a bitmap of scale x scale pixels a module, for one blit() (the display may
    read it until its next clear(): the screen keeps it while it is shown)."""
    width = symbol.size * scale
    stride = (width + 7) // 8
    out = bytearray(stride * width)
    for row in range(symbol.size):
        base = row * scale * stride
        for col in range(symbol.size):
            if symbol.module(col, row):
                for px in range(col * scale, col * scale + scale):
                    out[base + (px >> 3)] |= 0x80 >> (px & 7)
        for k in range(1, scale):
            out[base + k * stride : base + (k + 1) * stride] = out[base : base + stride]
    return out


class KeyQrScreen(MessageScreen):
    """The title, the public key as a QR code (or, on a display without pixels or too small for
    it, as hexadecimal lines, if they all fit) and "press any key"; any key goes back to `then`
    (MessageScreen's). `qr_box` is where the symbol was drawn (qr_box()), None when none is: the
    simulator shows the modules there at a half text cell each."""

    def __init__(self, term, then):
        MessageScreen.__init__(self, term, "svc_key_qr", [], then)
        self.text = None  # the key's hexadecimal digits; None: the signer failed
        self.symbol = None
        self.bitmap = None  # the symbol at the box's scale, blitted by reference
        self.qr_box = None

    def enter(self):
        signer = self.term.board.signer
        try:
            self.text = key_text(signer.public_key())
        except HalError:
            return
        if has(self.term.board.display, CAP_BLIT):
            self.symbol = encode(self.text, M)

    def leave(self):
        self.symbol = None
        self.bitmap = None
        self.qr_box = None

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(rows - 1, center(t("press_any_key"), cols))
        text = self.text
        if text is None:
            d.text(2, center(t("svc_signer_fault"), cols))
            return
        symbol = self.symbol
        box = None if symbol is None else qr_box(symbol, d.pixels(), rows)
        self.qr_box = box
        if box is not None:
            x, y, scale, size = box
            if self.bitmap is None or len(self.bitmap) != ((size * scale + 7) // 8) * size * scale:
                self.bitmap = scaled(symbol, scale)
            d.blit(self.bitmap, x, y, size * scale, size * scale)
            return
        if len(text) > (rows - 2) * cols:  # never a part of the key
            d.text(2, center(t("svc_key_no_room"), cols))
            return
        for row in range(1, rows - 1):
            d.text(row, text[(row - 1) * cols : row * cols])
