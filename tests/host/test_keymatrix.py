# hal/drivers/keymatrix.py against a simulated switch matrix: the fakes model the wires (a closed switch
# joins its row and column; a column reads low when joined to a row driven low), and the PCF8574
# fake follows its datasheet (no registers; a written 1 is a weak pull-up that reads back as the
# pin's level, a 0 a strong low).
import pytest

from hal.contracts import KEY_CANCEL, KEY_ENTER, KEY_FUNC
from hal.drivers.buzzer import Buzzer
from hal.drivers.keymatrix import DEFAULT_KEYMAP, KeyMatrix, PCF8574Lines, PinLines


class Switches:
    """The 16 switches: closed holds (row, col) pairs."""

    def __init__(self):
        self.closed = set()

    def column_low(self, col, row_low):
        return any(c == col and row_low(r) for r, c in self.closed)


class RowPin:
    def __init__(self):
        self.level = 1
        self.writes = 0

    def value(self, v=None):
        assert v is not None, "rows are outputs: the driver never reads them"
        self.level = v
        self.writes += 1


class ColPin:
    def __init__(self, switches, rows, col):
        self.switches, self.rows, self.col = switches, rows, col

    def value(self, v=None):
        assert v is None, "columns are inputs"
        return 0 if self.switches.column_low(self.col, lambda r: self.rows[r].level == 0) else 1


class PCF8574:
    """A PCF8574 at one address: writeto sets the port latch, readfrom_into returns pin levels."""

    def __init__(self, switches, address=0x20):
        self.switches, self.address, self.latch = switches, address, 0xFF
        self.transfers = 0

    def writeto(self, address, buf):
        assert address == self.address and len(buf) == 1
        self.latch = buf[0]
        self.transfers += 1

    def readfrom_into(self, address, buf):
        assert address == self.address and len(buf) == 1
        self.transfers += 1
        level = self.latch
        for col in range(4):
            if self.latch & (0x10 << col) and self.switches.column_low(
                col, lambda r: not self.latch & (1 << r)
            ):
                level &= ~(0x10 << col) & 0xFF
        buf[0] = level


class Clock:
    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now


def pin_keypad(debounce_ms=20):
    sw, clock = Switches(), Clock()
    rows = [RowPin() for _ in range(4)]
    cols = [ColPin(sw, rows, c) for c in range(4)]
    return sw, clock, rows, KeyMatrix(PinLines(rows, cols), clock.ticks_ms, debounce_ms=debounce_ms)


def run(kp, clock, ms, step=5):
    """Poll every step ms for ms; the keys reported."""
    keys = []
    for _ in range(ms // step):
        clock.now += step
        k = kp.poll()
        if k is not None:
            keys.append(k)
    return keys


def test_a_press_is_reported_once_after_the_debounce_time():
    sw, clock, _, kp = pin_keypad()
    sw.closed = {(0, 0)}
    assert kp.poll() is None  # first sight: not yet stable
    clock.now += 10
    assert kp.poll() is None  # held 10 ms < 20
    clock.now += 15
    assert kp.poll() == "1"
    assert run(kp, clock, 500) == []  # held: never again
    sw.closed = set()
    assert run(kp, clock, 100) == []
    sw.closed = {(0, 0)}
    assert run(kp, clock, 100) == ["1"]


def test_bounce_shorter_than_the_debounce_time_is_not_a_press():
    sw, clock, _, kp = pin_keypad()
    for _ in range(10):  # contact chatter every 5 ms
        sw.closed = {(1, 1)} if not sw.closed else set()
        clock.now += 5
        assert kp.poll() is None
    sw.closed = set()
    assert run(kp, clock, 100) == []


def test_every_position_maps_to_the_legend():
    sw, clock, _, kp = pin_keypad()
    got = []
    for r in range(4):
        for c in range(4):
            sw.closed = {(r, c)}
            got += run(kp, clock, 50)
            sw.closed = set()
            run(kp, clock, 50)
    assert got == list(DEFAULT_KEYMAP)
    assert (DEFAULT_KEYMAP[3], DEFAULT_KEYMAP[12], DEFAULT_KEYMAP[14]) == (KEY_FUNC, KEY_CANCEL, KEY_ENTER)


def test_two_keys_rolled_over_come_in_order_and_three_are_ignored():
    sw, clock, _, kp = pin_keypad()
    sw.closed = {(2, 1)}
    assert run(kp, clock, 50) == ["8"]
    sw.closed = {(2, 1), (3, 1)}  # "0" while "8" still down
    assert run(kp, clock, 50) == ["0"]
    sw.closed = {(2, 1), (3, 1), (3, 2)}  # a third: a fourth phantom could show, so nothing
    assert run(kp, clock, 50) == []
    sw.closed = {(3, 2)}
    assert run(kp, clock, 50) == [KEY_ENTER]  # "#" seen unambiguously: reported once, late
    assert run(kp, clock, 200) == []


def test_idle_scan_reads_once_and_leaves_rows_released():
    sw, clock, rows, kp = pin_keypad()
    before = [p.writes for p in rows]
    kp.poll()
    assert [p.writes - b for p, b in zip(rows, before)] == [2, 2, 2, 2]  # all low, then released
    assert [p.level for p in rows] == [1, 1, 1, 1]


def test_the_same_keypad_behind_a_pcf8574():
    sw, clock = Switches(), Clock()
    chip = PCF8574(sw, 0x21)
    kp = KeyMatrix(PCF8574Lines(chip, 0x21), clock.ticks_ms)
    assert chip.latch == 0xFF  # released: every port a weak-high input
    sw.closed = {(1, 2)}
    assert run(kp, clock, 50) == ["6"]
    assert chip.latch == 0xFF
    chip.transfers = 0
    sw.closed = set()
    run(kp, clock, 5)
    assert chip.transfers == 3  # idle: select all rows, read once, release


def test_bad_construction():
    with pytest.raises(ValueError):
        PinLines([RowPin()] * 3, [])
    with pytest.raises(ValueError):
        KeyMatrix(PinLines([RowPin()] * 4, [RowPin()] * 4), Clock().ticks_ms, keymap=("1",))


def test_a_beep_ends_on_time_through_polling():
    sw, clock, _, _ = pin_keypad()
    rows = [RowPin() for _ in range(4)]
    pin = RowPin()
    buzzer = Buzzer(pin, clock.ticks_ms)
    kp = KeyMatrix(PinLines(rows, [ColPin(sw, rows, c) for c in range(4)]), clock.ticks_ms, beeper=buzzer)
    assert pin.level == 0
    kp.beep(60)
    assert pin.level == 1
    run(kp, clock, 55)
    assert pin.level == 1
    run(kp, clock, 10)
    assert pin.level == 0 and not buzzer.sounding
    other = RowPin()
    low = Buzzer(other, clock.ticks_ms, on=0)  # sounds on a low level
    assert other.level == 1
    low.beep(0)
    assert not low.sounding
