# Conformance checks, one per HAL contract, run against every implementation we ship (portable).
# Each check takes a factory of fresh devices, checks its capability declaration (declared() == []),
# checks every declared capability by observing its effect, and checks that a lacked one is not half
# there. What needs outside hands (a key press, a card, the pen, a pixel read back) comes from the
# caller: `virtual=True` for the virtual devices' test hooks, or an observer function. A device that
# declares a capability its caller gives no way to observe fails: nothing is skipped by hasattr.
import hashlib

from hal.contracts import (
    CAP_BEEP,
    CAP_BLIT,
    CAP_CALIBRATE,
    CAP_PEN,
    CAP_PIXELS,
    CAP_RTC_KEPT_TIME,
    CARD_INSERT,
    CARD_MODES,
    CARD_SCAN,
    CARD_SWIPE,
    CARD_TAP,
    DIGITS,
    ENOENT,
    ENOSPC,
    KEYS,
    SIG_CLEAR,
    SIG_CONFIRM,
    SIG_PEN_UP,
    SIG_POINT,
    SIG_RAW,
    SYS_BOOT_COUNT,
    SYS_RESET,
    SYS_WATCHDOG,
    TICKS_PERIOD,
    CardEvent,
    LinkError,
    declared,
    has,
    ticks_add,
    ticks_diff,
)
from virtual.storage import (
    TEAR_ALL,
    TEAR_ALL_BUT_ONE,
    TEAR_HALF,
    TEAR_NONE,
    TEAR_ONE_BYTE,
    PowerCut,
)

BAD_NAMES = ("", "A.log", "x/y", "../x", "a" * 33, "caf\u00e9", "a b", None, b"abc")


def raises(exc_type, fn, *args):
    """Call fn(*args), assert it raises exc_type, and return the exception."""
    try:
        fn(*args)
    except exc_type as e:
        return e
    raise AssertionError("{} did not raise {}".format(fn, exc_type.__name__))


def check_declaration(device):
    """The device declares every capability of its contract as had or lacked with a reason."""
    assert declared(device) == [], declared(device)


def _observer(device, capability, observer):
    """The observer the check of a declared capability needs; fails if the caller has none."""
    assert observer is not None, "{} declares {!r}: its check needs a way to observe it".format(
        type(device).__name__, capability
    )
    return observer


def check_keypad(make, virtual=False, beeps=None):
    """virtual: press() queues keys. beeps(keypad): how many beeps were sounded so far (needed when
    the keypad declares CAP_BEEP: a beep is checked by hearing it)."""
    keypad = make()
    check_declaration(keypad)
    assert keypad.poll() is None
    assert keypad.poll() is None
    if has(keypad, CAP_BEEP):
        count = _observer(keypad, CAP_BEEP, beeps)
        n = count(keypad)
        keypad.beep()
        keypad.beep(10)
        assert count(keypad) == n + 2
    else:
        raises(NotImplementedError, keypad.beep)
    if virtual:
        keys = list(DIGITS) + list(KEYS) + ["F1"]  # an unknown code passes through
        keypad.press(*keys)
        assert [keypad.poll() for _ in keys] == keys
        assert keypad.poll() is None


def check_display(make, virtual=False, pixel=None, sent=None):
    """virtual: lines() and inverse() read the shown text back. pixel(display, x, y): the shown
    pixel, 0 or 1, IndexError outside the panel (needed when the display declares CAP_PIXELS or
    CAP_BLIT: VirtualDisplay.pixel, or a recording panel under a real driver). sent(display): the
    bytes it has sent to its panel so far, for a display that sends only what changed (a driver
    over a bus): a screen drawn again after clear() sends nothing, one changed row a little."""
    display = make()
    check_declaration(display)
    rows, cols = display.size()
    assert rows > 1 and cols > 2
    display.clear()
    display.text(0, "QianPOS")
    display.text(1, "\u6d88\u8d39", inverse=True)  # 消费: four cells
    display.text(rows - 1, "x" * (cols + 5))
    display.text(rows, "below the screen")  # out of range rows are ignored
    display.text(-1, "above the screen")
    display.show()
    if virtual:
        _check_display_text(display, rows, cols)
    if has(display, CAP_PIXELS):
        read = _observer(display, CAP_PIXELS, pixel)
        width, height = display.pixels()
        assert width > 8 and height > 8
        display.clear()
        display.show()
        assert read(display, 0, 0) == 0 and read(display, width - 1, height - 1) == 0
        raises(IndexError, read, display, width, 0)
        raises(IndexError, read, display, 0, height)
    else:
        raises(NotImplementedError, display.pixels)
    if has(display, CAP_BLIT):
        assert has(display, CAP_PIXELS), "blit() addresses pixels: CAP_BLIT needs CAP_PIXELS"
        _check_display_pixels(display, width, height, _observer(display, CAP_BLIT, pixel))
        _check_display_redraw_pixels(display, _observer(display, CAP_BLIT, pixel))
    else:
        raises(NotImplementedError, display.blit, b"\xff" * 8, 0, 0, 8, 8)
    if sent is not None:
        _check_display_sends_what_changed(make(), sent)


def _screen(display, rows, mark):
    for row in range(rows):
        display.text(row, "{} {}".format(row, mark), inverse=row == 1)


def _check_display_sends_what_changed(display, sent):
    rows = display.size()[0]
    display.clear()
    _screen(display, rows, "first")
    display.show()
    before = sent(display)
    display.clear()
    _screen(display, rows, "second")  # every row changes
    display.show()
    full = sent(display) - before
    assert full > 0
    before = sent(display)
    display.clear()
    _screen(display, rows, "second")
    display.show()
    assert sent(display) == before, "the same screen drawn again sent {} bytes".format(sent(display) - before)
    display.clear()
    _screen(display, rows, "second")
    display.text(rows - 1, "changed")
    display.show()
    one = sent(display) - before
    assert 0 < one * rows <= full * 2, "one row changed sent {} bytes, a whole screen {}".format(one, full)


def _check_display_text(display, rows, cols):
    lines = display.lines()
    assert len(lines) == rows
    assert lines[0] == "QianPOS"
    assert lines[1] == "\u6d88\u8d39"
    assert lines[rows - 1] == "x" * cols
    assert lines[2 : rows - 1] == [""] * (rows - 3)
    assert display.inverse() == [1]
    display.text(0, "\u4e2d" * cols)  # 中: only cols // 2 of them fit
    display.text(1, "a" + "\u4e2d" * cols)  # the wide char that would straddle the edge is dropped
    assert display.lines()[0] == "QianPOS"  # nothing changes until show()
    display.show()
    assert display.lines()[0] == "\u4e2d" * (cols // 2)
    assert display.lines()[1] == "a" + "\u4e2d" * ((cols - 1) // 2)
    assert display.inverse() == []
    display.clear()
    display.show()
    assert display.lines() == [""] * rows and display.inverse() == []
    # Drawn again after clear(): the rows drawn show, the others are blank, whatever was kept.
    display.text(0, "A")
    display.text(1, "B", inverse=True)
    display.text(2, "C")
    display.show()
    display.clear()
    display.text(0, "A")
    display.text(1, "B")  # the same text, no longer highlighted
    display.show()
    assert display.lines()[:3] == ["A", "B", ""] and display.inverse() == []
    display.clear()
    display.text(1, "B", inverse=True)
    display.show()
    assert display.lines()[:3] == ["", "B", ""] and display.inverse() == [1]
    display.clear()
    display.show()


def _check_display_pixels(display, width, height, read):
    def px(x, y):
        return read(display, x, y)

    display.clear()
    display.blit(b"\xff" * 8, -4, -4, 8, 8)  # what is clipped must not land anywhere else
    assert px(0, 0) == 0  # nothing shows before show()
    display.show()
    assert px(0, 0) == 1 and px(3, 3) == 1 and px(4, 4) == 0
    corners = ((0, height - 1), (width - 1, 0), (width - 1, 3), (width - 1, height - 1))
    assert [px(x, y) for x, y in corners] == [0, 0, 0, 0]
    display.clear()
    display.blit(b"\xff" * 8, width - 4, height - 4, 8, 8)
    display.show()
    assert px(width - 1, height - 1) == 1 and px(width - 5, height - 5) == 0
    assert px(0, height - 3) == 0 and px(0, 0) == 0
    # 10 x 2 pixels at an unaligned x: row 0 = 1010101011, row 1 = 0000000001; zeros overwrite.
    display.blit(b"\xff" * 4, 3, 10, 10, 2)
    display.blit(b"\xaa\xc0\x00\x40", 3, 10, 10, 2)
    display.show()
    assert [px(3 + i, 10) for i in range(10)] == [1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
    assert [px(3 + i, 11) for i in range(10)] == [0] * 9 + [1]
    assert px(2, 10) == 0 and px(13, 10) == 0
    raises(ValueError, display.blit, b"\xff", 0, 0, 8, 2)  # too short for 2 rows
    display.clear()
    display.show()
    assert px(3, 10) == 0 and px(0, 0) == 0


def _check_display_redraw_pixels(display, read):
    """clear() blanks everything show() then sends, whatever an implementation leaves unsent: a
    bitmap under a text row drawn again with the same text, a bitmap beside a new one."""

    def px(x, y):
        return read(display, x, y)

    display.clear()
    display.text(0, " ")
    display.show()
    display.blit(b"\xff" * 8, 0, 0, 8, 8)  # over the text row
    display.show()
    assert px(0, 0) == 1
    display.clear()
    display.text(0, " ")  # the same text as before: the bitmap under it must still go
    display.show()
    assert px(0, 0) == 0 and px(7, 7) == 0
    display.blit(b"\xff" * 2, 0, 1, 16, 1)
    display.show()
    display.clear()
    display.blit(b"\x80", 40, 1, 1, 1)  # another bitmap on the same pixel row
    display.show()
    assert px(0, 1) == 0 and px(15, 1) == 0 and px(40, 1) == 1
    display.clear()
    display.show()
    assert px(40, 1) == 0


# One read of each card mode, as the reader hands it over.
READS = {
    CARD_SWIPE: CardEvent(CARD_SWIPE, "6217002430012345675=311222012345", "CUP"),
    CARD_INSERT: CardEvent(CARD_INSERT, "6217002430012345675D311222012345", "CUP"),
    CARD_TAP: CardEvent(CARD_TAP, "6217002430012345675D311222012345", "CUP"),
    CARD_SCAN: CardEvent(CARD_SCAN, "283612345678901234"),
}


def check_card_reader(make, present=None):
    """present(reader, event) -> bool offers a read to the reader from outside (the card: needed when
    the reader declares any mode): True if taken. Every declared mode is read; a lacked one is refused."""
    reader = make()
    check_declaration(reader)
    modes = [m for m in CARD_MODES if has(reader, m)]
    assert reader.poll() is None
    assert reader.dead_modes() == ()
    for mode in CARD_MODES:
        if mode not in modes:
            raises(ValueError, reader.arm, (mode,))  # arming what it does not read is a bug
    reader.arm(modes)
    assert reader.poll() is None
    if modes:
        _check_card_reader_reads(reader, modes, _observer(reader, modes[0], present))
    reader.disarm()
    assert reader.poll() is None


def _check_card_reader_reads(reader, modes, present):
    reads = [READS[m] for m in modes]
    for event in reads:  # a reader of several parts may hand them over in another order
        assert present(reader, event)
    got = [reader.poll() for _ in reads]
    assert sorted(got, key=lambda e: e.mode) == sorted(reads, key=lambda e: e.mode)
    assert reader.poll() is None
    for mode in modes:  # each declared mode alone: the others are not taken
        reader.arm((mode,))
        for other in modes:
            assert present(reader, READS[other]) == (other == mode), (mode, other)
        assert reader.poll() is READS[mode] and reader.poll() is None
    assert present(reader, READS[modes[-1]])  # armed for the last mode alone
    reader.disarm()  # drops the read not yet polled
    assert reader.poll() is None
    assert not present(reader, READS[modes[-1]])
    assert reader.poll() is None
    reader.arm(())  # armed for nothing: reads nothing
    assert not present(reader, READS[modes[-1]]) and reader.poll() is None


def strokes_of(events):
    """The strokes a stream of signature events draws: a list of point lists, one per pen-up."""
    strokes = []
    pen = None  # type: list | None
    for kind, data in events:
        if kind == SIG_POINT:
            if pen is None:
                pen = []
            pen.append(data)
        elif kind == SIG_PEN_UP:
            assert pen is not None, "pen up without a point"
            strokes.append(pen)
            pen = None
    assert pen is None, "a stroke without its pen-up"
    return strokes


def check_signature_pad(make, virtual=False, hand=None, polls=1):
    """virtual: draw(), confirm(), clear() and active() are the signer's hand (needed when the pad
    declares CAP_PEN). hand: for a pad over a real touch controller behind a fake, an object whose
    draw(pad, strokes), confirm(pad), clear(pad) and active(pad) are that hand; each event may then
    take up to `polls` polls (a controller is sampled once a poll, and a press shows nothing)."""
    pad = make()
    check_declaration(pad)
    assert pad.poll() is None
    if has(pad, CAP_CALIBRATE):
        _check_pad_calibration(make(), hand, polls)
    else:
        raises(NotImplementedError, pad.calibrate_begin)
        raises(NotImplementedError, pad.calibration, [(0, 0, 0, 0)] * 3)
        raises(NotImplementedError, pad.set_calibration, (1, 2, 3, 4, 5, 6))
    if not has(pad, CAP_PEN):
        raises(NotImplementedError, pad.start, 0, 120, 240, 160)
        pad.stop()
        assert pad.poll() is None
        return
    assert virtual or hand is not None, "{} declares {!r}: its check needs the signer's hand".format(
        type(pad).__name__, CAP_PEN
    )
    if hand is None:
        draw, confirm, clear, active = pad.draw, pad.confirm, pad.clear, pad.active
    else:
        draw = lambda strokes: hand.draw(pad, strokes)  # noqa: E731
        confirm = lambda: hand.confirm(pad)  # noqa: E731
        clear = lambda: hand.clear(pad)  # noqa: E731
        active = lambda: hand.active(pad)  # noqa: E731

    def event():
        for _ in range(polls):
            got = pad.poll()
            if got is not None:
                return got
        return None

    assert not draw([[(1, 1)]]) and not confirm() and not active()
    pad.start(0, 120, 240, 160)
    assert event() is None and active()
    assert draw([[(0, 0), (239, 159)], [(5, 6)]])
    assert event() == (SIG_POINT, (0, 0))  # each point as the pen moves, before the stroke ends
    assert clear() and confirm()
    events = [event() for _ in range(6)]
    assert events == [
        (SIG_POINT, (239, 159)),
        (SIG_PEN_UP, None),
        (SIG_POINT, (5, 6)),
        (SIG_PEN_UP, None),
        (SIG_CLEAR, None),
        (SIG_CONFIRM, None),
    ]
    assert event() is None
    assert strokes_of([(SIG_POINT, (0, 0))] + events[:4]) == [[(0, 0), (239, 159)], [(5, 6)]]
    raises(ValueError, draw, [[(240, 0)]])  # x is relative to the area, which is 240 wide
    assert draw([[(1, 1)]])
    pad.stop()
    assert event() is None  # stop() dropped the points not yet polled
    assert not active() and not draw([[(1, 1)]])
    pad.start(0, 0, 10, 10)
    assert event() is None  # a new capture starts empty


def _check_pad_calibration(pad, hand, polls):
    """hand.tap(pad, x, y): a tap at display pixel (x, y) as the panel really lies under the plates,
    whatever calibration the pad has now."""
    assert hand is not None, "{} declares {!r}: its check needs the signer's hand".format(
        type(pad).__name__, CAP_CALIBRATE
    )

    def event():
        for _ in range(polls):
            got = pad.poll()
            if got is not None:
                return got
        return None

    pad.calibrate_begin()
    samples = []
    for x, y in ((20, 30), (220, 160), (120, 300)):
        hand.tap(pad, x, y)
        kind, raw = event()
        assert kind == SIG_RAW and type(raw[0]) is int and type(raw[1]) is int
        samples.append((raw[0], raw[1], x, y))
    assert event() is None
    cal = pad.calibration(samples)
    assert type(cal) is tuple and [v for v in cal if type(v) is not int] == []
    raises(ValueError, pad.calibration, [samples[0], samples[0], samples[1]])  # on one line
    pad.set_calibration(list(cal))  # as a stored record gives it back
    raises(ValueError, pad.set_calibration, "nonsense")
    pad.stop()
    pad.start(0, 0, 240, 320)
    for x, y in ((10, 10), (200, 250)):  # the calibration in use: taps land within a pixel
        hand.tap(pad, x, y)
        kind, point = event()
        assert kind == SIG_POINT and abs(point[0] - x) <= 1 and abs(point[1] - y) <= 1, point
        assert event() == (SIG_PEN_UP, None)
    pad.stop()


def check_storage(make, reopen=None, virtual=False):
    """make() returns an empty storage; reopen: see check_power_cut. virtual: the storage counts
    free bytes exactly and has the power-cut model (RamStorage, DirStorage)."""
    store = make()
    check_declaration(store)
    assert store.list() == []
    free = store.free()
    # A file system counts free space in blocks; the virtual storages count bytes exactly.
    exact = virtual
    for fn, args in (
        (store.read, ("nope",)),
        (store.size, ("nope",)),
        (store.remove, ("nope",)),
        (store.rename, ("nope", "other")),
    ):
        assert raises(OSError, fn, *args).errno == ENOENT
    store.write("b.bin", b"hello")
    store.write("a.log", b"")
    assert store.list() == ["a.log", "b.bin"]
    # names(): the same names one at a time, in any order, those with the prefix only
    assert sorted(store.names()) == ["a.log", "b.bin"] and list(store.names("b.")) == ["b.bin"]
    assert list(store.names("a.log")) == ["a.log"] and list(store.names("z")) == []
    assert store.read("b.bin") == b"hello" and isinstance(store.read("b.bin"), bytes)
    assert store.size("b.bin") == 5 and store.size("a.log") == 0
    _check_free(store, free - 5, exact)
    store.append("a.log", b"12")
    store.append("a.log", bytearray(b"34"))
    store.append("c", memoryview(b"x"))  # append creates
    assert store.read("a.log") == b"1234" and store.read("c") == b"x"
    store.write("b.bin", b"hi")  # write replaces
    assert store.read("b.bin") == b"hi"
    _check_free(store, free - 7, exact)
    store.rename("c", "b.bin")  # rename replaces
    assert store.list() == ["a.log", "b.bin"] and store.read("b.bin") == b"x"
    assert raises(OSError, store.read, "c").errno == ENOENT
    store.remove("a.log")
    assert store.list() == ["b.bin"]
    _check_free(store, free - 1, exact)
    store.sync()
    assert store.read("b.bin") == b"x"
    _check_storage_names(store)
    _check_read_into(store)
    if exact and store.free() <= 1 << 20:  # the test needs the bytes in RAM
        _check_storage_full(store)
    if virtual:
        check_power_cut(make, reopen)


def _check_free(store, expected, exact):
    """free() is exact on a storage of its own; on a real file system others write and delete at the
    same time (other processes share /tmp), so only its type and sign can be checked there."""
    got = store.free()
    assert type(got) is int and got >= 0
    if exact:
        assert got == expected, (got, expected)


def _check_storage_names(store):
    for bad in BAD_NAMES:
        raises(ValueError, store.read, bad)
        raises(ValueError, store.write, bad, b"x")
        raises(ValueError, store.append, bad, b"x")
        raises(ValueError, store.size, bad)
        raises(ValueError, store.remove, bad)
        raises(ValueError, store.rename, "b.bin", bad)
        raises(ValueError, store.rename, bad, "b.bin")
    longest = "z" * 32
    store.write(longest, b"")
    store.write("0._-", b"")
    assert store.list() == ["0._-", "b.bin", longest]
    store.remove(longest)
    store.remove("0._-")


def read_whole(store, name, size=3):
    """The file read through read_into() in pieces of `size` bytes, as the journal reads."""
    buf = bytearray(size)
    out = b""
    offset = 0
    while True:
        n = store.read_into(name, offset, buf)
        assert type(n) is int and 0 <= n <= size, n
        if n == 0:
            return out
        out += bytes(buf[:n])
        offset += n


def _check_read_into(store):
    store.write("r.bin", b"0123456789")
    buf = bytearray(4)
    assert store.read_into("r.bin", 0, buf) == 4 and buf == b"0123"
    assert store.read_into("r.bin", 8, buf) == 2 and buf == b"8923"  # the rest of buf untouched
    assert store.read_into("r.bin", 10, buf) == 0 and store.read_into("r.bin", 99, buf) == 0
    view = memoryview(buf)
    assert store.read_into("r.bin", 3, view[1:3]) == 2 and buf == b"8343"
    assert store.read_into("r.bin", 0, bytearray(0)) == 0
    big = bytearray(16)
    assert store.read_into("r.bin", 1, big) == 9 and bytes(big[:9]) == b"123456789"
    store.append("r.bin", b"ab")  # sees what the last append added
    assert read_whole(store, "r.bin") == store.read("r.bin") == b"0123456789ab"
    store.write("r.bin", b"")
    assert store.read_into("r.bin", 0, buf) == 0 and read_whole(store, "r.bin") == b""
    assert raises(OSError, store.read_into, "nope", 0, buf).errno == ENOENT
    for offset in (-1, True, 1.0, "0", None):
        raises(ValueError, store.read_into, "r.bin", offset, buf)
    for bad in BAD_NAMES:
        raises(ValueError, store.read_into, bad, 0, buf)
    store.remove("r.bin")
    assert raises(OSError, store.read_into, "r.bin", 0, buf).errno == ENOENT


def _check_storage_full(store):
    free = store.free()
    assert raises(OSError, store.write, "big", bytes(free + 1)).errno == ENOSPC
    assert raises(OSError, store.append, "b.bin", bytes(free + 1)).errno == ENOSPC
    assert store.list() == ["b.bin"] and store.read("b.bin") == b"x" and store.free() == free
    store.write("big", bytes(free))
    assert store.free() == 0
    store.write("big", bytes(free - 1))  # replacing counts the old content as freed
    store.append("big", b"!")
    assert store.free() == 0
    store.remove("big")
    assert store.free() == free


def check_power_cut(make, reopen=None):
    """The power-cut model of virtual.storage.RamStorage (docs/HAL.md) on fresh storages from make().
    reopen(store), if given, starts a new storage on the same durable layer (DirStorage: the
    directory): after every cut it must see exactly what the powered-on store sees."""
    assert issubclass(PowerCut, BaseException) and not issubclass(PowerCut, Exception)
    _check_sync_model(make, reopen)
    _check_counting(make())
    _check_dead_until_power_on(make(), reopen)
    _check_cut_at_arming(make(), reopen)
    _check_tears(make, reopen)
    _check_record_sequence(make, reopen)


def files(store):
    """Every file of a storage with its content: {name: bytes}. Each file read through read_into()
    too must give the same bytes: a torn write shows in both alike."""
    got = {name: store.read(name) for name in store.list()}
    for name in got:
        assert read_whole(store, name) == got[name], name
    return got


def _power_on(store, reopen):
    """The storage is dead after a cut; power it on and, with reopen, check the durable layer."""
    raises(PowerCut, store.list)
    store.power_on()
    if reopen is not None:
        assert files(reopen(store)) == files(store)
    return files(store)


def _cut(store, reopen, n, tear, flow, *args):
    """Arm a cut at operation n of `store` with tear, run flow(*args), which must be cut; power on
    again and return the files."""
    store.cut_at(n, tear)
    raises(PowerCut, flow, *args)
    return _power_on(store, reopen)


def _check_sync_model(make, reopen):
    store = make()
    store.write("kept", b"old")
    store.sync()
    store.write("kept", b"new")
    store.append("kept", b"er")
    store.write("fresh", b"never synced")
    store.power_cut()
    assert _power_on(store, reopen) == {"kept": b"old"}

    store.write("gone", b"1")
    store.write("moved", b"2")
    store.sync()
    store.remove("gone")  # remove and rename are durable at once
    store.rename("moved", "target")
    store.power_cut()
    assert _power_on(store, reopen) == {"kept": b"old", "target": b"2"}

    store.write("target", b"unsynced")
    store.rename("target", "t2")  # the synced content moves; the unsynced stays unsynced
    store.power_cut()
    assert _power_on(store, reopen) == {"kept": b"old", "t2": b"2"}

    store.write("tmp", b"never synced")
    store.rename("tmp", "t2")  # t2 now names a file with no durable content
    store.power_cut()
    assert _power_on(store, reopen) == {"kept": b"old"}

    store.write("a", b"1")
    store.append("kept", b"+")
    store.power_cut(TEAR_ALL)  # everything written lands
    assert _power_on(store, reopen) == {"a": b"1", "kept": b"old+"}
    for tear in (TEAR_ONE_BYTE, TEAR_HALF, TEAR_ALL_BUT_ONE, True, "torn"):
        raises(ValueError, store.power_cut, tear)  # no write in flight to tear: cut_at does that
    store.remove("a")
    assert files(store) == {"kept": b"old+"}  # the refused power_cut did not cut
    assert store.free() == make().free() - 4


def _check_counting(store):
    assert store.ops == 0
    store.write("a", b"x")
    store.append("a", b"y")
    store.sync()
    store.rename("a", "b")
    store.remove("b")
    assert store.ops == 5
    store.write("c", b"1")
    store.read("c")
    store.list()
    store.size("c")
    store.free()
    assert store.ops == 6  # reads, list, size and free are not operations
    raises(OSError, store.remove, "nope")  # a failed operation counts: it reached the file system
    raises(OSError, store.rename, "nope", "x")
    assert raises(OSError, store.write, "big", bytes(store.free() + 1)).errno == ENOSPC
    assert store.ops == 9
    raises(ValueError, store.write, "BAD", b"x")  # bad arguments never reach it: not counted
    raises(ValueError, store.rename, "c", "a/b")
    raises(ValueError, store.remove, "")
    assert store.ops == 9


def _firmware_flow(store):
    """What firmware code may do around a storage call: catch Exception, write in a finally."""
    try:
        store.write("first", b"1")
    except Exception:  # noqa: BLE001 - the firmware's widest catch; PowerCut must pass it
        pass
    finally:
        store.write("cleanup", b"2")


def _check_dead_until_power_on(store, reopen):
    store.write("f", b"synced")
    store.sync()
    ops = store.ops
    store.power_cut()
    calls = (
        (store.read, ("f",)),
        (store.read_into, ("f", 0, bytearray(1))),
        (store.write, ("f", b"x")),
        (store.append, ("f", b"x")),
        (store.sync, ()),
        (store.rename, ("f", "g")),
        (store.remove, ("f",)),
        (store.list, ()),
        (store.size, ("f",)),
        (store.free, ()),
    )
    for fn, args in calls:
        raises(PowerCut, fn, *args)
    raises(PowerCut, _firmware_flow, store)
    assert store.ops == ops  # nothing reached the storage
    assert _power_on(store, reopen) == {"f": b"synced"}
    store.power_on()  # powering on a powered storage changes nothing
    # A cut in the flow: except Exception lets PowerCut through, the finally's write cannot land.
    assert _cut(store, reopen, 1, TEAR_ALL, _firmware_flow, store) == {"f": b"synced", "first": b"1"}


def _write_n(store, n):
    for i in range(n):
        store.write("w{}".format(i), b"x")


def _check_cut_at_arming(store, reopen):
    for bad in (0, -1, True, 1.0, "1"):
        raises(ValueError, store.cut_at, bad)
    for tear in ("torn", True, None, 2):
        raises(ValueError, store.cut_at, 1, tear)
    store.write("a", b"1")
    store.sync()
    store.cut_at(2)  # counted from here: the two operations before do not count
    store.read("a")  # reads are not operations
    store.list()
    store.write("b", b"2")
    raises(PowerCut, store.write, "c", b"3")
    assert store.ops == 4
    assert _power_on(store, reopen) == {"a": b"1"}
    _write_n(store, 3)  # the cut fired once: it is disarmed
    store.cut_at(1)
    store.cut_at(None)  # disarmed
    _write_n(store, 3)
    store.cut_at(1)
    store.cut_at(3)  # a later cut_at replaces the earlier
    _write_n(store, 2)
    raises(PowerCut, store.sync)
    assert _power_on(store, reopen) == {"a": b"1"}
    store.cut_at(2)
    store.power_cut()  # an armed cut stays armed across power_cut and power_on
    store.power_on()
    raises(PowerCut, _write_n, store, 2)
    assert store.ops == 15 and _power_on(store, reopen) == {"a": b"1"}


# What lands of the write/append in flight, for each tear: the first 1, len // 2, len - 1 or all of
# its bytes; TEAR_ALL also lands every other unsynced byte.
_TEARS = ((TEAR_NONE, None), (TEAR_ONE_BYTE, 1), (TEAR_HALF, 2), (TEAR_ALL_BUT_ONE, 3), (TEAR_ALL, 4))


def _check_tears(make, reopen):
    for tear, k in _TEARS:
        lands_all = tear == TEAR_ALL
        store = make()
        store.write("log", b"AB")
        store.write("other", b"o1")
        store.sync()
        store.append("log", b"cd")  # unsynced: lands with the torn append after it, never dropped
        store.write("other", b"o2")  # unsynced, another file: lands only with TEAR_ALL
        got = _cut(store, reopen, 1, tear, store.append, "log", b"EFGH")
        want_log = b"AB" if k is None else b"ABcd" + b"EFGH"[:k]
        assert got == {"log": want_log, "other": b"o2" if lands_all else b"o1"}, tear

        got = _cut(store, reopen, 1, tear, store.write, "log", b"WXYZ")  # write replaces
        assert got == {
            "log": want_log if k is None else b"WXYZ"[:k],
            "other": b"o2" if lands_all else b"o1",
        }, tear
        store.remove("log")
        got = _cut(store, reopen, 1, tear, store.append, "new", b"abcd")  # append creates
        assert got.get("new") == (None if k is None else b"abcd"[:k]), tear
        store.write("one", b"Z")
        store.sync()
        got = _cut(store, reopen, 1, tear, store.write, "one", b"Q")  # 1 byte: 1, 0, 0, 1
        assert got["one"] == {None: b"Z", 1: b"Q", 2: b"", 3: b"", 4: b"Q"}[k], tear

        for op in ("sync", "rename", "remove", "full"):  # nothing of the operation itself lands
            store = make()
            store.write("keep", b"k")
            store.sync()
            store.write("unsynced", b"u")
            if op == "full":
                got = _cut(store, reopen, 1, tear, store.write, "big", bytes(store.free() + 1))
            elif op == "sync":
                got = _cut(store, reopen, 1, tear, store.sync)
            elif op == "rename":
                got = _cut(store, reopen, 1, tear, store.rename, "keep", "moved")
            else:
                got = _cut(store, reopen, 1, tear, store.remove, "keep")
            assert got == ({"keep": b"k", "unsynced": b"u"} if lands_all else {"keep": b"k"}), (tear, op)


def _replace_record(store, data):
    """How firmware/store.py replaces a record: write a temporary file, sync, rename, sync."""
    store.write("rec.tmp", data)
    store.sync()
    store.rename("rec.tmp", "rec")
    store.sync()


def _check_record_sequence(make, reopen):
    new = b"new-record"
    for tear, k in _TEARS:
        for n in (1, 2, 3, 4, 5):
            store = make()
            store.write("rec", b"old")
            store.sync()
            store.cut_at(n, tear)
            if n == 5:  # past the last operation: not reached, still armed until disarmed
                _replace_record(store, new)
                assert store.ops == 6 and files(store) == {"rec": new}
                store.cut_at(None)
                store.sync()
                continue
            got = _cut(store, reopen, n, tear, _replace_record, store, new)
            assert store.ops == 2 + n, (tear, n)
            if n == 1:  # the write of the temporary file in flight
                want = (
                    {"rec": b"old"} if k is None else {"rec": b"old", "rec.tmp": new[: (1, 5, 9, 10)[k - 1]]}
                )
            elif n == 2:  # its sync: the temporary file lands only with TEAR_ALL
                want = {"rec": b"old", "rec.tmp": new} if tear == TEAR_ALL else {"rec": b"old"}
            elif n == 3:  # the rename: it does not happen; the synced temporary file is there
                want = {"rec": b"old", "rec.tmp": new}
            else:  # the last sync: the rename was durable at once
                want = {"rec": new}
            assert got == want, (tear, n, got)


def check_clock(make, virtual=False):
    """virtual: advance() and lose_rtc() (a power-on whose RTC lost its time) move it from outside."""
    clock = make()
    check_declaration(clock)
    assert isinstance(clock.time(), int)
    rtc = has(clock, CAP_RTC_KEPT_TIME)
    if rtc:
        kept = clock.kept_time()
        assert kept is True or kept is False
    else:
        raises(NotImplementedError, clock.kept_time)  # no such RTC: never asked, never guessed
    before = clock.ticks_ms()
    clock.set_time(1800000000)
    assert 1800000000 <= clock.time() <= 1800000001
    assert 0 <= ticks_diff(clock.ticks_ms(), before) < 1000  # set_time does not move the ticks
    if rtc:
        assert clock.kept_time() is kept  # it tells about the last power-off, not about set_time()
    t0 = clock.ticks_ms()
    assert isinstance(t0, int) and 0 <= t0 < TICKS_PERIOD
    clock.sleep_ms(5)
    assert ticks_diff(clock.ticks_ms(), t0) >= 5
    if virtual:
        _check_clock_advance(clock)
        _check_clock_lose_rtc(make())


def _check_clock_lose_rtc(clock):
    rtc = has(clock, CAP_RTC_KEPT_TIME)
    ticks = clock.ticks_ms()
    clock.lose_rtc()
    assert 946684800 <= clock.time() <= 946684801  # 2000-01-01 00:00 UTC, where an RTC restarts
    assert not rtc or clock.kept_time() is False
    assert 0 <= ticks_diff(clock.ticks_ms(), ticks) < 1000
    assert clock.rtc_set is False
    clock.set_time(1800000000)  # set again: the time is right, but it was not kept through a power-off
    assert 1800000000 <= clock.time() <= 1800000001 and (not rtc or clock.kept_time() is False)
    assert clock.rtc_set is True  # ... and from now on the RTC holds a set time
    clock.lose_rtc(at=1000000000)  # an RTC that ran on from a time nobody set
    assert 1000000000 <= clock.time() <= 1000000001 and not clock.rtc_set
    assert not rtc or clock.kept_time() is False


def _check_clock_advance(clock):
    wall = clock.time()
    clock.advance(60)
    assert 60 <= clock.time() - wall <= 61
    # Move to 1 or 2 seconds before the tick counter wraps, then step over the wrap.
    clock.advance((TICKS_PERIOD - clock.ticks_ms()) // 1000 - 1)
    t0 = clock.ticks_ms()
    assert TICKS_PERIOD - 2000 < t0 <= TICKS_PERIOD - 1000
    clock.advance(3)
    t1 = clock.ticks_ms()
    assert t1 < t0 and ticks_diff(t1, t0) >= 3000 and ticks_diff(t0, t1) == -ticks_diff(t1, t0)
    assert ticks_diff(t1, ticks_add(t0, 3000)) >= 0


def check_link(make, endpoint, wait=None, refused=None, polls=5000, virtual=False):
    """make() returns a fresh link; at endpoint (host, port) a host answers every message with
    the same bytes. wait() lets the network move between two polls (a real link: a short sleep;
    a double: nothing). refused: an endpoint where every connection is refused. No call may block:
    every wait is the caller's, in a loop of at most `polls` polls. virtual: setting `attached`
    drops and brings back the network."""
    link = make()
    check_declaration(link)
    assert link.online() is True
    raises(LinkError, link.poll_open)  # never opened
    raises(LinkError, link.send, b"x")
    raises(LinkError, link.flush)
    raises(LinkError, link.recv, 10)
    link.close()  # closing a closed link does nothing
    link.open(endpoint[0], endpoint[1])
    raises(LinkError, link.send, b"x")  # not open until poll_open() says so
    assert _poll_until(link.poll_open, wait, polls) is True
    assert link.poll_open() is True  # stays open
    assert link.recv(64) == b""  # nothing came: at once, not after a wait
    assert _exchange(link, b"ping-1", 4, wait, polls) == b"ping-1"
    assert _exchange(link, bytearray(b"ping-2"), 64, wait, polls) == b"ping-2"
    big = bytes(range(256)) * 1024  # more than a socket takes at once: send() queues, flush() goes on
    assert _exchange(link, big, 4096, wait, polls) == big
    assert link.flush() == 0
    assert link.recv(64) == b""  # nothing more came
    raises(ValueError, link.recv, 0)
    link.close()
    link.close()
    raises(LinkError, link.send, b"x")
    raises(LinkError, link.recv, 10)
    raises(LinkError, link.poll_open)
    link.open(endpoint[0], endpoint[1])  # reconnects
    assert _poll_until(link.poll_open, wait, polls) is True
    link.open(endpoint[0], endpoint[1])  # opening an open link starts a new stream
    assert _poll_until(link.poll_open, wait, polls) is True
    assert _exchange(link, b"again", 64, wait, polls) == b"again"
    if virtual:
        link.attached = False  # the network drops while the stream is open
        assert link.online() is False
        raises(LinkError, link.send, b"x")
        raises(LinkError, link.open, endpoint[0], endpoint[1])
        link.attached = True
    link.close()
    if refused is not None:
        link.open(refused[0], refused[1])
        for _ in range(polls):
            try:
                assert link.poll_open() is None
            except LinkError:
                break
            if wait is not None:
                wait()
        else:
            raise AssertionError("a refused connection never failed")
        raises(LinkError, link.send, b"x")
        link.close()


def _poll_until(poll, wait, polls):
    """poll() until it gives something other than None; that value."""
    for _ in range(polls):
        result = poll()
        if result is not None:
            return result
        if wait is not None:
            wait()
    raise AssertionError("{} gave nothing in {} polls".format(poll, polls))


def _exchange(link, data, max_bytes, wait, polls):
    """Send data and read back as many bytes, flushing and reading in turns as an event loop would."""
    link.send(data)
    got = b""
    idle = 0
    while len(got) < len(data):
        queued = link.flush()
        assert 0 <= queued <= len(data)
        chunk = link.recv(max_bytes)
        assert len(chunk) <= max_bytes, "recv gave {} bytes".format(len(chunk))
        if chunk:
            got += chunk
            idle = 0
        else:
            idle += 1
            assert idle < polls, "nothing came back in {} polls".format(polls)
            if wait is not None:
                wait()
    return got


def check_system(make, seen):
    """make() returns a fresh system device; seen(system) -> (watchdog timeout started or None,
    feeds since, reset delay asked or None): what reached the board, read through the test double or
    a recording machine module. Every declared capability is checked by its effect."""
    system = make()
    assert declared(system) == [], declared(system)
    if has(system, SYS_WATCHDOG):
        system.feed()  # before start_watchdog(): nothing to feed
        assert seen(system)[:2] == (None, 0)
        system.start_watchdog(8000)
        system.feed()
        system.feed()
        assert seen(system)[:2] == (8000, 2)
    if has(system, SYS_RESET):
        assert seen(system)[2] is None
        system.reset_after(1)
        assert seen(system)[2] == 1
    if has(system, SYS_BOOT_COUNT):
        count = system.boot_count()
        assert type(count) is int and count >= 0
        system.mark_booted_ok()
        assert system.boot_count() == 0


def check_signer(make, verify=None):
    """verify(public_key, digest, signature) -> bool checks a signature, if the test has a verifier."""
    signer = make()
    check_declaration(signer)
    public = signer.public_key()
    assert isinstance(public, bytes) and len(public) == 65 and public[0] == 4
    assert signer.public_key() == public
    d1 = hashlib.sha256(b"receipt 000001").digest()
    d2 = hashlib.sha256(b"receipt 000002").digest()
    s1 = signer.sign_digest(d1)
    s2 = signer.sign_digest(d2)
    assert isinstance(s1, bytes) and len(s1) == 64 and len(s2) == 64 and s1 != s2
    for bad in (b"", d1[:31], d1 + b"\x00"):
        raises(ValueError, signer.sign_digest, bad)
    if verify is not None:
        assert verify(public, d1, s1) and verify(public, d2, s2)
        assert not verify(public, d2, s1)
        assert not verify(public, d1, s1[:63] + bytes([s1[63] ^ 1]))


# ---- Key store, security module, PIN entry -------------------------------------------------
# Test keys (made up): a TMK as two components, and working keys delivered under it.
TMK_PARTS = (
    bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"),
    bytes.fromhex("1111111111111111AAAAAAAAAAAAAAAA"),
)
PIK = bytes.fromhex("F1E2D3C4B5A69788796A5B4C3D2E1F00")
MAK = bytes.fromhex("0F1E2D3C4B5A69788796A5B4C3D2E1F0")
TDK = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
CARD_PAN = "6217002430012345675"


def xor_parts(parts):
    out = bytearray(16)
    for part in parts:
        for i in range(16):
            out[i] ^= part[i]
    return bytes(out)


def field62(tmk, keys, spoil=None):
    """Field 62 of a sign-in answer delivering keys under tmk: each key encrypted, then its check
    value; spoil=k gives key k a wrong check value."""
    from hal.soft.des import TripleDES, check_value

    out = b""
    for k, key in enumerate(keys):
        kcv = check_value(key)
        if k == spoil:
            kcv = bytes([kcv[0] ^ 1]) + kcv[1:]
        out += TripleDES(tmk).encrypt(key) + kcv
    return out


def key_fragments(*keys):
    """Forms a key may take in a file or a return value: its bytes, halves, and hex in both cases."""
    import binascii

    found = []
    for key in keys:
        for part in (key, key[:8], key[8:]):
            found.append(part)
            h = binascii.hexlify(part)
            found.append(h)
            found.append(h.upper())
    return found


def check_key_store(make):
    from hal.contracts import HalError

    ks = make()
    assert declared(ks) == []
    assert ks.names() == [] and ks.load("tmk") is None
    ks.delete("tmk")  # nothing there: nothing happens
    ks.save("tmk", b"\x01" * 16)
    ks.save("a-key.1", bytearray(b"\x00\xff" * 512))
    assert ks.load("tmk") == b"\x01" * 16 and type(ks.load("tmk")) is bytes
    assert ks.load("a-key.1") == b"\x00\xff" * 512
    assert ks.names() == ["a-key.1", "tmk"]
    ks.save("tmk", b"\x02" * 24)  # replaced
    assert ks.load("tmk") == b"\x02" * 24
    ks.delete("tmk")
    assert ks.load("tmk") is None and ks.names() == ["a-key.1"]
    for name in BAD_NAMES + ("a" * 25,):
        raises(ValueError, ks.load, name)
        raises(ValueError, ks.save, name, b"k")
    for blob in (b"", b"x" * 1025, "text", None, 12):
        raises(ValueError, ks.save, "tmk", blob)
    assert ks.load("tmk") is None
    if hasattr(ks, "storage"):  # a key store over a Storage: damage and power cuts
        _check_key_store_damage(ks, HalError)
        _check_key_store_power_cut(make)


def _check_key_store_damage(ks, HalError):
    store = ks.storage
    ks.save("tmk", b"\x05" * 16)
    fname = [n for n in store.list() if n.startswith("tmk")][0]
    good = store.read(fname)
    damaged = [good[:n] for n in range(len(good))]  # truncated at every length
    for i in range(len(good)):  # every byte flipped
        damaged.append(good[:i] + bytes([good[i] ^ 0x20]) + good[i + 1 :])
    for bad in damaged:
        store.write(fname, bad)
        store.sync()
        raises(HalError, ks.load, "tmk")
        assert store.read(fname) == bad  # kept as it is, never silently replaced
        assert "tmk" in ks.names()
    store.write(fname, good)
    assert ks.load("tmk") == b"\x05" * 16
    ks.save("other", b"\x06" * 16)  # another key's file under this name is damage too
    store.write(fname, store.read([n for n in store.list() if n.startswith("other")][0]))
    raises(HalError, ks.load, "tmk")
    ks.save("tmk", b"\x07" * 16)  # the owner's decision: a new key over the damaged one
    assert ks.load("tmk") == b"\x07" * 16


def _check_key_store_power_cut(make):
    old, new = b"\x11" * 16, b"\x22" * 16
    for tear in (TEAR_NONE, TEAR_ONE_BYTE, TEAR_HALF, TEAR_ALL_BUT_ONE, TEAR_ALL):
        n = 1
        while True:
            ks = make()
            ks.save("tmk", old)
            ks.storage.cut_at(n, tear)
            try:
                ks.save("tmk", new)
                done = True
            except PowerCut:
                done = False
            ks.storage.cut_at(None)
            ks.storage.power_cut()
            ks.storage.power_on()
            assert ks.load("tmk") in ((old, new) if not done else (new,)), (tear, n)
            if done:
                break
            n += 1
    # A delete cut anywhere leaves the key or nothing, even with a finished temp file from an
    # interrupted save beside it: never that temp file's key.
    from hal.soft.keystore import StorageKeyStore
    from virtual.storage import RamStorage

    other = StorageKeyStore(RamStorage())
    other.save("tmk", new)
    finished_temp = other.storage.read("tmk.key")
    n = 1
    while True:
        ks = make()
        ks.save("tmk", old)
        ks.storage.write("tmk.new", finished_temp)
        ks.storage.sync()
        ks.storage.cut_at(n)
        try:
            ks.delete("tmk")
            done = True
        except PowerCut:
            done = False
        ks.storage.cut_at(None)
        ks.storage.power_cut()
        ks.storage.power_on()
        assert ks.load("tmk") in ((None,) if done else (old, None)), n
        if done:
            break
        n += 1


def check_security_module(make_store, make_module):
    """make_store(): a fresh key store; make_module(store): the module over it (again: a reboot)."""
    from hal.contracts import KEYS_DOUBLE, KEYS_TRACK, MAC_ECB, MAC_X919, KeyRefused, NoKey
    from hal.soft.des import TripleDES, check_value
    from hal.soft.mac import pin_block_format0, pos_ecb_mac, x919_mac

    store = make_store()
    sec = make_module(store)
    assert declared(sec) == []
    outputs = []
    assert sec.tmk_check_value() is None and sec.key_set() is None
    data = b"\x02\x00" + bytes(range(100))
    for fn, args in ((sec.mac, (data,)), (sec.encrypt_pin_block, ("1234", CARD_PAN))):
        raises(NoKey, fn, *args)
    raises(NoKey, sec.load_working_keys, bytes(40), KEYS_DOUBLE)
    tmk = xor_parts(TMK_PARTS)
    for bad in ([], [TMK_PARTS[0]] * 4, [b"short"], ["0123456789ABCDEF0123456789ABCDEF"]):
        raises(ValueError, sec.load_tmk_components, bad)
    raises(KeyRefused, sec.load_tmk_components, [TMK_PARTS[0], TMK_PARTS[0]])  # XOR to zero
    assert sec.tmk_check_value() is None
    outputs.append(sec.load_tmk_components(list(TMK_PARTS)))
    assert outputs[-1] == check_value(tmk) == sec.tmk_check_value()
    assert sec.key_set() is None
    raises(NoKey, sec.mac, data)
    # Sign-in answers refused: the keys in force (none yet) stay.
    e = raises(KeyRefused, sec.load_working_keys, field62(tmk, [PIK[:8], MAK[:8]])[:24], "001")
    assert "001" in str(e)
    for f62, mode in (
        (field62(tmk, [PIK, MAK])[:-1], KEYS_DOUBLE),
        (field62(tmk, [PIK, MAK]) + b"\x00", KEYS_DOUBLE),
        (field62(tmk, [PIK, MAK, TDK]), KEYS_DOUBLE),
        (field62(tmk, [PIK, MAK]), KEYS_TRACK),
        (field62(tmk, [PIK, MAK], spoil=0), KEYS_DOUBLE),
        (field62(tmk, [PIK, MAK], spoil=1), KEYS_DOUBLE),
        (field62(tmk, [PIK, MAK]), "002"),
    ):
        raises(KeyRefused, sec.load_working_keys, f62, mode)
    assert sec.key_set() is None
    raises(ValueError, sec.load_working_keys, field62(tmk, [PIK, MAK]), 3)
    sec.load_working_keys(field62(tmk, [PIK, MAK]), KEYS_DOUBLE)
    expected = {"mode": KEYS_DOUBLE, "pin": check_value(PIK), "mac": check_value(MAK), "track": None}
    expected["tmk"] = check_value(tmk)
    assert sec.key_set() == expected
    _check_macs(sec, TripleDES(MAK), data, outputs, x919_mac, pos_ecb_mac, MAC_X919, MAC_ECB)
    block = sec.encrypt_pin_block("123456", CARD_PAN)
    outputs.append(block)
    assert TripleDES(PIK).decrypt(block) == bytes(pin_block_format0("123456", CARD_PAN))
    # A refused answer (a wrong check value) leaves the keys in force.
    for spoil in (0, 1, 2):
        raises(KeyRefused, sec.load_working_keys, field62(tmk, [MAK, PIK, TDK], spoil=spoil), KEYS_TRACK)
        assert sec.key_set() == expected and sec.mac(data) == x919_mac(TripleDES(MAK), data)
    # The working keys survive a reboot; a dropped key set stays dropped.
    sec = make_module(store)
    assert sec.key_set() == expected and sec.mac(data) == x919_mac(TripleDES(MAK), data)
    sec.drop_working_keys()
    assert sec.key_set() is None
    raises(NoKey, sec.mac, data)
    raises(NoKey, sec.encrypt_pin_block, "1234", CARD_PAN)
    sec = make_module(store)
    assert sec.key_set() is None and sec.tmk_check_value() == check_value(tmk)
    # 004: the track key too.
    sec.load_working_keys(field62(tmk, [MAK, PIK, TDK]), KEYS_TRACK)
    assert sec.key_set()["track"] == check_value(TDK) and sec.key_set()["mode"] == KEYS_TRACK
    assert sec.mac(data) == x919_mac(TripleDES(PIK), data)  # MAK and PIK swapped in this answer
    # A new TMK drops the working keys, which were under the old one.
    sec.load_tmk_components([TMK_PARTS[0]])
    assert sec.key_set() is None and make_module(store).key_set() is None
    outputs.append(sec.load_tmk_components(list(TMK_PARTS)))
    _check_password_hash(sec, make_store, make_module, store, outputs)
    # Nothing any method returned holds key bytes.
    fragments = key_fragments(tmk, PIK, MAK, TDK)
    for out in outputs:
        for frag in fragments:
            assert frag not in bytes(out)


def _check_macs(sec, mak, data, outputs, x919_mac, pos_ecb_mac, MAC_X919, MAC_ECB):
    for message in (b"", b"\x01", data, data[:64]):
        for algorithm, reference in ((MAC_X919, x919_mac), (MAC_ECB, pos_ecb_mac)):
            mac = sec.mac(message, algorithm)
            outputs.append(mac)
            assert mac == reference(mak, message) and len(mac) == 8
            assert sec.verify_mac(message, mac, algorithm)
            assert not sec.verify_mac(message + b"\x01", mac, algorithm)
            assert not sec.verify_mac(message, bytes([mac[0] ^ 1]) + mac[1:], algorithm)
            assert not sec.verify_mac(message, mac[:7], algorithm)
    assert sec.mac(data) == sec.mac(data, MAC_X919)  # the default
    assert sec.mac(data, MAC_ECB).decode() == sec.mac(data, MAC_ECB).decode().upper()
    raises(ValueError, sec.mac, data, "md5")


def _check_password_hash(sec, make_store, make_module, store, outputs):
    digest = sec.password_hash(b"123456")
    outputs.append(digest)
    assert len(digest) == 32 and digest == sec.password_hash(b"123456")
    assert sec.password_hash(b"123457") != digest
    assert make_module(store).password_hash(b"123456") == digest  # its key survives a reboot
    assert make_module(make_store()).password_hash(b"123456") != digest  # another device's key
    assert hashlib.sha256(b"123456").digest() != digest


def check_pin_entry(make):
    """make() gives (pin_entry, firmware_keypad, press, clock, security): press(*keys) presses the
    physical keys; clock has advance(); security holds the TMK_PARTS TMK and PIK/MAK working keys."""
    from hal.contracts import (
        KEY_PART,
        PIN_CANCEL,
        PIN_DIGITS,
        PIN_ENTER,
        PIN_TIMEOUT,
        NoKey,
    )
    from hal.soft.des import TripleDES, check_value
    from hal.soft.mac import pin_block_format0

    pin, keypad, press, clock, sec = make()
    assert declared(pin) == []
    assert not pin.active() and pin.poll() is None

    def typed(keys):
        press(*keys)
        events = []
        for _ in range(len(keys) + 2):
            event = pin.poll()
            if event is not None:
                events.append(event)
        return events

    # A PIN typed, with a CLEAR on the way; the firmware's keypad says nothing meanwhile.
    press("9")  # pressed before the prompt: not a digit of the PIN
    pin.begin(CARD_PAN)
    assert pin.active() and keypad.poll() is None
    events = typed(["1", "2", "9", "CLEAR", "3", "4", "ENTER"])
    assert [e[1] for e in events[:-1]] == [1, 2, 3, 2, 3, 4]
    assert events[-1][0] == PIN_ENTER and not pin.active()
    assert TripleDES(PIK).decrypt(events[-1][1]) == bytes(pin_block_format0("1234", CARD_PAN))
    assert [e[0] for e in events[:-1]] == [PIN_DIGITS] * 6
    press("5")
    assert keypad.poll() == "5"  # the keypad is the firmware's again
    # Too short, then the maximum.
    pin.begin(CARD_PAN, min_len=6, max_len=6)
    events = typed(["1", "2", "3", "ENTER"])
    assert events == [(PIN_DIGITS, 1), (PIN_DIGITS, 2), (PIN_DIGITS, 3)] and pin.active()
    events = typed(["4", "5", "6", "7", "8", "ENTER"])
    assert events[:3] == [(PIN_DIGITS, 4), (PIN_DIGITS, 5), (PIN_DIGITS, 6)] and len(events) == 4
    assert TripleDES(PIK).decrypt(events[3][1]) == bytes(pin_block_format0("123456", CARD_PAN))
    # CLEAR on nothing, unknown keys, an empty PIN refused then allowed.
    pin.begin(CARD_PAN)
    assert typed(["CLEAR", "UP", "FUNC", "ENTER"]) == [] and pin.active()
    assert typed(["CANCEL"]) == [(PIN_CANCEL, None)] and not pin.active()
    pin.begin(CARD_PAN, allow_empty=True)
    assert typed(["ENTER"]) == [(PIN_ENTER, None)]
    pin.begin(CARD_PAN, max_len=12)
    assert typed(["1"] * 13 + ["ENTER"])[-2:] == [(PIN_DIGITS, 12), (PIN_ENTER, typed_block(sec))]
    # Cancel and timeout: what was typed never reaches the firmware.
    pin.begin(CARD_PAN, timeout_ms=5000)
    typed(["1", "2"])
    clock.advance(4.9)
    assert pin.poll() is None and pin.active()
    clock.advance(0.2)
    press("3", "4")  # typed as the time ran out
    assert pin.poll() == (PIN_TIMEOUT, None) and not pin.active()
    assert pin.poll() is None and keypad.poll() is None
    pin.begin(CARD_PAN)
    typed(["7", "7"])
    press("7")
    pin.cancel()
    assert not pin.active() and pin.poll() is None and keypad.poll() is None
    for args in (("621700",), (CARD_PAN, 3), (CARD_PAN, 4, 13), (CARD_PAN, 6, 5), (int(CARD_PAN),)):
        raises(ValueError, pin.begin, *args)
    raises(ValueError, pin.begin, CARD_PAN, 4, 12, False, 0)
    # Key entry: FUNC 1..6 are A..F; the result is the TMK's check value only.
    _check_key_entry(pin, typed, press, sec, check_value, KEY_PART, PIN_ENTER, PIN_CANCEL, PIN_DIGITS)
    # Without working keys, ENTER fails and the entry ends.
    sec.drop_working_keys()
    pin.begin(CARD_PAN)
    press("1", "2", "3", "4", "ENTER")
    for _ in range(4):
        pin.poll()
    raises(NoKey, pin.poll)
    assert not pin.active()


def typed_block(sec):
    return sec.encrypt_pin_block("111111111111", CARD_PAN)


def hex_keys(hex_digits):
    """The keys a field engineer presses for hex digits: FUNC then 1..6 for A..F."""
    keys = []
    for ch in hex_digits:
        if ch in "ABCDEF":
            keys += ["FUNC", str("ABCDEF".index(ch) + 1)]
        else:
            keys.append(ch)
    return keys


def _check_key_entry(pin, typed, press, sec, check_value, KEY_PART, PIN_ENTER, PIN_CANCEL, PIN_DIGITS):
    import binascii

    before = sec.tmk_check_value()
    parts = [b"\x5a" * 16, bytes(range(16)), bytes(range(0xF0, 0x100))]
    hexes = [binascii.hexlify(p).decode().upper() for p in parts]
    pin.begin_key_entry(2)
    events = typed(hex_keys(hexes[0])[:-1] + ["ENTER"])  # 31 digits: ENTER does nothing
    assert events[-1] == (PIN_DIGITS, 31) and pin.active()
    events = typed(["FUNC", "7", "FUNC", "CLEAR"])  # FUNC 7 is nothing; CLEAR deletes a digit
    assert events == [(PIN_DIGITS, 30)]
    events = typed(hex_keys(hexes[0][30:]) + ["ENTER"])
    assert events[-1] == (KEY_PART, 1)
    assert typed(["CANCEL"]) == [(PIN_CANCEL, None)]
    assert sec.tmk_check_value() == before  # cancelled: nothing loaded
    for count in (2, 3):
        pin.begin_key_entry(count)
        events = []
        for h in hexes[:count]:
            events += typed(hex_keys(h) + ["ENTER"])
        kcv = check_value(xor_parts(parts[:count]))
        assert events[-1] == (PIN_ENTER, kcv) and sec.tmk_check_value() == kcv
        assert [e for e in events if e[0] == KEY_PART] == [(KEY_PART, k) for k in range(1, count)]
        assert not pin.active() and sec.key_set() is None
    for bad in (1, 4, "2"):
        raises(ValueError, pin.begin_key_entry, bad)
    # Back to the test TMK and working keys for what follows.
    sec.load_tmk_components(list(TMK_PARTS))
    sec.load_working_keys(field62(xor_parts(TMK_PARTS), [PIK, MAK]), "003")
