# The power-cut campaign over the passwords and the operator table (firmware/operators.py): a
# password change (the forced change of a factory one too), an operator added, removed, its password
# reset, and a wrong password typed, each with the power cut at every storage operation in every tear
# mode, then a reboot. After it: the old or the new password works, never neither and never a
# factory one coming back; an operator is there (with its password) or not; the table is never a
# fault; the attempt count never goes down, and a password that was compared was counted first.
# Runs on both runtimes; MicroPython takes a sample (SPARSE), as test_campaign.py does.
import binascii
import sys

from firmware.operators import ADMIN, ATTEMPTS, FORCED, OK, SUPERVISOR, equal, table
from firmware.params import Params
from firmware.store import load
from firmware.terminal import Terminal
from hal.soft.keystore import StorageKeyStore
from hal.soft.security import SoftSecurityModule
from tests.portable.campaign import power_cut_campaign
from tests.portable.drive import ADMIN_PASSWORD, SUPERVISOR_PASSWORD, random_bytes
from tests.portable.fakes import make_board
from virtual.devices import VirtualClock
from virtual.storage import TEAR_HALF, TEAR_MODES, TEAR_NONE, PowerCut, RamStorage

# MicroPython (WebAssembly) boots a terminal about thirty times slower than CPython: every fourth
# operation in two of the tear modes, each mode from a different first operation (about 9 s of
# CPU there; the whole campaign runs on CPython).
UPY = sys.implementation.name == "micropython"
SPARSE = 4 if UPY else 1
TEARS = (TEAR_NONE, TEAR_HALF) if UPY else TEAR_MODES

FACTORY = {SUPERVISOR: "123456", ADMIN: "12345678"}
OPERATOR = "05"
OPERATOR_PASSWORD = "2580"
NEW = {SUPERVISOR: "135790", ADMIN: "13579024", OPERATOR: "1470", "06": "1470"}

# One device key for every case: the key store is never cut (it is the security module's).
_KEY_STORE = StorageKeyStore(RamStorage())
_SETUPS = {}


def _setup(factory):
    """The files of a terminal whose administrator, supervisor and operator 05 have passwords (or,
    factory: a fresh one, its factory passwords in force); made once, each case starts from a copy."""
    if factory not in _SETUPS:
        storage = RamStorage()
        params = Params.load(storage)
        params.language = "en"
        params.save(storage)
        rig = _Rig(storage)
        if not factory:
            t = table(rig.term)
            t.set_password(ADMIN, ADMIN_PASSWORD)
            t.set_password(SUPERVISOR, SUPERVISOR_PASSWORD)
            t.set_password(OPERATOR, OPERATOR_PASSWORD)
        storage.sync()
        _SETUPS[factory] = [(name, storage.read(name)) for name in storage.list()]
    return _SETUPS[factory]


class _Rig:
    def __init__(self, storage, clock=None):
        self.storage = storage
        self.clock = clock or VirtualClock()
        self.security = SoftSecurityModule(_KEY_STORE, urandom=random_bytes)
        self.board = make_board(storage=storage, clock=self.clock, security=self.security)
        self.term = Terminal(self.board)
        self.term.settle()

    @staticmethod
    def copy(factory=False):
        storage = RamStorage()
        for name, data in _setup(factory):
            storage.write(name, data)
        storage.sync()
        return _Rig(storage)

    def press(self, *keys):
        for key in keys:
            self.board.keypad.press(key)
            self.term.settle()

    def type(self, digits):
        self.press(*digits)
        self.press("ENTER")

    def reboot(self):
        """The power back (after a cut, or cut now between operations: what was not synced is lost)."""
        if not self.storage._off:
            self.storage.power_cut()
        self.storage.cut_at(None)
        self.storage.power_on()
        return _Rig(self.storage, self.clock)


def _works(term, op, password):
    """True if op's stored entry takes `password`, None if op is not in the table (an oracle: it
    spends no try)."""
    t = table(term)
    assert not t.fault, "the table is a fault"
    entry = t.ops.get(op)
    if entry is None:
        return None
    if entry[0] == "":
        return password == FACTORY.get(op)
    digest = term.board.security.password_hash((op + password).encode())
    return equal(digest, binascii.unhexlify(entry[0]))


def _one_of(term, op, old, new, where):
    """Exactly one of old and new is op's password, and a real check of it passes."""
    old_ok, new_ok = _works(term, op, old), _works(term, op, new)
    assert (old_ok, new_ok) in ((True, False), (False, True)), (where, op, old_ok, new_ok)
    if op in FACTORY and old != FACTORY[op]:
        assert not _works(term, op, FACTORY[op]), (where, "a factory password came back")
    right = old if old_ok else new
    assert table(term).check(op, right)[0] in (OK, FORCED), (where, op)
    return new_ok


def _sound(rig, where):
    term = rig.term
    assert not term.passwords_damaged and term.fault is None, (where, term.fault)


def _tries(storage, op):
    record = load(storage, ATTEMPTS).record
    return record["t"].get(op, [0, 0])[0] if record is not None else 0


def _campaign(prepare, act, check, factory=False):
    """prepare(rig) uncut; act(rig) with the power cut at its n-th storage operation; reboot;
    check(rig before, rig after, where, cut). Returns the number of cuts that fired."""
    news = []

    def attempt(n, tear):
        rig = _Rig.copy(factory)
        prepare(rig)
        where = "cut {} {}".format(n, tear)
        rig.storage.cut_at(n, tear)
        cut = False
        try:
            act(rig)
        except PowerCut:
            cut = True
        after = rig.reboot()
        _sound(after, where)
        news.append(check(rig, after, where, cut))
        return cut

    runs = power_cut_campaign(attempt, TEARS, SPARSE)
    return runs, news


def _assert_campaign(runs, news):
    assert runs >= len(TEARS), runs
    assert True in news and False in news, news  # some cuts kept the old state, some the new


# ---- a password change (the old one typed, the new one twice) -----------------------------------
def test_a_power_cut_at_every_step_of_a_password_change_leaves_the_old_or_the_new_password():
    def prepare(rig):
        rig.press("ENTER", "7", "3", "0", "0", "ENTER")  # change my password: the supervisor's

    def act(rig):
        rig.type(SUPERVISOR_PASSWORD)
        rig.type(NEW[SUPERVISOR])
        rig.type(NEW[SUPERVISOR])
        assert "Password changed" in "\n".join(rig.board.display.lines())

    def check(rig, after, where, cut):
        new = _one_of(after.term, SUPERVISOR, SUPERVISOR_PASSWORD, NEW[SUPERVISOR], where)
        assert cut or new, where
        assert _works(after.term, OPERATOR, OPERATOR_PASSWORD) and _works(after.term, ADMIN, ADMIN_PASSWORD)
        return new

    _assert_campaign(*_campaign(prepare, act, check))


def test_a_power_cut_at_every_step_of_the_forced_change_of_a_factory_password():
    def prepare(rig):
        rig.press("ENTER", "8")  # the service menu: the administrator's (factory) password

    def act(rig):
        rig.type(FACTORY[ADMIN])
        rig.type(NEW[ADMIN])
        rig.type(NEW[ADMIN])

    def check(rig, after, where, cut):
        new = _one_of(after.term, ADMIN, FACTORY[ADMIN], NEW[ADMIN], where)
        if not new:  # the factory one still in force: its change still forced
            assert table(after.term).ops[ADMIN][1] == 1, where
        return new

    _assert_campaign(*_campaign(prepare, act, check, factory=True))


# ---- the operator table (menu 7, 4: the supervisor's password first, uncut) ---------------------
def _manage(rig, item):
    rig.press("ENTER", "7", "4")
    rig.type(SUPERVISOR_PASSWORD)
    rig.press(item)


def test_a_power_cut_at_every_step_of_adding_an_operator_leaves_it_there_or_not():
    def prepare(rig):
        _manage(rig, "1")
        rig.type("06")
        rig.type(NEW["06"])

    def act(rig):
        rig.type(NEW["06"])

    def check(rig, after, where, cut):
        there = _works(after.term, "06", NEW["06"])
        assert there in (None, True), (where, there)  # not there, or there with its password
        if there:
            assert table(after.term).ops["06"][1] == 1, where  # its first password: change forced
        assert cut or there, where
        assert _works(after.term, OPERATOR, OPERATOR_PASSWORD), where
        assert _works(after.term, SUPERVISOR, SUPERVISOR_PASSWORD), where
        return bool(there)

    _assert_campaign(*_campaign(prepare, act, check))


def test_a_power_cut_at_every_step_of_removing_an_operator_leaves_it_there_or_not():
    def prepare(rig):
        _manage(rig, "2")
        rig.press("0", "5")

    def act(rig):
        rig.press("ENTER")

    def check(rig, after, where, cut):
        there = _works(after.term, OPERATOR, OPERATOR_PASSWORD)
        assert there in (None, True), (where, there)
        assert cut or there is None, where
        assert _works(after.term, SUPERVISOR, SUPERVISOR_PASSWORD), where
        return there is None

    _assert_campaign(*_campaign(prepare, act, check))


def test_a_power_cut_at_every_step_of_resetting_an_operators_password():
    def prepare(rig):
        _manage(rig, "4")
        rig.type(OPERATOR)
        rig.type(NEW[OPERATOR])

    def act(rig):
        rig.type(NEW[OPERATOR])

    def check(rig, after, where, cut):
        forced = table(after.term).ops.get(OPERATOR, [None, None])[1]
        new = _one_of(after.term, OPERATOR, OPERATOR_PASSWORD, NEW[OPERATOR], where)
        assert forced == (1 if new else 0), where
        assert cut or new, where
        return new

    _assert_campaign(*_campaign(prepare, act, check))


# ---- a wrong password: the try is on storage before the comparison -------------------------------
def _wrong_try_campaign(op, wrong, before):
    """`before` wrong tries, then one more with the power cut at each step: after the reboot the
    count is never below `before`, and at least before + 1 if the password was compared."""
    compared = []

    def prepare(rig):
        t = table(rig.term)
        for _ in range(before):
            t.check(op, wrong)
        assert _tries(rig.storage, op) == before
        real = rig.security.password_hash
        compared[:] = [False]

        def spy(data):
            if data != b"QianPOS device key check":
                compared[0] = True
            return real(data)

        rig.security.password_hash = spy

    def act(rig):
        table(rig.term).check(op, wrong)

    def check(rig, after, where, cut):
        n = _tries(after.storage, op)
        assert n >= before, (where, n, before)  # never fewer tries than before
        if compared[0]:
            assert n >= before + 1, (where, "compared, not counted")
        if n >= before + 1 and op in FACTORY and before + 1 >= 3:
            assert table(after.term).lock_minutes(op) > 0, where
        return n > before

    return _campaign(prepare, act, check)


def test_a_power_cut_at_every_step_of_a_wrong_operator_password_never_gives_a_try_back():
    for before in (0, 4):
        runs, news = _wrong_try_campaign(OPERATOR, "0000", before)
        _assert_campaign(runs, news)


def test_a_power_cut_at_every_step_of_a_wrong_supervisor_password_never_gives_a_try_back():
    for before in (0, 2):  # the third wrong one locks
        runs, news = _wrong_try_campaign(SUPERVISOR, "999999", before)
        _assert_campaign(runs, news)


def test_a_cut_at_the_same_step_of_every_wrong_try_never_gives_more_than_five_comparisons():
    """The attack: a wrong password with the power cut at the same step, again and again (twenty
    times): the password is compared at most five times, and the fifth comparison locks it."""
    for n in range(1, 13, SPARSE):
        rig = _Rig.copy()
        comparisons = 0
        for _ in range(20):
            real = rig.security.password_hash
            seen = []

            def spy(data, real=real, seen=seen):
                if data != b"QianPOS device key check":
                    seen.append(1)
                return real(data)

            t = table(rig.term)
            rig.security.password_hash = spy
            rig.storage.cut_at(n, TEAR_HALF)
            try:
                t.check(OPERATOR, "0000")
            except PowerCut:
                pass
            comparisons += len(seen)
            rig = rig.reboot()
            assert comparisons <= 5, (n, comparisons)
            if comparisons == 5:
                assert table(rig.term).lock_minutes(OPERATOR) == -1, n
