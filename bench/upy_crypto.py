# The security primitives' costs: microseconds per DES block, 3DES block, MAC of a 200-byte message
# (both algorithms), PIN block, key schedule; bytes each allocates; heap the modules add on import.
# Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_crypto.py   (one phase per call, see upy_memory.py)
# CPython: bench/crypto.py runs the same phases (perf_counter, tracemalloc), then prints both.
import gc
import sys

from bench.upy_timing import ticks_diff, ticks_us

# Best of 5 runs of at least 100 ms each: ticks_us of the WebAssembly port moves in whole
# milliseconds, the first runs of a loop are slower (WebAssembly tiers up as it warms), and other
# processes on the machine add noise that a minimum filters out.
_REPEATS = 5
_RUN_US = 100000
_MAC_KEY = b"\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98\x76\x54\x32\x10"
_MESSAGE = bytes((i * 7 + 3) & 255 for i in range(200))
_PAN = "6222021234567890128"
_PIN = "123456"

# (key, label): the timed operations, in the printed order.
OPERATIONS = (
    ("des", "DES block"),
    ("tdes", "3DES block"),
    ("ecb_mac", "POS ECB MAC, 200 bytes"),
    ("x919", "X9.19 MAC, 200 bytes"),
    ("pin", "PIN block (format 0 + 3DES)"),
    ("schedule", "3DES key schedule (16 bytes)"),
    ("sm_pin", "module: encrypt_pin_block"),
    ("sm_x919", "module: mac x919, 200 bytes"),
    ("sm_ecb", "module: mac ecb, 200 bytes"),
    ("sm_signin", "module: load_working_keys 003"),
)


class CryptoBench:
    """Phase 0: baseline; 1: import; 2: "import" figure, build the keys; 3: "keys" figure, import
    hal.soft.security, hal.soft.keystore and virtual.storage; 4: "softsec" figure, build a soft
    security module (RAM key store, TMK and working keys loaded); 5: "module" figure; then one phase
    per operation (from 6): its best time in us, and the bytes one call allocates
    (MicroPython only: there nothing is freed inside a phase, so the delta is what it allocated)."""

    def __init__(self, mem_now, alloc_now=None):
        self.mem_now = mem_now
        self.alloc_now = alloc_now
        self.figures = {"baseline": None, "import": None, "keys": None, "softsec": None, "module": None}
        self.problems = []
        self.ops = {}

    def phase(self, i):
        gc.collect()
        now = self.mem_now()
        f = self.figures
        if i == 0:
            f["baseline"] = now
            return True
        if i == 1:
            try:
                import hal.soft.des  # noqa: F401
                import hal.soft.mac  # noqa: F401
            except Exception as e:
                self.problems.append("import: {}: {}".format(type(e).__name__, e))
                return False
            return True
        if i == 2:
            f["import"] = now
            self._keys()
            return True
        if i == 3:
            f["keys"] = now
            try:
                import hal.soft.keystore  # noqa: F401
                import hal.soft.security  # noqa: F401
                import virtual.storage  # noqa: F401
            except Exception as e:
                self.problems.append("import hal.soft.security: {}: {}".format(type(e).__name__, e))
                return False
            return True
        if i == 4:
            f["softsec"] = now
            self._module()
            return True
        if i == 5:
            f["module"] = now
            return True
        j = i - 6
        if j < len(OPERATIONS):
            self._time(OPERATIONS[j][0])
            return True
        return False

    def _keys(self):
        from hal.soft.des import DES, TripleDES

        self.des = DES(_MAC_KEY[:8])
        self.mak = TripleDES(_MAC_KEY)
        self.pik = TripleDES(_MAC_KEY[8:] + _MAC_KEY[:8])
        self.block = bytearray(8)
        self.pin_out = bytearray(8)

    def _module(self):
        from hal.soft.des import TripleDES, check_value
        from hal.soft.keystore import StorageKeyStore
        from hal.soft.security import SoftSecurityModule
        from virtual.storage import RamStorage

        tmk = _MAC_KEY[8:] + _MAC_KEY[:8]
        f62 = b""
        for key in (_MAC_KEY[4:] + _MAC_KEY[:4], _MAC_KEY):
            f62 += TripleDES(tmk).encrypt(key) + check_value(key)
        self.f62 = f62
        self.module = SoftSecurityModule(StorageKeyStore(RamStorage()), urandom=lambda n: bytes(n))
        self.module.load_tmk_components([tmk])
        self.module.load_working_keys(f62, "003")

    def _op(self, key):
        from hal.soft.des import TripleDES
        from hal.soft.mac import pin_block_format0, pos_ecb_mac, x919_mac

        block = self.block
        if key == "des":
            des = self.des
            return lambda: des.encrypt_into(block, block)
        if key == "tdes":
            mak = self.mak
            return lambda: mak.encrypt_into(block, block)
        if key == "ecb_mac":
            return lambda: pos_ecb_mac(self.mak, _MESSAGE)
        if key == "x919":
            return lambda: x919_mac(self.mak, _MESSAGE)
        if key == "pin":
            out = self.pin_out
            pik = self.pik

            def pin():
                pin_block_format0(_PIN, _PAN, out)
                pik.encrypt_into(out, out)

            return pin
        module = getattr(self, "module", None)
        if key == "sm_pin":
            return lambda: module.encrypt_pin_block(_PIN, _PAN)
        if key == "sm_x919":
            return lambda: module.mac(_MESSAGE, "x919")
        if key == "sm_ecb":
            return lambda: module.mac(_MESSAGE, "ecb")
        if key == "sm_signin":
            return lambda: module.load_working_keys(self.f62, "003")
        return lambda: TripleDES(_MAC_KEY)

    def _time(self, key):
        fn = self._op(key)
        fn()  # warm up, and allocate whatever is allocated once
        before = self.alloc_now() if self.alloc_now else None
        fn()
        allocated = self.alloc_now() - before if self.alloc_now else None
        best = None
        for _ in range(_REPEATS):
            calls = 0
            t0 = ticks_us()
            elapsed = 0
            while elapsed < _RUN_US:
                for _ in range(10):
                    fn()
                calls += 10
                elapsed = ticks_diff(ticks_us(), t0)
            us = elapsed / calls
            best = us if best is None or us < best else best
        self.ops[key] = (best, allocated)


def measure(mem_now, alloc_now=None):
    """All phases in one go (CPython): (bench, problems)."""
    bench = CryptoBench(mem_now, alloc_now)
    i = 0
    while bench.phase(i):
        i += 1
    return bench


def result_line(bench):
    """One machine-readable line for bench/crypto.py (sorted keys: dicts are unordered here)."""
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
    print("MicroPython {}: hal.soft.des + hal.soft.mac + hal.soft.security".format(version))
    for p in _bench.problems:
        print("  PROBLEM " + p)
    print(result_line(_bench))
    if _bench.problems:
        raise SystemExit(1)
    return False


if __name__ == "__main__":
    _bench = CryptoBench(gc.mem_alloc, gc.mem_alloc)
