# Card sources on a UART: a QR/barcode scanner and a magnetic stripe reader that send each read as
# a line of ASCII. Lines are assembled across partial reads into one preallocated buffer (nothing
# allocated per byte); over-long lines and lines with non-printable bytes are dropped whole.
# Never logs or keeps track data after it is handed out; never blocks (the UART is made with
# timeout=0, so readinto() returns what has arrived, or None).

from hal.contracts import CARD_SCAN, CARD_SWIPE, CardEvent

_CR = 0x0D
_LF = 0x0A


class UartLines:
    """Lines from a UART (machine.UART with timeout=0: any(), readinto()). A line ends at CR or LF
    (CR LF and empty lines give nothing); it may hold max_len printable ASCII bytes (0x20-0x7E).
    A longer line, or one with any other byte, is dropped up to its end; counted in .dropped."""

    def __init__(self, uart, max_len=256, chunk=64):
        self._uart = uart
        self._chunk = bytearray(chunk)
        self._pos = 0  # next unread byte of _chunk
        self._n = 0  # bytes held in _chunk
        self._line = bytearray(max_len)
        self._len = 0
        self._bad = False  # the line being assembled is too long or has garbage
        self.dropped = 0

    def _take(self):
        """The line assembled so far as a str, or None if it is to be dropped or empty."""
        n, bad = self._len, self._bad
        self._len = 0
        self._bad = False
        if bad:
            self.dropped += 1
            return None
        if not n:
            return None
        return bytes(memoryview(self._line)[:n]).decode("ascii")

    def poll(self):
        """The next complete line, or None if none has arrived whole yet."""
        line = self._line
        limit = len(line)
        while True:
            if self._pos >= self._n:
                got = self._uart.readinto(self._chunk)
                if not got:
                    return None
                self._pos, self._n = 0, got
            chunk, i, n = self._chunk, self._pos, self._n
            while i < n:
                b = chunk[i]
                i += 1
                if b == _CR or b == _LF:
                    self._pos = i
                    text = self._take()
                    if text is not None:
                        return text
                elif self._bad:
                    pass
                elif b < 0x20 or b > 0x7E or self._len >= limit:
                    self._bad = True
                else:
                    line[self._len] = b
                    self._len += 1
            self._pos = i

    def flush(self):
        """Forget everything received so far, the UART's buffer included."""
        uart = self._uart
        while uart.any():
            uart.readinto(self._chunk)
        self._pos = self._n = 0
        self._len = 0
        self._bad = False


class _LineSource:
    """A card source fed by a UartLines: lines read while armed become events (event(text));
    arming and disarming drop what came while disarmed (a stale read must not reach a sale)."""

    def __init__(self, lines):
        self._lines = lines
        self._armed = False

    def arm(self):
        if not self._armed:
            self._lines.flush()
            self._armed = True

    def disarm(self):
        self._armed = False
        self._lines.flush()

    def poll(self):
        if not self._armed:
            return None
        text = self._lines.poll()
        return None if text is None else self.event(text)

    def event(self, text):
        raise NotImplementedError


class ScannerSource(_LineSource):
    """The QR/barcode scanner (in its continuous or sensing mode, CR suffix): each line read while
    armed is a CardEvent(CARD_SCAN, text)."""

    def event(self, text):
        return CardEvent(CARD_SCAN, text)


def track2(line):
    """The track 2 data between the ';' start and '?' end sentinels of a reader's line (which may
    also carry track 1 '%...?' and track 3 before or after), or "" if there is none that is
    digits with one '=' separator, 37 characters at most (ISO/IEC 7813)."""
    start = line.find(";")
    while start >= 0:
        end = line.find("?", start + 1)
        if end < 0:
            return ""
        data = line[start + 1 : end]
        if 0 < len(data) <= 37 and _track2_chars(data):
            return data
        start = line.find(";", end + 1)
    return ""


def _track2_chars(s):
    """Digits with one '=' (the field separator) after at least one of them."""
    separators = 0
    for ch in s:
        if ch == "=":
            separators += 1
        elif not "0" <= ch <= "9":
            return False
    return separators == 1 and s[0] != "="


class StripeSource(_LineSource):
    """The UART magnetic stripe reader: each swipe's line is a CardEvent(CARD_SWIPE, track 2
    without sentinels); a swipe with no readable track 2 gives CardEvent(CARD_SWIPE, "") so the
    firmware says the read failed."""

    def event(self, text):
        return CardEvent(CARD_SWIPE, track2(text))
