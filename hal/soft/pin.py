# PIN entry on the terminal's own keypad: while an entry is active it reads the keypad itself and the
# firmware's view of the keypad (LentKeypad) reports nothing, so PIN digits and key components never
# pass through firmware/. Never keeps a digit after the entry ends; never shows, logs or stores one.
#
# A board wires it: pin = KeypadPinEntry(keypad, security, clock), then Board(keypad=pin.keypad, ...,
# pin_entry=pin). The PIN goes to the security module (encrypt_pin_block), the TMK components to
# load_tmk_components; the firmware gets digit counts, the PIN block and a check value.

from hal.contracts import (
    DIGITS,
    HEX_AFTER_FUNC,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_ENTER,
    KEY_FUNC,
    KEY_PART,
    PIN_CANCEL,
    PIN_DIGITS,
    PIN_ENTER,
    PIN_TIMEOUT,
    Keypad,
    PinEntry,
    ticks_diff,
)

_PIN = 1
_KEY = 2
_HEX = "0123456789ABCDEF"


class LentKeypad(Keypad):
    """The keypad as the firmware sees it: the board's keypad (`device`), silent while `lent`
    (a PIN entry is reading it). beep() always reaches the device."""

    def __init__(self, keypad):
        self.device = keypad
        self.lent = False
        self.capabilities = keypad.capabilities
        self.lacks = keypad.lacks

    def poll(self):
        if self.lent:
            return None
        return self.device.poll()

    def beep(self, ms=60):
        self.device.beep(ms)


class KeypadPinEntry(PinEntry):
    """PinEntry over a Keypad (the simulator's virtual one, the console's, a board's matrix)."""

    capabilities = ("key_entry",)
    lacks = {}

    def __init__(self, keypad, security, clock):
        self.keypad = LentKeypad(keypad)
        self._raw = keypad
        self._security = security
        self._clock = clock
        self._mode = None
        self._typed = bytearray(32)  # PIN digits or one component's hex digits, as ASCII
        self._n = 0
        self._tmk = bytearray(16)  # key entry: the XOR of the components typed so far
        self._parts = 0
        self._components = 0
        self._func = False
        self._pan = ""
        self._min = self._max = 0
        self._allow_empty = False
        self._start = 0
        self._timeout = 0

    def _open(self, mode, timeout_ms):
        if type(timeout_ms) is not int or timeout_ms <= 0:
            raise ValueError("timeout_ms is a positive int")
        self._end()
        while self._raw.poll() is not None:
            pass  # keys pressed before the prompt are not part of the PIN
        self._mode = mode
        self._timeout = timeout_ms
        self._start = self._clock.ticks_ms()
        self.keypad.lent = True

    def begin(self, pan_digits, min_len=4, max_len=12, allow_empty=False, timeout_ms=60000):
        if type(pan_digits) is not str or not 13 <= len(pan_digits) <= 19 or not pan_digits.isdigit():
            raise ValueError("pan_digits: 13 to 19 digits")
        if type(min_len) is not int or type(max_len) is not int or not 4 <= min_len <= max_len <= 12:
            raise ValueError("4 <= min_len <= max_len <= 12")
        self._open(_PIN, timeout_ms)
        self._pan = pan_digits
        self._min = min_len
        self._max = max_len
        self._allow_empty = bool(allow_empty)

    def begin_key_entry(self, components=2, timeout_ms=300000):
        if components not in (2, 3) or type(components) is not int:
            raise ValueError("a TMK is typed as 2 or 3 components")
        self._open(_KEY, timeout_ms)
        self._components = components

    def active(self):
        return self._mode is not None

    def cancel(self):
        self._end()

    def _end(self):
        """Wipe what was typed and give the keypad back; keys still queued were typed at the prompt
        (after a timeout, say) and are dropped, never handed to the firmware."""
        if self._mode is not None:
            while self._raw.poll() is not None:
                pass
        for i in range(len(self._typed)):
            self._typed[i] = 0
        for i in range(16):
            self._tmk[i] = 0
        self._n = 0
        self._parts = 0
        self._func = False
        self._pan = ""
        self._mode = None
        self.keypad.lent = False

    def _ending(self, kind, value=None):
        self._end()
        return (kind, value)

    def poll(self):
        if self._mode is None:
            return None
        if ticks_diff(self._clock.ticks_ms(), self._start) >= self._timeout:
            return self._ending(PIN_TIMEOUT)
        key = self._raw.poll()
        if key is None:
            return None
        if key == KEY_CANCEL:
            return self._ending(PIN_CANCEL)
        if key == KEY_CLEAR:
            self._func = False
            if self._n == 0:
                self._raw.beep()
                return None
            self._n -= 1
            self._typed[self._n] = 0
            return (PIN_DIGITS, self._n)
        try:
            if self._mode == _PIN:
                return self._pin_key(key)
            return self._hex_key(key)
        except Exception:
            self._end()  # the security module failed (no key, a fault): nothing typed survives
            raise

    def _add(self, ch, limit):
        if self._n >= limit:
            self._raw.beep()
            return None
        self._typed[self._n] = ord(ch)
        self._n += 1
        return (PIN_DIGITS, self._n)

    def _pin_key(self, key):
        if len(key) == 1 and key in DIGITS:
            return self._add(key, self._max)
        if key == KEY_ENTER:
            if self._n == 0 and self._allow_empty:
                return self._ending(PIN_ENTER, None)
            if self._n < self._min:
                self._raw.beep()
                return None
            block = self._security.encrypt_pin_block(memoryview(self._typed)[: self._n], self._pan)
            return self._ending(PIN_ENTER, block)
        self._raw.beep()
        return None

    def _hex_key(self, key):
        if self._func:
            self._func = False
            if len(key) == 1 and "1" <= key <= "6":
                return self._add(HEX_AFTER_FUNC[ord(key) - 49], 32)
            self._raw.beep()
            return None
        if len(key) == 1 and key in DIGITS:
            return self._add(key, 32)
        if key == KEY_FUNC:
            self._func = True
            return None
        if key == KEY_ENTER:
            if self._n < 32:
                self._raw.beep()
                return None
            for i in range(32):
                nib = _HEX.index(chr(self._typed[i]))
                self._tmk[i >> 1] ^= nib << 4 if i & 1 == 0 else nib
                self._typed[i] = 0
            self._n = 0
            self._parts += 1
            if self._parts < self._components:
                return (KEY_PART, self._parts)
            kcv = self._security.load_tmk_components([self._tmk])
            return self._ending(PIN_ENTER, kcv)
        self._raw.beep()
        return None
