# The terminal: boots from storage, runs the event loop over the HAL devices it is handed and
# drives the current screen. It never builds hardware; a board factory gives it the devices.

from firmware import strings
from firmware.compat import const, format_exception
from firmware.counters import Counters, recover
from firmware.errors import ClockNotSet, PosError, StoredDataCorrupt
from firmware.params import Params
from firmware.screens import IdleScreen, MessageScreen
from firmware.version import BUILD_TIME
from hal.contracts import CAP_BEEP, CAP_RTC_KEPT_TIME, has, ticks_diff

_IDLE_SLEEP_MS = const(20)  # the loop's wait when nothing happened: no busy spin, keys still feel instant
_SECOND_MS = const(1000)


def clock_trusted(clock):
    """At power-on, whether the wall clock can be believed: it kept time through the power-off
    (a set, battery-backed RTC) or it reads later than the firmware's build date (no right clock
    reads earlier). A board without an RTC battery (no CAP_RTC_KEPT_TIME) comes back at 2000-01-01:
    not trusted."""
    return (has(clock, CAP_RTC_KEPT_TIME) and clock.kept_time()) or clock.time() >= BUILD_TIME


class Terminal:
    def __init__(self, board, params=None):
        self.board = board
        self.keypad = board.keypad
        self.display = board.display
        self.card_reader = board.card_reader
        self.signature_pad = board.signature_pad
        self.clock = board.clock
        self.link = board.link
        self.storage = board.storage
        self.fault = None  # catalog key of a condition that blocks transactions
        self.last_crash = None  # one line naming the last bug run() contained, for the service menu
        self.params = params if params is not None else self._load_params()
        self.counters = self._load_counters()
        self.clock_valid = clock_trusted(self.clock)  # False: transactions refused until the time is set
        self.screen = None
        self._dirty = True
        now = self.clock.ticks_ms()
        self._last_input = now
        self._last_second = now
        self.go(IdleScreen(self))

    def _load_params(self):
        try:
            params = Params.load(self.storage)
        except OSError:  # storage failing: the defaults show, nothing may be transacted
            params = Params()
            self.fault = "storage_failed"
        if params.identity_lost:
            self.fault = "params_identity_lost"
        return params

    def _load_counters(self):
        """The trace/batch counters, or None (and a fault) when they cannot be trusted."""
        try:
            return Counters.load(self.storage)
        except StoredDataCorrupt:
            self.fault = self.fault or "storage_corrupt"
        except OSError:
            self.fault = self.fault or "storage_failed"
        return None

    def recover_counters(self):
        """The service action for lost counters (see firmware.counters.recover)."""
        self.counters = recover(self.storage)
        if self.fault in ("storage_corrupt", "storage_failed"):
            self.fault = None

    def t(self, key, *args):
        """The catalog text for key in the terminal's language."""
        return strings.text(key, self.params.language, *args)

    def now(self):
        """Wall-clock seconds for anything that depends on the date (card expiry, receipts);
        ClockNotSet while the clock is not trusted. The idle screen reads the clock directly."""
        if not self.clock_valid:
            raise ClockNotSet()
        return self.clock.time()

    def set_clock(self, seconds):
        """Set the wall clock (the service menu): from now on it is trusted."""
        self.clock.set_time(seconds)
        self.clock_valid = True
        self.redraw()

    def go(self, screen):
        """Make screen the current one (leaving the old one first) and redraw."""
        if self.screen is not None:
            self.screen.leave()
        self.screen = screen
        screen.enter()
        self._dirty = True

    def go_idle(self):
        self.go(IdleScreen(self))

    def redraw(self):
        self._dirty = True

    def step(self):
        """One pass over keypad, card reader, signature pad and timers; True if anything happened.
        Domain failures become a message screen; any other exception is a bug and propagates
        (run() contains it)."""
        try:
            busy = self._poll()
        except PosError as exc:
            self.go(MessageScreen(self, "error", [self.t(exc.key)], IdleScreen(self)))
            busy = True
        if self._dirty:
            self._render()
        return busy

    def _poll(self):
        busy = False
        now = self.clock.ticks_ms()
        key = self.keypad.poll()
        if key is not None:
            busy = True
            self._last_input = now
            if not self.screen.on_key(key) and has(self.keypad, CAP_BEEP):
                self.keypad.beep()
        event = self.card_reader.poll()
        if event is not None:
            busy = True
            self._last_input = now
            self.screen.on_card(event)
        signature = self.signature_pad.poll()
        if signature is not None:
            busy = True
            self._last_input = now
            self.screen.on_signature(signature)
        if ticks_diff(now, self._last_second) >= _SECOND_MS:
            self._last_second = now
            if self.screen.on_second():
                self._dirty = True
            idle_ms = ticks_diff(now, self._last_input)
            if self.screen.times_out and idle_ms >= self.params.idle_timeout_s * 1000:
                self.go_idle()
                busy = True
        return busy

    def _render(self):
        d = self.display
        rows, cols = d.size()
        d.clear()
        self.screen.render(d, rows, cols)
        d.show()
        self._dirty = False

    def settle(self, limit=1000):
        """step() until nothing happens (at most limit times); the number of busy steps."""
        n = 0
        while n < limit and self.step():
            n += 1
        return n

    def run(self):
        """The device's main loop. A bug in one event shows an error and the loop goes on."""
        while True:
            try:
                busy = self.step()
            except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback on screen
                self.last_crash = format_exception(exc)
                self.go(MessageScreen(self, "error", [self.t("error")], IdleScreen(self)))
                busy = True
            if not busy:
                self.clock.sleep_ms(_IDLE_SLEEP_MS)
