# The display's cost per redraw (bench/upy_display.py): bytes sent to the ILI9341 and milliseconds
# per key press on the amount screen, per countdown second and per full screen, on CPython and on
# MicroPython (through node; there with framebuf's expansion and with the pure-Python one). The SPI
# time is worked out from the bytes at the board's 10 MHz. Prints; never asserts.
#
# python bench/display.py   (make bench)
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)

SPI_HZ = 10_000_000  # hal.esp32.board.LCD_BAUDRATE
EVENTS = (
    ("key", "key press, amount screen"),
    ("second", "countdown second"),
    ("screen", "full screen (320 new lines)"),
    ("show", "show() alone, 320 mixed lines"),
    ("blitshow", "blit() + show(), 320 mixed"),
)


def _table(title, f):
    print(title)
    print("  {:<32}{:>10}{:>14}{:>12}".format("", "bytes", "SPI @10 MHz", "ms (CPU)"))
    for key, label in EVENTS:
        sent = int(f[key + "_bytes"])
        spi_ms = sent * 8 * 1000 / SPI_HZ
        print("  {:<32}{:>10,}{:>11.1f} ms{:>12.2f}".format(label, sent, spi_ms, f[key + "_ms"]))


def main():
    from bench.upy_display import measure

    version = sys.version.split()[0]
    _table("CPython {} (pure-Python expansion), best of 5 rounds:".format(version), measure())
    problems = 0
    for args, title in (
        ((), "MicroPython 1.27 WebAssembly (node: compare, do not quote), framebuf expansion:"),
        (("loop",), "MicroPython 1.27 WebAssembly, the pure-Python expansion:"),
    ):
        run = upy.run("upy_display.py", args=args)
        print()
        if run.lines:
            print("\n".join(run.lines))
        if run.figures is None:
            print(run.problem or "MicroPython: no RESULT line")
            problems += 0 if run.problem and "not run" in run.problem else 1
            continue
        _table(title, run.figures)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
