# The codec's speed: encode + decode of the same 0200 sale with our codec and with pyiso8583
# (the spec of tests/host/pyiso_spec.py) side by side on CPython, the ratio, then the figures of
# bench/upy_codec.py under MicroPython (through node). Prints; never asserts.
#
# python bench/codec.py   (make bench)
import os
import sys
import timeit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)

GOAL = 2.0  # at least twice as fast as pyiso8583


def _best_us(candidates, number=2000, rounds=9):
    """{name: best µs per call} over `rounds` rounds that time every candidate in turn, so that a
    burst of load elsewhere on the machine hits all of them alike."""
    best = {}
    for _ in range(rounds):
        for name, fn in candidates:
            us = timeit.timeit(fn, number=number) / number * 1e6
            if name not in best or us < best[name]:
                best[name] = us
    return best


def cpython_figures():
    sys.path.insert(0, REPO)
    import iso8583

    from bench.upy_codec import sale_message
    from firmware.host.codec import decode, encode, encode_into
    from tests.host import pyiso_spec

    m = sale_message()
    frame = bytes(encode(m))
    spec = pyiso_spec.spec()
    doc = pyiso_spec.doc_of(m)
    raw, _ = iso8583.encode(doc, spec)
    assert bytes(raw) == frame[2:], "pyiso8583 and our codec disagree on the benchmark frame"
    buf = bytearray(2050)
    figures = _best_us(
        (
            ("ours encode", lambda: encode(m)),
            ("ours encode_into", lambda: encode_into(m, buf)),
            ("ours decode", lambda: decode(frame)),
            ("pyiso8583 encode", lambda: iso8583.encode(doc, spec)),
            ("pyiso8583 decode", lambda: iso8583.decode(frame[2:], spec)),
        )
    )
    figures["frame"] = len(frame)
    return figures


def main():
    f = cpython_figures()
    version = sys.version.split()[0]
    title = "CPython {}: a {}-byte 0200 sale, µs per call (best of 9 interleaved rounds)"
    print(title.format(version, f["frame"]))
    print("{:<22}{:>10}{:>10}{:>10}".format("", "encode", "decode", "both"))
    ours = f["ours encode"] + f["ours decode"]
    theirs = f["pyiso8583 encode"] + f["pyiso8583 decode"]
    row = "{:<22}{:>10.1f}{:>10.1f}{:>10.1f}"
    print(row.format("QianPOS codec", f["ours encode"], f["ours decode"], ours))
    print("{:<22}{:>10.1f}".format("  encode_into (reused)", f["ours encode_into"]))
    print(row.format("pyiso8583 4.0.1", f["pyiso8583 encode"], f["pyiso8583 decode"], theirs))
    ratio = theirs / ours
    verdict = "goal met" if ratio >= GOAL else "goal NOT met"
    print("ratio pyiso8583 / ours: {:.2f}x (goal: {:.0f}x, {})".format(ratio, GOAL, verdict))
    print()
    print(upy.run("upy_codec.py").output())
    return 0


if __name__ == "__main__":
    sys.exit(main())
