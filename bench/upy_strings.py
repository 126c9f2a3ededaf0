# The string catalog's costs: the heap firmware.strings holds once imported, and per strings.text()
# call the µs and the heap bytes it allocates, for the catalog's first line, its last (a lookup scans
# the catalog up to its line), a text with a placeholder and an unknown key. Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_strings.py   (one phase per call, as
#   bench/upy_memory.py: this port's collector frees nothing until control returns to JavaScript);
#   QIANPOS_UPY_MPY=build/mpy runs it from the .mpy build (bench/strings.py does both).
# CPython: bench/strings.py imports CASES and times the same calls.
#
# Nothing of firmware/ is imported at this module's top: the baseline must not hold it.
import gc
import sys

from bench.upy_timing import ticks_diff, ticks_us

# (name, key, args): the catalog's first and last lines, a placeholder filled, a key it lacks.
CASES = (
    ("first line", "idle_batch", ()),
    ("last line", "cardsrc_scan", ()),
    ("placeholder", "svc_tmk_part", (1, 3)),
    ("unknown key", "no_such_message", ()),
)
LANGS = ("zh", "en")
ROUNDS = 5000  # calls per timed batch: this port's ticks_us moves in whole milliseconds
BATCHES = 5  # best of: the WebAssembly engine warms up as it goes
ALLOC_CALLS = 20


def us_per_call(fn, rounds=ROUNDS, batches=BATCHES):
    """Best of `batches` runs of `rounds` calls of fn(), µs per call."""
    best = None
    for _ in range(batches):
        start = ticks_us()
        for _ in range(rounds):
            fn()
        took = ticks_diff(ticks_us(), start) / rounds
        best = took if best is None or took < best else best
    return best


def _bytes_per_call(fn, calls=ALLOC_CALLS):
    """Heap bytes one call allocates (gc.mem_alloc only grows within a call on this port); the
    loop's own range object shows as 16 bytes over all the calls, under one byte a call."""
    gc.collect()
    before = gc.mem_alloc()  # type: ignore[attr-defined]  # MicroPython only
    for _ in range(calls):
        fn()
    return (gc.mem_alloc() - before) / calls  # type: ignore[attr-defined]


def case_call(text, key, lang, args):
    def call():
        text(key, lang, *args)

    return call


_base = 0


def upy_phase(i):
    """Called by tests/upy/run.mjs once per phase, each in a call of its own."""
    global _base
    gc.collect()
    if i == 0:
        __import__("firmware")  # the package (128 bytes): not the catalog's
        gc.collect()
        _base = gc.mem_alloc()  # type: ignore[attr-defined]
        __import__("firmware.strings")
        return True
    held = gc.mem_alloc() - _base  # type: ignore[attr-defined]
    text = sys.modules["firmware.strings"].text
    version = ".".join(str(n) for n in sys.implementation.version[:3])
    print("MicroPython {}: firmware.strings holds {} bytes of heap once imported".format(version, held))
    print("{:<14}{:>6}{:>10}{:>12}".format("text()", "lang", "µs/call", "bytes/call"))
    figures = {"held": held}
    for name, key, args in CASES:
        for lang in LANGS:
            call = case_call(text, key, lang, args)
            call()  # warm up
            us = us_per_call(call)
            allocated = _bytes_per_call(call)
            print("{:<14}{:>6}{:>10.2f}{:>12.1f}".format(name, lang, us, allocated))
            tag = name.replace(" ", "_") + "_" + lang
            figures[tag + "_us"] = us
            figures[tag + "_bytes"] = allocated
    print("RESULT " + " ".join("{}={}".format(k, figures[k]) for k in sorted(figures)))
    return False
