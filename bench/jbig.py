# The signature image (bench/upy_jbig.py) over the bench set of sim/signatures.py: sizes, encode and
# draw time on CPython, then on MicroPython from source (the WebAssembly runtime under node) over a
# quarter of the set, with the heap of an encode; MicroPython's sizes must equal CPython's (the same
# bytes on both runtimes). Prints; never asserts.
#
# python bench/jbig.py   (make bench)
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)
from bench.upy_jbig import run  # noqa: E402
from sim import signatures  # noqa: E402

MICROPYTHON_EVERY = 4  # MicroPython encodes every 4th signature (its time, not its sizes, is the point)


def packed_set():
    """The bench set as upy_jbig takes it: per signature, per stroke, bytes of x, y pairs."""
    out = []
    for sig in signatures.bench_set():
        out.append([bytes(v for x, y in s for v in (x, y)) for s in sig.points()])
    return out


def main():
    data = packed_set()
    kinds = [s.kind for s in signatures.bench_set()]
    print(
        "== the set: {} signatures ({} Latin-like, {} Chinese-like), seed {}".format(
            len(data), kinds.count("latin"), kinds.count("chinese"), signatures.BENCH_SEED
        )
    )
    print("== CPython {}".format(sys.version.split()[0]))
    sizes = run(data, result=False)
    subset = data[::MICROPYTHON_EVERY]
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "upy_jbig_set.py")
        with open(script, "w") as f:
            f.write("from bench.upy_jbig import run\nSET = {!r}\nrun(SET)\n".format(subset))
        result = upy.run(script, number=str)
    print("== MicroPython, from source ({} signatures: every {}th)".format(len(subset), MICROPYTHON_EVERY))
    print(result.output())
    problems = []
    if result.figures is not None:
        upy_sizes = [int(v) for v in result.figures["sizes"].split(",")]
        if upy_sizes != sizes[::MICROPYTHON_EVERY]:
            problems.append("MicroPython's sizes differ from CPython's")
            print("PROBLEM: MicroPython's image sizes differ from CPython's for the same strokes")
        else:
            print("the same {} sizes on both runtimes".format(len(upy_sizes)))
    return upy.verdict("jbig", result.figures is not None, problems, result.output())


if __name__ == "__main__":
    sys.exit(main())
