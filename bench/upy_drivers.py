# The board drivers' costs on MicroPython: heap each driver module adds on import (from source),
# heap of a display object (its buffers and state), and per operation the milliseconds and the heap
# bytes allocated. Prints; never asserts. The fakes are those of tests/portable/test_drivers.py
# (they allocate nothing), so the figures are the drivers' own.
#
# MicroPython: node tests/upy/run.mjs bench/upy_drivers.py   (one phase per call: this port's
#   collector frees only at the start of a call, see tests/upy/run.mjs); bench/drivers.py runs it.
import gc
import time

# hal.contracts first: every driver imports it, and the firmware has it anyway. The last "module"
# is the tests' fakes, imported before the objects are built so their bytecode is not counted.
MODULES = (
    "hal.contracts",
    "hal.drivers.keymatrix",
    "hal.drivers.xpt2046",
    "hal.drivers.uart_reader",
    "hal.drivers.font8x16",
    "hal.drivers.fontfile",
    "hal.drivers.ili9341",
    "hal.drivers.pn532",
    "tests.portable.test_drivers",
)
_RUNS = 20


def _display():
    from hal.drivers.font8x16 import Font8x16
    from hal.drivers.ili9341 import ILI9341
    from tests.portable.test_drivers import _Bus, _Pin

    return ILI9341(_Bus(), _Pin(), _Pin(), font=Font8x16(), sleep_ms=lambda ms: None)


def _build(d):
    from hal.drivers.keymatrix import KeyMatrix, PinLines
    from hal.drivers.uart_reader import UartLines
    from hal.drivers.xpt2046 import XPT2046
    from tests.portable.test_drivers import _Bus, _Column, _Pin, _Ticks, _Uart

    rows = [_Pin() for _ in range(4)]
    cols = [_Column(rows, c) for c in range(4)]
    bus = _Bus()
    bus.values[3], bus.values[5], bus.values[1] = 500, 1000, 2000
    uart = _Uart(b"6217002430012345675=311222012345?\r" * (_RUNS + 2))  # one line a call
    return {
        "display": d,
        "keypad": KeyMatrix(PinLines(rows, cols), _Ticks()),
        "touch": XPT2046(bus, _Pin()),
        "uart": uart,
        "lines": UartLines(uart),
        "qr": bytes(25 * 200),
    }


def _ops(o):
    d = o["display"]
    blank = bytes(30 * 320)
    mixed = (bytes(b"\x5a" * 30 * 320), bytes(b"\xa5" * 30 * 320))
    texts = ("Amount  \u00a51,234.56  ENTER", "Amount  \u00a51,234.57  ENTER")
    turn = [0]

    def full():
        d.blit(blank, 0, 0, 240, 320)  # every pixel row composed and compared in show(): none sent
        d.show()

    def dense():
        turn[0] ^= 1
        d.blit(mixed[turn[0]], 0, 0, 240, 320)
        d.show()

    def row():
        turn[0] ^= 1
        d.text(4, texts[turn[0]])  # one digit changes: the pixel rows it inks
        d.show()

    def same():
        d.clear()
        d.text(4, texts[turn[0]])  # the screen drawn again unchanged: nothing to send
        d.show()

    def qr(x):
        d.clear()
        d.blit(o["qr"], x, 40, 200, 200)  # composed from the bitmap in show(), nothing sent
        d.show()

    return (
        ("blit 240x320 + show(): 320 lines of one colour", full),
        ("blit 240x320 + show(): 320 lines of mixed pixels", dense),
        ("text row, one digit changed, + show()", row),
        ("clear() + the same text row + show()", same),
        ("blit 200x200, x aligned", lambda: d.blit(o["qr"], 24, 40, 200, 200)),
        ("blit 200x200, x unaligned", lambda: d.blit(o["qr"], 20, 40, 200, 200)),
        ("blit 200x200 + show(), x aligned, the same pixels", lambda: qr(24)),
        ("blit 200x200 + show(), x unaligned, the same pixels", lambda: qr(20)),
        ("keypad poll, idle", o["keypad"].poll),
        ("touch poll, pen down", o["touch"].poll),
        ("UART line of 34 bytes (the str handed out)", o["lines"].poll),
    )


_state = {"mem": 0, "objects": None}


def upy_phase(i):
    gc.collect()
    now = gc.mem_alloc()  # type: ignore[attr-defined]
    if i == 0:
        print("MicroPython heap bytes added (gc.mem_alloc after a collection; modules compiled from source):")
    elif i <= len(MODULES):
        print("  import {}: +{}".format(MODULES[i - 1], now - _state["mem"]))
    if i < len(MODULES):
        _state["mem"] = gc.mem_alloc()  # type: ignore[attr-defined]
        __import__(MODULES[i])
        return True
    if i == len(MODULES):
        _state["mem"] = gc.mem_alloc()  # type: ignore[attr-defined]
        _state["display"] = _display()
        return True
    if i == len(MODULES) + 1:
        print(
            "  the display alone (its font, the driver's buffers and state): +{}".format(now - _state["mem"])
        )
        _state["mem"] = gc.mem_alloc()  # type: ignore[attr-defined]
        _state["objects"] = _build(_state["display"])
        return True
    if i == len(MODULES) + 2:
        label = "  objects: keypad, touch, UART lines, a 5,000-byte QR: +{}"
        print(label.format(now - _state["mem"]))
        print("per call: ms (WebAssembly under node, not a board: compare, do not quote) and heap bytes")
    ops = _ops(_state["objects"])
    k = i - len(MODULES) - 2
    if k >= len(ops):
        return False
    label, fn = ops[k]
    fn()
    before = gc.mem_alloc()  # type: ignore[attr-defined]
    start = time.ticks_ms()  # type: ignore[attr-defined]
    for _ in range(_RUNS):
        fn()
    took = time.ticks_diff(time.ticks_ms(), start)  # type: ignore[attr-defined]
    used = gc.mem_alloc() - before  # type: ignore[attr-defined]
    print("  {}: {} ms, {} bytes".format(label, took / _RUNS, used // _RUNS))
    return True
