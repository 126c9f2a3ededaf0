# The HAL conformance checks against the virtual devices, plus the details only the virtual devices promise.
# Portable: plain test functions with assert, run by pytest and by the MicroPython runner alike.
import errno
import os
import sys

from hal.console import NoLink
from hal.contracts import (
    CAP_CALIBRATE,
    CAP_PEN,
    CAP_RTC_KEPT_TIME,
    CARD_INSERT,
    CARD_SCAN,
    CARD_SWIPE,
    CARD_TAP,
    ENOENT,
    ENOSPC,
    SIG_PEN_UP,
    SIG_POINT,
    SYS_RESET,
    SYS_WATCHDOG,
    TICKS_PERIOD,
    Board,
    CardEvent,
    HalError,
    LinkError,
    declared,
    has,
    text_cells,
    ticks_add,
    ticks_diff,
)
from hal.port import PortClock, PortSystem, VfsStorage, port_error
from tests.portable import conformance
from tests.portable.conformance import raises
from tests.portable.fakes import EchoHost, FakeSigner, make_board
from virtual.devices import (
    LoopbackLink,
    VirtualCardReader,
    VirtualClock,
    VirtualDisplay,
    VirtualKeypad,
    VirtualSignaturePad,
    VirtualSystem,
)
from virtual.storage import (
    TEAR_ALL,
    TEAR_ALL_BUT_ONE,
    TEAR_HALF,
    TEAR_MODES,
    TEAR_NONE,
    TEAR_ONE_BYTE,
    PowerCut,
    RamStorage,
)


def _beeps(keypad):
    return keypad.beeps


def _pixel(display, x, y):
    return display.pixel(x, y)


def _present(reader, event):
    return reader.present(event)


def test_keypad():
    conformance.check_keypad(VirtualKeypad, virtual=True, beeps=_beeps)
    keypad = VirtualKeypad()
    keypad.beep()
    keypad.beep(200)
    assert keypad.beeps == 2
    raises(TypeError, keypad.press, 1)


def test_display():
    conformance.check_display(VirtualDisplay, virtual=True, pixel=_pixel)
    conformance.check_display(lambda: VirtualDisplay(rows=4, cols=7, width=61, height=20), True, _pixel)


def test_display_snapshot_marks_highlighted_rows_outside_the_box():
    display = VirtualDisplay(rows=3, cols=12)
    display.text(0, "QianPOS")
    display.text(1, "1 \u6d88\u8d39 Sale", inverse=True)  # 1 消费 Sale
    display.show()
    assert display.snapshot() == "\n".join(
        [
            " +------------+",
            " |QianPOS     |",
            ">|1 \u6d88\u8d39 Sale |",  # 11 cells
            " |            |",
            " +------------+",
        ]
    )
    assert display.shows == 1


def test_cells_counts_cjk_hangul_and_fullwidth_as_two():
    assert text_cells("") == 0
    assert text_cells("Sale 12.34") == 10
    assert text_cells("\u00a5") == 1  # ¥ is narrow
    assert text_cells("\uffe5") == 2  # ￥ fullwidth yen
    assert text_cells("\u6d88\u8d39") == 4  # 消费
    assert text_cells("\ud55c") == 2  # 한
    assert text_cells("\uff21\uff71") == 3  # Ａ fullwidth, ｱ halfwidth katakana
    assert text_cells("\u3002") == 2  # 。 ideographic full stop


def test_card_reader():
    conformance.check_card_reader(VirtualCardReader, _present)
    for modes in ((CARD_SCAN,), (CARD_INSERT, CARD_TAP), ()):
        conformance.check_card_reader(lambda modes=modes: VirtualCardReader(modes), _present)
    reader = VirtualCardReader()
    raises(ValueError, reader.arm, ("swipe", "tapp"))
    raises(ValueError, VirtualCardReader, ("tapp",))
    raises(TypeError, reader.present, "6217002430012345675=3112")
    reader.arm((CARD_SWIPE,))
    assert reader.armed_modes() == (CARD_SWIPE,)
    reader.disarm()
    assert reader.armed_modes() == ()
    chip = VirtualCardReader((CARD_TAP, CARD_INSERT))
    assert chip.capabilities == (CARD_INSERT, CARD_TAP) and sorted(chip.lacks) == [CARD_SCAN, CARD_SWIPE]
    raises(ValueError, chip.arm, (CARD_SWIPE,))
    chip.fail = HalError("reader gone")
    raises(HalError, chip.poll)
    raises(HalError, chip.arm, (CARD_TAP,))


def test_signature_pad():
    conformance.check_signature_pad(VirtualSignaturePad, virtual=True)
    pad = VirtualSignaturePad()
    pad.start(0, 0, 10, 10)
    raises(ValueError, pad.draw, [[]])
    raises(ValueError, pad.draw, [[(1, 1)], [(0, -1)]])
    assert pad.poll() is None  # a bad draw queues nothing
    pad.draw([[(2, 3), (4, 5), (6, 7)]])
    assert pad.poll() == (SIG_POINT, (2, 3))  # the pen went down: a screen can echo the ink now
    assert pad.poll() == (SIG_POINT, (4, 5))
    assert pad.poll() == (SIG_POINT, (6, 7)) and pad.poll() == (SIG_PEN_UP, None) and pad.poll() is None
    pad.draw([[(1, 1)]])
    pad.start(0, 0, 10, 10)  # a new capture starts empty
    assert pad.poll() is None


def test_clock():
    conformance.check_clock(VirtualClock, virtual=True)
    conformance.check_clock(lambda: VirtualClock(kept_time=False), virtual=True)
    conformance.check_clock(lambda: VirtualClock(rtc_battery=False), virtual=True)
    assert VirtualClock().kept_time() is True and VirtualClock(kept_time=False).kept_time() is False
    no_battery = VirtualClock(rtc_battery=False)
    assert not has(no_battery, CAP_RTC_KEPT_TIME) and CAP_RTC_KEPT_TIME in no_battery.lacks
    raises(NotImplementedError, no_battery.kept_time)


class _FakeRTC:
    """machine.RTC's datetime() setter: records what PortClock writes."""

    def __init__(self):
        self.set = []

    def datetime(self, value):
        self.set.append(value)


def test_port_clock_kept_time_is_the_boards_battery_rtc():
    for clock in (PortClock(), PortClock(rtc=_FakeRTC())):  # no RTC; an RTC without a battery
        assert not has(clock, CAP_RTC_KEPT_TIME) and declared(clock) == []
        raises(NotImplementedError, clock.kept_time)  # the time is not kept: never asked
    clock = PortClock(rtc=_FakeRTC(), rtc_battery=True)  # this runtime's clock reads a set time
    assert has(clock, CAP_RTC_KEPT_TIME) and declared(clock) == []
    assert clock.kept_time() is True
    clock.set_time(1800000000)
    assert clock.rtc.set == [(2027, 1, 15, 4, 8, 0, 0, 0)] and clock.kept_time() is True

    class ResetRTCClock(PortClock):
        def time(self):
            return 946684800 + 5  # the RTC restarted at 2000-01-01: it was never set

    assert ResetRTCClock(rtc=_FakeRTC(), rtc_battery=True).kept_time() is False


def test_virtual_clock_is_exact():
    clock = VirtualClock(time=1000)
    assert clock.time() == 1000 and clock.ticks_ms() == 0
    clock.sleep_ms(999)
    assert clock.time() == 1000 and clock.ticks_ms() == 999
    clock.sleep_ms(1)
    assert clock.time() == 1001
    clock.set_time(5000)
    assert clock.time() == 5000 and clock.ticks_ms() == 1000
    clock.advance(1.5)
    assert clock.time() == 5001 and clock.ticks_ms() == 2500
    clock.sleep_ms(500)
    assert clock.time() == 5002
    raises(ValueError, clock.sleep_ms, -1)
    raises(ValueError, clock.advance, -1)


def test_virtual_clock_ticks_wrap():
    clock = VirtualClock()
    clock.advance(TICKS_PERIOD // 1000)  # 1073741 s: 824 ms before the wrap
    before = clock.ticks_ms()
    assert before == TICKS_PERIOD - 824
    clock.sleep_ms(1000)
    after = clock.ticks_ms()
    assert after == 176
    assert ticks_diff(after, before) == 1000 and ticks_diff(before, after) == -1000


def test_ticks_helpers_across_the_wrap():
    assert ticks_add(TICKS_PERIOD - 1, 1) == 0
    assert ticks_add(0, -1) == TICKS_PERIOD - 1
    assert ticks_diff(5, TICKS_PERIOD - 5) == 10
    assert ticks_diff(TICKS_PERIOD - 5, 5) == -10
    assert ticks_diff(ticks_add(123, TICKS_PERIOD // 2 - 1), 123) == TICKS_PERIOD // 2 - 1


def test_storage():
    conformance.check_storage(RamStorage, virtual=True)
    conformance.check_storage(lambda: RamStorage(capacity=100), virtual=True)


def test_ram_storage_counts_syncs_and_refuses_text():
    store = RamStorage()
    store.sync()
    store.sync()
    assert store.syncs == 2
    raises(TypeError, store.write, "a", "text")
    raises(TypeError, store.append, "a", 12)
    assert store.list() == []


def test_a_torn_append_lands_after_what_the_append_saw_never_at_offset_0():
    # The old model landed a torn append on the durable content: a never-synced journal came back
    # as the torn bytes alone, at offset 0, as if they were its first record.
    store = RamStorage()
    store.write("j", b"head|")
    store.append("j", b"rec1|")
    store.cut_at(1, TEAR_HALF)
    raises(PowerCut, store.append, "j", b"rec2|")
    store.power_on()
    assert store.read("j") == b"head|rec1|re"
    store.power_cut()  # what landed is durable
    store.power_on()
    assert store.read("j") == b"head|rec1|re"


def test_any_operation_can_be_cut_not_only_the_last():
    # The old model could tear only the last operation before power_cut().
    for n, want in ((1, b"A"), (2, b"AAB"), (3, b"AABBC")):
        store = RamStorage()
        store.cut_at(n, TEAR_ALL_BUT_ONE)
        raises(PowerCut, _append_three, store)
        store.power_on()
        assert store.read("j") == want and store.ops == n


def _append_three(store):
    for chunk in (b"AA", b"BB", b"CC"):
        store.append("j", chunk)


def test_power_cut_escapes_the_firmwares_except_exception():
    store = RamStorage()
    store.power_cut()
    try:
        store.read("params.json")
    except Exception:  # noqa: BLE001 - what firmware code catches
        raise AssertionError("PowerCut caught as an Exception")
    except PowerCut:
        pass
    assert TEAR_MODES == (TEAR_NONE, TEAR_ONE_BYTE, TEAR_HALF, TEAR_ALL_BUT_ONE, TEAR_ALL)


def test_ram_storage_power_cut_gives_back_the_space():
    store = RamStorage(capacity=10)
    store.write("a", b"12345")
    store.sync()
    store.append("a", b"67890")
    assert store.free() == 0
    store.power_cut()
    store.power_on()
    assert store.free() == 5


def test_link():
    conformance.check_link(lambda: LoopbackLink(EchoHost()), ("10.0.0.1", 5000), virtual=True)
    conformance.check_link(lambda: LoopbackLink(EchoHost(), polls_to_open=3), ("10.0.0.1", 5000))


def test_loopback_link_splits_replies_and_reports_a_dropped_host():
    class DroppingHost:
        def handle(self, data):
            if data == b"bye":
                raise LinkError("host closed")
            return b"reply to " + data

    link = LoopbackLink(DroppingHost())
    link.open("10.0.0.2", 8583)
    assert link.endpoint == ("10.0.0.2", 8583)  # the caller's endpoint, kept as given
    assert link.poll_open() is True
    link.send(b"q")
    assert [link.recv(4) for _ in range(4)] == [b"repl", b"y to", b" q", b""]
    raises(LinkError, link.send, b"bye")
    raises(LinkError, link.recv, 4)  # the host's drop closed the stream
    raises(ValueError, link.recv, 0)
    refused = LoopbackLink()  # no host: every connection is refused, when polled
    refused.open("10.0.0.2", 8583)
    raises(LinkError, refused.poll_open)
    assert LoopbackLink(EchoHost(), online=False).online() is False
    raises(LinkError, LoopbackLink(EchoHost(), online=False).open, "10.0.0.2", 8583)


def test_loopback_link_reports_the_network_dropping():
    link = LoopbackLink(EchoHost())
    link.open("10.0.0.1", 1)
    assert link.poll_open() is True
    link.attached = False  # the network drops while the stream is open
    assert link.online() is False
    raises(LinkError, link.send, b"x")
    raises(LinkError, link.open, "10.0.0.1", 1)
    link.attached = True
    link.open("10.0.0.1", 1)
    link.attached = False  # ... or while connecting
    raises(LinkError, link.poll_open)


def test_loopback_link_that_never_connects_answers_every_poll_at_once():
    link = LoopbackLink(EchoHost(), polls_to_open=None)
    link.open("10.0.0.1", 1)
    assert [link.poll_open() for _ in range(1000)] == [None] * 1000
    raises(LinkError, link.send, b"x")
    link.close()  # the caller gives up when its own timeout passes
    raises(LinkError, link.poll_open)


def test_no_link_never_connects():
    link = NoLink()
    assert link.online() is False
    assert declared(link) == []
    raises(LinkError, link.open, "10.0.0.1", 1)
    raises(LinkError, link.poll_open)
    raises(LinkError, link.send, b"x")
    raises(LinkError, link.flush)
    raises(LinkError, link.recv, 1)
    link.close()


class FakeMachine:
    """The parts of a port's machine module PortSystem uses, recording what it was asked."""

    def __init__(self):
        self.wdt = None
        self.resets = 0

    def WDT(self, timeout):  # noqa: N802 - machine.WDT's name
        self.wdt = FakeWDT(timeout)
        return self.wdt

    def reset(self):
        self.resets += 1


class FakeWDT:
    def __init__(self, timeout):
        self.timeout = timeout
        self.feeds = 0

    def feed(self):
        self.feeds += 1


def _seen_by_machine(system):
    machine = system.machine
    wdt = machine.wdt
    reset = 1 if machine.resets else None  # PortSystem waits the delay, then machine.reset()
    return (None if wdt is None else wdt.timeout, 0 if wdt is None else wdt.feeds, reset)


def test_system():
    conformance.check_system(VirtualSystem, lambda s: (s.watchdog_ms, s.feeds, s.reset_ms))
    conformance.check_system(lambda: PortSystem(FakeMachine()), _seen_by_machine)
    conformance.check_system(PortSystem, _seen_by_machine)  # no machine module: declares it all lacked
    assert PortSystem().capabilities == ()
    assert sorted(PortSystem(FakeMachine()).capabilities) == [SYS_RESET, SYS_WATCHDOG]
    raises(HalError, PortSystem().start_watchdog, 1000)
    raises(HalError, PortSystem().reset_after, 0)


def test_virtual_system_counts_failed_boots_across_restarts():
    system = VirtualSystem()
    assert system.boot_count() == 0
    system.restart()  # this boot never reached mark_booted_ok()
    system.restart()
    assert system.boot_count() == 2
    system.mark_booted_ok()
    system.restart()
    assert system.boot_count() == 0
    raises(ValueError, system.start_watchdog, 0)
    raises(ValueError, system.reset_after, -1)


def test_fake_signer():
    conformance.check_signer(FakeSigner)
    assert FakeSigner(b"a").public_key() != FakeSigner(b"b").public_key()


def test_fake_board():
    board = make_board()
    assert isinstance(board, Board)
    assert isinstance(board.keypad, VirtualKeypad) and isinstance(board.display, VirtualDisplay)
    assert isinstance(board.card_reader, VirtualCardReader)
    assert isinstance(board.signature_pad, VirtualSignaturePad)
    assert isinstance(board.storage, RamStorage) and isinstance(board.clock, VirtualClock)
    assert isinstance(board.link, LoopbackLink) and isinstance(board.signer, FakeSigner)
    assert isinstance(board.system, VirtualSystem)
    storage = RamStorage(capacity=64)
    assert make_board(storage=storage).storage is storage
    raises(TypeError, lambda: make_board(printer=None))
    board.card_reader.arm()
    assert board.card_reader.present(CardEvent(CARD_SWIPE, "6217002430012345675=3112", "CUP"))


def _empty_dir(root):
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        os.remove(root + "/" + name)
    os.rmdir(root)


def _new_temp_dir():
    """A new empty directory of its own: tempfile's on CPython (the host's temporary directory, a
    fresh name each run); MicroPython has no tempfile, so the first free name under its VFS's /tmp."""
    try:
        from tempfile import mkdtemp
    except ImportError:  # MicroPython
        pass
    else:
        return mkdtemp(prefix="qianpos-vfs-")
    for i in range(1000):
        root = "/tmp/qianpos-vfs-{}".format(i)
        try:
            os.mkdir(root)  # fails if the name is taken: the directory is ours alone
            return root
        except OSError:
            pass
    raise OSError("no free temporary directory name")


def test_port_devices():
    """hal.port's devices on whichever runtime runs this (the port's VFS: a real file system)."""
    conformance.check_clock(PortClock)
    root = _new_temp_dir()
    try:
        conformance.check_storage(lambda: VfsStorage(root))
    finally:
        _empty_dir(root)


def test_port_error_gives_the_contract_errno_whatever_the_port_numbers():
    for platform in ("rp2", "esp32", "linux"):  # littlefs, FAT and POSIX hosts: POSIX numbers
        assert port_error(OSError(28), platform).args == (ENOSPC, "storage full")
        for number in (2, 5, 44, 51):
            exc = OSError(number, "x")
            assert port_error(exc, platform) is exc
    wasm = "webassembly"  # the Emscripten file system: the host's numbers
    assert port_error(OSError(51), wasm).args == (ENOSPC, "storage full")
    assert port_error(OSError(44, "x"), wasm).args == (ENOENT, "x")
    assert port_error(OSError(28), wasm).args[0] == errno.EINVAL  # not "no space"
    assert port_error(OSError(2), wasm).args[0] == errno.EACCES  # not "no such file"
    exc = OSError(29)
    assert port_error(exc, wasm) is exc


def test_vfs_storage_reports_a_full_file_system_as_enospc():
    """/dev/full refuses every write with the port's "no space" errno: 28 on Linux; the MicroPython
    runner (tests/upy/run.mjs) gives the Emscripten file system one that raises its own 51."""
    if sys.platform not in ("linux", "webassembly"):
        return  # no /dev/full here; the translation itself is tested above
    store = VfsStorage("/dev")
    assert "full" in os.listdir("/dev")
    assert raises(OSError, store.write, "full", b"record").args[0] == ENOSPC
    assert raises(OSError, store.append, "full", b"record").args[0] == ENOSPC


# ---- the capability declarations, and checks that fail on a device that only pretends ----------
class _Pad(VirtualSignaturePad):
    pass


def test_declared_names_every_fault_of_a_declaration():
    pad = _Pad()
    assert declared(pad) == [] and has(pad, CAP_PEN) and not has(None, CAP_PEN)
    pad.capabilities = ()
    assert declared(pad) == ["_Pad: declare 'pen' as had or lacked (not both, not neither)"]
    pad.capabilities = (CAP_PEN,)
    pad.lacks = {CAP_PEN: "both", CAP_CALIBRATE: "no touch controller"}
    assert declared(pad) == ["_Pad: declare 'pen' as had or lacked (not both, not neither)"]
    pad.capabilities = ()
    pad.lacks = {CAP_PEN: "", CAP_CALIBRATE: "no touch controller"}  # a lack needs its reason
    assert declared(pad) == ["_Pad: lacks 'pen' without a reason or outside its contract"]
    pad.capabilities = (CAP_PEN, "pressure")
    pad.lacks = {"tilt": "no", CAP_CALIBRATE: "no touch controller"}
    assert declared(pad) == [
        "_Pad: 'pressure' is not a capability of its contract",
        "_Pad: lacks 'tilt' without a reason or outside its contract",
    ]


class _NoOpBlitDisplay(VirtualDisplay):
    """Declares blit and does nothing: what ConsoleDisplay used to be."""

    def blit(self, bitmap, x, y, width, height):
        pass


class _SilentKeypad(VirtualKeypad):
    """Declares beep and never sounds."""

    def beep(self, ms=60):
        pass


def test_the_checks_fail_a_device_that_declares_what_it_does_not_do():
    raises(AssertionError, conformance.check_display, _NoOpBlitDisplay, True, _pixel)
    raises(AssertionError, conformance.check_keypad, _SilentKeypad, True, _beeps)
    # A declared capability the caller gives no way to observe is a failure, never a skip.
    for check, make in (
        (conformance.check_display, VirtualDisplay),
        (conformance.check_keypad, VirtualKeypad),
        (conformance.check_card_reader, VirtualCardReader),
    ):
        assert "needs a way to observe" in str(raises(AssertionError, check, make))
    unobserved = raises(AssertionError, conformance.check_signature_pad, VirtualSignaturePad)
    assert "signer's hand" in str(unobserved)
    undeclared = _Pad()
    undeclared.capabilities = ()
    raises(AssertionError, conformance.check_signature_pad, lambda: undeclared)
