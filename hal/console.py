# The console board: any MicroPython port driven over its serial REPL console (keys typed in a
# terminal program, the screen drawn with ANSI text). It never claims a card reader or a host link.
# Its security module is the soft one (hal/soft/security.py): no tamper resistance (docs/SECURITY.md).
#
# It is the board main.py runs until a real terminal board's drivers land (see docs/BOARD.md).

import sys

from hal.contracts import (
    CAP_BEEP,
    CAP_BLIT,
    CAP_CALIBRATE,
    CAP_PEN,
    CAP_PIXELS,
    CARD_MODES,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_DOWN,
    KEY_ENTER,
    KEY_FUNC,
    KEY_UP,
    LINK_WIFI,
    Board,
    CardReader,
    Display,
    HalError,
    Keypad,
    Link,
    LinkError,
    SignaturePad,
    cut_cells,
    text_cells,
)
from hal.port import PortClock, PortSystem, VfsStorage
from hal.soft.keystore import StorageKeyStore
from hal.soft.pin import KeypadPinEntry
from hal.soft.security import SoftSecurityModule
from hal.soft.signer import SoftSigner

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

    capabilities = (CAP_BEEP,)  # the terminal program's bell

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
        try:
            self.out.write("\x07")
        except (AttributeError, OSError, ValueError):
            pass  # a closed console: the beep is lost, the display reports the fault


class ConsoleDisplay(Display):
    """A rows x cols text screen redrawn with ANSI escapes on show(). It has no pixels: pixels() and
    blit() are the contract's, raising NotImplementedError; the firmware never calls them here."""

    capabilities = ()
    lacks = {
        CAP_PIXELS: "a serial console shows text cells only",
        CAP_BLIT: "a serial console cannot draw bitmaps (QR codes show on a real panel only)",
    }

    def __init__(self, out, rows=10, cols=20):
        self.out = out
        self.rows = rows
        self.cols = cols
        self._rows = [("", False)] * rows

    def size(self):
        return (self.rows, self.cols)

    def clear(self):
        self._rows = [("", False)] * self.rows

    def text(self, row, s, inverse=False):
        if 0 <= row < self.rows:
            self._rows[row] = (cut_cells(s, self.cols), inverse)

    def frame(self):
        """The screen as the ANSI text show() writes."""
        parts = ["\x1b[H\x1b[2J"]
        for s, inverse in self._rows:
            pad = " " * max(0, self.cols - text_cells(s))
            parts.append(("\x1b[7m{}{}\x1b[0m" if inverse else "{}{}").format(s, pad) + "\r\n")
        return "".join(parts)

    def show(self):
        # A closed or broken console (stdout None, closed, or its reader gone) is a device fault.
        if self.out is None:
            raise HalError("console output closed")
        try:
            self.out.write(self.frame())
            flush = getattr(self.out, "flush", None)
            if flush is not None:
                flush()
        except (OSError, ValueError) as exc:
            raise HalError("console output failed: {}".format(type(exc).__name__))


class NoCardReader(CardReader):
    """A console has no card reader: it reads no mode, so it can only be armed for none."""

    capabilities = ()
    lacks = {mode: "no card reader on a serial console" for mode in CARD_MODES}

    def arm(self, modes=CARD_MODES):
        if modes:
            raise ValueError("the console board reads no card mode")

    def disarm(self):
        pass

    def poll(self):
        return None


class NoSignaturePad(SignaturePad):
    """A console has no touch screen: it lacks the pen, so start() is never called (the contract's
    raises NotImplementedError) and poll() never reports anything."""

    capabilities = ()
    lacks = {
        CAP_PEN: "no touch screen on a serial console",
        CAP_CALIBRATE: "no touch screen on a serial console",
    }

    def poll(self):
        return None

    def stop(self):
        pass


class NoLink(Link):
    """A console has no network: never online, no connection can be started."""

    lacks = {LINK_WIFI: "the console board has no network"}

    def online(self):
        return False

    def open(self, host, port):
        raise LinkError("no network on the console board")

    def poll_open(self):
        raise LinkError("no network on the console board")

    def send(self, data):
        raise LinkError("link not open")

    def flush(self):
        raise LinkError("link not open")

    def recv(self, max_bytes):
        raise LinkError("link not open")

    def close(self):
        pass


def make_board(root="data", rtc=None, rtc_battery=False, machine=None, keys_root="keys"):
    """The console board's devices. No card reader or host link exists on it: those are stand-ins
    that never read and never connect. The signer is the pure-Python one over the key store (its key
    made at first use from os.urandom: a port without it gets HalError then). rtc: a
    machine.RTC if the port has one; rtc_battery: it keeps time while the power is off; machine:
    the port's machine module, if any (main.py passes it: never imported here), for PortSystem.
    The key store is the directory keys_root, beside the firmware's root (its Storage cannot reach
    it); the soft security module keeps its keys there, and PIN entry reads the console's keys.
    A closed stdin gives a keypad that never has a key; a closed stdout a display whose show()
    raises HalError (the firmware backs off; it never spins)."""
    out = sys.stdout
    stdin = sys.stdin
    ready = stream_ready(stdin) if stdin is not None else _never
    clock = PortClock(rtc, rtc_battery)
    key_store = StorageKeyStore(VfsStorage(keys_root))
    security = SoftSecurityModule(key_store)
    pin_entry = KeypadPinEntry(ConsoleKeypad(stdin, out, ready), security, clock)
    return Board(
        keypad=pin_entry.keypad,
        display=ConsoleDisplay(out),
        card_reader=NoCardReader(),
        signature_pad=NoSignaturePad(),
        storage=VfsStorage(root),
        clock=clock,
        link=NoLink(),
        signer=SoftSigner(key_store),
        system=PortSystem(machine),
        key_store=key_store,
        security=security,
        pin_entry=pin_entry,
    )


def _never():
    return False
