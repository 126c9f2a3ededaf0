# The HAL conformance checks against the virtual devices, plus the details only the virtual devices promise.
# Portable: plain test functions with assert, run by pytest and by the MicroPython runner alike.
import os

from hal.contracts import (
    CARD_SWIPE,
    TICKS_PERIOD,
    Board,
    CardEvent,
    LinkError,
    text_cells,
    ticks_add,
    ticks_diff,
)
from hal.port import PortClock, VfsStorage
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
)
from virtual.storage import RamStorage


def test_keypad():
    conformance.check_keypad(VirtualKeypad)
    keypad = VirtualKeypad()
    keypad.beep()
    keypad.beep(200)
    assert keypad.beeps == 2
    raises(TypeError, keypad.press, 1)


def test_display():
    conformance.check_display(VirtualDisplay)
    conformance.check_display(lambda: VirtualDisplay(rows=4, cols=7, width=61, height=20))


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
    conformance.check_card_reader(VirtualCardReader)
    reader = VirtualCardReader()
    raises(ValueError, reader.arm, ("swipe", "tapp"))
    raises(TypeError, reader.present, "6217002430012345675=3112")
    reader.arm((CARD_SWIPE,))
    assert reader.armed_modes() == (CARD_SWIPE,)


def test_signature_pad():
    conformance.check_signature_pad(VirtualSignaturePad)
    pad = VirtualSignaturePad()
    pad.start(0, 0, 10, 10)
    raises(ValueError, pad.draw, [[]])
    raises(ValueError, pad.draw, [[(1, 1)], [(0, -1)]])
    assert pad.poll() is None  # a bad draw queues nothing
    pad.draw([[(1, 1)]])
    pad.start(0, 0, 10, 10)  # a new capture starts empty
    assert pad.poll() is None


def test_clock():
    conformance.check_clock(VirtualClock)
    conformance.check_clock(lambda: VirtualClock(kept_time=False))
    assert VirtualClock().kept_time() is True and VirtualClock(kept_time=False).kept_time() is False


class _FakeRTC:
    """machine.RTC's datetime() setter: records what PortClock writes."""

    def __init__(self):
        self.set = []

    def datetime(self, value):
        self.set.append(value)


def test_port_clock_kept_time_is_the_boards_battery_rtc():
    assert PortClock().kept_time() is False  # no RTC: the time is in RAM only
    assert PortClock(rtc=_FakeRTC()).kept_time() is False  # an RTC without a battery
    clock = PortClock(rtc=_FakeRTC(), rtc_battery=True)  # this runtime's clock reads a set time
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
    conformance.check_storage(RamStorage)
    conformance.check_storage(lambda: RamStorage(capacity=100))


def test_ram_storage_counts_syncs_and_refuses_text():
    store = RamStorage()
    store.sync()
    store.sync()
    assert store.syncs == 2
    raises(TypeError, store.write, "a", "text")
    raises(TypeError, store.append, "a", 12)
    assert store.list() == []


def test_ram_storage_tear_lands_every_strict_prefix_and_is_seeded():
    lengths = []
    for seed in range(200):
        store = RamStorage(seed=seed)
        store.write("j", b"0123456789")
        store.power_cut(tear=True)
        lengths.append(store.size("j"))
    assert sorted(set(lengths)) == list(range(1, 10))

    def tears(seed):
        store = RamStorage(seed=seed)
        out = []
        for _ in range(20):
            store.write("j", b"x" * 50)
            store.power_cut(tear=True)
            out.append(store.size("j"))
        return out

    assert tears(7) == tears(7)
    assert tears(7) != tears(8)


def test_ram_storage_tear_of_an_append_lands_on_the_durable_content():
    store = RamStorage(seed=3)
    store.write("j", b"head|")
    store.sync()
    store.append("j", b"rec1|")  # lost: only the last operation can land
    store.append("j", b"rec2|")
    store.power_cut(tear=True)
    data = store.read("j")
    assert data.startswith(b"head|r") and b"head|rec2|".startswith(data) and data != b"head|rec2|"
    store.power_cut()  # what landed is durable now
    assert store.read("j") == data


def test_ram_storage_tear_of_a_never_synced_write_creates_the_file():
    store = RamStorage(seed=1)
    store.write("new", b"abcdef")
    store.power_cut(tear=True)
    assert store.list() == ["new"] and b"abcdef".startswith(store.read("new"))
    assert 0 < store.size("new") < 6


def test_ram_storage_power_cut_gives_back_the_space():
    store = RamStorage(capacity=10)
    store.write("a", b"12345")
    store.sync()
    store.append("a", b"67890")
    assert store.free() == 0
    store.power_cut()
    assert store.free() == 5


def test_link():
    conformance.check_link(lambda: LoopbackLink(EchoHost()))


def test_loopback_link_splits_replies_and_reports_a_dropped_host():
    class DroppingHost:
        def handle(self, data):
            if data == b"bye":
                raise LinkError("host closed")
            return b"reply to " + data

    link = LoopbackLink(DroppingHost())
    link.connect(1000)
    link.send(b"q")
    assert [link.recv(4, 0) for _ in range(4)] == [b"repl", b"y to", b" q", b""]
    raises(LinkError, link.send, b"bye")
    raises(LinkError, link.recv, 4, 0)  # the host's drop closed the stream
    raises(ValueError, link.recv, 0, 0)
    raises(LinkError, LoopbackLink().connect, 1000)  # no host
    assert LoopbackLink(EchoHost(), online=False).online() is False


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
