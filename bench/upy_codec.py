# The codec's cost on one 0200 sale: µs per encode (new frame and into a reused buffer) and per
# decode, and heap bytes allocated by each. Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_codec.py   (bench/codec.py runs it and reads the
#   RESULT line). CPython can import this module too: bench/codec.py uses sale_frame().
import gc
import sys
import time

from firmware.host import messages
from firmware.host.codec import decode, encode, encode_into

ROUNDS = 300


def sale_message():
    """The 0200 both benches use: swiped card with a PIN, the MAC room in F64."""
    acc = messages.Acceptor("10000001", "898100012340001")
    return messages.sale(acc, 123, 7, 12345, "6217001234567895675=25121011234", "swipe", pin_block=bytes(8))


def _us_per(fn, arg, rounds, batches=5):
    """Best of `batches` runs of `rounds` calls (the WebAssembly engine warms up as it goes)."""
    ticks_us = getattr(time, "ticks_us")
    ticks_diff = getattr(time, "ticks_diff")
    best = None
    for _ in range(batches):
        start = ticks_us()
        for _ in range(rounds):
            fn(arg)
        took = ticks_diff(ticks_us(), start) / rounds
        best = took if best is None or took < best else best
    return best


def _bytes_per(fn, arg, rounds):
    """Heap bytes one call allocates (gc.mem_alloc grows: this port frees nothing mid-call)."""
    gc.collect()
    before = gc.mem_alloc()  # type: ignore[attr-defined]
    for _ in range(rounds):
        fn(arg)
    return (gc.mem_alloc() - before) // rounds  # type: ignore[attr-defined]


def measure():
    m = sale_message()
    frame = bytes(encode(m))
    buf = bytearray(2050)

    def into(msg):
        encode_into(msg, buf)

    figures = {"frame_bytes": len(frame)}
    for name, fn, arg in (("encode", encode, m), ("encode_into", into, m), ("decode", decode, frame)):
        for _ in range(ROUNDS):  # warm up
            fn(arg)
        figures[name + "_us"] = int(_us_per(fn, arg, ROUNDS) + 0.5)
        figures[name + "_heap"] = _bytes_per(fn, arg, 20)
    return figures


if __name__ == "__main__":
    f = measure()
    version = ".".join(str(n) for n in sys.implementation.version[:3])
    print("MicroPython {}: a {}-byte 0200 sale, {} rounds".format(version, f["frame_bytes"], ROUNDS))
    for name in ("encode", "encode_into", "decode"):
        print("  {:<12} {:>6} us  {:>6} heap bytes a call".format(name, f[name + "_us"], f[name + "_heap"]))
    print("RESULT " + " ".join("{}={}".format(k, f[k]) for k in sorted(f)))
