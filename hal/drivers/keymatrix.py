# A 4x4 matrix keypad as a Keypad: rows driven low one at a time, columns read with pull-ups,
# debounced, each press reported once. Never allocates while scanning; never blocks.
#
# Two ways to reach the 16 switches (a "lines" object with select(rows_low) and columns()):
#   PinLines: 4 row pins (open-drain outputs: two keys in one column must not short two driven
#             rows) and 4 column pins (inputs with pull-ups; GPIO 34-39 have none: 10 kOhm to 3V3).
#   PCF8574Lines: a PCF8574 I2C expander, P0-P3 rows, P4-P7 columns (the reference board: the
#             ESP32 has too few free pins, docs/BOARD.md). Its ports are quasi-bidirectional: a 1
#             written is a weak pull-up that can be read as an input, a 0 a strong low (datasheet
#             section 8.1), so rows and columns need no external parts and never short.

from hal.contracts import (
    CAP_BEEP,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_DOWN,
    KEY_ENTER,
    KEY_FUNC,
    KEY_UP,
    Keypad,
    ticks_diff,
)

# The usual 4x4 membrane legend, row by row, mapped to the contract's codes:
#   1 2 3 A(FUNC)   4 5 6 B(UP)   7 8 9 C(DOWN)   *(CANCEL) 0 #(ENTER) D(CLEAR)
DEFAULT_KEYMAP = (
    "1", "2", "3", KEY_FUNC,
    "4", "5", "6", KEY_UP,
    "7", "8", "9", KEY_DOWN,
    KEY_CANCEL, "0", KEY_ENTER, KEY_CLEAR,
)  # fmt: skip

_QUEUE = 8  # presses waiting for poll(); more are dropped (a keypad is never that far ahead)


class PinLines:
    """Rows and columns on GPIO pins (machine.Pin objects, already configured by the board)."""

    def __init__(self, rows, cols):
        if len(rows) != 4 or len(cols) != 4:
            raise ValueError("a 4x4 matrix needs 4 row and 4 column pins")
        self._rows = rows
        self._cols = cols

    def select(self, rows_low):
        """Drive low the rows whose bit is set in rows_low (bit 0 = row 0); release the others."""
        for r in range(4):
            self._rows[r].value(0 if rows_low & (1 << r) else 1)

    def columns(self):
        """The columns read low, as bits (bit 0 = column 0)."""
        bits = 0
        for c in range(4):
            if not self._cols[c].value():
                bits |= 1 << c
        return bits


class PCF8574Lines:
    """Rows on P0-P3 and columns on P4-P7 of a PCF8574 (no registers: a write sets the eight
    ports, a read returns their levels). address: 0x20-0x27 (PCF8574A: 0x38-0x3F)."""

    def __init__(self, i2c, address=0x20):
        self._i2c = i2c
        self._address = address
        self._buf = bytearray(1)

    def select(self, rows_low):
        self._buf[0] = 0xF0 | (~rows_low & 0x0F)  # columns stay 1 (inputs)
        self._i2c.writeto(self._address, self._buf)

    def columns(self):
        self._i2c.readfrom_into(self._address, self._buf)
        return (~self._buf[0] >> 4) & 0x0F


class KeyMatrix(Keypad):
    """Keypad over a 4x4 matrix. ticks_ms: the clock's ticks_ms (debounce timing); a state must
    hold debounce_ms before it counts. beeper: a hal.drivers.buzzer.Buzzer (beep(ms), update()) or None;
    poll() calls its update(), so a beep ends on time without a timer.

    Three or more keys down at once may show a phantom fourth (no diodes in a membrane matrix):
    such a scan is ignored until fewer keys are down."""

    def __init__(self, lines, ticks_ms, keymap=DEFAULT_KEYMAP, debounce_ms=20, beeper=None):
        if len(keymap) != 16:
            raise ValueError("keymap needs 16 key codes")
        self._lines = lines
        self._ticks_ms = ticks_ms
        self._keymap = keymap
        self._debounce = debounce_ms
        self._beeper = beeper
        self.capabilities = (CAP_BEEP,) if beeper is not None else ()
        self.lacks = {} if beeper is not None else {CAP_BEEP: "no buzzer wired to this keypad"}
        self._raw = 0  # last scan: bit (row * 4 + col) set = switch closed
        self._since = ticks_ms()
        self._stable = 0  # debounced state
        self._queue = bytearray(_QUEUE)
        self._head = 0
        self._count = 0
        lines.select(0)

    def _scan(self):
        lines = self._lines
        lines.select(0x0F)  # all rows low: one read tells whether any key is down
        if not lines.columns():
            lines.select(0)
            return 0
        state = 0
        for r in range(4):
            lines.select(1 << r)
            state |= lines.columns() << (r * 4)
        lines.select(0)
        return state

    def scan(self):
        """Read the matrix once and queue the keys that became pressed (poll() calls it)."""
        raw = self._scan()
        now = self._ticks_ms()
        if raw != self._raw:
            self._raw = raw
            self._since = now
            return
        if raw == self._stable or ticks_diff(now, self._since) < self._debounce:
            return
        if _bits(raw) >= 3:
            return  # possible ghost: wait until it resolves
        pressed = raw & ~self._stable
        self._stable = raw
        bit = 0
        while pressed:
            if pressed & 1 and self._count < _QUEUE:
                self._queue[(self._head + self._count) % _QUEUE] = bit
                self._count += 1
            pressed >>= 1
            bit += 1

    def poll(self):
        if self._beeper is not None:
            self._beeper.update()
        self.scan()
        if not self._count:
            return None
        index = self._queue[self._head]
        self._head = (self._head + 1) % _QUEUE
        self._count -= 1
        return self._keymap[index]

    def beep(self, ms=60):
        if self._beeper is None:
            raise NotImplementedError(self.lacks[CAP_BEEP])
        self._beeper.beep(ms)


def _bits(x):
    n = 0
    while x:
        x &= x - 1
        n += 1
    return n
