# The portable soft signer's bench (hal/soft/signer.py): the time of a signature, a verification, the
# first public_key() and a key's making; the heap the module and its comb table keep and what one
# signature allocates; and what each optimisation bought: affine against Jacobian coordinates,
# double-and-add against a window against the comb (2 to 8 teeth), inlined against called point
# operations, Euclid against Fermat for the inversion. Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/signer.py   (one phase per call, as bench/upy_crypto.py)
# CPython: python bench/signer.py (make bench) runs the same phases, then the MicroPython run, and
# prints both. QIANPOS_UPY_UNIX=build/unix-port/build-32bit/micropython (make unix-port) adds the
# free heap two signatures need on the frozen image (unix_free_needed). The slower variants live
# here only: hal/soft/signer.py keeps the fastest.
import gc
import hashlib
import os
import sys

if __name__ == "__main__" and sys.implementation.name != "micropython":  # run as a script on CPython
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.upy_timing import ticks_diff, ticks_us  # noqa: E402 - after the repo is on the path

_REPEATS = 5  # best of 5 runs of at least _RUN_US each (bench/upy_crypto.py says why)
_RUN_US = 200000
_KEY = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721  # RFC 6979 A.2.5
_K = 0xA6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60  # its nonce of "sample"
_DIGEST = hashlib.sha256(b"sample").digest()

# (key, label): what is timed, in the printed order.
OPERATIONS = (
    ("sign", "sign_digest (key loaded)"),
    ("verify", "verify"),
    ("public", "first public_key() (load + d*G)"),
    ("make_key", "make a key (draw, save, d*G)"),
    ("affine", "k*G affine double-and-add"),
    ("jacobian", "k*G Jacobian double-and-add"),
    ("window", "k*G Jacobian 4-bit window"),
    ("comb4_calls", "k*G comb 4, point ops called"),
    ("comb2", "k*G comb 2 teeth (3 points)"),
    ("comb4", "k*G comb 4 teeth (15 points)"),
    ("comb5", "k*G comb 5 teeth (31 points)"),
    ("comb6", "k*G comb 6 teeth (63 points)"),
    ("comb8", "k*G comb 8 teeth (255 points)"),
    ("inv_euclid", "1/x mod p, Euclid"),
    ("inv_fermat", "1/x mod p, pow(x, p-2, p)"),
    ("nonce", "RFC 6979 nonce (HMAC-SHA256)"),
)
TABLES = (2, 4, 5, 6, 8)  # comb widths whose table is built in a phase of its own (time and heap)


# ---- the slower variants, for comparison only --------------------------------------------------
def affine_mul(k, x, y):
    """k*(x, y) by double-and-add in affine coordinates: an inversion in every point operation."""
    from hal.soft.signer import P, inverse

    rx = ry = None
    for i in range(255, -1, -1):
        if rx is not None:
            m = 3 * (rx * rx - 1) * inverse(2 * ry, P) % P
            nx = (m * m - 2 * rx) % P
            ry = (m * (rx - nx) - ry) % P
            rx = nx
        if (k >> i) & 1:
            if rx is None:
                rx, ry = x, y
            else:
                m = (y - ry) * inverse(x - rx, P) % P
                nx = (m * m - rx - x) % P
                ry = (m * (rx - nx) - ry) % P
                rx = nx
    return rx, ry


def jacobian_mul(k, x, y):
    """k*(x, y) by double-and-add in Jacobian coordinates (hal.soft.signer.double and add)."""
    from hal.soft.signer import add, double

    X, Y, Z = 0, 1, 0
    for i in range(255, -1, -1):
        X, Y, Z = double(X, Y, Z)
        if (k >> i) & 1:
            X, Y, Z = add(X, Y, Z, x, y, 1)
    return X, Y, Z


def _madd(X, Y, Z, x2, y2):
    from hal.soft.signer import P

    p = P
    zz = Z * Z % p
    h = (x2 * zz - X) % p
    r = (y2 * zz % p * Z - Y) % p
    hh = h * h % p
    hhh = h * hh % p
    v = X * hh % p
    X3 = (r * r - hhh - (v << 1)) % p
    return X3, (r * (v - X3) - Y * hhh) % p, Z * h % p


def comb_calls(k, teeth=4):
    """hal.soft.signer.base_mul with its point operations as calls (double(), a mixed addition)
    instead of inlined: what inlining bought."""
    from hal.soft.signer import comb_table, double

    xs, ys = comb_table(teeth)
    spacing = (256 + teeth - 1) // teeth
    size = (teeth * spacing + 7) >> 3
    kb = k.to_bytes(size, "big")
    last = size - 1
    X = Y = Z = 0
    for i in range(spacing - 1, -1, -1):
        c = 0
        for j in range(teeth - 1, -1, -1):
            b = j * spacing + i
            c = (c << 1) | ((kb[last - (b >> 3)] >> (b & 7)) & 1)
        if Z:
            X, Y, Z = double(X, Y, Z)
            if c:
                X, Y, Z = _madd(X, Y, Z, xs[c], ys[c])
        elif c:
            X, Y, Z = xs[c], ys[c], 1
    return X, Y, Z


class CountingRandom:
    """A deterministic stand-in for os.urandom (the WebAssembly port has none). Not random."""

    def __init__(self):
        self.n = 0

    def __call__(self, n):
        self.n += 1
        return hashlib.sha256(b"bench" + str(self.n).encode()).digest()[:n]


class SignerBench:
    """Phase 0: import what the bench needs (key store, RAM storage); 1: baseline, import
    hal.soft.signer (and hal.soft.hmac256); 2: "import" figure; then one phase per comb width of
    TABLES: its table built (time), its heap the next phase's figure; then one phase per
    operation: best time in us and the bytes one call allocates (MicroPython: nothing is freed
    inside a phase, so the delta is all it allocated, garbage included)."""

    def __init__(self, mem_now, alloc_now=None, slow=True):
        self.mem_now = mem_now
        self.alloc_now = alloc_now
        self.slow = slow
        self.figures = {}
        self.problems = []
        self.ops = {}
        self._last = None

    def phase(self, i):
        gc.collect()
        now = self.mem_now()
        if i == 0:  # what the bench itself needs, before the baseline
            import hal.contracts  # noqa: F401
            import hal.soft.keystore  # noqa: F401
            import virtual.storage  # noqa: F401

            return True
        if i == 1:
            self.figures["baseline"] = now
            try:
                import hal.soft.signer  # noqa: F401
            except Exception as e:
                self.problems.append("import: {}: {}".format(type(e).__name__, e))
                return False
            return True
        if i == 2:
            self.figures["import"] = now
            self._last = "import"
        tables = len(TABLES)
        if 2 <= i < 2 + tables + 1:
            if i > 2:  # the table built in the phase before: what it keeps
                teeth = TABLES[i - 3]
                self.figures["table{}".format(teeth)] = now - self.figures[self._last]
                self._last = "after{}".format(teeth)
                self.figures[self._last] = now
            if i < 2 + tables:
                from hal.soft.signer import comb_table

                t0 = ticks_us()
                comb_table(TABLES[i - 2])
                self.figures["build{}_us".format(TABLES[i - 2])] = ticks_diff(ticks_us(), t0)
            return True
        op = i - 3 - tables
        if op < len(OPERATIONS):
            key = OPERATIONS[op][0]
            try:
                self._time(key)
            except Exception as e:
                self.problems.append("{}: {}: {}".format(key, type(e).__name__, e))
            return True
        return False

    def _op(self, key):
        from hal.soft import signer
        from hal.soft.keystore import StorageKeyStore
        from virtual.storage import RamStorage

        def loaded():
            keys = StorageKeyStore(RamStorage())
            keys.save(signer.KEY_NAME, _KEY.to_bytes(32, "big"))
            return keys

        if key == "sign":
            device = signer.SoftSigner(loaded())
            return lambda: device.sign_digest(_DIGEST)
        if key == "verify":
            device = signer.SoftSigner(loaded())
            public = device.public_key()
            signature = device.sign_digest(_DIGEST)
            return lambda: signer.verify(public, _DIGEST, signature)
        if key == "public":
            keys = loaded()
            return lambda: signer.SoftSigner(keys).public_key()
        if key == "make_key":
            source = CountingRandom()

            def make():
                signer.SoftSigner(StorageKeyStore(RamStorage()), urandom=source).public_key()

            return make
        gx, gy = signer.GX, signer.GY
        if key == "affine":
            return lambda: affine_mul(_K, gx, gy)
        if key == "jacobian":
            return lambda: signer.affine(*jacobian_mul(_K, gx, gy))
        if key == "window":
            return lambda: signer.affine(*signer.point_mul(_K, gx, gy))
        if key == "comb4_calls":
            return lambda: signer.affine(*comb_calls(_K, 4))
        if key.startswith("comb"):
            teeth = int(key[4:])
            return lambda: signer.affine(*signer.base_mul(_K, teeth))
        x = _K
        if key == "inv_euclid":
            return lambda: signer.inverse(x, signer.P)
        if key == "inv_fermat":
            return lambda: pow(x, signer.P - 2, signer.P)
        if key == "nonce":
            return lambda: next(signer.nonces(_KEY, _DIGEST))
        raise ValueError(key)

    def _time(self, key):
        fn = self._op(key)
        slow = key in ("affine", "jacobian", "window", "comb4_calls", "make_key")
        fn()  # warm up, and allocate whatever is allocated once
        before = self.alloc_now() if self.alloc_now else None
        fn()
        allocated = self.alloc_now() - before if self.alloc_now else None
        best = None
        repeats = 1 if slow and not self.slow else _REPEATS
        for _ in range(repeats):
            calls = 0
            t0 = ticks_us()
            elapsed = 0
            while elapsed < _RUN_US or calls == 0:
                fn()
                calls += 1
                elapsed = ticks_diff(ticks_us(), t0)
                if slow and not self.slow:
                    break
            us = elapsed / calls
            best = us if best is None or us < best else best
        self.ops[key] = (best, allocated)


def result_line(bench):
    """One machine-readable line for the CPython driver (sorted keys: dicts are unordered here)."""
    parts = ["{}={}".format(k, bench.figures[k]) for k in sorted(bench.figures)]
    for key in sorted(bench.ops):
        us, allocated = bench.ops[key]
        parts.append("{}_us={:.1f}".format(key, us))
        parts.append("{}_alloc={}".format(key, allocated))
    return "RESULT " + " ".join(parts)


_bench = None


def upy_phase(i):
    """Called by tests/upy/run.mjs once per phase, each in a call of its own."""
    if _bench.phase(i):
        return True
    version = ".".join(str(n) for n in sys.implementation.version[:3])
    print("MicroPython {}: hal.soft.signer".format(version))
    for p in _bench.problems:
        print("  PROBLEM " + p)
    print(result_line(_bench))
    if _bench.problems:
        raise SystemExit(1)
    return False


# ---- CPython: the same phases, the MicroPython run, one table ----------------------------------
def cpython_figures():
    """The phases on CPython: heap figures under tracemalloc, timings without it."""
    import tracemalloc

    tracemalloc.start()
    bench = SignerBench(lambda: tracemalloc.get_traced_memory()[0])
    i = 0
    while True:
        if i == 3 + len(TABLES):  # the heap figures are taken: time without tracing
            tracemalloc.stop()
        if not bench.phase(i):
            break
        i += 1
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    figures = dict(bench.figures)
    for key, (us, allocated) in bench.ops.items():
        figures[key + "_us"] = us
        figures[key + "_alloc"] = allocated
    return figures, bench.problems


# The frozen image's free heap for signing: the key store and the signer are built (and, warm, one
# signature made: the table built, the key loaded), then the heap is filled with 16-byte bytearrays
# until at most FREE bytes are free, then two signatures are made. Run from .frozen alone.
_UNIX_SCRIPT = """
import gc
from hal.soft.keystore import StorageKeyStore
from hal.soft.signer import KEY_NAME, SoftSigner
from virtual.storage import RamStorage
keys = StorageKeyStore(RamStorage())
keys.save(KEY_NAME, (%d).to_bytes(32, "big"))
hold = [None] * 3000
signer = SoftSigner(keys)
if %d:
    signer.sign_digest(bytes(32))
gc.collect()
i = 0
while gc.mem_free() > %d:
    hold[i] = bytearray(16)
    i += 1
gc.collect()
left = gc.mem_free()
signer.sign_digest(b"\\x01" * 32)
signer.sign_digest(b"\\x02" * 32)
print("SIGNED", left)
"""
_UNIX_HEAP_KB = 96


def unix_free_needed(binary, warm):
    """The least free heap (bytes, to 32) in which the frozen image's signer makes two signatures:
    warm, after one signature (table built, key loaded); cold, the first ones. None if it never
    signs in the 40,000 bytes tried."""
    import subprocess

    def signs(free):
        proc = subprocess.run(
            [binary, "-X", "heapsize={}K".format(_UNIX_HEAP_KB), "-c", _UNIX_SCRIPT % (_KEY, warm, free)],
            env=dict(os.environ, MICROPYPATH=".frozen"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        return proc.returncode == 0 and "SIGNED" in proc.stdout

    lo, hi = 0, 40000
    if not signs(hi):
        return None
    while hi - lo > 32:
        mid = (lo + hi) // 2
        if signs(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _cell(figures, key, fmt="{:,.0f}"):
    if figures is None or figures.get(key) is None:
        return "-"
    return fmt.format(figures[key])


def main():
    from bench import upy

    os.chdir(upy.REPO)
    run = upy.run("signer.py")
    upy_figures, upy_output = run.figures, run.output()
    cpy, cpy_problems = cpython_figures()
    print(upy_output)
    for p in cpy_problems:
        print("CPython PROBLEM " + p)
    print()
    row = "{:<36}{:>14}{:>12}{:>18}"
    print(row.format("microseconds per call", "MicroPython", "CPython", "MicroPython alloc"))
    for key, label in OPERATIONS:
        print(
            row.format(
                label,
                _cell(upy_figures, key + "_us"),
                _cell(cpy, key + "_us"),
                _cell(upy_figures, key + "_alloc", "{:,.0f} B"),
            )
        )
    print()
    print(row.format("comb table", "build us", "heap B", "CPython heap B"))
    for teeth in TABLES:
        print(
            row.format(
                "{} teeth ({} points)".format(teeth, (1 << teeth) - 1),
                _cell(upy_figures, "build{}_us".format(teeth)),
                _cell(upy_figures, "table{}".format(teeth)),
                _cell(cpy, "table{}".format(teeth)),
            )
        )
    if upy_figures is not None and cpy is not None:
        print(
            "import hal.soft.signer (+ hmac256): MicroPython +{:,.0f} B, CPython +{:,.0f} B".format(
                upy_figures["import"] - upy_figures["baseline"], cpy["import"] - cpy["baseline"]
            )
        )
    binary = os.environ.get("QIANPOS_UPY_UNIX")
    if binary:
        print()
        print("frozen image (unix port, {} KB heap): free heap two signatures need".format(_UNIX_HEAP_KB))
        for warm, label in ((1, "after a first signature (table built, key loaded)"), (0, "the first ones")):
            needed = unix_free_needed(binary, warm)
            print("  {}: {}".format(label, "-" if needed is None else "{:,} B".format(needed)))
    else:
        print("(QIANPOS_UPY_UNIX unset: the frozen image's heap for signing is not measured)")
    wanted = ["import"] + [k + "_us" for k, _l in OPERATIONS] + ["table{}".format(t) for t in TABLES]
    complete = upy_figures is not None and all(upy_figures.get(k) is not None for k in wanted)
    complete = complete and all(cpy.get(k) is not None for k in wanted)
    return upy.verdict("signer", complete, cpy_problems, upy_output)


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        _bench = SignerBench(gc.mem_alloc, gc.mem_alloc)  # type: ignore[attr-defined]
    else:
        sys.exit(main())
