# The event log (事件记录): who changed what and when, for the service menu. A registered record
# `events`, bounded (EVENTS_MAX entries, the oldest dropped first), never in the way of a
# transaction: a write that fails is swallowed, never raised (Terminal.log_event counts it).
#
# An entry is [time, uptime, code, detail]: the wall-clock seconds when the clock is trusted, else
# None; the forward-only uptime (firmware/uptime.py); a code of CODES; a detail that names what
# (a parameter's name, an operator's id), never a value. The validator refuses a detail with a run
# of more than two digits, so no password, card number or amount can be kept here.
#
# The `audit` record of firmware/journal.py (failed reversals, never dropped) is a different thing.

from firmware.compat import const
from firmware.store import Damaged, RecordFile, load, save

EVENTS_MAX = const(64)
DETAIL_MAX = const(24)

CODES = (
    "clock_set",
    "counters_recovered",
    "param_change",
    "pwd_change",
    "pwd_reset",
    "pwd_factory",
    "lockout",
    "sign_in",
    "sign_out",
    "sign_off",
    "op_add",
    "op_remove",
    "factory_reset",
)

_DETAIL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def detail_ok(detail):
    """A name or an id: lower-case letters, digits and "_", at most DETAIL_MAX, never more than two
    digits in a row (so never a password, a card number or an amount)."""
    if type(detail) is not str or len(detail) > DETAIL_MAX:
        return False
    run = 0
    for ch in detail:
        if ch not in _DETAIL_CHARS:
            return False
        run = run + 1 if "0" <= ch <= "9" else 0
        if run > 2:
            return False
    return True


def _entry_ok(e):
    if type(e) is not list or len(e) != 4:
        return False
    t, up, code, detail = e
    return (
        (t is None or (type(t) is int and 0 <= t <= 0x7FFFFFFF))
        and type(up) is int
        and 0 <= up <= 0x3FFFFFFF
        and code in CODES
        and detail_ok(detail)
    )


def _validate(record):
    items = record.get("items")
    if (
        type(record.get("v")) is not int
        or record["v"] != 1
        or type(items) is not list
        or len(items) > EVENTS_MAX
    ):
        raise Damaged("bad events")
    for e in items:
        if not _entry_ok(e):
            raise Damaged("bad event")
    return record


EVENTS = RecordFile("events", _validate, 4096)


def _uptime(term):
    uptime = getattr(term, "uptime", None)
    return uptime.seconds() if uptime is not None else 0


def log(term, code, detail=""):
    """Add an entry (the oldest goes beyond EVENTS_MAX). True if it was written; False if the
    storage failed or the record was damaged, never an exception.
    ValueError for a code or detail the log never takes (a bug in the caller)."""
    t = term.clock.time() if term.clock_valid else None
    entry = [t, _uptime(term), code, detail]
    if not _entry_ok(entry):
        raise ValueError("not an event")
    try:
        loaded = load(term.storage, EVENTS)
        items = loaded.record["items"] if loaded.record is not None else []
        items.append(entry)
        while len(items) > EVENTS_MAX:
            items.pop(0)
        save(term.storage, EVENTS, {"v": 1, "items": items}, loaded)
    except (OSError, MemoryError):
        return False
    return True


def entries(storage):
    """The entries, newest first ([] when none, or when the record cannot be read)."""
    try:
        record = load(storage, EVENTS).record
    except OSError:
        return []
    if record is None:
        return []
    items = record["items"]
    items.reverse()
    return items
