# The hardware contracts: what every keypad, display, card reader, signature pad, storage,
# clock, host link, signer, system device, key store, security module and PIN entry must do. Never
# import a concrete device or a port-specific module here.
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
CAP_CALIBRATE = "calibrate"  # SignaturePad: raw taps for a touch calibration, and its result applied
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
        """Blank the whole screen (in the frame buffer: nothing shows until show()). The firmware
        clears and draws every row on each redraw; an implementation may keep what is unchanged."""
        raise NotImplementedError

    def text(self, row, s, inverse=False):
        """Write s on text row `row` (0 = top), replacing that row; cut at the right edge.
        inverse=True highlights the row (the selected menu item). Rows out of range are ignored."""
        raise NotImplementedError

    def blit(self, bitmap, x, y, width, height):
        """Draw a 1-bit bitmap, rows packed MSB first, (width + 7) // 8 bytes a row
        (framebuf MONO_HLSB), with its top-left corner at pixel (x, y); clipped at the edges.
        The display may read `bitmap` until the next clear() (a driver without a frame buffer
        composes from it in show()): keep it unchanged until then, or at least until show() when
        the next drawing starts with clear() (the firmware's redraw). Capability CAP_BLIT."""
        raise NotImplementedError

    def show(self):
        """Flush the frame buffer to the panel: afterwards it shows what was drawn since clear().
        An implementation over a bus may send only what changed since the last show()."""
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
        """A tuple of the modes whose part has failed (a reader of several parts, hal.cards.CardSources,
        goes on with the others); () for a reader of one part, which reports a failure by raising
        HalError. The idle screen asks every second: () when none, so that asking allocates nothing."""
        return ()


# ---- Signature pad -------------------------------------------------------------------------
# Points come as the pen moves: the first SIG_POINT after start() or after SIG_PEN_UP puts the pen
# down (a new stroke begins), the next ones move it, SIG_PEN_UP lifts it (the stroke ends).
SIG_POINT = "point"  # data: (x, y) relative to the area's top-left corner, inside the area
SIG_PEN_UP = "pen_up"  # data: None; the stroke of the points since the last pen-up is complete
SIG_CONFIRM = "confirm"  # the signer pressed OK
SIG_CLEAR = "clear"  # the signer asked to start again
SIG_RAW = "raw"  # data: (raw_x, raw_y) of a tap during calibrate_begin(), in the controller's units


class SignaturePad(Device):
    """Capability CAP_PEN: a touch layer. A pad lacking it never reports anything; the firmware
    calls start() only on a pad that has it (and takes a paper signature otherwise)."""

    CAPABILITIES = (CAP_PEN, CAP_CALIBRATE)

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

    def calibrate_begin(self):
        """Capture raw taps for a calibration: poll() gives (SIG_RAW, (raw_x, raw_y)) for each tap
        (where the pen was when lifted) until stop(). Capability CAP_CALIBRATE."""
        raise NotImplementedError

    def calibration(self, samples):
        """The pad's calibration from three (raw_x, raw_y, x, y) samples, (x, y) the display pixels
        that were tapped: a tuple of ints for the caller to store. ValueError if the three points
        are (nearly) on one line. Capability CAP_CALIBRATE."""
        raise NotImplementedError

    def set_calibration(self, cal):
        """Use a calibration that calibration() made (a stored one, at boot; a list is taken as the
        tuple). ValueError if it is not one. Capability CAP_CALIBRATE."""
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


def check_offset(offset):
    """Raise ValueError unless offset is a valid read_into() offset (an int >= 0)."""
    if type(offset) is not int or offset < 0:
        raise ValueError("bad storage offset")


class Storage(Device):
    """Files under one root. Written data is durable only after sync(): a power cut may lose
    what was written since, and may tear the write in flight (a prefix of it lands). rename() and
    remove() are atomic and durable at once: after a power cut the new name holds either its old
    content or the renamed file's synced content. Safe replace: write temp, sync, rename, sync."""

    def read(self, name):
        """Return the whole file as bytes; OSError(ENOENT) if it does not exist."""
        raise NotImplementedError

    def read_into(self, name, offset, buf):
        """Fill buf (a bytearray or writable memoryview) with the file's bytes from offset on and
        return how many were read: len(buf) unless the file ends first, 0 at or after its end.
        OSError(ENOENT) if it does not exist; ValueError unless offset is an int >= 0. Allocates
        nothing in proportion to the read, so a large file can be walked in a fixed buffer."""
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
        """Return the names of all files, sorted. A list of every name: on a storage holding a
        batch's per-transaction files, kilobytes of heap at once; the firmware walks names()."""
        raise NotImplementedError

    def names(self, prefix=""):
        """Iterate over the names that start with prefix, in no set order, one at a time: what it
        allocates is per name, never for all of them. Write, rename or remove nothing in this
        storage until the iteration ends (collect the names first). This default walks list()."""
        for name in self.list():
            if name.startswith(prefix):
                yield name

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
LINK_WIFI = "wifi"  # Link: a Wi-Fi station: wifi_status(), ssid(), scan(), set_credentials()

# wifi_status() words (the service screen shows each through the string catalog).
WIFI_NO_CREDENTIALS = "no credentials"
WIFI_IDLE = "idle"
WIFI_CONNECTING = "connecting"
WIFI_CONNECTED = "connected"
WIFI_WRONG_PASSWORD = "wrong password"
WIFI_NO_AP = "no access point"
WIFI_FAILED = "failed"
WIFI_SSID_MAX = 32  # characters of a network name (802.11: 32 bytes)
WIFI_PASSWORD_MAX = 64  # characters of a WPA2 passphrase (63) or hex key (64)


class Link(Device):
    """A byte stream to the acquirer's host (TCP over GPRS/4G/Wi-Fi on a board). No call blocks:
    open() starts a connection and poll_open() tells how it went; the caller times every wait with
    its Clock (the event loop keeps drawing the screen meanwhile). The shape of a non-blocking
    socket: socket.setblocking(False), connect() -> EINPROGRESS, select.poll() for the outcome.
    Capability LINK_WIFI: the link is a Wi-Fi station whose network the service menu chooses."""

    CAPABILITIES = (LINK_WIFI,)

    def wifi_status(self):
        """One of the WIFI_* words: the station's state now. Cheap; never blocks. LINK_WIFI."""
        raise NotImplementedError

    def ssid(self):
        """The name of the network the station joins (str), or None without credentials. LINK_WIFI."""
        raise NotImplementedError

    def scan(self):
        """The names (str) of the networks in reach, strongest first, each once, hidden ones left
        out. BLOCKS for the scan (about 2 s on an ESP32): only the service menu calls it, after
        drawing a "scanning" screen. LinkError if the radio refuses. LINK_WIFI."""
        raise NotImplementedError

    def set_credentials(self, ssid, password):
        """Join the network ssid (1..WIFI_SSID_MAX characters) with password (0..WIFI_PASSWORD_MAX
        characters; "" for an open network) from now on, in place of the ones the link had; returns
        at once (joining goes on in the background). ValueError if either is not one. LINK_WIFI."""
        raise NotImplementedError

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


# ---- Key store -----------------------------------------------------------------------------
class KeyStore(Device):
    """Named key blobs kept where the firmware's Storage cannot list or read them (another directory
    or partition behind its own object). Only the security module and the signer use it; firmware/
    never does. Names follow the Storage rules (check_name)."""

    def load(self, name):
        """The blob stored under name, or None if there is none. HalError if the key file is there
        but truncated or damaged: never accepted, never silently replaced."""
        raise NotImplementedError

    def save(self, name, blob):
        """Store blob (1..1024 bytes) under name, replacing any; durable and atomic when it returns
        (after a power cut, load() gives the old blob or the new one)."""
        raise NotImplementedError

    def delete(self, name):
        """Forget the blob; nothing happens if there is none."""
        raise NotImplementedError

    def names(self):
        """The names stored, sorted (damaged ones included: they are still there)."""
        raise NotImplementedError


# ---- Security module -----------------------------------------------------------------------
# The terminal master key (TMK) and the working keys it delivers (PIN key, MAC key, track key) never
# leave the module: no method returns key bytes, only MACs, cryptograms and 4-byte check values.
MAC_X919 = "x919"  # ANSI X9.19: field 64 is the 8-byte binary MAC (the default)
MAC_ECB = "ecb"  # the UnionPay POS "ECB" MAC: field 64 is 8 ASCII hex characters
MAC_ALGORITHMS = (MAC_X919, MAC_ECB)
KEYS_SINGLE = "001"  # 60.3 of a sign-in: single-length keys (refused)
KEYS_DOUBLE = "003"  # double-length PIN and MAC keys (what we ask for): field 62 is 40 bytes
KEYS_TRACK = "004"  # double-length keys plus a track key: field 62 is 60 bytes


class SecurityError(HalError):
    """The security module refused: see KeyRefused and NoKey."""


class KeyRefused(SecurityError):
    """Keys delivered were refused (wrong length, wrong check value, unsupported mode): the keys in
    force before stay in force. The message says why, never a key."""


class NoKey(SecurityError):
    """The key an operation needs is not loaded (no TMK; no working keys before a sign-in or after
    a MAC failure dropped them)."""


class SecurityModule(Device):
    # tamper_resistant: keys are kept in hardware that resists reading them out (a secure element,
    # flash encryption with a locked key) and the cipher resists side channels.
    CAPABILITIES = ("tamper_resistant",)

    def tmk_check_value(self):
        """The TMK's 4-byte check value, or None if no TMK is loaded."""
        raise NotImplementedError

    def load_tmk_components(self, components):
        """Load a new TMK: the XOR of 1 to 3 components of 16 bytes each (a board's key entry gives
        2 or 3; a simulator's provisioning gives 1). Drops the working keys (they were under the
        old TMK). A device key (password_hash) that is damaged is replaced by a new one: the
        firmware resets the passwords kept under it. Returns the new TMK's 4-byte check value."""
        raise NotImplementedError

    def load_working_keys(self, f62, mode):
        """Load the working keys of a sign-in answer: f62 is field 62 (bytes), mode its 60.3
        (KEYS_DOUBLE, 40 bytes: PIN key, check value, MAC key, check value; KEYS_TRACK, 60 bytes,
        then track key and check value). Each key is decrypted under the TMK and checked against its
        check value. KeyRefused for KEYS_SINGLE, a wrong length or a wrong check value (the keys in
        force stay); NoKey without a TMK. Loaded keys survive a reboot."""
        raise NotImplementedError

    def key_set(self):
        """What is loaded, for the about screen: None without working keys, else a dict with "mode"
        (KEYS_DOUBLE or KEYS_TRACK) and the 4-byte check values "pin", "mac", "track" (None under
        KEYS_DOUBLE) and "tmk"."""
        raise NotImplementedError

    def drop_working_keys(self):
        """Forget the working keys (a MAC failure): mac() and PIN blocks raise NoKey until the next
        load_working_keys()."""
        raise NotImplementedError

    def mac(self, data, algorithm=MAC_X919):
        """Field 64 of a message whose MAC input is data: 8 binary bytes (MAC_X919) or 8 ASCII hex
        characters (MAC_ECB). NoKey without working keys; ValueError for an unknown algorithm."""
        raise NotImplementedError

    def verify_mac(self, data, mac, algorithm=MAC_X919):
        """True if mac is field 64 of data (compared in constant time). Dropping the keys on a
        failure is the caller's decision (drop_working_keys)."""
        raise NotImplementedError

    def encrypt_pin_block(self, pin, pan):
        """The ISO 9564 format-0 PIN block of pin (4..12 ASCII digits) for pan (13..19 digits),
        3DES-encrypted under the PIN key (8 bytes). Called by PIN entry implementations only: the
        firmware never holds a PIN. NoKey without working keys."""
        raise NotImplementedError

    def password_hash(self, data):
        """HMAC-SHA256 of data (bytes) under a device key the module generated inside and never
        exports: 32 bytes. A copy of storage then does not let anyone test 4- or 6-digit passwords
        offline. HalError if the module has no random source to make that key."""
        raise NotImplementedError


# ---- PIN entry -----------------------------------------------------------------------------
# poll() answers (kind, value): PIN_DIGITS with the number of digits entered so far (the stars; after
# a digit or a CLEAR), KEY_PART with the number of components entered (key entry), then one ending:
# PIN_ENTER with the result, PIN_CANCEL or PIN_TIMEOUT (value None). After an ending, poll() gives None.
PIN_DIGITS = "digits"
# PIN_ENTER's value: the encrypted PIN block (8 bytes), or None for an allowed empty PIN; in key
# entry, the new TMK's 4-byte check value.
PIN_ENTER = "enter"
PIN_CANCEL = "cancel"
PIN_TIMEOUT = "timeout"
KEY_PART = "part"
# Key entry types hex digits on a numeric keypad: FUNC then 1..6 gives A..F (FUNC then any other key
# gives nothing, with a beep); 0..9 are themselves.
HEX_AFTER_FUNC = "ABCDEF"


CAP_KEY_ENTRY = "key_entry"  # PinEntry: begin_key_entry(), typing the TMK's components


class PinEntry(Device):
    """Takes the keypad while an entry is active: the board routes key presses to it and the
    firmware's Keypad.poll() returns None meanwhile, so digits never pass through firmware/."""

    CAPABILITIES = (CAP_KEY_ENTRY,)

    def begin(self, pan_digits, min_len=4, max_len=12, allow_empty=False, timeout_ms=60000):
        """Start a PIN entry for the card pan_digits (13..19 digits). ENTER ends it with fewer than
        min_len digits only if none were typed and allow_empty; a digit past max_len is refused with
        a beep. timeout_ms counts from begin(). ValueError for bad arguments."""
        raise NotImplementedError

    def begin_key_entry(self, components=2, timeout_ms=300000):
        """Start typing a TMK as components (2 or 3) of 32 hex digits each, XORed into the security
        module's TMK at the end (PIN_ENTER gives its check value). ENTER ends a component only when
        it has 32 digits; CLEAR deletes a digit; CANCEL drops everything typed."""
        raise NotImplementedError

    def poll(self):
        """The next (kind, value) of the entry, or None at once. Never blocks."""
        raise NotImplementedError

    def cancel(self):
        """End the entry now (the firmware left the screen): what was typed is wiped; no event."""
        raise NotImplementedError

    def active(self):
        """True from begin() until the entry ended (and its ending was polled) or was cancelled."""
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
        "key_store",
        "security",
        "pin_entry",
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
        key_store=None,
        security=None,
        pin_entry=None,
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
        # key_store: for the board's own devices (security module, signer) and the simulator's
        # reboot; firmware/ never reads it (tests/host/test_layering.py checks).
        self.key_store = key_store
        self.security = security
        self.pin_entry = pin_entry
