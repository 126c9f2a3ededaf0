# The hardware contracts: what every keypad, display, card reader, signature pad, storage, clock,
# host link, signer and system device must do. Never import a concrete device or a port module here.
#
# Each contract is a small base class whose methods raise NotImplementedError; docs/HAL.md
# gives the prose, tests/portable/conformance.py checks every implementation we ship.

import errno

# ---- Keypad --------------------------------------------------------------------------------
# Key codes are short strings: the digits "0".."9" and the names below. A driver maps its
# scan codes onto these; anything else it reports is passed through and ignored by the menu.
KEY_ENTER = "ENTER"
KEY_CANCEL = "CANCEL"
KEY_CLEAR = "CLEAR"  # backspace
KEY_FUNC = "FUNC"  # the FUNC/MENU key
KEY_UP = "UP"
KEY_DOWN = "DOWN"
DIGITS = "0123456789"
KEYS = (KEY_ENTER, KEY_CANCEL, KEY_CLEAR, KEY_FUNC, KEY_UP, KEY_DOWN)


class HalError(Exception):
    """A device failed in a way the firmware must report (not a programming error)."""


class LinkError(HalError):
    """The host link could not connect, or broke while in use."""


# ---- Capabilities --------------------------------------------------------------------------
# Every contract lists the optional things a device of its kind may do (CAPABILITIES). Each
# implementation declares the ones it has (`capabilities`) and, for every other one, why it lacks
# it (`lacks`: name -> reason). The conformance tests check each declared capability by observing
# its effect, and the firmware calls a capability only after has() says the device declared it.


class Device:
    """Capabilities are names (str). An implementation sets `capabilities` and `lacks` on its class,
    or on the instance when they depend on how it was built (a clock with or without an RTC)."""

    CAPABILITIES = ()  # type: tuple  # what a device of this contract may be able to do
    capabilities = ()  # type: tuple  # what this implementation does
    lacks = {}  # type: dict  # capability -> why this implementation does not


def has(device, capability):
    """True if the device declared the capability (a device that is None has nothing)."""
    return device is not None and capability in device.capabilities


def declared(device):
    """Problems with a device's declaration: every capability of its contract must be either had or
    lacked with a reason, and nothing else may be named. [] when the declaration is sound."""
    problems = []
    contract = device.CAPABILITIES
    for name in contract:
        if (name in device.capabilities) == (name in device.lacks):
            problems.append(
                "{}: declare {!r} as had or lacked (not both, not neither)".format(
                    type(device).__name__, name
                )
            )
    for name in device.capabilities:
        if name not in contract:
            problems.append(
                "{}: {!r} is not a capability of its contract".format(type(device).__name__, name)
            )
    for name in device.lacks:
        if name not in contract or not device.lacks[name]:
            problems.append(
                "{}: lacks {!r} without a reason or outside its contract".format(type(device).__name__, name)
            )
    return problems


# Capability names. A card reader's capabilities are the card modes it reads (CARD_SWIPE ...).
CAP_BEEP = "beep"  # Keypad: a buzzer; beep() sounds it
CAP_PIXELS = "pixels"  # Display: a pixel layer of pixels() size (what blit() and a signing area address)
CAP_BLIT = "blit"  # Display: blit() draws 1-bit bitmaps on the pixel layer
CAP_PEN = "pen"  # SignaturePad: a touch layer the signer writes on
CAP_RTC_KEPT_TIME = "rtc_kept_time"  # Clock: a battery-backed RTC; kept_time() says if it kept time


class Keypad(Device):
    CAPABILITIES = (CAP_BEEP,)

    def poll(self):
        """Return the next key code pressed, or None at once if no key is waiting. Never blocks."""
        raise NotImplementedError

    def beep(self, ms=60):
        """Sound the buzzer for about ms milliseconds without blocking. Capability CAP_BEEP."""
        raise NotImplementedError


# ---- Display -------------------------------------------------------------------------------
# East-Asian wide characters take two text cells; everything else one ("¥" is narrow).
_WIDE = (
    (0x1100, 0x115F),
    (0x2E80, 0x303E),
    (0x3041, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA000, 0xA4CF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE19),
    (0xFE30, 0xFE6F),
    (0xFF00, 0xFF60),
    (0xFFE0, 0xFFE6),
    (0x1F300, 0x1F64F),
    (0x1F900, 0x1F9FF),
    (0x20000, 0x3FFFD),
)


def char_cells(ch):
    """Text cells one character takes on a Display: 2 for CJK and fullwidth forms, else 1."""
    code = ord(ch)
    if code < 0x1100:
        return 1
    for lo, hi in _WIDE:
        if lo <= code <= hi:
            return 2
    return 1


def text_cells(s):
    """Text cells a string takes on a Display."""
    n = 0
    for ch in s:
        n += char_cells(ch)
    return n


def cut_cells(s, width):
    """The longest start of s that fits in width cells (a wide character never straddles the edge)."""
    used = 0
    for i, ch in enumerate(s):
        used += char_cells(ch)
        if used > width:
            return s[:i]
    return s


class Display(Device):
    CAPABILITIES = (CAP_PIXELS, CAP_BLIT)

    def size(self):
        """Return (rows, columns) of the text grid. A CJK character takes two columns."""
        raise NotImplementedError

    def pixels(self):
        """Return (width, height) in pixels, the space that blit() addresses. Capability CAP_PIXELS."""
        raise NotImplementedError

    def clear(self):
        """Blank the whole screen (in the frame buffer: nothing shows until show())."""
        raise NotImplementedError

    def text(self, row, s, inverse=False):
        """Write s on text row `row` (0 = top), replacing that row; cut at the right edge.
        inverse=True highlights the row (the selected menu item). Rows out of range are ignored."""
        raise NotImplementedError

    def blit(self, bitmap, x, y, width, height):
        """Draw a 1-bit bitmap, rows packed MSB first, (width + 7) // 8 bytes a row
        (framebuf MONO_HLSB), with its top-left corner at pixel (x, y); clipped at the edges.
        Capability CAP_BLIT."""
        raise NotImplementedError

    def show(self):
        """Flush the frame buffer to the panel."""
        raise NotImplementedError


# ---- Card reader ---------------------------------------------------------------------------
CARD_SWIPE = "swipe"  # magnetic stripe: track 2
CARD_INSERT = "insert"  # contact chip: track-2-equivalent data (tag 57)
CARD_TAP = "tap"  # contactless: track-2-equivalent data
CARD_SCAN = "scan"  # QR / barcode scanner: the decoded text
CARD_MODES = (CARD_SWIPE, CARD_INSERT, CARD_TAP, CARD_SCAN)


class CardEvent:
    """One read: `mode` is a CARD_* constant; `data` is the track 2 (or equivalent) text for
    cards and the decoded text for scans; `org` is the card organisation ("CUP", "VISA", "MC",
    "JCB", "AMEX" or "" if unknown). Track data lives in RAM only: never store or print it."""

    __slots__ = ("mode", "data", "org")

    def __init__(self, mode, data, org=""):
        self.mode = mode
        self.data = data
        self.org = org

    def __repr__(self):
        return "CardEvent({}, <{} chars>, {})".format(self.mode, len(self.data), self.org)


class CardReader(Device):
    """Capabilities: the card modes it reads (CARD_MODES). arm() takes only modes it declared."""

    CAPABILITIES = CARD_MODES

    def arm(self, modes=CARD_MODES):
        """Start accepting reads of the given modes (powers the contactless field, lights the scanner).
        Every mode must be one the reader declared (ValueError otherwise: a bug)."""
        raise NotImplementedError

    def disarm(self):
        """Stop accepting reads; reads queued but not yet polled, and any that arrive while
        disarmed, are dropped (stale track data must never reach the next transaction)."""
        raise NotImplementedError

    def poll(self):
        """Return the next CardEvent while armed, or None at once. Never blocks."""
        raise NotImplementedError

    def dead_modes(self):
        """The modes whose part has failed (a reader of several parts, hal.cards.CardSources, goes on
        with the others); [] for a reader of one part, which reports a failure by raising HalError."""
        return []


# ---- Signature pad -------------------------------------------------------------------------
# Points come as the pen moves: the first SIG_POINT after start() or after SIG_PEN_UP puts the pen
# down (a new stroke begins), the next ones move it, SIG_PEN_UP lifts it (the stroke ends).
SIG_POINT = "point"  # data: (x, y) relative to the area's top-left corner, inside the area
SIG_PEN_UP = "pen_up"  # data: None; the stroke of the points since the last pen-up is complete
SIG_CONFIRM = "confirm"  # the signer pressed OK
SIG_CLEAR = "clear"  # the signer asked to start again


class SignaturePad(Device):
    """Capability CAP_PEN: a touch layer. A pad lacking it never reports anything; the firmware
    calls start() only on a pad that has it (and takes a paper signature otherwise)."""

    CAPABILITIES = (CAP_PEN,)

    def start(self, x, y, width, height):
        """Begin capturing the pen inside this pixel area of the display; a new capture starts
        with the pen up and nothing queued."""
        raise NotImplementedError

    def poll(self):
        """Return (SIG_*, data) for the next event, or None at once. Never blocks.
        Timeouts are the firmware's business (it owns the clock)."""
        raise NotImplementedError

    def stop(self):
        """End capturing; events not yet polled are dropped."""
        raise NotImplementedError


# ---- Storage -------------------------------------------------------------------------------
# The errno values a Storage raises. MicroPython's errno module has no ENOSPC (its filesystems
# still raise 28), and a port's own filesystem may use host numbers: drivers translate to these.
ENOENT = errno.ENOENT
ENOSPC = getattr(errno, "ENOSPC", 28)
# Names are flat: 1 to 32 characters of [a-z0-9._-]. Anything else raises ValueError.
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-"


def check_name(name):
    """Raise ValueError unless name is a valid storage file name."""
    if not isinstance(name, str) or not 0 < len(name) <= 32:
        raise ValueError("bad storage name")
    for ch in name:
        if ch not in NAME_CHARS:
            raise ValueError("bad storage name")


class Storage(Device):
    """Files under one root. Written data is durable only after sync(): a power cut may lose
    what was written since, and may tear the write in flight (a prefix of it lands). rename() and
    remove() are atomic and durable at once: after a power cut the new name holds either its old
    content or the renamed file's synced content. Safe replace: write temp, sync, rename, sync."""

    def read(self, name):
        """Return the whole file as bytes; OSError(ENOENT) if it does not exist."""
        raise NotImplementedError

    def write(self, name, data):
        """Create or replace the file with data (not atomic: see rename); OSError(ENOSPC) if full."""
        raise NotImplementedError

    def append(self, name, data):
        """Add data at the end of the file, creating it if needed; OSError(ENOSPC) if full."""
        raise NotImplementedError

    def sync(self):
        """Make everything written so far durable."""
        raise NotImplementedError

    def rename(self, old, new):
        """Atomically give file `old` the name `new`, replacing any file called `new`.
        OSError(ENOENT) if `old` does not exist."""
        raise NotImplementedError

    def remove(self, name):
        """Delete the file; OSError(ENOENT) if it does not exist."""
        raise NotImplementedError

    def list(self):
        """Return the names of all files, sorted."""
        raise NotImplementedError

    def size(self, name):
        """Return the file's length in bytes; OSError(ENOENT) if it does not exist."""
        raise NotImplementedError

    def free(self):
        """Return the bytes still free for new data (a filesystem may count whole blocks)."""
        raise NotImplementedError


# ---- Clock ---------------------------------------------------------------------------------
TICKS_PERIOD = 1 << 30  # ticks_ms() wraps here, as MicroPython's time.ticks_ms() does
# 2**30 itself is not a small int on a 32-bit port (those are -2**30 .. 2**30-1): an expression
# that reaches it allocates. The tick helpers stay inside the small-int range with these two.
_TICKS_MAX = 0x3FFFFFFF  # TICKS_PERIOD - 1, the mask
_TICKS_HALF = 0x20000000  # TICKS_PERIOD // 2


def ticks_diff(new, old):
    """Signed milliseconds from old to new, correct across one wrap of the tick counter.
    Allocation-free on MicroPython: every intermediate is a small int."""
    d = (new - old) & _TICKS_MAX
    if d >= _TICKS_HALF:
        d -= _TICKS_HALF  # d - TICKS_PERIOD, in two steps that never leave the small ints
        d -= _TICKS_HALF
    return d


def ticks_add(ticks, delta):
    """The tick value delta milliseconds after ticks (delta may be negative or span periods).
    Allocation-free for a ticks value and an int delta: (ticks + delta) could pass 2**30, so this
    computes ticks - (TICKS_PERIOD - delta mod TICKS_PERIOD), which stays within the small ints."""
    return (ticks - (_TICKS_MAX - (delta & _TICKS_MAX)) - 1) & _TICKS_MAX


class Clock(Device):
    """Capability CAP_RTC_KEPT_TIME: a battery-backed RTC, so kept_time() can be asked."""

    CAPABILITIES = (CAP_RTC_KEPT_TIME,)

    def time(self):
        """Wall-clock time: integer seconds since 1970-01-01 00:00 UTC (whatever the port's epoch)."""
        raise NotImplementedError

    def set_time(self, seconds):
        """Set the wall clock (seconds since 1970-01-01 UTC). Does not move ticks_ms()."""
        raise NotImplementedError

    def ticks_ms(self):
        """Monotonic milliseconds in [0, TICKS_PERIOD), wrapping; compare with ticks_diff()."""
        raise NotImplementedError

    def sleep_ms(self, ms):
        """Give up the CPU for about ms milliseconds (the event loop's idle wait)."""
        raise NotImplementedError

    def kept_time(self):
        """True if the wall clock kept time through the last power-off: a battery-backed RTC that
        had been set. Decided at power-on; set_time() does not change it. Capability
        CAP_RTC_KEPT_TIME: a clock that lacks it has no such RTC and is never asked."""
        raise NotImplementedError


# ---- Host link -----------------------------------------------------------------------------
class Link(Device):
    """A byte stream to the acquirer's host (TCP over GPRS/4G/Wi-Fi on a board). No call blocks:
    open() starts a connection and poll_open() tells how it went; the caller times every wait with
    its Clock (the event loop keeps drawing the screen meanwhile). The shape of a non-blocking
    socket: socket.setblocking(False), connect() -> EINPROGRESS, select.poll() for the outcome."""

    def online(self):
        """True if the network is attached (an open() may succeed). Cheap; never blocks."""
        raise NotImplementedError

    def open(self, host, port):
        """Start connecting to host (a numeric IP address: a name lookup would block) and TCP port;
        returns at once. LinkError at once if no connection can be started (network down).
        Opening a link that is open or connecting closes the old stream first."""
        raise NotImplementedError

    def poll_open(self):
        """None while connecting, True once open; LinkError if the connection failed (refused,
        unreachable, network lost) or open() was never called. The caller gives up with close()
        when its own timeout passes."""
        raise NotImplementedError

    def send(self, data):
        """Queue all of data for the host and write what the network takes now; never blocks.
        LinkError if the stream is not open or broke."""
        raise NotImplementedError

    def flush(self):
        """Write more of what send() queued; the number of bytes still queued (0: all handed to
        the network). LinkError if the stream is not open or broke."""
        raise NotImplementedError

    def recv(self, max_bytes):
        """Return 1..max_bytes bytes that arrived, or b"" at once if none has yet.
        LinkError if the stream is not open, broke, or the host closed it."""
        raise NotImplementedError

    def close(self):
        """Close the stream (or give up connecting); closing a closed link does nothing."""
        raise NotImplementedError


# ---- System --------------------------------------------------------------------------------
SYS_WATCHDOG = "watchdog"  # start_watchdog() / feed(): the board resets if the loop stops feeding
SYS_RESET = "reset"  # reset_after(): the board restarts itself
SYS_BOOT_COUNT = "boot_count"  # boot_count() / mark_booted_ok(): failed boots counted across resets


class System(Device):
    """The board itself: its watchdog, its reset and a count of failed boots that survives a
    reset (RTC memory on the ESP32). Call a method only if has() says its capability is declared."""

    CAPABILITIES = (SYS_WATCHDOG, SYS_RESET, SYS_BOOT_COUNT)

    def start_watchdog(self, timeout_ms):
        """Start the watchdog: the board resets unless feed() is called at least every timeout_ms.
        Once started it cannot be stopped (as on the ESP32)."""
        raise NotImplementedError

    def feed(self):
        """Tell the watchdog the firmware is healthy (does nothing before start_watchdog())."""
        raise NotImplementedError

    def reset_after(self, ms):
        """Restart the board after about ms milliseconds. A board may wait and reset inside this
        call, so it may never return; a double that only records it returns."""
        raise NotImplementedError

    def boot_count(self):
        """How many boots in a row before this one never reached mark_booted_ok() (0 on a healthy
        board). Kept where a reset does not clear it: the board counts one up at power-on."""
        raise NotImplementedError

    def mark_booted_ok(self):
        """This boot reached a working terminal: the count of failed boots starts again at 0."""
        raise NotImplementedError


# ---- Signer --------------------------------------------------------------------------------
class Signer(Device):
    """The terminal's receipt-signing key: ECDSA over P-256. The private key never leaves it."""

    def public_key(self):
        """Return the public key as 65 bytes: 0x04 || X || Y (SEC1 uncompressed)."""
        raise NotImplementedError

    def sign_digest(self, digest):
        """Sign a 32-byte SHA-256 digest; return 64 bytes r || s, big-endian (32 bytes each)."""
        raise NotImplementedError


# ---- A board: the set of devices main.py hands to the firmware -----------------------------
class Board:
    __slots__ = (
        "keypad",
        "display",
        "card_reader",
        "signature_pad",
        "storage",
        "clock",
        "link",
        "signer",
        "system",
    )

    def __init__(
        self,
        keypad,
        display,
        card_reader,
        signature_pad,
        storage,
        clock,
        link,
        signer,
        system=None,
    ):
        self.keypad = keypad
        self.display = display
        self.card_reader = card_reader
        self.signature_pad = signature_pad
        self.storage = storage
        self.clock = clock
        self.link = link
        self.signer = signer
        self.system = system  # a System; None: no watchdog, reset or boot count
