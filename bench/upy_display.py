# The display's cost per redraw: bytes sent to the panel and time, per key press on the amount
# screen, per countdown second of the authorising screen and per full screen, with the board's
# ILI9341 driver over a bus that counts bytes. Runs on both runtimes; prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_display.py [loop]   (bench/display.py runs it
#   and reads the RESULT line; "loop": the driver's pure-Python expansion even where framebuf is).
# CPython: bench/display.py imports measure().
import sys

from bench.upy_timing import ticks_diff, ticks_us
from firmware.params import Params
from firmware.terminal import Terminal
from hal.drivers.font8x16 import Font8x16
from hal.drivers.ili9341 import ILI9341
from tests.portable import online_kit
from tests.portable.fakes import make_board
from virtual.devices import VirtualClock
from virtual.storage import RamStorage

KEYS = 40  # key presses timed: "1" and CLEAR in turn, one amount line changing each time
SECONDS = 20  # countdown seconds timed (the host's timeout is 30 s)
SCREENS = 20  # full screens timed


class CountingBus:
    """machine.SPI with the panel's bytes counted, nothing kept (allocates nothing)."""

    def __init__(self):
        self.sent = 0

    def init(self, baudrate=None):
        pass

    def write(self, data):
        self.sent += len(data)


class Pin:
    def value(self, v=None):
        return 1 if v is None else None


def _no_sleep(ms):
    pass


def board_display(loop=False):
    """The board's display (Font8x16: the same glyphs on both runtimes) over a CountingBus; loop:
    the pure-Python expansion (a driver without that choice has only that one)."""
    bus = CountingBus()
    kw = {"use_framebuf": False} if loop else {}
    try:
        d = ILI9341(bus, Pin(), Pin(), font=Font8x16(), sleep_ms=_no_sleep, baudrate=10_000_000, **kw)
    except TypeError:  # a driver before the choice existed
        d = ILI9341(bus, Pin(), Pin(), font=Font8x16(), sleep_ms=_no_sleep, baudrate=10_000_000)
    return d, bus


def _timed(bus, fn, n, arg):
    """(bytes sent per call, ms per call) of fn(i) for i in range(n)."""
    sent = bus.sent
    took = 0
    for i in range(n):
        start = ticks_us()
        fn(i, arg)
        took += ticks_diff(ticks_us(), start)
    return (bus.sent - sent) // n, took / n / 1000


def _key(i, rig):
    keypad, term = rig
    keypad.press("1" if i % 2 == 0 else "CLEAR")
    term.settle()


def key_press(loop):
    """On the amount screen (menu, sale), a digit and CLEAR in turn: the amount line changes."""
    d, bus = board_display(loop)
    storage = RamStorage()
    p = Params.load(storage)
    p.language = "en"
    p.save(storage)
    board = make_board(display=d, storage=storage)
    term = Terminal(board)
    term.settle()
    for key in ("ENTER", "1"):
        board.keypad.press(key)
        term.settle()
    if type(term.screen).__name__ != "AmountScreen":
        print("PROBLEM: not on the amount screen but on", type(term.screen).__name__)
    _key(0, (board.keypad, term))  # the first digit: warm
    _key(1, (board.keypad, term))
    return _timed(bus, _key, KEYS, (board.keypad, term))


def _second(i, rig):
    rig.clock.advance(1)
    rig.term.settle()


def countdown(loop):
    """The sign-in of the first sale waiting for a host that does not answer: one redraw a second."""
    d, bus = board_display(loop)
    clock = VirtualClock()
    host = online_kit.FakeHost()
    link = online_kit.SlowLink(host, clock, 10**9)
    rig = online_kit.Rig(host=host, link=link, clock=clock, display=d)
    rig.start_sale(1234, online_kit.chip())
    if type(rig.term.screen).__name__ != "AuthorisingScreen":
        print("PROBLEM: not on the authorising screen but on", type(rig.term.screen).__name__)
    _second(0, rig)  # warm
    return _timed(bus, _second, SECONDS, rig)


_LINES = ["{:02d} QianPOS ABCDEFGHIJKLMNOPQRS".format(row) for row in range(20)]


def _screen(i, d):
    d.clear()
    for row in range(20):
        d.text(row, _LINES[row], inverse=i % 2 == 1)
    d.show()


def full_screen(loop):
    """20 text rows, highlighted and not in turn: every pixel row changes, the whole panel."""
    d, bus = board_display(loop)
    _screen(1, d)
    return _timed(bus, _screen, SCREENS, d)


def show_only(loop):
    """show() alone of 320 lines of mixed pixels (the blit before each is not timed): the RGB565
    expansion and the writes."""
    d, bus = board_display(loop)
    bits = (bytes(range(256)) * 38, bytes(range(255, -1, -1)) * 38)
    sent = bus.sent
    took = 0
    for i in range(SCREENS):
        d.blit(bits[i % 2], 0, 0, 240, 320)
        start = ticks_us()
        d.show()
        took += ticks_diff(ticks_us(), start)
    return (bus.sent - sent) // SCREENS, took / SCREENS / 1000


def blit_show(loop):
    """The same with the blit timed too: a driver that composes in show() does there what one with
    a frame buffer did in blit()."""
    d, bus = board_display(loop)
    bits = (bytes(range(256)) * 38, bytes(range(255, -1, -1)) * 38)
    sent = bus.sent
    took = 0
    for i in range(SCREENS):
        start = ticks_us()
        d.blit(bits[i % 2], 0, 0, 240, 320)
        d.show()
        took += ticks_diff(ticks_us(), start)
    return (bus.sent - sent) // SCREENS, took / SCREENS / 1000


def measure(loop=False, rounds=5):
    """{key,second,screen,show,blitshow}_{bytes,ms}: bytes per event (the same every round) and the best of
    `rounds` rounds' milliseconds per event (each round on a freshly built terminal)."""
    figures = {}
    for name, fn in (
        ("key", key_press),
        ("second", countdown),
        ("screen", full_screen),
        ("show", show_only),
        ("blitshow", blit_show),
    ):
        for _ in range(rounds):
            sent, ms = fn(loop)
            figures[name + "_bytes"] = sent
            best = figures.get(name + "_ms")
            figures[name + "_ms"] = ms if best is None or ms < best else best
    return figures


if __name__ == "__main__":
    loop = "loop" in sys.argv[1:]
    f = measure(loop)
    print("RESULT " + " ".join("{}={}".format(k, f[k]) for k in sorted(f)))
