# Who may do what (操作员): the operator table and the password attempts, two registered records.
#
# Ids: SUPERVISOR "00" (主管, 6 digits), ADMIN "99" (系统管理员, 8 digits), operators "01".."98"
# (操作员, 4 digits; at most MAX_OPERATORS of them). A password is stored only as
# SecurityModule.password_hash(id + password) (HMAC-SHA256 under the module's device key, in hex),
# compared in constant time; the factory passwords (docs/SECURITY.md) are not stored at all: an
# entry with no hash means "the factory password, its change forced".
#
# `operators` {"v": 1, "kc": check, "ops": {id: [hash hex or "", forced 0/1]}}; "kc" is the first 4
# bytes (hex) of password_hash(KEY_CHECK): a device key that changed is found before any
# password is compared ("" until a module makes it).
# `attempts` {"v": 1, "t": {id: [tries, since]}}: the wrong tries in a row and, once a role is
# locked, the uptime (firmware/uptime.py) its lock started at.
#
# Lockout: ROLE_TRIES wrong supervisor or administrator passwords lock that role for LOCK_S of
# uptime; OPERATOR_TRIES wrong operator passwords lock that operator until the supervisor resets
# its password. The try is written and synced before the password is compared (a power cut after
# each try never gives unlimited tries), and the try that reaches the limit writes the lock with it.
#
# A damaged or missing table, or a device key that no longer checks, is a stored-data fault
# ("pwd_damaged"): the factory passwords never come back by themselves. Loading a master key in the
# service menu (firmware/ui/keyload.py) is the recovery: reset() puts the factory passwords back,
# their change forced.

import binascii

from firmware.compat import const
from firmware.store import Damaged, RecordFile, ever_stored, load, save
from hal.contracts import HalError

SUPERVISOR = "00"
ADMIN = "99"
DEFAULT_OPERATOR = "01"  # the operator of every sale while nobody signed in (a one-person terminal)
_FACTORY = {SUPERVISOR: "123456", ADMIN: "12345678"}
MAX_OPERATORS = const(20)
ROLE_TRIES = const(3)
OPERATOR_TRIES = const(5)
LOCK_S = const(300)
KEY_CHECK = b"QianPOS device key check"

# check() answers
OK = "ok"
FORCED = "forced"  # right, and the password must be changed before anything else
WRONG = "wrong"
LOCKED = "locked"
UNKNOWN = "unknown"  # no such operator
FAULT = "fault"  # the table or the device key is damaged; or no security module


def _id_ok(v):
    return type(v) is str and len(v) == 2 and v.isdigit()


def _hex_ok(v, n):
    if type(v) is not str or len(v) != n:
        return False
    for ch in v:
        if ch not in "0123456789abcdef":
            return False
    return True


def _validate_ops(r):
    ops = r.get("ops")
    kc = r.get("kc")
    if (
        type(r.get("v")) is not int
        or r["v"] != 1
        or type(ops) is not dict
        or not (kc == "" or _hex_ok(kc, 8))
    ):
        raise Damaged("bad operators")
    if SUPERVISOR not in ops or ADMIN not in ops or len(ops) > MAX_OPERATORS + 2:
        raise Damaged("bad operators")
    for op in ops:
        e = ops[op]
        if (
            not _id_ok(op)
            or type(e) is not list
            or len(e) != 2
            or e[1] not in (0, 1)
            or type(e[1]) is not int
        ):
            raise Damaged("bad operator")
        if not (_hex_ok(e[0], 64) or (e[0] == "" and op in _FACTORY and e[1] == 1)):
            raise Damaged("bad operator")
    return r


def _validate_attempts(r):
    t = r.get("t")
    if type(r.get("v")) is not int or r["v"] != 1 or type(t) is not dict or len(t) > MAX_OPERATORS + 2:
        raise Damaged("bad attempts")
    for op in t:
        e = t[op]
        if not _id_ok(op) or type(e) is not list or len(e) != 2:
            raise Damaged("bad attempt")
        for n in e:
            if type(n) is not int or not 0 <= n <= 0x3FFFFFFF:
                raise Damaged("bad attempt")
    return r


OPERATORS = RecordFile("operators", _validate_ops, 3072)
ATTEMPTS = RecordFile("attempts", _validate_attempts, 1024)


def length(op):
    """The number of digits of op's password."""
    if op == SUPERVISOR:
        return 6
    if op == ADMIN:
        return 8
    return 4


def is_operator_id(op):
    """ "01".."98": an operator (not the supervisor or the administrator)."""
    return _id_ok(op) and op not in (SUPERVISOR, ADMIN)


def refusal(op, password):
    """The catalog key of why `password` may not become op's, or None: not its length of digits,
    the factory password, all one digit, or a straight run up or down (123456, 4321)."""
    if type(password) is not str or len(password) != length(op) or not password.isdigit():
        return "pwd_length"
    if password == _FACTORY.get(op):
        return "pwd_is_factory"
    up = down = same = True
    for i in range(1, len(password)):
        d = (ord(password[i]) - ord(password[i - 1])) % 10
        same = same and d == 0
        up = up and d == 1
        down = down and d == 9
    if same or up or down:
        return "pwd_too_simple"
    return None


def equal(a, b):
    """Constant-time comparison of two byte strings of the same length."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def _hex(data):
    return binascii.hexlify(data).decode()


def _unhex(s):
    return binascii.unhexlify(s)


def _hash(security, op, password):
    return security.password_hash((op + password).encode())


def _factory_record():
    return {"v": 1, "kc": "", "ops": {SUPERVISOR: ["", 1], ADMIN: ["", 1]}}


def _has_factory(record):
    ops = record["ops"]
    for op in ops:
        if ops[op][0] == "":
            return True
    return False


def _fresh(storage):
    """True when neither record nor any evidence of them was ever stored: a factory-new terminal."""
    return not ever_stored(storage, OPERATORS.files() + ATTEMPTS.files())


class Table:
    """The two records as loaded: `ops` (the table), `tries` (the attempts), `fault` (True when the
    table cannot be trusted)."""

    def __init__(self, term):
        self.term = term
        storage = term.storage
        self.fault = False
        self._ops = load(storage, OPERATORS)
        self._att = load(storage, ATTEMPTS)
        # A newer generation may have been lost (damaged, or gone): the older one in use may hold a
        # factory password that was changed since. Never taken: a fault, as a lost table is. An
        # older one without a factory entry is written again (both generations exist once more).
        fell_back = self._ops.record is not None and self._ops.fell_back
        if fell_back and not _has_factory(self._ops.record):
            save(storage, OPERATORS, self._ops.record, self._ops)
            fell_back = False
        if self._ops.record is None or fell_back:
            if self._ops.lost or fell_back or not _fresh(storage):
                self.fault = True
                self.ops = {}
            else:
                save(storage, OPERATORS, _factory_record(), self._ops)
                save(storage, ATTEMPTS, {"v": 1, "t": {}}, self._att)
        if self._att.record is None:
            # A lost attempts record: written again at the next try (its lock state is lost, which
            # a cut cannot bring about: both generations would have to go).
            self._att.record = {"v": 1, "t": {}}
            self._att.slot = self._att.slot or ".a"
        self.ops = {} if self.fault else self._ops.record["ops"]
        self.tries = self._att.record["t"]
        if not self.fault:
            self._check_key()

    def _check_key(self):
        security = self.term.board.security
        if security is None:
            return
        try:
            kc = _hex(security.password_hash(KEY_CHECK)[:4])
        except HalError:
            self.fault = True
            return
        stored = self._ops.record["kc"]
        if stored == "":
            self._ops.record["kc"] = kc
            save(self.term.storage, OPERATORS, self._ops.record, self._ops)
        elif stored != kc:
            self.fault = True

    def save_ops(self):
        save(self.term.storage, OPERATORS, self._ops.record, self._ops)

    def save_tries(self):
        save(self.term.storage, ATTEMPTS, self._att.record, self._att)

    def now(self):
        return self.term.uptime.seconds()

    def locked(self, op):
        """Seconds of lock left for op (-1: until the supervisor resets it), 0 if not locked."""
        e = self.tries.get(op)
        if e is None:
            return 0
        if op in _FACTORY:
            if e[0] < ROLE_TRIES:
                return 0
            now = self.now()
            if e[1] > now:  # the uptime went back (its record was lost): the lock starts again now
                e[1] = now
                self.save_tries()
            left = e[1] + LOCK_S - now
            return left if left > 0 else 0
        return -1 if e[0] >= OPERATOR_TRIES else 0

    def lock_minutes(self, op):
        """Minutes of lock left for op (-1: until the supervisor resets it), 0 if not locked (or
        the table cannot be trusted: the check says so)."""
        if self.fault:
            return 0
        return _minutes(self.locked(op))

    def check(self, op, password):
        """(OK / FORCED / WRONG / LOCKED / UNKNOWN / FAULT, n): n is the tries left after WRONG, the
        minutes left after LOCKED (-1: until reset). OSError if the storage fails."""
        security = self.term.board.security
        if self.fault or security is None:
            return FAULT, 0
        entry = self.ops.get(op)
        if entry is None:
            return UNKNOWN, 0
        left = self.locked(op)
        if left:
            return LOCKED, _minutes(left)
        limit = ROLE_TRIES if op in _FACTORY else OPERATOR_TRIES
        e = self.tries.get(op)
        if e is None or e[0] >= limit:  # none yet, or a role lock that ran out
            e = [0, 0]
        e = [e[0] + 1, self.now()]
        self.tries[op] = e
        if e[0] >= limit:
            self.term.uptime.save()  # the lock's start is stored uptime: a reboot continues it
        self.save_tries()  # before the comparison
        if entry[0] == "":
            right = type(password) is str and equal(password.encode(), _FACTORY[op].encode())
        else:
            try:
                right = equal(_hash(security, op, password), _unhex(entry[0]))
            except HalError:
                self.fault = True
                return FAULT, 0
        if right:
            del self.tries[op]
            self.save_tries()
            return (FORCED if entry[1] else OK), 0
        if e[0] >= limit:
            self.term.log_event("lockout", op)
            return LOCKED, _minutes(self.locked(op))
        return WRONG, limit - e[0]

    def set_password(self, op, password, forced=0):
        """Store op's new password (refusal() must have passed); OSError, HalError on failure."""
        digest = _hash(self.term.board.security, op, password)
        self.ops[op] = [_hex(digest), forced]
        self.save_ops()
        if op in self.tries:
            del self.tries[op]
            self.save_tries()

    def remove(self, op):
        del self.ops[op]
        self.save_ops()
        if op in self.tries:
            del self.tries[op]
            self.save_tries()

    def operator_ids(self):
        ids = [op for op in self.ops if is_operator_id(op)]
        ids.sort()
        return ids


def _minutes(seconds):
    if seconds < 0:
        return -1
    return (seconds + 59) // 60


def table(term):
    """The records as they stand (OSError if the storage fails)."""
    return Table(term)


def reset(term):
    """The factory passwords back, their change forced, the operators gone and every lock lifted:
    the recovery of a damaged table or device key (a new master key), and the factory reset."""
    storage = term.storage
    save(storage, OPERATORS, _factory_record(), load(storage, OPERATORS))
    save(storage, ATTEMPTS, {"v": 1, "t": {}}, load(storage, ATTEMPTS))
    term.log_event("pwd_factory")


def boot_fault(term):
    """At boot: "pwd_damaged" when the table cannot be trusted, else None (a factory-new terminal
    gets its table here). Never raises for a failing storage (the other records report that)."""
    try:
        return "pwd_damaged" if Table(term).fault else None
    except OSError:
        return None
