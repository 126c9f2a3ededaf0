# The console board: any MicroPython port driven over its serial REPL console (keys typed in a
# terminal program, the screen drawn with ANSI text). It never claims a card reader or a host link.
# Its security module is the soft one (hal/softsec.py): no tamper resistance (docs/SECURITY.md).
#
# It is the board main.py runs until a real terminal board's drivers land (see docs/BOARD.md).

import sys

from hal.contracts import (
    CARD_MODES,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_DOWN,
    KEY_ENTER,
    KEY_FUNC,
    KEY_UP,
    Board,
    CardReader,
    Display,
    Keypad,
    Link,
    LinkError,
    SignaturePad,
    cut_cells,
    text_cells,
)
from hal.keystore import StorageKeyStore
from hal.port import PortClock, VfsStorage
from hal.softpin import KeypadPinEntry
from hal.softsec import SoftSecurityModule

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


def stream_ready(stream):
    """A function telling, without blocking, whether stream has a character to read."""
    import select

    poller = select.poll()
    poller.register(stream, select.POLLIN)
    return lambda: bool(poller.poll(0))


class ConsoleKeypad(Keypad):
    """Keys read one character at a time from a stream (sys.stdin) when ready() says one waits."""

    def __init__(self, stream, out, ready):
        self.stream = stream
        self.out = out
        self._ready = ready
        self._pending = ""  # a character read past a lone ESC

    def _read(self):
        if self._pending:
            ch = self._pending
            self._pending = ""
            return ch
        return self.stream.read(1) if self._ready() else ""

    def poll(self):
        chars = self._read()
        if not chars:
            return None
        if chars == "\x1b":
            # An arrow key arrives as ESC [ A; ESC followed by anything else is a lone CANCEL.
            nxt = self._read()
            if nxt == "[":
                chars = "\x1b[" + self._read()
            else:
                self._pending = nxt
        return key_for(chars)

    def beep(self, ms=60):
        self.out.write("\x07")


class ConsoleDisplay(Display):
    """A rows x cols text screen redrawn with ANSI escapes on show(); bitmaps are not drawn."""

    def __init__(self, out, rows=10, cols=20):
        self.out = out
        self.rows = rows
        self.cols = cols
        self._rows = [("", False)] * rows

    def size(self):
        return (self.rows, self.cols)

    def pixels(self):
        return (self.cols * 12, self.rows * 24)

    def clear(self):
        self._rows = [("", False)] * self.rows

    def text(self, row, s, inverse=False):
        if 0 <= row < self.rows:
            self._rows[row] = (cut_cells(s, self.cols), inverse)

    def blit(self, bitmap, x, y, width, height):
        pass  # a serial console has no pixels: QR codes show on a real panel only

    def frame(self):
        """The screen as the ANSI text show() writes."""
        parts = ["\x1b[H\x1b[2J"]
        for s, inverse in self._rows:
            pad = " " * max(0, self.cols - text_cells(s))
            parts.append(("\x1b[7m{}{}\x1b[0m" if inverse else "{}{}").format(s, pad) + "\r\n")
        return "".join(parts)

    def show(self):
        self.out.write(self.frame())


class NoCardReader(CardReader):
    """A console has no card reader: armed or not, nothing is ever read."""

    def arm(self, modes=CARD_MODES):
        pass

    def disarm(self):
        pass

    def poll(self):
        return None


class NoSignaturePad(SignaturePad):
    """A console has no touch screen: a capture starts and never produces a stroke."""

    def start(self, x, y, width, height):
        pass

    def poll(self):
        return None

    def stop(self):
        pass


class NoLink(Link):
    """A console has no network: never online, every connect fails."""

    def online(self):
        return False

    def connect(self, timeout_ms):
        raise LinkError("no network on the console board")

    def send(self, data):
        raise LinkError("link not open")

    def recv(self, max_bytes, timeout_ms):
        raise LinkError("link not open")

    def close(self):
        pass


def make_board(root="data", rtc=None, rtc_battery=False, keys_root="keys"):
    """The console board's devices. No card reader, host link or signing key exists on it: those
    are stand-ins that never read, never connect, and sign nothing (signer is None). rtc: a
    machine.RTC if the port has one; rtc_battery: it keeps time while the power is off. The key
    store is the directory keys_root, beside the firmware's root (its Storage cannot reach it); the
    soft security module keeps its keys there, and PIN entry reads the console's keys."""
    out = sys.stdout
    clock = PortClock(rtc, rtc_battery)
    key_store = StorageKeyStore(VfsStorage(keys_root))
    security = SoftSecurityModule(key_store)
    pin_entry = KeypadPinEntry(ConsoleKeypad(sys.stdin, out, stream_ready(sys.stdin)), security, clock)
    return Board(
        keypad=pin_entry.keypad,
        display=ConsoleDisplay(out),
        card_reader=NoCardReader(),
        signature_pad=NoSignaturePad(),
        storage=VfsStorage(root),
        clock=clock,
        link=NoLink(),
        signer=None,
        key_store=key_store,
        security=security,
        pin_entry=pin_entry,
    )
