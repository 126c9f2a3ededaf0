# Microsecond timing for the bench scripts that run on both runtimes (MicroPython's ticks_us, or
# CPython's perf_counter). Not a bench itself.
import time

try:
    ticks_us = time.ticks_us  # type: ignore[attr-defined]
    ticks_diff = time.ticks_diff  # type: ignore[attr-defined]
except AttributeError:  # CPython

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(new, old):
        return new - old
