# The corruption campaign: every registered stored file, damaged every way we know, then two boots.
# After each boot the terminal must hand out a (batch, trace) pair never handed out before, boot
# without crashing, and leave no file the registry does not know. Portable: runs on both runtimes.
from firmware import registry
from firmware.compat import crc32
from firmware.journal import Journal
from firmware.operators import ADMIN, SUPERVISOR, table
from firmware.params import Params
from firmware.terminal import Terminal
from firmware.touchcal import store as store_touch_calibration
from firmware.wifi import store as store_wifi
from hal.soft.keystore import StorageKeyStore
from hal.soft.security import SoftSecurityModule
from tests.portable.drive import random_bytes, set_passwords
from tests.portable.fakes import make_board
from virtual.storage import TEAR_MODES, RamStorage

_EISDIR = 21


class DirectoryInTheWay(RamStorage):
    """RamStorage where `blocked` is a directory: it is listed, but reading, writing, renaming over
    it and removing it fail as a file system does for a directory."""

    def __init__(self):
        super().__init__()
        self.blocked = None  # set when the directory appears

    def _check(self, name):
        if name == self.blocked:
            raise OSError(_EISDIR, "is a directory")

    def read(self, name):
        self._check(name)
        return super().read(name)

    def write(self, name, data):
        self._check(name)
        super().write(name, data)

    def append(self, name, data):
        self._check(name)
        super().append(name, data)

    def rename(self, old, new):
        self._check(old)
        self._check(new)
        super().rename(old, new)

    def remove(self, name):
        self._check(name)
        super().remove(name)

    def list(self):
        names = super().list()
        if self.blocked is not None and self.blocked not in names:
            names = sorted(names + [self.blocked])
        return names


def _framed(payload):
    """A generation with a correct header and checksum around any payload bytes."""
    head = "QPR1 00000009 {:04x} {:08x}\n".format(len(payload), crc32(payload))
    return head.encode() + payload


def damages(original, step=1):
    """(label, bytes) for every damage of one file's content; step > 1 samples the long families."""
    for n in range(0, len(original), step):
        yield "truncate", original[:n]
    for i in range(0, len(original), step):
        flipped = bytearray(original)
        flipped[i] ^= 0xFF
        yield "flip", bytes(flipped)
    yield "deep", b"[" * 50000
    yield "deep-framed", _framed(b'{"v":' * 2000 + b"1" + b"}" * 2000)
    yield "wrong-types", _framed(b'{"v":true,"n":"5","batch":[1],"reserved":null,"terminal_id":1}')
    yield "bools", _framed(b'{"v":1,"n":true,"batch":true,"reserved":true,"language":true}')
    yield (
        "huge-numbers",
        _framed(b'{"v":1,"n":' + b"9" * 40 + b',"batch":1e999,"reserved":' + b"9" * 40 + b"}"),
    )
    yield "bad-utf8", _framed(b'{"v":1,"merchant_name":"\xff\xfe\xc0"}')
    yield "empty", b""
    yield "deleted", False
    yield "directory", None


def _journal_records(storage, counters, handed):
    """Two generations of every journal record: two sales (one approved, one given up to the
    audit), two sign-ins."""
    journal = Journal(storage)
    for approved in (True, False):
        batch, trace = counters.batch, counters.next_trace()
        handed.add((batch, trace))
        txn = {"kind": "sale", "trace": trace, "batch": batch, "amount": 1234}
        txn.update({"card": "621700*********5675", "mode": "insert", "time": 1795392000})
        fields = {3: "000000", 4: "000000001234", 11: "00000" + str(trace), 41: "10000001"}
        journal.write_ahead(txn, fields)
        if approved:
            journal.record_outcome("approved", "00", "000000000001", "A00001")
            journal.clear_reversal()
        else:
            journal.keep_reversal("98")
            journal.give_up_reversal(1795392000)
        journal.signed_in(20780 + trace, 1795392000)


class Campaign:
    """Counts per stored file name: cases run. `failures` lists what went wrong (empty = passed)."""

    def __init__(self, step=1):
        self.step = step
        self.cases = {}
        self.failures = []

    def _setup(self, storage):
        """A terminal that has handed out numbers and saved its parameters twice (both generations
        exist); returns the set of (batch, trace) pairs handed out."""
        self.key_store = StorageKeyStore(RamStorage())  # the device key stays across the boots
        board = self._board(storage)
        params = Params.load(storage)
        params.merchant_name = "钱记小店"
        params.save(storage)
        params.language = "en"
        params.save(storage)
        store_touch_calibration(storage, (65, -3, 1000, 2, 70, -5000))
        store_touch_calibration(storage, (66, -3, 1000, 2, 70, -5000))
        store_wifi(storage, "shop", "20261129")
        store_wifi(storage, "back-office", "")
        term = Terminal(board)
        for _ in range(2):  # both generations of the uptime and the event log
            term.uptime.save()
            term.log_event("clock_set")
        # The password table past its factory state (both generations), an operator, a wrong try.
        set_passwords(term)
        table(term).set_password("05", "2580", 1)
        table(term).check(SUPERVISOR, "999999")
        handed = set()
        for _ in range(3):
            handed.add((term.counters.batch, term.counters.next_trace()))
        _journal_records(storage, term.counters, handed)
        return handed

    def _board(self, storage):
        security = SoftSecurityModule(self.key_store, urandom=random_bytes)
        return make_board(storage=storage, security=security)

    def _boot_and_hand_out(self, storage, handed, where):
        storage.power_cut()
        storage.power_on()
        try:
            term = Terminal(self._board(storage))
            term.settle()
        except Exception as exc:  # noqa: BLE001 - a crash at boot is exactly what the campaign looks for
            self.failures.append("{}: boot crashed: {!r}".format(where, exc))
            return False
        if term.counters is None:
            self.failures.append("{}: no counters (fault {})".format(where, term.fault))
            return False
        tab = table(term)
        if not tab.fault:
            ops = tab.ops
            if ops[ADMIN][0] == "" or ops[SUPERVISOR][0] == "":
                self.failures.append("{}: a factory password came back".format(where))
                return False
        pair = (term.counters.batch, term.counters.next_trace())
        if pair in handed:
            self.failures.append("{}: pair {} handed out twice".format(where, pair))
            return False
        handed.add(pair)
        unknown = [n for n in registry.unknown_files(storage) if n != getattr(storage, "blocked", None)]
        if unknown:
            self.failures.append("{}: unknown files {}".format(where, unknown))
            return False
        return True

    def run_file(self, name):
        """Every damage of the stored file `name` (a registered record's file)."""
        probe = RamStorage()
        self._setup(probe)
        if name in probe.list():
            original = probe.read(name)
        else:  # a temp or legacy file: damage a copy of the newest generation put there
            base = registry.owner(name).name
            original = probe.read(base + ".a")
        count = 0
        for label, data in damages(original, self.step):
            storage = DirectoryInTheWay()
            handed = self._setup(storage)
            if data is None or data is False:
                if name in storage.list():
                    storage.remove(name)
                if data is None:
                    storage.blocked = name
            else:
                storage.write(name, data)
                storage.sync()
            where = "{} {} ({} bytes)".format(name, label, len(data) if data else 0)
            for boot in (1, 2):
                if not self._boot_and_hand_out(storage, handed, where + " boot {}".format(boot)):
                    break
            count += 1
        self.cases[name] = count

    def run(self):
        for spec in registry.RECORDS:
            for name in spec.files():
                self.run_file(name)
        return self

    def report(self):
        lines = ["{:<22} {} cases".format(name, self.cases[name]) for name in sorted(self.cases)]
        lines.append(
            "{:<22} {} cases, {} failures".format("total", sum(self.cases.values()), len(self.failures))
        )
        return "\n".join(lines)


def power_cut_campaign(attempt):
    """The power-cut campaign of one action: attempt(n, tear) runs it with the power cut at its
    n-th storage operation (RamStorage.cut_at(n, tear)), checks what the reboot finds and returns
    True if the cut fired, False once the action did fewer than n operations. Every operation is
    cut in every tear mode; returns the number of cuts that fired."""
    runs = 0
    for tear in TEAR_MODES:
        n = 1
        while attempt(n, tear):
            runs += 1
            n += 1
    return runs
