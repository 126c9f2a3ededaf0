# The console board: any MicroPython port driven over its serial REPL console (keys typed in a
# terminal program, the screen drawn with ANSI text). It never claims a card reader or a host link.
#
# It is the board main.py runs until a real terminal board's drivers land (see docs/BOARD.md).

import sys

from hal.contracts import (
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_DOWN,
    KEY_ENTER,
    KEY_FUNC,
    KEY_UP,
    Board,
    Display,
    Keypad,
    text_cells,
)
from hal.port import PortClock, VfsStorage
from hal.virtual import LoopbackLink, VirtualCardReader, VirtualSignaturePad

# Console bytes to key codes. Escape sequences for the arrow keys are folded by ConsoleKeypad.
_KEYMAP = {
    "\r": KEY_ENTER,
    "\n": KEY_ENTER,
    "\x1b": KEY_CANCEL,
    "x": KEY_CANCEL,
    "\x7f": KEY_CLEAR,
    "\x08": KEY_CLEAR,
    "m": KEY_FUNC,
    "f": KEY_FUNC,
    "u": KEY_UP,
    "d": KEY_DOWN,
    "\x1b[A": KEY_UP,
    "\x1b[B": KEY_DOWN,
}


def key_for(chars):
    """The key code for what the console sent (a character or an escape sequence); unknown input
    passes through unchanged so that the firmware can ignore it with a beep."""
    if len(chars) == 1 and "0" <= chars <= "9":
        return chars
    return _KEYMAP.get(chars, chars)


class ConsoleKeypad(Keypad):
    """Keys from a stream (sys.stdin) polled without blocking through select.poll."""

    def __init__(self, stream, out):
        import select

        self.stream = stream
        self.out = out
        self.poller = select.poll()
        self.poller.register(stream, select.POLLIN)

    def _ready(self):
        return bool(self.poller.poll(0))

    def poll(self):
        if not self._ready():
            return None
        chars = self.stream.read(1)
        if chars == "\x1b" and self._ready():
            chars += self.stream.read(1)
            if chars == "\x1b[" and self._ready():
                chars += self.stream.read(1)
        return key_for(chars)

    def beep(self, ms=60):
        self.out.write("\x07")


class ConsoleDisplay(Display):
    """A rows x cols text screen redrawn with ANSI escapes on show(); bitmaps are not drawn."""

    def __init__(self, out, rows=10, cols=20):
        self.out = out
        self.rows = rows
        self.cols = cols
        self.lines = [("", False)] * rows

    def size(self):
        return (self.rows, self.cols)

    def pixels(self):
        return (self.cols * 12, self.rows * 24)

    def clear(self):
        self.lines = [("", False)] * self.rows

    def text(self, row, s, inverse=False):
        if 0 <= row < self.rows:
            self.lines[row] = (s, inverse)

    def blit(self, bitmap, x, y, width, height):
        pass  # a serial console has no pixels: QR codes show on a real panel only

    def frame(self):
        """The screen as the ANSI text show() writes."""
        parts = ["\x1b[H\x1b[2J"]
        for s, inverse in self.lines:
            pad = " " * max(0, self.cols - text_cells(s))
            parts.append(("\x1b[7m{}{}\x1b[0m" if inverse else "{}{}").format(s, pad) + "\r\n")
        return "".join(parts)

    def show(self):
        self.out.write(self.frame())


def make_board(root="/data", rtc=None):
    """The console board's devices. No card reader, host link or signing key exists on it: those
    are stand-ins that never read, never connect, and sign nothing (signer is None)."""
    out = sys.stdout
    return Board(
        keypad=ConsoleKeypad(sys.stdin, out),
        display=ConsoleDisplay(out),
        card_reader=VirtualCardReader(),
        signature_pad=VirtualSignaturePad(),
        storage=VfsStorage(root),
        clock=PortClock(rtc),
        link=LoopbackLink(None, online=False),
        signer=None,
    )
