# The corruption campaign: every registered stored file, damaged every way we know, then two boots.
# After each boot the terminal must hand out a (batch, trace) pair never handed out before, boot
# without crashing (damage is a fault on the screen; lost counters are recovered by the service
# action, as support would), never reverse a sale that was approved, and leave no file the registry
# does not know. The setup leaves the records at low and higher sequence numbers (one, two or three
# sales); every bit of every header byte is flipped, and every subset of the trace-holding records
# (counters, provisioned, txn, reversal, audit) is deleted. Portable: runs on both runtimes; the
# storage is a factory (tests/host runs it on the simulator's disk storage too). The batch journal's
# files (firmware/batch.py) are damaged the same way: it opens whatever the damage and shows nothing
# it was not given.
import sys

from firmware import batch as batch_journal
from firmware import registry
from firmware import settle as settlement
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
# MicroPython (WebAssembly, in CI) runs a terminal some thirty times slower than CPython. There the
# power-cut campaigns of the flows (sale, reversal, void, refund, signature, settlement) cut each
# storage operation once, in one tear mode, the mode turning with the operation (CUT_SAMPLE = the
# number of tear modes: power_cut_campaign's step, or n cut in mode t when (n + t) % CUT_SAMPLE is
# 0). CPython cuts every operation in every mode.
CUT_SAMPLE = len(TEAR_MODES) if sys.implementation.name == "micropython" else 1


class DirectoryInTheWay(RamStorage):
    """RamStorage where `blocked` is a directory: it is listed, but reading, writing, renaming over
    it and removing it fail as a file system does for a directory."""

    def __init__(self):
        super().__init__()
        self.blocked = None  # set when the directory appears

    def block(self, name):
        """A directory appears at name (which no longer exists as a file)."""
        self.blocked = name

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


def damages(original, step=1, header_bits=True, header_step=1):
    """(label, bytes) for every damage of one file's content; step > 1 samples the long families.
    Every bit of the 28-byte header is flipped, one at a time (header_bits False: one bit of every
    header_step-th header byte, a different one each time), and a sample of the payload's bits (one
    bit of every step-th byte) and bytes."""
    for n in range(0, len(original), step):
        yield "truncate", original[:n]
    for i in range(0, len(original)):
        if i < 28:
            if header_bits:
                bits = list(range(8))
            else:
                bits = [(i // header_step) % 8] if i % header_step == 0 else []
        else:
            bits = [(i // step) % 8] if i % step == 0 else []
        for bit in bits:
            flipped = bytearray(original)
            flipped[i] ^= 1 << bit
            yield "flip {}.{}".format(i, bit), bytes(flipped)
    for i in range(28, len(original), step * 8):
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


# The records whose files the subset deletions take away (each generation, in every combination).
TRACE_FILES = ("counters", "provisioned", "txn", "reversal", "audit")


def _journal_records(storage, counters, handed, approved_pairs, sales):
    """The journal records after `sales` sales (the last approved, the one before given up to the
    audit) and as many sign-ins."""
    journal = Journal(storage)
    for i in range(sales):
        approved = i == sales - 1
        batch, trace = counters.batch, counters.next_trace()
        handed.add((batch, trace))
        txn = {"kind": "sale", "trace": trace, "batch": batch, "amount": 1234}
        txn.update({"card": "621700*********5675", "mode": "insert", "time": 1795392000})
        fields = {3: "000000", 4: "000000001234", 11: "00000" + str(trace), 41: "10000001"}
        journal.write_ahead(txn, fields)
        if approved:
            journal.record_outcome("approved", "00", "000000000001", "A00001")
            journal.clear_reversal()
            approved_pairs.add((batch, trace))
        else:
            journal.keep_reversal("98")
            journal.give_up_reversal(1795392000)
        journal.mark_shown()  # the operator left the result screen (the shown record)
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


def _batch_records(storage, counters, handed):
    """The batch journal from its first records: two sales settled into the archive (batch 1),
    then, in the next batch, an approved sale and one in doubt whose reversal went. The sales of
    _journal_records() come after them (the journal mirrors each)."""
    journal = batch_journal.Batch(storage)
    pairs = []
    for i in range(4):
        if i == 2:
            counters.next_batch()
        pairs.append((counters.batch, counters.next_trace()))
        handed.add(pairs[-1])
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


# The setup whose terminal also wrote the batch journal (it needs four pairs handed out).
BATCH_SALES = 3


class Campaign:
    """Counts per stored file name: cases run. `failures` lists what went wrong (empty = passed).
    make_storage(): a new empty storage whose directory in the way `blocked` can be set
    (DirectoryInTheWay here; tests/host passes the simulator's disk storage); reopen(storage): the
    storage after a power cycle (the same object here; a new one over the same directory on disk).
    sales: the setups (how many sales before the damage: the records' sequence numbers).
    header_bits: the records whose files get every header bit flipped (None: every record); the
    others get one bit of every header_step-th header byte flipped."""

    def __init__(
        self,
        step=1,
        make_storage=DirectoryInTheWay,
        reopen=None,
        sales=(1, 2, 3),
        header_bits=None,
        header_step=1,
    ):
        self.step = step
        self.header_step = header_step
        # the records whose files get every header bit flipped (None: all; the others one a byte)
        self.header_bits = header_bits
        self.make_storage = make_storage
        self.reopen = reopen or _power_cycle
        self.sales = sales
        self.cases = {}
        self.failures = []
        self._setups = {}
        self._expected = {}
        self.key_store = StorageKeyStore(RamStorage())  # the device key, across every setup and boot

    def _setup(self, storage, sales=3):
        """A terminal that saved its parameters twice, handed out numbers and made `sales` sales;
        returns (the (batch, trace) pairs handed out, those of approved sales)."""
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
        # The last settlement's report (step "done"), both generations: a damaged one reads as
        # unfinished (the boot asks to continue it), never as a closed batch.
        state = settlement.State(storage)
        state.write(step=settlement.DONE, time=1795392000)
        state.write(step=settlement.DONE, time=1795392001)
        term = Terminal(board)
        for _ in range(2):  # both generations of the uptime and the event log
            term.uptime.save()
            term.log_event("clock_set")
        # The password table past its factory state (both generations), an operator, a wrong try.
        set_passwords(term)
        table(term).set_password("05", "2580", 1)
        table(term).check(SUPERVISOR, "999999")
        handed = set()
        approved = set()
        for _ in range(sales):
            handed.add((term.counters.batch, term.counters.next_trace()))
        if sales == BATCH_SALES:
            _batch_records(storage, term.counters, handed)
        _journal_records(storage, term.counters, handed, approved, sales)
        return handed, approved

    def _board(self, storage):
        security = SoftSecurityModule(self.key_store, urandom=random_bytes)
        return make_board(storage=storage, security=security)

    def _boot_and_hand_out(self, storage, handed, approved, where, sales):
        storage = self.reopen(storage)
        try:
            term = Terminal(self._board(storage))
            term.settle()
            if term.counters is None and term.fault is not None:
                term.recover_counters()  # the service action (two confirmations on the terminal)
        except Exception as exc:  # noqa: BLE001 - a crash at boot is exactly what the campaign looks for
            self.failures.append("{}: boot crashed: {!r}".format(where, exc))
            return None
        if term.counters is None:
            self.failures.append("{}: no counters (fault {})".format(where, term.fault))
            return None
        tab = table(term)
        if not tab.fault:
            ops = tab.ops
            if ops[ADMIN][0] == "" or ops[SUPERVISOR][0] == "":
                self.failures.append("{}: a factory password came back".format(where))
                return None
        pair = (term.counters.batch, term.counters.next_trace())
        if pair in handed:
            self.failures.append("{}: pair {} handed out twice".format(where, pair))
            return None
        handed.add(pair)
        journal = term.journal
        pending = journal.pending_reversal() if journal is not None else None
        if pending is not None and (pending["batch"], pending["trace"]) in approved:
            self.failures.append("{}: approved sale {} to be reversed".format(where, pending["trace"]))
            return None
        unknown = [n for n in registry.unknown_files(storage) if n != getattr(storage, "blocked", None)]
        if unknown:
            self.failures.append("{}: unknown files {}".format(where, unknown))
            return None
        if not _check_batch(storage, self._batch_expected(sales), where, self.failures):
            return None
        return storage

    def _batch_expected(self, sales):
        """What the batch journal shows undamaged after the setup of `sales` sales."""
        if sales not in self._expected:
            probe = RamStorage()
            for name, data in self._prepared(sales)[0]:
                probe.write(name, data)
            self._expected[sales] = _batch_view(probe)
        return self._expected[sales]

    def _prepared(self, sales):
        """The files a setup of `sales` sales leaves, and its pairs (made once per setup: every case
        starts from a copy)."""
        if sales not in self._setups:
            probe = RamStorage()
            handed, approved = self._setup(probe, sales)
            files = [(name, probe.read(name)) for name in probe.list()]
            self._setups[sales] = (files, handed, approved)
        return self._setups[sales]

    def _case(self, sales, damage, where):
        """A setup of `sales` sales, damage(storage) applied and synced, then two boots."""
        files, handed, approved = self._prepared(sales)
        handed = set(handed)
        storage = self.make_storage()
        for name, data in files:
            storage.write(name, data)
        storage.sync()
        damage(storage)
        storage.sync()
        for boot in (1, 2):
            storage = self._boot_and_hand_out(
                storage, handed, approved, where + " boot {}".format(boot), sales
            )
            if storage is None:
                break

    def run_file(self, name, sales=None):
        """Every damage of the stored file `name` (a registered record's file)."""
        count = 0
        for n in sales or self.sales:
            files = dict(self._prepared(n)[0])
            original = files.get(name)
            if original is None and name == batch_journal.ARCHIVE_TMP:  # a half-written archive
                original = files.get(batch_journal.archive_name(1))
            elif original is None:  # a temp or legacy file: damage a copy of a generation put there
                original = files.get(registry.owner(name).name + ".a")
            if original is None:
                continue  # not written by this setup (the audit before a reversal is given up)
            every_bit = self.header_bits is None or registry.owner(name).name in self.header_bits
            for label, data in damages(original, self.step, every_bit, self.header_step):
                where = "{} {} ({} bytes, {} sales)".format(name, label, len(data) if data else 0, n)
                self._case(n, _damage_file(name, data), where)
                count += 1
        self.cases[name] = self.cases.get(name, 0) + count

    def run_deletions(self, sales=None, files=TRACE_FILES):
        """Every subset of the generations of `files` deleted at once (2 ** (2 * len(files)) - 1)."""
        names = []
        for base in files:
            names += [base + ".a", base + ".b"]
        count = 0
        for n in sales or self.sales:
            for mask in range(1, 1 << len(names)):
                if self.step > 1 and mask % self.step:
                    continue
                gone = [names[i] for i in range(len(names)) if mask & (1 << i)]
                self._case(n, _delete(gone), "deleted {} ({} sales)".format(" ".join(gone), n))
                count += 1
        self.cases["deletions"] = self.cases.get("deletions", 0) + count

    def run(self, files=None, deletions=True):
        """Every damage of every file of the registered records (or of the records named in
        `files`), then the deletions."""
        for spec in registry.RECORDS:
            if files is None or spec.name in files:
                for name in spec.files():
                    self.run_file(name)
        if files is None or "batch" in files:
            names = [n for n, _ in self._prepared(BATCH_SALES)[0] if batch_journal.owns(n)]
            for name in names + [batch_journal.ARCHIVE_TMP]:
                self.run_file(name, sales=(BATCH_SALES,))
        if deletions:
            self.run_deletions()
        return self

    def report(self):
        lines = ["{:<22} {} cases".format(name, self.cases[name]) for name in sorted(self.cases)]
        lines.append(
            "{:<22} {} cases, {} failures".format("total", sum(self.cases.values()), len(self.failures))
        )
        return "\n".join(lines)


def _power_cycle(storage):
    storage.power_cut()
    storage.power_on()
    return storage


def _damage_file(name, data):
    def damage(storage):
        if data is None or data is False:
            if name in storage.list():
                storage.remove(name)
            if data is None:
                storage.block(name)
        else:
            storage.write(name, data)

    return damage


def _delete(names):
    def damage(storage):
        for name in names:
            if name in storage.list():
                storage.remove(name)

    return damage


def sale_batch_failures(term, ledger=None, voided=None, refunds=None):
    """What is wrong with the batch journal of a terminal just booted after a cut (its recovery
    run): a transaction appended twice; the txn record's transaction missing or in another state;
    one in doubt without its reversal pending. With `ledger` (the host's {(batch, trace): fen},
    once the next transaction sent the reversals): a charged sale not approved in the batch (unless
    its reversal was given up, and the batch says so), or an approved one not charged (or charged
    another amount). With `voided` too (the host's {void's (batch, trace): its sale's}): a void
    approved in the batch and not at the host or the other way round, a sale voided in the batch
    that the host did not void. With `refunds` (the host's {refund's (batch, trace): (the original's
    RRN, fen)} booked): a refund approved in the batch and not booked so, or booked and not
    approved (a refund not confirmed is left to its resend). A refund is never reversed: one in
    doubt has no reversal pending."""
    failures = []
    seen = {}
    for t in batch_journal.Batch(term.storage).transactions():
        key = (t["batch"], t["trace"])
        if key in seen:
            failures.append("{} appended twice".format(key))
        seen[key] = t
    journal = term.journal
    last = journal.last
    if last is not None:
        t = seen.get((last["batch"], last["trace"]))
        if t is None:
            failures.append("the last transaction {} is not in the batch".format(last["trace"]))
        elif t["state"] != last["state"]:
            failures.append(
                "{} is {} in the batch, {} in txn".format(last["trace"], t["state"], last["state"])
            )
    pending = journal.pending_reversal()
    pending = None if pending is None else (pending["batch"], pending["trace"])
    for key in seen:
        t = seen[key]
        if (
            t["state"] == "in_doubt"
            and t["reversal"] != "failed"
            and pending != key
            and t["kind"] != "refund"
        ):
            failures.append("{} in doubt without its reversal pending".format(key))
    if ledger is not None:
        for key in ledger:
            t = seen.get(key)
            if t is not None and t["state"] == "in_doubt" and t["reversal"] == "failed":
                continue  # given up: the audit keeps it for support and settlement's retry
            if t is None or t["state"] != "approved":
                failures.append("{} charged, not approved in the batch".format(key))
        for key in seen:
            t = seen[key]
            if t["kind"] == "refund":
                if refunds is not None and t["state"] != "in_doubt":
                    booked = refunds.get(key)
                    if (t["state"] == "approved") != (booked is not None and booked[1] == t["amount"]):
                        failures.append(
                            "refund {} is {} in the batch, not so at the host".format(key, t["state"])
                        )
                continue
            if t["kind"] == "void":
                given_up = t["state"] == "in_doubt" and t["reversal"] == "failed"
                if voided is not None and not given_up and (t["state"] == "approved") != (key in voided):
                    failures.append("void {} is {} in the batch, not so at the host".format(key, t["state"]))
                continue
            if t["state"] == "approved" and ledger.get(key) != t["amount"]:
                failures.append("{} approved in the batch, not charged so".format(key))
            if t["state"] == "voided" and voided is not None and key not in voided.values():
                failures.append("{} voided in the batch, not at the host".format(key))
    return failures


def power_cut_campaign(attempt, tears=TEAR_MODES, step=1):
    """The power-cut campaign of one action: attempt(n, tear) runs it with the power cut at its
    n-th storage operation (RamStorage.cut_at(n, tear)), checks what the reboot finds and returns
    True if the cut fired, False once the action did fewer than n operations. Every operation is
    cut in every tear mode (or a sample, for the MicroPython tier's time: the tear modes `tears`,
    every step-th operation from a different first one in each mode); returns the number of cuts
    that fired."""
    runs = 0
    for i in range(len(tears)):
        tear = tears[i]
        n = 1 + i % step
        while attempt(n, tear):
            runs += 1
            n += step
    return runs
