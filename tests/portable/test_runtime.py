# Faults at run time: a display that keeps failing, a dead card reader, a screen whose leave()
# raises, the watchdog fed only while healthy, crash records without message text, a link that
# never connects. Time is a VirtualClock: sleeps are counted, never waited.
from firmware.card import parse_track2
from firmware.compat import crash_site, printed_site
from firmware.params import Params
from firmware.terminal import GC_EVERY, WATCHDOG_MS, Terminal, manage_heap
from firmware.ui.widgets import Screen
from hal.contracts import CARD_SWIPE, KEY_CANCEL, KEY_ENTER, CardEvent, HalError, LinkError, ticks_diff
from tests.portable.fakes import EchoHost, make_board
from virtual.devices import (
    LoopbackLink,
    VirtualCardReader,
    VirtualClock,
    VirtualDisplay,
    VirtualKeypad,
    VirtualSystem,
)

DEBIT = "6222021234567890128"  # a test PAN that passes Luhn


class CountingClock(VirtualClock):
    """A VirtualClock that keeps every sleep_ms() it was asked for."""

    def __init__(self):
        super().__init__()
        self.sleeps = []

    def sleep_ms(self, ms):
        self.sleeps.append(ms)
        super().sleep_ms(ms)


class DeadDisplay(VirtualDisplay):
    """A panel whose every show() fails (a cable off): HalError, as a driver reports it."""

    def __init__(self):
        super().__init__()
        self.attempts = 0
        self.dead = True

    def show(self):
        self.attempts += 1
        if self.dead:
            raise HalError("panel not answering")
        super().show()


class DeadReader(VirtualCardReader):
    """A card reader that no longer answers until revived."""

    def __init__(self):
        super().__init__()
        self.dead = True

    def _check(self):
        if self.dead:
            raise HalError("reader not answering")

    def arm(self, modes=None):
        self._check()
        super().arm() if modes is None else super().arm(modes)

    def disarm(self):
        self._check()
        super().disarm()

    def poll(self):
        self._check()
        return super().poll()


def boot(**devices):
    if "clock" not in devices:
        devices["clock"] = CountingClock()
    board = make_board(**devices)
    params = Params.load(board.storage)
    params.language = "en"
    params.save(board.storage)
    return board, Terminal(board)


def screen(board):
    return "\n".join(board.display.lines())


def test_a_show_that_keeps_failing_backs_off_and_starves_the_watchdog():
    board, term = boot(display=DeadDisplay())
    term.system.start_watchdog(WATCHDOG_MS)
    for _ in range(12):
        term.run_once()
    # Each failed pass waits: 20 ms doubling, bounded at 2 s. Never a pass without a sleep.
    assert board.clock.sleeps == [20, 40, 80, 160, 320, 640, 1280, 2000, 2000, 2000, 2000, 2000]
    assert term.failures == 12
    assert term.system.feeds == 0  # never fed: the board's watchdog resets it
    assert term.system.booted_ok is False  # and that boot counts as failed
    assert term.device_faults and term.device_fault() == "dev_display"
    assert term.last_crash.startswith("HalError ")
    assert "panel" not in term.last_crash


def test_the_loop_recovers_from_a_display_that_comes_back():
    display = DeadDisplay()
    board, term = boot(display=display)
    term.run_once()
    term.run_once()
    display.dead = False  # the panel answers again
    term.run_once()
    assert term.failures == 0
    assert term.device_fault() is None
    assert "Operation failed" in screen(board)  # what went wrong is said once it can be
    sleeps = len(board.clock.sleeps)
    term.run_once()
    assert board.clock.sleeps[sleeps:] == [20]  # back to the idle wait


def test_a_healthy_loop_feeds_the_watchdog_and_marks_the_boot_good():
    system = VirtualSystem(failed_boots=2)
    board, term = boot(system=system)

    class Stop(BaseException):
        pass

    class StoppingClock(CountingClock):
        def sleep_ms(self, ms):
            super().sleep_ms(ms)
            if len(self.sleeps) == 5:
                raise Stop()

    term.clock = StoppingClock()
    try:
        term.run()
    except Stop:
        pass
    assert system.watchdog_ms == WATCHDOG_MS
    assert system.feeds == 5
    assert system.boot_count() == 0 and system.booted_ok


def test_a_board_without_a_system_device_still_runs():
    board, term = boot(system=None)
    term.run_once()
    term.run_once()
    assert term.failures == 0 and board.clock.sleeps == [20, 20]


def test_a_dead_card_reader_is_a_device_fault_and_the_menu_still_works():
    reader = DeadReader()
    board, term = boot(card_reader=reader)
    term.settle()
    assert term.device_fault() == "dev_card_reader"
    assert "Card reader fault" in screen(board)
    board.keypad.press(KEY_ENTER)
    term.settle()
    assert "1 Sale" in screen(board)  # the menu works
    board.keypad.press("1", "5", KEY_ENTER)
    term.settle()
    assert "Card reader fault" in screen(board)  # the card screen says why no card is taken
    board.keypad.press(KEY_CANCEL)
    term.settle()
    assert "Main menu" in screen(board)
    assert term.failures == 0 and term.last_crash is None  # a device fault, not a bug
    # The reader is tried again after a while: once it answers, the fault is gone.
    reader.dead = False
    board.clock.advance(3)
    board.keypad.press(KEY_CANCEL)
    term.settle()
    assert term.device_fault() is None
    assert "fault" not in screen(board)


def test_a_dead_reader_is_not_polled_on_every_step():
    class CountingDeadReader(DeadReader):
        polls = 0

        def poll(self):
            self.polls += 1
            return super().poll()

    reader = CountingDeadReader()
    board, term = boot(card_reader=reader)
    for _ in range(50):
        term.step()
        board.clock.advance(0.01)  # 0.5 s in all: within the retry interval
    assert reader.polls == 1


def test_the_recovery_path_survives_a_screen_whose_leave_raises():
    board, term = boot()

    class Broken(Screen):
        def on_key(self, key):
            raise ValueError("bug while handling a key")

        def leave(self):
            raise ValueError("bug while leaving")

        def render(self, d, rows, cols):
            d.text(0, "broken")

    term.go(Broken(term))
    board.keypad.press("1")
    term.run_once()  # must not raise
    assert term.failures == 1
    assert "Operation failed" in screen(board)
    board.keypad.press("1")
    term.run_once()
    assert term.failures == 0 and "Batch" in screen(board)  # any key: back to idle


def test_a_crash_record_keeps_type_and_place_never_the_message():
    board, term = boot()

    class Leaky(Screen):
        def on_key(self, key):
            raise ValueError("track " + DEBIT + "=3112220")

        def render(self, d, rows, cols):
            pass

    term.go(Leaky(term))
    board.keypad.press("1")
    term.run_once()
    record = term.last_crash
    assert record.startswith("ValueError tests.portable.test_runtime:"), record
    line = record.rsplit(":", 1)[1]
    assert line.isdigit() and int(line) > 0
    assert DEBIT not in record and "track" not in record


def test_crash_site_on_this_runtime():
    try:
        raise KeyError("6222021234567890128")
    except KeyError as exc:
        site = crash_site(exc)
    assert site.startswith("KeyError tests.portable.test_runtime:")
    assert "6222" not in site


def test_printed_site_reads_frame_lines_only():
    text = (
        "Traceback (most recent call last):\n"
        '  File "main.py", line 7, in <module>\n'
        '  File "firmware/ui/idle.py", line 120, in on_key\n'
        "ValueError: 6222021234567890128\n"
        '  File "forged.py", line 99, in x\n'
    )
    assert printed_site(text) == "firmware.ui.idle:120"
    assert printed_site('Traceback (most recent call last):\n  File "x.mpy", line 0\nE\n') == "x:0"
    assert printed_site("ValueError: 1\n") == "?:0"
    assert printed_site("") == "?:0"


# ---- A link never blocks the event loop -----------------------------------------------------
class ConnectScreen(Screen):
    """What an online screen does with a Link: start, poll each pass, give up on its own timeout
    measured by the Clock. (firmware/online.py's exchange follows the same pattern.)"""

    times_out = False

    def __init__(self, term, timeout_ms):
        super().__init__(term)
        self.timeout_ms = timeout_ms
        self.state = "connecting"

    def enter(self):
        self.started = self.term.clock.ticks_ms()
        self.term.link.open("10.0.0.1", 5000)

    def on_key(self, key):
        if key == KEY_CANCEL:
            self.term.link.close()
            self.state = "cancelled"
            self.term.redraw()
            return True
        return False

    def on_second(self):
        if self.state != "connecting":
            return False
        try:
            if self.term.link.poll_open():
                self.state = "open"
                return True
        except LinkError:
            self.state = "failed"
            return True
        if ticks_diff(self.term.clock.ticks_ms(), self.started) >= self.timeout_ms:
            self.term.link.close()
            self.state = "timed out"
            return True
        return False

    def render(self, d, rows, cols):
        d.text(0, self.state)


class TickingKeypad(VirtualKeypad):
    """Notes the clock at every poll: a step that blocked would show time passing inside it."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.seen = []

    def poll(self):
        self.seen.append(self.clock.ticks_ms())
        return super().poll()


def test_a_link_that_never_connects_never_blocks_the_event_loop():
    clock = CountingClock()
    keypad = TickingKeypad(clock)
    link = LoopbackLink(EchoHost(), polls_to_open=None)  # the connection hangs forever
    board = make_board(clock=clock, keypad=keypad, link=link)
    term = Terminal(board)
    term.go(ConnectScreen(term, 30000))
    for _ in range(400):  # 40 s of event loop, 100 ms between passes
        before = clock.ticks_ms()
        term.step()
        assert clock.ticks_ms() == before  # the step itself took no (virtual) time
        clock.advance(0.1)
    assert term.screen.state == "timed out"  # the screen's own timeout, by the Clock
    assert clock.sleeps == []  # nothing inside the firmware waited
    assert len(keypad.seen) == 400  # the keypad was polled on every pass while connecting


def test_keys_work_while_a_link_is_connecting():
    clock = CountingClock()
    link = LoopbackLink(EchoHost(), polls_to_open=None)
    board = make_board(clock=clock, link=link)
    term = Terminal(board)
    term.go(ConnectScreen(term, 30000))
    clock.advance(2)
    term.step()
    board.keypad.press(KEY_CANCEL)
    term.step()
    assert term.screen.state == "cancelled"
    assert board.display.lines()[0] == "cancelled"


def test_a_refused_connection_is_reported_on_the_next_poll():
    board = make_board(clock=CountingClock(), link=LoopbackLink(None))  # no host: refused
    term = Terminal(board)
    term.go(ConnectScreen(term, 30000))
    board.clock.advance(1.5)
    term.step()
    assert term.screen.state == "failed"


# ---- Track 2 is kept only until it is handed over -------------------------------------------
def test_take_track2_hands_it_over_once():
    card = parse_track2(";" + DEBIT + "=31122201234567890?7")
    assert card.take_track2() == DEBIT + "=31122201234567890"
    assert card.take_track2() is None
    assert card.masked_pan == "622202*********0128"  # the masked number stays


def _card_screen(board, term):
    board.keypad.press(KEY_ENTER, "1", "5", KEY_ENTER)
    term.settle()
    return term.screen


def test_the_card_screen_drops_the_track_when_it_leaves():
    board, term = boot()
    term.settle()
    card_screen = _card_screen(board, term)
    board.card_reader.present(CardEvent(CARD_SWIPE, DEBIT + "=3112101", "CUP"))
    term.settle()
    assert term.screen is not card_screen  # read: on to the next screen
    assert card_screen.card is not None
    assert card_screen.card.take_track2() is None  # gone once the card screen left


def test_a_chip_card_swiped_keeps_its_track_only_until_cancel_or_the_next_read():
    board, term = boot()
    term.settle()
    card_screen = _card_screen(board, term)
    board.card_reader.present(CardEvent(CARD_SWIPE, DEBIT + "=3112220", "CUP"))  # chip: insert it
    term.settle()
    assert term.screen is card_screen
    first = card_screen.card
    board.card_reader.present(CardEvent(CARD_SWIPE, DEBIT + "=3112220", "CUP"))
    term.settle()
    assert first.take_track2() is None  # the earlier read is dropped when a new one comes
    board.keypad.press(KEY_CANCEL)
    term.settle()
    assert card_screen.card.take_track2() is None


def test_a_system_device_that_fails_is_a_device_fault_not_a_crash():
    class BrokenSystem(VirtualSystem):
        def start_watchdog(self, timeout_ms):
            raise HalError("watchdog peripheral busy")

        def feed(self):
            raise HalError("watchdog peripheral busy")

    class Stop(BaseException):
        pass

    class StoppingClock(CountingClock):
        def sleep_ms(self, ms):
            super().sleep_ms(ms)
            if len(self.sleeps) == 3:
                raise Stop()

    board, term = boot(system=BrokenSystem(), clock=StoppingClock())
    try:
        term.run()
    except Stop:
        pass
    assert term.failures == 0 and term.last_crash is None
    assert term.device_fault() == "dev_system"
    assert "Watchdog fault" in screen(board)


def test_on_micropython_the_heap_is_collected_every_few_kilobytes():
    import gc

    if not hasattr(gc, "threshold"):  # CPython: its own collector, nothing to set
        return
    before = gc.threshold()
    try:
        gc.threshold(-1)
        manage_heap()
        assert gc.threshold() == GC_EVERY
    finally:
        gc.threshold(before)  # the rest of the tier runs as it did
