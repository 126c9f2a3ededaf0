# Settlement (结算): the record that journals every step of one ahead (`settle`, a firmware.store
# record), the totals it sends (F48's domestic and foreign halves) and what its report holds. The
# exchanges themselves run on the one request path (firmware/online_settle.py: Settlement, phases
# added to firmware.online.Online); the screens are firmware/ui/settle.py.
#
# docs/JOURNAL.md ("The settlement record") gives the steps and what a boot after a cut resumes.

from firmware import batch as B
from firmware.store import Damaged, RecordFile, load, save

# The steps, in order. "sweep": confirmed, the pending reversal and the failed ones go once more;
# "send": the 0500 is out (its trace and totals kept) or about to be; "upload": the batch upload of
# an unbalanced answer, item `up` next; "end": the end message (202 / 207); "close": the batch
# closes here (its archive, the batch number + 1); "done": over, the record is the settlement's
# report; "none": nothing unfinished (an error answer, a 0500 that never left, no settlement yet).
NONE = "none"
SWEEP = "sweep"
SEND = "send"
UPLOAD = "upload"
END = "end"
CLOSE = "close"
DONE = "done"
STEPS = (NONE, SWEEP, SEND, UPLOAD, END, CLOSE, DONE)
UNFINISHED = (SWEEP, SEND, UPLOAD, END, CLOSE)

LISTED_MAX = 16  # traces listed by name (in doubt, not uploaded); more are counted only
UPLOAD_TRIES = 3  # an upload item without an answer is resent (its own trace) this often

# The totals kept: F48's halves (debit = sales, credit = voids and refunds, as the host's ledger
# counts them) and the report's per-kind count and sum.
F48_NAMES = ("dn", "da", "dcn", "dca", "fn", "fa", "fcn", "fca")
KIND_NAMES = ("sale", "void", "refund")


def _int(v, lo, hi):
    return type(v) is int and lo <= v <= hi


def _ints(v, size, hi):
    if type(v) is not list or len(v) != size:
        return False
    for x in v:
        if not _int(x, 0, hi):
            return False
    return True


def _traces(v, size):
    if type(v) is not list or len(v) > size:
        return False
    for x in v:
        if not _int(x, 1, 999999):
            return False
    return True


def _validate(r):
    ok = (
        type(r.get("v")) is int
        and r["v"] == 1
        and r.get("step") in STEPS
        and _int(r.get("batch"), 0, 999999)
        and type(r.get("op")) is str
        and len(r["op"]) == 2
        and _int(r.get("time"), 0, 0x7FFFFFFF)
        and _ints(r.get("t"), 8, 999999999999)  # F48's numbers
        and _ints(r.get("k"), 6, 999999999999)  # sale, void, refund: count and sum
        and _int(r.get("trace"), 0, 999999)  # the 0500's (0: none yet)
        and type(r.get("result")) is str
        and len(r["result"]) in (0, 2)
        and _int(r.get("up"), 0, 99999)  # the next batch index the upload looks at
        and _int(r.get("tries"), 0, UPLOAD_TRIES)
        and _int(r.get("sent"), 0, 9999)
        and _int(r.get("nfail"), 0, 9999)
        and _traces(r.get("fail"), LISTED_MAX)
        and _int(r.get("ndoubt"), 0, 9999)
        and _traces(r.get("doubt"), LISTED_MAX)
        and _traces(r.get("rev"), 16)  # failed reversals still failed after the sweep
        and _int(r.get("end"), 0, 999999)  # the end message's trace (0: none yet)
        and type(r.get("code")) is str
        and len(r["code"]) <= 2
        and type(r.get("stopped")) is bool  # the upload ended early (an item never answered)
    )
    if ok:
        for name, check, _ in _LATER:
            if name in r and not check(r[name]):
                ok = False
    if not ok:
        raise Damaged("bad settlement record")
    return r


# Fields the record gained with the report kept in the archive: (name, check, what a record
# without them reads as). A record written by earlier firmware lacks them; one that has them is
# checked.
_LATER = (
    ("nref", lambda v: _int(v, 0, 9999), 0),  # refunds the sweep could not confirm
    ("ref", lambda v: _traces(v, LISTED_MAX), []),
    ("nsig", lambda v: _int(v, 0, 9999), 0),  # signatures the sweep could not upload
    ("sig", lambda v: _traces(v, LISTED_MAX), []),
    ("bad", lambda v: _int(v, 0, 9999), 0),  # records of the batch that did not read
)
# The report's fields (the batch journal's REPORT record, kept in the batch's archive)
REPORT_FIELDS = (
    "batch",
    "op",
    "time",
    "t",
    "k",
    "result",
    "sent",
    "nfail",
    "fail",
    "stopped",
    "ndoubt",
    "doubt",
    "rev",
    "nref",
    "ref",
    "nsig",
    "sig",
    "bad",
)


SETTLE = RecordFile("settle", _validate, 1024)


def blank(batch=0, op="01", now=0):
    return {
        "v": 1,
        "step": NONE,
        "batch": batch,
        "op": op,
        "time": now,
        "t": [0] * 8,
        "k": [0] * 6,
        "trace": 0,
        "result": "",
        "up": 0,
        "tries": 0,
        "sent": 0,
        "nfail": 0,
        "fail": [],
        "ndoubt": 0,
        "doubt": [],
        "rev": [],
        "end": 0,
        "code": "",
        "stopped": False,
        "nref": 0,
        "ref": [],
        "nsig": 0,
        "sig": [],
        "bad": 0,
    }


class State:
    """The settlement record as loaded (`rec`; a blank one, step "none", when there is none) and
    every change to it: write() saves a copy with changes (synced; OSError if storage fails)."""

    def __init__(self, storage):
        self.storage = storage
        self._loaded = load(storage, SETTLE)
        self.rec = dict(self._loaded.record or blank())
        for name, _, default in _LATER:
            if name not in self.rec:
                self.rec[name] = default
        self.lost = self._loaded.lost  # copies existed and none reads: unfinished, from the sweep

    @property
    def step(self):
        return self.rec["step"]

    def unfinished(self):
        return self.lost or self.rec["step"] in UNFINISHED

    def write(self, **changes):
        rec = dict(self.rec)
        for name in changes:
            if name not in rec:
                raise ValueError("unknown field " + name)
            rec[name] = changes[name]
        save(self.storage, SETTLE, rec, self._loaded)
        self.rec = rec


def unfinished(storage):
    """True if a settlement was started and has not finished (its record's step): the boot asks
    to continue it, and no sale, void or refund goes meanwhile. A record that cannot be read
    counts as unfinished (firmware.store keeps it as evidence; continuing starts from the sweep of
    the current batch)."""
    try:
        return State(storage).unfinished()
    except OSError:
        return True


def settle_totals(transactions):
    """(F48 numbers, per-kind numbers, in-doubt traces, in-doubt count) of the batch.
    F48: domestic debit count, sum, credit count, sum, then foreign the same: debit = sales
    approved (a voided one too: the host keeps the sale and counts its void as a credit), credit =
    voids and refunds approved. Per kind (the screen, the report): sale, void, refund count and
    sum, the same way (a voided sale counted with the sales, its void with the voids). In doubt
    (sent, in doubt, its reversal pending or failed): left out and listed."""
    t = [0] * 8
    k = [0] * 6
    doubt = []
    ndoubt = 0
    for v in transactions:
        state = v["state"]
        kind = v["kind"]
        if state in (B.SENT, B.IN_DOUBT):
            ndoubt += 1
            if len(doubt) < LISTED_MAX:
                doubt.append(v["trace"])
            continue
        if state not in (B.APPROVED, B.VOIDED):
            continue
        i = KIND_NAMES.index(kind) * 2
        k[i] += 1
        k[i + 1] += v["amount"]
        at = 0 if B.domestic(v["org"]) else 4
        if kind != "sale":
            at += 2
        t[at] += 1
        t[at + 1] += v["amount"]
    return t, k, doubt, ndoubt


def uploadable(view):
    """True if a transaction of the batch goes up in a batch upload: approved (a sale voided since
    too: the host has it)."""
    return view["state"] == B.APPROVED or (view["kind"] == "sale" and view["state"] == B.VOIDED)


def report_record(rec, now):
    """The settlement's report (the batch journal's REPORT record, which the closing keeps in the
    batch's archive) of a settlement record whose end message was answered: closed at `now`."""
    out = {}
    for name in REPORT_FIELDS:
        out[name] = rec[name]
    out["time"] = now
    out["bad"] = min(rec["bad"], 9999)
    return out


def settlement_record(rec, now):
    """The batch journal's SETTLEMENT record of a finished settlement record."""
    out = {"batch": rec["batch"], "time": now, "result": rec["result"]}
    t = rec["t"]
    for i in range(8):
        out[F48_NAMES[i]] = t[i] if i % 2 else min(t[i], 999)
    return out
