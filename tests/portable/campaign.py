# The corruption campaign: every registered stored file, damaged every way we know, then two boots.
# After each boot the terminal must hand out a (batch, trace) pair never handed out before, boot
# without crashing, and leave no file the registry does not know. Portable: runs on both runtimes.
from firmware import batch as batch_journal
from firmware import registry
from firmware.compat import crc32
from firmware.journal import Journal
from firmware.params import Params
from firmware.terminal import Terminal
from firmware.touchcal import store as store_touch_calibration
from firmware.wifi import store as store_wifi
from tests.portable.fakes import make_board
from virtual.storage import RamStorage

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


def damages(original, step=1, bits=False):
    """(label, bytes) for every damage of one file's content; step > 1 samples the long families.
    bits: every single bit of every byte flipped too (a digit turned into another digit)."""
    for n in range(0, len(original), step):
        yield "truncate", original[:n]
    for i in range(0, len(original), step):
        flipped = bytearray(original)
        flipped[i] ^= 0xFF
        yield "flip", bytes(flipped)
    for i in range(0, len(original) if bits else 0, step):
        for bit in range(8):
            flipped = bytearray(original)
            flipped[i] ^= 1 << bit
            yield "bit", bytes(flipped)
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


def _batch_sale(pair):
    return {
        "batch": pair[0],
        "trace": pair[1],
        "amount": 1234,
        "card": "621700*********5675",
        "org": "CUP",
        "mode": "insert",
        "time": 1795392000,
        "op": "01",
    }


def _batch_records(storage, handed):
    """The batch journal from its first records, on pairs already handed out (it saves no counters:
    the counters' damage families keep the generations they were written for): two sales settled
    into the archive, then an approved sale and one in doubt whose reversal went."""
    journal = batch_journal.Batch(storage)
    pairs = sorted(handed)
    for pair, approved in ((pairs[0], True), (pairs[1], False)):
        journal.begin(batch_journal.SALE, _batch_sale(pair))
        state = "approved" if approved else "declined"
        journal.change(pair[0], pair[1], 1795392001, state=state, code="00", rrn="000000000007")
    totals = {"dn": 1, "da": 1234, "dcn": 0, "dca": 0, "fn": 0, "fa": 0, "fcn": 0, "fca": 0}
    journal.settle(dict(totals, batch=pairs[0][0], time=1795392002, result="11"))
    for pair, approved in ((pairs[2], True), (pairs[3], False)):
        journal.begin(batch_journal.SALE, _batch_sale(pair))
        if approved:
            journal.change(pair[0], pair[1], 1795392003, state="approved", rrn="000000000008")
        else:
            journal.change(pair[0], pair[1], 1795392003, state="in_doubt", code="98")
            journal.reversal_outcome(pair[0], pair[1], "reversed", "00", 1795392004)


def _batch_view(storage):
    """{(batch, trace): (amount, card or kind, rrn, state or voided)} of every transaction and
    archive row the batch journal shows."""
    journal = batch_journal.Batch(storage)
    out = {}
    for t in journal.transactions():
        out[(t["batch"], t["trace"])] = (t["amount"], t["card"], t["rrn"], t["state"])
    for r in journal.archive_rows(limit=0):
        out[(r["batch"], r["trace"])] = (r["amount"], r["kind"], r["rrn"], r["voided"])
    return out


def _check_batch(storage, expected, where, failures):
    """The batch journal opens whatever the damage, and shows nothing it was not given: each
    transaction it shows is one written, with its amount and card; its RRN and state are the
    written ones or those before (a lost change), never others."""
    try:
        shown = _batch_view(storage)
    except Exception as exc:  # noqa: BLE001 - a crash is what the campaign looks for
        failures.append("{}: the batch journal crashed: {!r}".format(where, exc))
        return False
    for pair in shown:
        got = shown[pair]
        want = expected.get(pair)
        ok = want is not None and got[:2] == want[:2] and got[2] in ("", want[2])
        ok = ok and (got[3] == want[3] or got[3] in ("sent", "in_doubt"))
        if not ok:
            failures.append("{}: the batch journal shows {} {} (written {})".format(where, pair, got, want))
            return False
    return True


class Campaign:
    """Counts per stored file name: cases run. `failures` lists what went wrong (empty = passed)."""

    def __init__(self, step=1):
        self.step = step
        self.cases = {}
        self.failures = []
        probe = RamStorage()
        self._setup(probe)
        self.expected = _batch_view(probe)  # what the batch journal shows undamaged

    def _setup(self, storage):
        """A terminal that has handed out numbers and saved its parameters twice (both generations
        exist); returns the set of (batch, trace) pairs handed out."""
        board = make_board(storage=storage)
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
        handed = set()
        for _ in range(3):
            handed.add((term.counters.batch, term.counters.next_trace()))
        _journal_records(storage, term.counters, handed)
        _batch_records(storage, handed)
        return handed

    def _boot_and_hand_out(self, storage, handed, where):
        storage.power_cut()
        storage.power_on()
        try:
            term = Terminal(make_board(storage=storage))
            term.settle()
        except Exception as exc:  # noqa: BLE001 - a crash at boot is exactly what the campaign looks for
            self.failures.append("{}: boot crashed: {!r}".format(where, exc))
            return False
        if term.counters is None:
            self.failures.append("{}: no counters (fault {})".format(where, term.fault))
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
        return _check_batch(storage, self.expected, where, self.failures)

    def run_file(self, name):
        """Every damage of the stored file `name` (a registered record's file)."""
        probe = RamStorage()
        self._setup(probe)
        if name in probe.list():
            original = probe.read(name)
        elif name == batch_journal.ARCHIVE_TMP:  # a half-written archive: a copy of the archive
            original = probe.read(batch_journal.archive_name(1))
        else:  # a temp or legacy file: damage a copy of the newest generation put there
            base = registry.owner(name).name
            original = probe.read(base + ".a")
        count = 0
        bits = batch_journal.owns(name) and self.step == 1  # the full campaign only: 8 cases a byte
        for label, data in damages(original, self.step, bits):
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
        probe = RamStorage()
        self._setup(probe)
        for name in batch_journal.files_of(probe) + [batch_journal.ARCHIVE_TMP]:
            self.run_file(name)
        return self

    def report(self):
        lines = ["{:<22} {} cases".format(name, self.cases[name]) for name in sorted(self.cases)]
        lines.append(
            "{:<22} {} cases, {} failures".format("total", sum(self.cases.values()), len(self.failures))
        )
        return "\n".join(lines)
