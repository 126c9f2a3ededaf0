# Virtual devices: a board with no hardware, for the tests and the simulator (MicroPython and CPython).
# Test doubles: never part of the device image (make mpy), never import a port module or sim/.
from hal.contracts import (
    CAP_BEEP,
    CAP_BLIT,
    CAP_CALIBRATE,
    CAP_PEN,
    CAP_PIXELS,
    CAP_RTC_KEPT_TIME,
    CARD_MODES,
    LINK_WIFI,
    SIG_CLEAR,
    SIG_CONFIRM,
    SIG_PEN_UP,
    SIG_POINT,
    SYS_BOOT_COUNT,
    SYS_RESET,
    SYS_WATCHDOG,
    CardEvent,
    CardReader,
    Clock,
    Display,
    Keypad,
    Link,
    LinkError,
    SignaturePad,
    System,
    cut_cells,
    text_cells,
    ticks_add,
)


class VirtualKeypad(Keypad):
    """Keys come from press(); beep() only counts."""

    capabilities = (CAP_BEEP,)  # type: tuple

    def __init__(self):
        self._keys = []
        self.beeps = 0

    def press(self, *keys):
        """Queue key codes, as if pressed one after the other."""
        for key in keys:
            if not isinstance(key, str):
                raise TypeError("key codes are strings")
            self._keys.append(key)

    def poll(self):
        if self._keys:
            return self._keys.pop(0)
        return None

    def beep(self, ms=60):
        self.beeps += 1


class VirtualDisplay(Display):
    """A text grid over a 1-bit frame buffer. What lines(), inverse(), snapshot() and pixel()
    report is what the last show() flushed; text rows and pixels are separate layers."""

    capabilities = (CAP_PIXELS, CAP_BLIT)  # type: tuple

    def __init__(self, rows=10, cols=20, width=240, height=320):
        self._rows = rows
        self._cols = cols
        self._width = width
        self._height = height
        self._stride = (width + 7) // 8
        self._text = [""] * rows
        self._inverse = [False] * rows
        self._frame = bytearray(self._stride * height)  # MONO_HLSB, like framebuf
        self._shown_text = list(self._text)
        self._shown_inverse = list(self._inverse)
        self._shown_frame = bytes(self._frame)
        self.shows = 0

    def size(self):
        return (self._rows, self._cols)

    def pixels(self):
        return (self._width, self._height)

    def clear(self):
        self._text = [""] * self._rows
        self._inverse = [False] * self._rows
        self._frame = bytearray(len(self._frame))

    def text(self, row, s, inverse=False):
        if not isinstance(s, str):
            raise TypeError("display text must be str")
        if 0 <= row < self._rows:
            self._text[row] = cut_cells(s, self._cols)
            self._inverse[row] = bool(inverse)

    def blit(self, bitmap, x, y, width, height):
        src_stride = (width + 7) // 8
        if len(bitmap) < src_stride * height:
            raise ValueError("bitmap shorter than (width + 7) // 8 * height bytes")
        frame = self._frame
        for row in range(max(0, -y), min(height, self._height - y)):
            src = row * src_stride
            dst = (y + row) * self._stride
            for col in range(max(0, -x), min(width, self._width - x)):
                bit = bitmap[src + (col >> 3)] & (0x80 >> (col & 7))
                px = x + col
                mask = 0x80 >> (px & 7)
                if bit:
                    frame[dst + (px >> 3)] |= mask
                else:
                    frame[dst + (px >> 3)] &= 0xFF ^ mask

    def show(self):
        self._shown_text = list(self._text)
        self._shown_inverse = list(self._inverse)
        self._shown_frame = bytes(self._frame)
        self.shows += 1

    def lines(self):
        """The text rows as shown (cut at the right edge, not padded)."""
        return list(self._shown_text)

    def inverse(self):
        """Indexes of the highlighted rows as shown."""
        return [i for i in range(self._rows) if self._shown_inverse[i]]

    def snapshot(self):
        """The shown text as a box `cols` cells wide; a highlighted row has '>' left of the box
        (outside it, so no text is hidden). Wide characters take two cells, as on a terminal."""
        edge = " +" + "-" * self._cols + "+"
        out = [edge]
        for i in range(self._rows):
            s = self._shown_text[i]
            mark = ">|" if self._shown_inverse[i] else " |"
            out.append(mark + s + " " * (self._cols - text_cells(s)) + "|")
        out.append(edge)
        return "\n".join(out)

    def frame(self):
        """The shown frame buffer: bytes, MONO_HLSB, (width + 7) // 8 bytes a row."""
        return self._shown_frame

    def pixel(self, x, y):
        """1 if the shown pixel at (x, y) is set, else 0; IndexError outside the panel."""
        if not (0 <= x < self._width and 0 <= y < self._height):
            raise IndexError("pixel outside the panel")
        return (self._shown_frame[y * self._stride + (x >> 3)] >> (7 - (x & 7))) & 1


class VirtualCardReader(CardReader):
    """Reads come from present(); they are kept only while armed for their mode. modes: the card
    modes this reader reads (its capabilities; one source of a hal.cards.CardSources reads a few).
    fail (test hook): a HalError to raise from arm(), disarm() and poll(), as a dead part does."""

    def __init__(self, modes=CARD_MODES):
        for mode in modes:
            if mode not in CARD_MODES:
                raise ValueError("unknown card mode {!r}".format(mode))
        self.capabilities = tuple(m for m in CARD_MODES if m in modes)
        lacks = {}
        for mode in CARD_MODES:
            if mode not in modes:
                lacks[mode] = "this virtual reader was built without it"
        self.lacks = lacks
        self.fail = None
        self._modes = ()
        self._events = []

    def arm(self, modes=CARD_MODES):
        self._failing()
        for mode in modes:
            if mode not in self.capabilities:
                raise ValueError("card mode {!r} not read by this reader".format(mode))
        self._modes = tuple(modes)

    def disarm(self):
        self._failing()
        self._modes = ()
        self._events = []

    def poll(self):
        self._failing()
        if self._events:
            return self._events.pop(0)
        return None

    def _failing(self):
        if self.fail is not None:
            raise self.fail

    def present(self, event):
        """Offer a read to the reader; True if it was taken (armed for its mode), False if dropped."""
        if not isinstance(event, CardEvent):
            raise TypeError("present() takes a CardEvent")
        if event.mode not in self._modes:
            return False
        self._events.append(event)
        return True

    def armed_modes(self):
        """The modes being accepted, () when disarmed."""
        return self._modes


class VirtualSignaturePad(SignaturePad):
    """The pen comes from draw(), confirm() and clear(); events are kept only while capturing."""

    capabilities = (CAP_PEN,)  # type: tuple
    lacks = {CAP_CALIBRATE: "the virtual pen draws in display pixels: nothing to calibrate"}

    def __init__(self):
        self._area = None  # (width, height) while capturing
        self._origin = (0, 0)  # the area's top-left corner in display pixels
        self._events = []

    def start(self, x, y, width, height):
        self._area = (width, height)
        self._origin = (x, y)
        self._events = []

    def poll(self):
        if self._events:
            return self._events.pop(0)
        return None

    def stop(self):
        self._area = None
        self._events = []

    def active(self):
        """True between start() and stop()."""
        return self._area is not None

    def area(self):
        """(x, y, width, height) of the signing area in display pixels while capturing, else None."""
        if self._area is None:
            return None
        return self._origin + self._area

    def pen_at(self, x, y):
        """The pen touches (x, y) inside the area (it goes down, or moves): one SIG_POINT; False if
        not capturing or the point is outside the area (nothing queued)."""
        if self._area is None or not (0 <= x < self._area[0] and 0 <= y < self._area[1]):
            return False
        self._events.append((SIG_POINT, (x, y)))
        return True

    def pen_up(self):
        """The pen is lifted: SIG_PEN_UP; False if not capturing."""
        return self._queue(SIG_PEN_UP)

    def draw(self, strokes):
        """The pen draws each stroke (a list of (x, y) inside the area): one SIG_POINT per point as
        the pen moves, then SIG_PEN_UP; False if not capturing (nothing queued)."""
        if self._area is None:
            return False
        width, height = self._area
        for stroke in strokes:
            if not stroke:
                raise ValueError("a stroke needs at least one point")
            for x, y in stroke:
                if not (0 <= x < width and 0 <= y < height):
                    raise ValueError("point ({}, {}) outside the signing area".format(x, y))
        for stroke in strokes:
            for x, y in stroke:
                self._events.append((SIG_POINT, (x, y)))
            self._events.append((SIG_PEN_UP, None))
        return True

    def confirm(self):
        """The signer presses OK; False if not capturing."""
        return self._queue(SIG_CONFIRM)

    def clear(self):
        """The signer asks to start again; False if not capturing."""
        return self._queue(SIG_CLEAR)

    def _queue(self, kind):
        if self._area is None:
            return False
        self._events.append((kind, None))
        return True


# Where a real RTC restarts when its battery is gone: 2000-01-01 00:00 UTC on most ports.
RTC_RESET_TIME = 946684800


class VirtualClock(Clock):
    """A clock that moves only when told: sleep_ms() and advance() move ticks and wall time together.
    It has a battery-backed RTC (CAP_RTC_KEPT_TIME) unless rtc_battery=False: then kept_time() is
    not part of it and raises NotImplementedError, as the contract allows.
    kept_time: what kept_time() answers (a battery-backed RTC that was set: True by default).
    rtc_set (test hook): the RTC now holds a time that was set, so it would have kept time through
    a power-off from now on; set_time() makes it True, lose_rtc() False."""

    def __init__(self, time=1795392000, kept_time=True, rtc_battery=True):  # 2026-11-23 00:00 UTC
        self._elapsed_ms = 0  # since construction; never wraps
        self._epoch = time  # the wall time at _elapsed_ms == 0
        if rtc_battery:
            self.capabilities = (CAP_RTC_KEPT_TIME,)
            self.lacks = {}
        else:
            self.capabilities = ()
            self.lacks = {CAP_RTC_KEPT_TIME: "built without an RTC battery"}
        self._kept = bool(kept_time) and bool(rtc_battery)
        self.rtc_set = self._kept

    def time(self):
        return self._epoch + self._elapsed_ms // 1000

    def set_time(self, seconds):
        self._epoch = int(seconds) - self._elapsed_ms // 1000
        self.rtc_set = True

    def ticks_ms(self):
        return ticks_add(0, self._elapsed_ms)

    def sleep_ms(self, ms):
        self._move(ms)

    def kept_time(self):
        if CAP_RTC_KEPT_TIME not in self.capabilities:
            raise NotImplementedError("no RTC battery: kept_time() is not part of this clock")
        return self._kept

    def advance(self, seconds):
        """Let `seconds` pass (may be fractional): wall time and ticks move together."""
        self._move(round(seconds * 1000))

    def lose_rtc(self, at=RTC_RESET_TIME):
        """Test hook: this power-on finds an RTC holding a time nobody set: it lost its power while
        the terminal was off (the wall clock reads RTC_RESET_TIME, 2000-01-01 00:00 UTC), or it ran
        on from such a time (`at`). kept_time() and rtc_set are False; ticks do not move."""
        self.set_time(at)
        self._kept = False
        self.rtc_set = False

    def _move(self, ms):
        if ms < 0:
            raise ValueError("time only moves forward")
        self._elapsed_ms += ms


class LoopbackLink(Link):
    """A link to an in-process host: each send() is handed to host.handle(data), whose reply is what
    recv() returns next (max_bytes at a time). Set `attached` to False to drop the network.
    polls_to_open: poll_open() answers None that many times before True (None: it never opens,
    a connection that hangs). A host of None refuses every connection. `endpoint` is the
    (host, port) last given to open()."""

    lacks = {LINK_WIFI: "an in-process host: no radio"}

    def __init__(self, host=None, online=True, polls_to_open=0):
        self.host = host
        self.attached = online
        self.polls_to_open = polls_to_open
        self.endpoint = None
        self._state = _CLOSED
        self._waits = 0
        self._inbox = b""
        self._read = 0  # bytes of _inbox recv() has given (a socket keeps no copy of the rest)

    def online(self):
        return self.attached

    def open(self, host, port):
        self.close()
        if not self.attached:
            raise LinkError("network not attached")
        self.endpoint = (host, port)
        self._state = _CONNECTING
        self._waits = 0

    def poll_open(self):
        if self._state == _OPEN:
            self._check_open()
            return True
        if self._state != _CONNECTING:
            raise LinkError("link not opened")
        if not self.attached:
            self.close()
            raise LinkError("network lost")
        if self.host is None:
            self.close()
            raise LinkError("connection refused")
        if self.polls_to_open is None or self._waits < self.polls_to_open:
            self._waits += 1
            return None
        self._state = _OPEN
        return True

    def send(self, data):
        self._check_open()
        try:
            reply = self.host.handle(bytes(data))
        except LinkError:
            self.close()  # the host dropped the connection
            raise
        self._inbox = self._inbox[self._read :] + reply if self._read < len(self._inbox) else reply
        self._read = 0

    def flush(self):
        self._check_open()
        return 0  # send() handed everything to the host at once

    def recv(self, max_bytes):
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self._check_open()
        data = self._inbox[self._read : self._read + max_bytes]
        self._read += len(data)
        return data

    def close(self):
        self._state = _CLOSED
        self._inbox = b""
        self._read = 0

    def _check_open(self):
        if self._state != _OPEN:
            raise LinkError("link not open")
        if not self.attached:
            self.close()
            raise LinkError("network lost")


_CLOSED = 0
_CONNECTING = 1
_OPEN = 2


class VirtualSystem(System):
    """Records what the firmware asked of the board: the watchdog's timeout and feeds, a reset and
    its delay, boots marked good. failed_boots: the boot count this power-on reads; restart() (test
    hook) is the reset itself: it counts a failed boot unless mark_booted_ok() was called."""

    capabilities = (SYS_WATCHDOG, SYS_RESET, SYS_BOOT_COUNT)

    def __init__(self, failed_boots=0):
        self.failed_boots = failed_boots
        self.watchdog_ms = None  # the timeout start_watchdog() was given
        self.feeds = 0
        self.reset_ms = None  # the delay reset_after() was given
        self.booted_ok = False

    def start_watchdog(self, timeout_ms):
        if type(timeout_ms) is not int or timeout_ms <= 0:
            raise ValueError("watchdog timeout must be a positive int of ms")
        self.watchdog_ms = timeout_ms

    def feed(self):
        if self.watchdog_ms is not None:
            self.feeds += 1

    def reset_after(self, ms):
        if type(ms) is not int or ms < 0:
            raise ValueError("reset delay must be an int of ms >= 0")
        self.reset_ms = ms

    def boot_count(self):
        return self.failed_boots

    def mark_booted_ok(self):
        self.failed_boots = 0
        self.booted_ok = True

    def restart(self):
        """Test hook: the board restarts (a reset or the watchdog); a new boot begins."""
        if not self.booted_ok:
            self.failed_boots += 1
        self.watchdog_ms = None
        self.feeds = 0
        self.reset_ms = None
        self.booted_ok = False
