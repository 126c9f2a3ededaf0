# Terminal parameters (merchant, terminal id, host, language, limits), one record on storage.
# The parameters that make the terminal who it is never fall back to defaults: damaged, they block
# transactions. Cosmetic ones fall back visibly, and the warning lasts until parameters are saved.
# Lost is damaged too: a provisioned terminal whose marker says its parameters were stored
# (firmware.counters.identity_stored) and whose parameter files are gone, or whose newest copy is
# missing or damaged (the older copy may hold an older identity), has lost its identity; only a
# terminal that never stored parameters starts with the defaults (and stores them at once).

from firmware.counters import identity_stored
from firmware.store import Damaged, RecordFile, load, save


def _digits(n):
    return lambda v: type(v) is str and len(v) == n and v.isdigit()


def _int(lo, hi):
    return lambda v: type(v) is int and lo <= v <= hi


def _host(v):
    """ "host:port" with a port of 1..65535."""
    if type(v) is not str or not 3 <= len(v) <= 64 or v.count(":") != 1:
        return False
    host, port = v.split(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536 and " " not in host


MAC_ALGORITHMS = ("x919", "ecb")

# name: (default, check, identity). Money in fen. Identity parameters never fall back to a default.
_FIELDS = {
    # at most 40 characters and 80 bytes of UTF-8: the signed e-receipt's room in F55 (docs/RECEIPT.md)
    "merchant_name": (
        "QianPOS Demo Shop",
        lambda v: type(v) is str and 0 < len(v) <= 40 and len(v.encode()) <= 80,
        False,
    ),
    "merchant_id": ("898100012340001", _digits(15), True),
    "terminal_id": ("10000001", _digits(8), True),
    "host": ("127.0.0.1:8583", _host, True),
    "mac_algorithm": ("x919", lambda v: v in MAC_ALGORITHMS, True),
    "language": ("zh", lambda v: v in ("zh", "en"), False),
    "max_amount": (10000000, _int(1, 10**12 - 1), False),
    "tz_minutes": (480, _int(-720, 840), False),
    "idle_timeout_s": (60, _int(10, 600), False),
    # Online: the wait for each host message (connecting, then the answer), whether the
    # terminal signs in again every day, how many times a reversal is sent before it is given up to
    # support (connection failures do not count), and the contactless no-PIN limit (免密, fen).
    "host_timeout_s": (30, _int(5, 120), False),
    "sign_in_daily": (True, lambda v: v is True or v is False, False),
    "reversal_attempts": (3, _int(1, 9), False),
    "no_pin_limit_fen": (100000, _int(0, 10**12 - 1), False),
    # Transactions per batch (每批次笔数): settlement's F48 counts are 3 digits.
    "batch_size": (500, _int(1, 999), False),
    # The frames' TPDU (firmware/host/codec.py): 60, the destination (the host's NII) and the source,
    # as 10 digits.
    "tpdu": ("6000030000", lambda v: _digits(10)(v) and v[:2] == "60", False),
    # A sale needs a signed-in operator (menu 7); off: a sale carries operator 01 (a one-person 电签).
    "operator_required": (False, lambda v: v is True or v is False, False),
    # A void (消费撤销) reads the sale's card again (the same card: its masked PAN), with its PIN
    # when the card needs one; off: the void goes without card data (F22 012).
    "void_card": (True, lambda v: v is True or v is False, False),
    # The most one refund (退货) may give back (fen): the terminal's cap, checked before anything
    # is sent, whatever is left of the original (单笔退货限额).
    "refund_max": (5000000, _int(1, 10**12 - 1), False),
    # The e-signature (电子签名): how long the signing screen waits for the cardholder, and the
    # no-signature limit (免签, fen): contactless at or under it takes no signature.
    "esign_timeout_s": (90, _int(10, 600), False),
    "esign_free_fen": (100000, _int(0, 10**12 - 1), False),
}

# How the administrator's parameter editor (firmware/ui/admin.py) shows and types each row of
# _FIELDS: name: (form, arguments...). Every row has one (tests/portable/test_admin.py checks); a
# row added to _FIELDS with its form here appears in the editor with no other code. Forms:
#   ("shown",)                 read only (set by provisioning)
#   ("digits", n[, bad])       exactly n digits; bad: the catalog key shown when the row's check
#                              refuses what the form took (else "param_bad")
#   ("number", lo, hi)         a whole number lo..hi, typed in digits
#   ("amount", lo, hi)         fen lo..hi, typed as an amount (1 2 3 = 1.23 yuan)
#   ("yesno",)                 1 yes, 2 no
#   ("choice", values)         1..n picks a value; its label is the catalog key "pv_<value>"
#   ("host",)                  four octets and a port ("a.b.c.d:port"): the keypad has no dot or colon
# Ranges repeat the row's check (the test checks both ends of each against it).
FORMS = {
    "merchant_name": ("shown",),
    "merchant_id": ("digits", 15),
    "terminal_id": ("digits", 8),
    "host": ("host",),
    "tpdu": ("digits", 10, "param_tpdu"),
    "mac_algorithm": ("choice", MAC_ALGORITHMS),
    "language": ("choice", ("zh", "en")),
    "max_amount": ("amount", 1, 10**12 - 1),
    "tz_minutes": ("shown",),
    "idle_timeout_s": ("number", 10, 600),
    "host_timeout_s": ("number", 5, 120),
    "sign_in_daily": ("yesno",),
    "reversal_attempts": ("number", 1, 9),
    "no_pin_limit_fen": ("amount", 0, 10**12 - 1),
    "operator_required": ("yesno",),
    "void_card": ("yesno",),
    "refund_max": ("amount", 1, 10**12 - 1),
    "esign_timeout_s": ("number", 10, 600),
    "esign_free_fen": ("amount", 0, 10**12 - 1),
    "batch_size": ("number", 1, 999),
}

# The editor's order (the table's dicts keep no order on MicroPython): identity first. A row of
# _FIELDS missing here is shown after these, in name order.
EDITOR_ORDER = (
    "merchant_name",
    "merchant_id",
    "terminal_id",
    "host",
    "tpdu",
    "mac_algorithm",
    "language",
    "host_timeout_s",
    "max_amount",
    "no_pin_limit_fen",
    "operator_required",
    "void_card",
    "refund_max",
    "esign_free_fen",
    "esign_timeout_s",
    "sign_in_daily",
    "reversal_attempts",
    "batch_size",
    "idle_timeout_s",
    "tz_minutes",
)


def identity(name):
    """True if the parameter `name` is part of the terminal's identity (merchant, terminal, host,
    MAC algorithm)."""
    return _FIELDS[name][2]


def valid(name, value):
    """True if value is allowed for the parameter `name` (its row's check)."""
    return _FIELDS[name][1](value)


def default(name):
    return _FIELDS[name][0]


def form(name):
    """The editor's form of the parameter `name` (FORMS); a row without one is a yes/no if its
    default is a bool, else shown read only."""
    found = FORMS.get(name)
    if found is not None:
        return found
    return ("yesno",) if _FIELDS[name][0] is True or _FIELDS[name][0] is False else ("shown",)


def names():
    """Every parameter, in the editor's order."""
    out = [n for n in EDITOR_ORDER if n in _FIELDS]
    rest = sorted([n for n in _FIELDS if n not in EDITOR_ORDER])
    return out + rest


_OK = 0
_WARNING = 1  # a damaged parameter fell back to its default: shown until parameters are saved
_IDENTITY_LOST = 2  # the terminal's identity is unknown: transactions blocked until it is set


def _validate(record):
    """The stored dict as it is (fields are checked one by one by Params.load); firmware 0.1's
    params.json had no version and no warning."""
    if "v" not in record:
        record["v"] = 1
    if (
        type(record.get("v")) is not int
        or record["v"] != 1
        or record.get("warn", _OK) not in (_OK, _WARNING, _IDENTITY_LOST)
    ):
        raise Damaged("bad params")
    return record


PARAMS = RecordFile("params", _validate, 1024, legacy="params.json")


class Params:
    """Attribute per parameter. `damaged` (a lasting warning) is True when stored parameters were
    damaged and a default or an older copy is in use; `identity_lost` when the terminal id, merchant
    id, host or MAC algorithm could not be read back (their attributes are then None). A parameter
    absent from the stored record (written before it existed) takes its default."""

    def __init__(self):
        for name in _FIELDS:
            setattr(self, name, _FIELDS[name][0])
        self.damaged = False
        self.identity_lost = False
        self._loaded = None

    @classmethod
    def load(cls, storage):
        params = cls()
        loaded = load(storage, PARAMS)
        params._loaded = loaded
        record = loaded.record
        if record is None:
            if loaded.lost or identity_stored(storage):
                params._lose_identity()
            # A terminal without parameters (fresh, or one whose firmware never stored the
            # defaults) stores its identity, the defaults, before it hands out a number: the
            # provisioned marker then says so, and parameters found missing later are a loss.
            params._persist_warning(storage)
            return params
        warn = record.get("warn", _OK)
        if loaded.fell_back:
            params._lose_identity()  # the older copy's identity may not be the terminal's now
        params.damaged = loaded.fell_back or warn != _OK
        for name in record:
            if name not in _FIELDS and name not in ("v", "warn"):
                params.damaged = True
        for name in _FIELDS:
            default, check, identity = _FIELDS[name]
            if name not in record:
                continue  # written before this parameter existed: its default is the right value
            value = record[name]
            if identity and loaded.fell_back:
                continue  # never an identity from the older copy
            if check(value):
                setattr(params, name, value)
            elif identity:
                params._lose_identity(name)
            else:
                params.damaged = True
        if warn == _IDENTITY_LOST:
            params._lose_identity()
        if params._level() != warn:
            params._persist_warning(storage)
        return params

    def _lose_identity(self, name=None):
        for field in _FIELDS:
            if _FIELDS[field][2] and (name is None or field == name):
                setattr(self, field, None)
        self.identity_lost = True
        self.damaged = True

    def _level(self):
        if self.identity_lost:
            return _IDENTITY_LOST
        return _WARNING if self.damaged else _OK

    def _record(self, warn):
        record = {"v": 1, "warn": warn}
        for name in _FIELDS:
            value = getattr(self, name)
            if value is not None:
                record[name] = value
        return record

    def _persist_warning(self, storage):
        """Store what is usable with the warning level, so the warning survives a reboot."""
        save(storage, PARAMS, self._record(self._level()), self._loaded)

    def save(self, storage):
        """Write all parameters and clear the warning; ValueError (nothing written) if one is invalid
        (a lost identity must be set again, never taken from the defaults)."""
        for name in _FIELDS:
            if not _FIELDS[name][1](getattr(self, name)):
                raise ValueError("bad parameter " + name)
        if self._loaded is None:
            self._loaded = load(storage, PARAMS)
        save(storage, PARAMS, self._record(_OK), self._loaded)
        self.damaged = False
        self.identity_lost = False
