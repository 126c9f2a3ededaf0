# The terminal: boots from storage, runs the event loop over the HAL devices it is handed and
# drives the current screen. It never builds hardware; a board factory gives it the devices.

import gc
import sys

from firmware import strings, wifi
from firmware.batch import BUF_BYTES
from firmware.compat import const, crash_site
from firmware.counters import Counters, recover
from firmware.errors import ClockNotSet, FlowUnavailable, PosError, StoredDataCorrupt
from firmware.journal import Journal
from firmware.params import Params
from firmware.touchcal import apply_stored
from firmware.ui.idle import IdleScreen
from firmware.ui.widgets import MessageScreen
from firmware.uptime import Uptime
from firmware.version import BUILD_TIME
from hal.contracts import (
    CAP_BEEP,
    CAP_RTC_KEPT_TIME,
    SYS_BOOT_COUNT,
    SYS_WATCHDOG,
    HalError,
    has,
    ticks_add,
    ticks_diff,
)

_IDLE_SLEEP_MS = const(20)  # the loop's wait when nothing happened: no busy spin, keys still feel instant
_SECOND_MS = const(1000)
# After a loop pass that failed, run() waits before the next: 20 ms, doubling up to 2 s, so a
# fault that repeats (a dead panel whose show() always raises) never spins the CPU.
_BACKOFF_MIN_MS = const(20)
_BACKOFF_MAX_MS = const(2000)
# The watchdog is fed only after a healthy pass: a loop that keeps failing stops feeding it and the
# board resets after this long (well above the longest back-off).
WATCHDOG_MS = const(8000)
_RETRY_DEVICE_MS = const(2000)  # a device that raised HalError is polled again after this long
# The host session's frame buffer: firmware.host.codec's MAX_BODY + the 2-byte length (Session
# refuses another size; not imported from there: the codec loads at the first sale, not at boot).
FRAME_BYTES = const(2050)
GC_EVERY = const(4096)  # bytes allocated between two collections on a board (manage_heap)
SIG_BITMAP_BYTES = const(3840)  # firmware.sigimage's AREA_WIDTH / 8 * AREA_HEIGHT
SIG_CONTEXT_BYTES = const(1024)  # firmware.jbig's CONTEXTS: the encoder's context states
SIG_IMAGE_BYTES = const(999)  # firmware.jbig's MAX_IMAGE: the encoder's output
# MicroPython's heap (gc.mem_free exists there only) is collected before a large or lasting
# allocation so that it lands in one piece; CPython's needs no help, and a full collection of a
# long-lived CPython process (a test run's) costs far more than the terminal's work.
_MANAGED_HEAP = hasattr(gc, "mem_free")

# The service menu's modules (系统管理: a technician's, now and then): the menu when it is chosen,
# each item's screens when that item is (Terminal.flow), all dropped when the terminal is back at
# idle, so that they are neither in an idle terminal's heap nor on top of the next sale's (12 KB;
# bench/README.md, 2026-12-06). The sale's modules (firmware.ui.amount at the first sale;
# firmware.ui.sale, .online, .host.* at the first card read) are loaded at first use too but stay:
# every sale needs them, and reading them again each time would only add time and fragments.
# Query and Reprint (main menu 6 and 5, and the slip they share) are dropped the same way.
DROPPED_AT_IDLE = (
    "firmware.ui.service",
    "firmware.ui.keyqr",
    "firmware.qr",
    "firmware.ui.keyload",
    "firmware.ui.touchcal",
    "firmware.ui.wifi",
    "firmware.ui.echo",
    "firmware.ui.admin",
    "firmware.admin",
    "firmware.registry",
    "firmware.operators",
    "firmware.ui.password",
    "firmware.ui.operators",
    "firmware.ui.query",
    "firmware.ui.reprint",
    "firmware.ui.slip",
    "firmware.events",
    "firmware.ui.void",
    "firmware.ui.refund",
    "firmware.ui.esign",
    "firmware.esign",
    "firmware.receipt",
    "firmware.sigfile",
    "firmware.sigimage",
    "firmware.jbig",
    "firmware.ui.settle",
    "firmware.online_settle",
)

# What a flow's load drops first (Terminal.flow), with a collection: the sale's screens stay loaded
# from one sale to the next (above), but the signature needs the amount and card screens no more,
# and settlement (and the report Reprint shows from it) none of them: it runs on the heap a sale
# filled, with the batch's index grown to its size (bench/README.md). The next sale loads them
# again.
DROPPED_BEFORE = (
    ("firmware.ui.esign", ("firmware.ui.amount",)),
    ("firmware.ui.settle", ("firmware.ui.sale", "firmware.ui.amount", "firmware.card")),
)
# A flow that never signs and needs the heap: the signature's buffers (Terminal.sig_*, 5.8 KB) are
# let go when it loads, and made again at idle (Terminal.sig_buffers).
FREES_SIG_BUFFERS = "firmware.ui.settle"


def _unload(name):
    """Forget the module `name`: sys.modules and its package's attribute. Its objects go with the
    last reference to them; the next import loads it again."""
    if sys.modules.pop(name, None) is None:
        return
    dot = name.rfind(".")
    package = sys.modules.get(name[:dot]) if dot > 0 else None
    if package is not None and name[dot + 1 :] in package.__dict__:
        delattr(package, name[dot + 1 :])


def manage_heap():
    """On a board (main.py, before the terminal boots): a collection after every GC_EVERY bytes
    allocated (gc.threshold), not only when the heap is full. Collected only when full, a sale's
    garbage spreads over the whole heap and the objects that stay (a flow's module, a record's
    view) land among it; the heap is then in runs too short for half a KB with 10 KB free. On the
    frozen image the whole sale's smallest heap fell from 138 to 133 KB (bench/README.md)."""
    if _MANAGED_HEAP and hasattr(gc, "threshold"):
        gc.threshold(GC_EVERY)


def clock_trusted(clock):
    """At power-on, whether the wall clock can be believed: it kept time through the power-off
    (a set, battery-backed RTC) or it reads later than the firmware's build date (no right clock
    reads earlier). A board without an RTC battery (no CAP_RTC_KEPT_TIME) comes back at 2000-01-01:
    not trusted."""
    return (has(clock, CAP_RTC_KEPT_TIME) and clock.kept_time()) or clock.time() >= BUILD_TIME


class Terminal:
    def __init__(self, board, params=None):
        # The host session's frame buffer first, into a collected heap before anything is strewn
        # through it: a run of 2 KB, which a heap fragmented by the screens' and records' garbage
        # may no longer have when the first card comes (a terminal without a security module never
        # goes online: none).
        self._frame = None
        if board.security is not None:
            if _MANAGED_HEAP:
                gc.collect()
            self._frame = bytearray(FRAME_BYTES)
        # The signature screen's bitmap (3,840 bytes) too: a sale's garbage leaves no run that
        # long by the time it is signed (bench/README.md). Cleared for each signature.
        self.sig_bitmap = None  # type: bytearray | None
        self.sig_contexts = None  # type: bytearray | None
        self.sig_image = None  # type: bytearray | None
        if board.security is not None:
            self.sig_bitmap = bytearray(SIG_BITMAP_BYTES)
            # The image's encoder's context states and output (1 KB each) too: the sale stopped
            # there, a 1 KB allocation with 16 KB free in runs of under 1 KB (bench/README.md).
            self.sig_contexts = bytearray(SIG_CONTEXT_BYTES)
            self.sig_image = bytearray(SIG_IMAGE_BYTES)
        # The batch journal's frame buffer too (1 KB), for the same reason (firmware/batch.py).
        self._journal_buf = bytearray(BUF_BYTES)
        self.board = board
        self.keypad = board.keypad
        self.display = board.display
        self.card_reader = board.card_reader
        self.signature_pad = board.signature_pad
        self.pin_entry = board.pin_entry  # None on a board without one; owns the keypad while active
        self.clock = board.clock
        self.link = board.link
        self.storage = board.storage
        self.system = board.system  # may be None: no watchdog, reset or boot count
        self.fault = None  # catalog key of a condition that blocks transactions
        # "Type module:line" of the last failure run() contained, or of a flow that did not load
        # (never its text).
        self.last_crash = None
        self.failures = 0  # loop passes in a row that failed (run() backs off while > 0)
        self.event_failures = 0  # event log writes that failed since boot (log_event)
        # Failed devices, each named by its Board slot's catalog key ("dev_" + the slot, e.g.
        # "dev_card_reader") -> ticks when it is polled again (it raised HalError).
        self.device_faults = {}
        self._booted_ok = False  # run() had a healthy pass: the system device was told
        self.uptime = Uptime(self.storage, self.clock)  # forward-only seconds (the lockout's time)
        self.params = params if params is not None else self._load_params()
        self.counters = self._load_counters()
        self.check_keys()
        # The operator signed in (an id of firmware/operators.py), None while nobody is: sales then
        # carry DEFAULT_OPERATOR unless the operator_required parameter asks for a sign-in first.
        self.operator = None
        self.passwords_damaged = False  # the password table or the device key cannot be trusted
        self.admin_ok = False  # the administrator's password was given since the last idle screen
        self._check_passwords()
        apply_stored(self)  # the touch screen's stored calibration, on a pad that takes one
        wifi.apply_stored(self)  # the Wi-Fi network chosen in the service menu, on a Wi-Fi link
        self.journal = self._load_journal()
        self._counters_past_journal()
        # A settlement started and not finished (firmware/settle.py): continued before anything
        # else, and no sale, void or refund meanwhile.
        self.settling = self._settling()
        self.clock_valid = clock_trusted(self.clock)  # False: transactions refused until the time is set
        self._session = None  # the host session, made at the first online transaction
        self._at_idle = False  # back at the idle screen: the next step drops the service menu
        self.screen = None
        self._dirty = True
        now = self.clock.ticks_ms()
        self._last_input = now
        self._last_second = now
        self.go(self._first_screen())

    def _load_journal(self):
        """The transaction, reversal and sign-in records, settled after a cut (journal.recover), or
        None (and a fault) when they cannot be trusted: no online transaction then."""
        try:
            journal = Journal(self.storage, self._journal_buf)
            journal.recover()
            return journal
        except StoredDataCorrupt:
            self.fault = self.fault or "storage_corrupt"
        except OSError:
            self.fault = self.fault or "storage_failed"
        return None

    def _counters_past_journal(self):
        """The counters never behind the batch journal's last (batch, trace) (one source of truth
        for the next trace: the counters; the journal only moves them forward)."""
        if self.counters is None or self.journal is None or self.journal.batch.last is None:
            return
        batch, trace = self.journal.batch.last
        try:
            self.counters.skip_past(batch, trace)
        except OSError:
            self.fault = self.fault or "storage_failed"

    def _settling(self):
        if self.journal is None:
            return False
        for _ in self.storage.names("settle."):  # its module is loaded only when its record exists
            try:
                return self.flow("firmware.settle").unfinished(self.storage)
            except FlowUnavailable:
                return True
        return False

    def _first_screen(self):
        """The idle screen, or the last transaction's result when it was recorded but a power cut
        came before anyone saw it; before both, an unfinished settlement's question."""
        if self.settling:
            try:
                return self.flow("firmware.ui.settle").ResumeScreen(self)
            except FlowUnavailable:
                return IdleScreen(self)
        last = self.journal.needs_showing() if self.journal is not None else None
        if last is None:
            return IdleScreen(self)
        try:
            sale = self.flow("firmware.ui.sale")
        except FlowUnavailable:  # the record stays unseen: shown at a boot that can load it
            return IdleScreen(self)
        result = sale.ResultScreen.of_record(self, last, again=True)
        try:  # a cut while the cardholder signed: asked to sign again, then the result
            return self.flow("firmware.ui.esign").sign_again(self, last, result) or result
        except FlowUnavailable:
            return result

    def flow(self, name):
        """The module `name` of a flow (the sale, the service menu and its items), imported at its first use.
        FlowUnavailable (a message, never a traceback) when it cannot be loaded: its .mpy missing
        or made for another MicroPython, no heap left for it; where it failed goes into last_crash."""
        module = sys.modules.get(name)
        if module is not None:
            return module
        for flow, names in DROPPED_BEFORE:
            if flow == name:
                for dropped in names:
                    _unload(dropped)
        if name == FREES_SIG_BUFFERS:
            self.sig_buffers(False)
        if _MANAGED_HEAP:
            gc.collect()  # its objects go into a heap without the garbage of what came before
        try:
            __import__(name)
            return sys.modules[name]
        except Exception as exc:  # noqa: BLE001 - ImportError, MemoryError, ValueError (a bad .mpy) ...
            self.last_crash = crash_site(exc)
            _unload(name)  # nothing half-run stays behind
            raise FlowUnavailable()

    def drop(self, names):
        """Forget the modules `names` (a flow that needs them no more), then collect: their objects
        go, and the next import loads them again."""
        for name in names:
            _unload(name)
        if _MANAGED_HEAP:
            gc.collect()

    def sig_buffers(self, keep):
        """The signature's buffers (its bitmap, the encoder's context states and output: 5.8 KB)
        let go (keep False: settlement's index and uploads need the heap, and it never signs), or
        made again (at idle, after a collection) when they were; a heap too fragmented for them
        leaves them None, and the signature then allocates its own. None on a terminal without a
        security module, which never signs."""
        if not keep:
            self.sig_bitmap = self.sig_contexts = self.sig_image = None
            return
        if self.board.security is None or self.sig_image is not None:
            return
        try:
            self.sig_bitmap = bytearray(SIG_BITMAP_BYTES)
            self.sig_contexts = bytearray(SIG_CONTEXT_BYTES)
            self.sig_image = bytearray(SIG_IMAGE_BYTES)
        except MemoryError:
            self.sig_bitmap = self.sig_contexts = self.sig_image = None

    def scratch(self):
        """The host session's frame buffer (2,050 bytes) for a screen's own work while no exchange
        is under way: the signature's points (firmware/ui/esign.py), kept only while the
        cardholder signs, before the upload's exchange. The next exchange overwrites it (and wipes
        its request). None on a terminal without a security module (it never goes online)."""
        return self._frame

    def host_session(self):
        """The one host session, on the frame buffer allocated at boot."""
        if self._session is None:
            Session = self.flow("firmware.host.session").Session
            self._session = Session(
                self.link, self.clock, self.board.security, self.params.mac_algorithm, self._frame
            )
        self._session.mac_algorithm = self.params.mac_algorithm
        return self._session

    def back_at_idle(self):
        """The idle screen was entered: the next step, once the last flow's frames are gone, drops
        the service menu's modules (DROPPED_AT_IDLE) and collects that flow's garbage. The keys are
        looked at again (a master key loaded in the service menu clears their fault)."""
        self._at_idle = True
        self.admin_ok = False
        if self.fault is None or self.fault == "keys_damaged":
            self.check_keys()

    def check_keys(self):
        """A key the security module reports damaged (a truncated TMK file, the TMK lost while
        working keys remain, working keys that no longer check) is a fault like damaged storage:
        on the idle screen at once and transactions refused, until Load master key (service menu)
        puts a new TMK in, which drops the working keys too. Cleared when the module is sound."""
        security = self.board.security
        if security is None:
            return
        try:
            security.tmk_check_value()
            security.key_set()
        except HalError:
            self.fault = self.fault or "keys_damaged"
            return
        if self.fault == "keys_damaged":
            self.fault = None
            self._dirty = True

    def _check_passwords(self):
        """A damaged password table or device key is a stored-data fault ("pwd_damaged"); a
        factory-new terminal gets its table (the factory passwords, their change forced). A board
        without a security module keeps no passwords (it never goes online)."""
        if self.board.security is None:
            return
        try:
            fault = self.flow("firmware.operators").boot_fault(self)
        except FlowUnavailable:
            fault = None
        if fault:
            self.passwords_damaged = True
            self.fault = self.fault or fault

    def operator_id(self):
        """The operator of the next transaction: the one signed in, else "01" (a one-person
        terminal sells without a sign-in)."""
        return self.operator or "01"

    def _tidy_at_idle(self):
        self._at_idle = False
        if type(self.screen) is not IdleScreen:
            return  # left the idle screen already (a key in the same step): the flow goes on
        for name in DROPPED_AT_IDLE:
            _unload(name)
        if _MANAGED_HEAP:
            gc.collect()
        self.sig_buffers(True)

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
        self.log_event("counters_recovered")

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
        self.log_event("clock_set")
        self.redraw()

    def log_event(self, code, detail=""):
        """An entry in the event log (firmware/events.py, loaded at the first event, dropped back
        at idle): never raises for a failing storage, so it never stands in the way of a
        transaction. A write that failed is counted in event_failures."""
        try:
            events = self.flow("firmware.events")
            written = events.log(self, code, detail)
        except FlowUnavailable:
            written = False
        if not written:
            self.event_failures += 1
        return written

    def device_failed(self, slot):
        """A device raised HalError: a device fault, not a bug. slot: "dev_" + its Board slot (the
        catalog key the idle screen names it by). A polled device is left alone a while, then retried."""
        if slot not in self.device_faults:
            self._dirty = True
        self.device_faults[slot] = ticks_add(self.clock.ticks_ms(), _RETRY_DEVICE_MS)

    def device_fault(self):
        """The "dev_<slot>" key of a failed device to report (the first by name), or None."""
        if not self.device_faults:  # the idle screen asks every second: no list when all is well
            return None
        slots = sorted(self.device_faults)
        return slots[0] if slots else None

    def use(self, slot, method, *args):
        """Call a device's method; a HalError marks slot ("dev_<slot>") failed and gives None."""
        try:
            result = method(*args)
        except HalError:
            self.device_failed(slot)
            return None
        self.device_ok(slot)
        return result

    def device_ok(self, slot):
        """A device of slot ("dev_<slot>") answered: no longer failed."""
        if slot in self.device_faults:
            del self.device_faults[slot]
            self._dirty = True

    def _poll_device(self, slot, device):
        """device.poll(), unless the slot failed and its retry time has not come. (The hot path:
        called inline, not through use(), so a pass allocates no bound method on MicroPython.)"""
        faults = self.device_faults
        if slot in faults:
            if ticks_diff(faults[slot], self.clock.ticks_ms()) > 0:
                return None
            try:
                result = device.poll()
            except HalError:
                self.device_failed(slot)
                return None
            del faults[slot]
            self._dirty = True
            return result
        try:
            return device.poll()
        except HalError:
            self.device_failed(slot)
            return None

    def go(self, screen):
        """Make screen the current one (leaving the old one first) and redraw. A screen that never
        times out (authorising: a refund resent waits twice the host timeout) hands over with the
        idle time starting again: its result is not dismissed at once."""
        if self.screen is not None:
            if not self.screen.times_out:
                self._last_input = self.clock.ticks_ms()
            self.screen.leave()
        self.screen = screen
        screen.enter()
        self._dirty = True

    def go_idle(self):
        self.go(IdleScreen(self))

    def redraw(self):
        self._dirty = True

    def restart_idle_timer(self):
        """The idle timeout counts from now: a screen that ended without input (the signing screen's
        own timeout, an upload) hands the next one (the result) its whole idle_timeout_s."""
        self._last_input = self.clock.ticks_ms()

    def step(self):
        """One pass over keypad, card reader, signature pad and timers; True if anything happened.
        Domain failures become a message screen; any other exception is a bug and propagates
        (run() contains it)."""
        if self._at_idle:
            self._tidy_at_idle()
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
        key = self._poll_device("dev_keypad", self.keypad)
        if key is not None:
            busy = True
            self._last_input = now
            if not self.screen.on_key(key) and has(self.keypad, CAP_BEEP):
                self.use("dev_keypad", self.keypad.beep)
        event = self._poll_device("dev_card_reader", self.card_reader)
        if event is not None:
            busy = True
            self._last_input = now
            self.screen.on_card(event)
        signature = self._poll_device("dev_signature_pad", self.signature_pad)
        if signature is not None:
            busy = True
            self._last_input = now
            self.screen.on_signature(signature)
        pin_entry = self.pin_entry
        if pin_entry is not None and pin_entry.active():
            pin = self._poll_device("dev_pin_entry", pin_entry)
            if pin is not None:
                busy = True
                self._last_input = now
                self.screen.on_pin(pin)
        if self.screen.tick():  # a screen with work of its own (the host session) advances it
            busy = True
            self._dirty = True
        if ticks_diff(now, self._last_second) >= _SECOND_MS:
            self._last_second = now
            self.uptime.tick()
            screen = self.screen
            if screen.on_second():
                self._dirty = True
            if self.screen is not screen:  # the timer moved on (a signing timeout): the next screen's work
                busy = True
            idle_ms = ticks_diff(now, self._last_input)
            if self.screen.times_out and idle_ms >= self.params.idle_timeout_s * 1000:
                self.go_idle()
                busy = True
        return busy

    def _render(self):
        # The screen is drawn whole on a cleared display; the display sends only what changed
        # (the ILI9341: the changed pixel rows, a row holding the same text costs nothing).
        d = self.display
        rows, cols = d.size()
        d.clear()
        self.screen.render(d, rows, cols)
        try:
            d.show()
        except HalError:
            self.device_failed("dev_display")
            raise  # run() backs off: nothing else can be shown
        if "dev_display" in self.device_faults:
            del self.device_faults["dev_display"]
        self._dirty = False

    def settle(self, limit=1000):
        """step() until nothing happens (at most limit times); the number of busy steps."""
        n = 0
        while n < limit and self.step():
            n += 1
        return n

    def run(self):
        """The device's main loop: never returns. Starts the watchdog if the board has one."""
        if has(self.system, SYS_WATCHDOG):
            self.use("dev_system", self.system.start_watchdog, WATCHDOG_MS)
        while True:
            self.run_once()

    def run_once(self):
        """One pass of run(): a step, then the wait. A failure (a bug, or a device that raised
        through a screen) is recorded by type and place, an error screen replaces the current one,
        and the wait grows while failures repeat. The watchdog is fed only after a healthy pass,
        and the first healthy pass marks the boot good (the board's boot count restarts at 0)."""
        try:
            busy = self.step()
        except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback on screen
            self.failures += 1
            self.last_crash = crash_site(exc)
            self._recover()
            delay = _BACKOFF_MIN_MS
            for _ in range(1, self.failures):
                delay *= 2
                if delay >= _BACKOFF_MAX_MS:
                    delay = _BACKOFF_MAX_MS
                    break
            self.clock.sleep_ms(delay)
            return
        self.failures = 0
        self._mark_booted_ok()
        if has(self.system, SYS_WATCHDOG):
            self.use("dev_system", self.system.feed)
        if not busy:
            self.clock.sleep_ms(_IDLE_SLEEP_MS)

    def _mark_booted_ok(self):
        if not self._booted_ok:
            self._booted_ok = True
            if has(self.system, SYS_BOOT_COUNT):
                self.use("dev_system", self.system.mark_booted_ok)

    def _recover(self):
        """Put the error screen up and draw it; never raises. A screen whose leave() fails is
        dropped unleft; a display that fails stays for the next pass (after the back-off)."""
        try:
            self.go(MessageScreen(self, "error", [self.t("error")], IdleScreen(self)))
        except Exception:  # noqa: BLE001 - leave() of the broken screen failed
            self.screen = None
            try:
                self.go(MessageScreen(self, "error", [self.t("error")], IdleScreen(self)))
            except Exception:  # noqa: BLE001 - nothing more can be done here; the next pass retries
                return
        try:
            self._render()
        except Exception:  # noqa: BLE001 - the display is failing: run() backs off
            pass
