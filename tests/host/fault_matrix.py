# The host fault matrix (docs/PROTOCOL.md, "The host fault matrix"): every fault of the host
# simulator (docs/HOST.md, "Faults") x every transaction kind x the fault counts where the recovery
# differs. Each case runs the terminal's real code (sim.scenario's headless terminal) against the
# real host simulator in the same process (sim.host.server.Host, its ledger in SQLite); only the
# link fault is injected, with the host's set_fault. After the fault the terminal does what the
# recovery table says (the reversal before the next transaction, a sign-in first after a bad MAC),
# and then the batch journal (sim.journal's rows) and the host's ledger (sim.host ledger's rows)
# agree per (terminal, batch, trace) to the fen (sim.journal.differences, what `python -m
# sim.journal diff` prints), and the card is charged exactly what the journal says: no double charge.
# A refund (0220) is never reversed: its request is resent once with the same trace, and after two
# failures it is not confirmed (`in_doubt`, which the diff names); the host books it once: the card
# and the original's refunded total get it once, to the fen (no double refund).
#
#   run_case(Case("sale", "no-answer", 2), tmp_dir) -> [] or the lines saying what went wrong
#
# CPython only (the simulator and the host are); tests/host/test_fault_matrix.py runs the sample in
# make test, and every case under make campaign.
import io
import os
from types import SimpleNamespace

from sim import cards, scenario
from sim.__main__ import _opened_board, _scenario, host_db
from sim.host.acquirer import OPENING_BALANCE
from sim.host.ledger import Ledger
from sim.host.server import FAULT_KINDS
from sim.journal import ReadOnly, differences, ledger_rows, rows

FAULTS = ("no-answer", "late", "drop", "garbage", "bad-mac", "duplicate")

# What the terminal shows once the faulted request's answer is lost, late, broken, garbled,
# badly MACed or repeated (the recovery table's 0200 rows): all but a duplicate keep a reversal.
REVERSAL_SHOWN = {
    "no-answer": "No answer: reversal",
    "late": "No answer: reversal",  # the answer comes after the terminal's timeout: lost
    "drop": "Link broke: reversal",
    "garbage": "Bad answer: reversal",
    "bad-mac": "MAC error: reversal",
    "duplicate": "Approved",  # the first answer is taken, the copy dropped
}
# The faults after which nothing comes until the terminal's answer timeout (30 s): a `wait 31`.
TIMEOUT_S = 31
REVERSAL_ATTEMPTS = 3  # the default reversal_attempts parameter

PAN = cards.DECK["debit"].track2.split("=")[0]
PIN = "123456"
SUPERVISOR = "202612"  # set at the first supervisor password prompt (the factory one must change)
SALE_FEN = 1000  # the sale a void undoes
FAULTED_FEN = 1234  # the sale the fault hits
NEXT_FEN = 500  # the sale after the fault: it pushes the pending reversal out first
REFUND_FEN = 300  # the refund the fault hits: part of the SALE_FEN sale
SALE_RRN = "000000000001"  # the host's RRN of the batch's first sale (its first booking)


def sale_lines(fen):
    return ["key ENTER 1 {} ENTER".format(fen), "insert debit", "key {} ENTER".format(PIN)]


def approved_sale_lines(fen):
    return sale_lines(fen) + ["sign", "expect Approved", "key ENTER"]


# The void of the batch's first sale (trace 2: the sign-in took trace 1). The supervisor's factory
# password is changed in the setup, so the void itself asks it once.
VOID_SETUP = approved_sale_lines(SALE_FEN) + [
    "key ENTER 2",
    "expect Supervisor password",
    "key 123456 ENTER",
    "expect New 6-digit password",
    "key {0} ENTER {0} ENTER".format(SUPERVISOR),
    "key ENTER",
    "expect Enter trace number",
    "key CANCEL CANCEL CANCEL",
]
# The refund of part of the batch's first sale (its RRN, its date MMDD: the host lives in the run's
# clock, set here), to the card it was paid with; reason 4 (other). The setup changes the
# supervisor's factory password, as the void's does.
SALE_DAY = ("2026-11-29 10:00", "1129")
REFUND_SETUP = (
    ["clock " + SALE_DAY[0]]
    + approved_sale_lines(SALE_FEN)
    + [
        "key ENTER 3",
        "expect Supervisor password",
        "key 123456 ENTER",
        "expect New 6-digit password",
        "key {0} ENTER {0} ENTER".format(SUPERVISOR),
        "key ENTER",
        "expect Card to refund to",
        "key CANCEL CANCEL",
    ]
)
REFUND_LINES = [
    "key ENTER 3 {} ENTER".format(SUPERVISOR),
    "expect Card to refund to",
    "insert debit",
    "key {} ENTER".format(SALE_RRN),
    "expect Original date",
    "key {} ENTER".format(SALE_DAY[1]),
    "key {} ENTER 4".format(REFUND_FEN),
    "expect Refund it?",
    "key ENTER",
]
VOID_LINES = [
    "key ENTER 2 {} ENTER".format(SUPERVISOR),
    "expect Enter trace number",
    "key 2 ENTER",
    "expect Void it?",
    "key ENTER",
    "expect Card of the sale",
    "insert debit",
    "key {} ENTER".format(PIN),
]


class Kind:
    """One transaction kind of the matrix. `setup`: script lines before the fault is set (what the
    request needs: a sale to void or refund); `lines`: the request itself, up to its answer; `mti`,
    `host_kind`: the request as the host's fates name it; `before`: (mti, kind) of the financial
    requests the setup sends; `recovery`: "reversal" (a 0200: reversed before the next request) or
    "resend" (a 0220: resent once with the same trace, never reversed); `on`: the MTI the fault is
    set on (None: every financial request, the reversal's attempts with it); `shown(case)`: the text
    the terminal shows after the faulted answer (and its resend); `journal(case)`: the journal's
    (kind, amount, state) rows at the end, before the next sale's row; `refunded`: the fen the host
    credits the card back (once, whatever the fault)."""

    def __init__(self, name, mti, host_kind, setup, lines, before, recovery, on, shown, journal, refunded=0):
        self.name = name
        self.mti = mti
        self.host_kind = host_kind
        self.setup = setup
        self.lines = lines
        self.before = before
        self.recovery = recovery
        self.on = on
        self.shown = shown
        self.journal = journal
        self.refunded = refunded


def _reversal_shown(case):
    return REVERSAL_SHOWN[case.fault]


def _refund_shown(case):
    # The resend from RAM takes the host's replay of the refund it booked: approved; both lost (or
    # broken, garbled, badly MACed): not confirmed. A duplicate: the first answer taken.
    return "Refund not confirmed" if case.unconfirmed else "Approved"


KINDS = {
    k.name: k
    for k in (
        Kind(
            "sale",
            "0200",
            "sale",
            [],
            sale_lines(FAULTED_FEN),
            [],
            "reversal",
            None,
            _reversal_shown,
            lambda c: [("sale", FAULTED_FEN, "reversed" if c.reverses else "approved")],
        ),
        # A void's reversal makes the sale live again, at the host and in the journal.
        Kind(
            "void",
            "0200",
            "void",
            VOID_SETUP,
            VOID_LINES,
            [("0200", "sale")],
            "reversal",
            None,
            _reversal_shown,
            lambda c: [
                ("sale", SALE_FEN, "approved" if c.reverses else "voided"),
                ("void", SALE_FEN, "reversed" if c.reverses else "approved"),
            ],
        ),
        # A refund is resent, never reversed: the fault is set on 0220 alone, so that it hits the
        # refund and its one resend (counts 3 and 4: no third 0220 goes), never the next sale. The
        # host books it at the first 0220 whatever the fault (only the answer is lost): the card
        # gets REFUND_FEN back once, and the sale's refunded total is REFUND_FEN.
        Kind(
            "refund",
            "0220",
            "refund",
            REFUND_SETUP,
            REFUND_LINES,
            [("0200", "sale")],
            "resend",
            "0220",
            _refund_shown,
            lambda c: [
                ("sale", SALE_FEN, "approved"),
                ("refund", REFUND_FEN, "in_doubt" if c.unconfirmed else "approved"),
            ],
            REFUND_FEN,
        ),
    )
}


class Case:
    """One cell: `kind` x `fault`, the fault hitting the next `count` financial requests (the
    faulted one, then its reversal's attempts: count 4 exhausts the 3 attempts), or for a refund
    the next `count` 0220s (the refund, then its resend: count 2 leaves it not confirmed)."""

    def __init__(self, kind, fault, count=1):
        assert kind in KINDS and fault in FAULTS, (kind, fault)
        self.kind = KINDS[kind]
        self.fault = fault
        self.count = count

    def __repr__(self):
        return "{}-{}-x{}".format(self.kind.name, self.fault, self.count)

    @property
    def reverses(self):
        return self.kind.recovery == "reversal" and self.fault != "duplicate"

    @property
    def resends(self):
        """A refund whose answer was not valid: its request resent from RAM (the same trace)."""
        return self.kind.recovery == "resend" and self.fault != "duplicate"

    @property
    def unconfirmed(self):
        """A refund whose resend failed too: not confirmed (`in_doubt`)."""
        return self.resends and self.count >= 2

    @property
    def given_up(self):
        return self.reverses and self.count > REVERSAL_ATTEMPTS

    def shown(self):
        return self.kind.shown(self)

    def retries(self):
        """How many next-sale attempts stop at "Reversal due: retry" (each a faulted reversal)."""
        if not self.reverses:
            return 0
        return min(self.count, REVERSAL_ATTEMPTS) - 1

    def requests(self):
        """The financial requests the host decides, in order: (mti, kind, fate)."""
        kind = self.kind
        out = list(kind.before) + [(kind.mti, kind.host_kind)]
        if self.reverses:
            out += [("0400", "reversal")] * min(self.count, REVERSAL_ATTEMPTS)
        if self.resends:
            out.append((kind.mti, kind.host_kind))  # the resend from RAM, once
        out.append(("0200", "sale"))
        fate = _FATE[self.fault]
        left = self.count
        got = []
        for i, (mti, what) in enumerate(out):
            hit = i >= len(kind.before) and left > 0 and kind.on in (None, mti)
            left -= hit
            got.append((mti, what, fate if hit else "answered"))
        return got

    def journal(self):
        rows = self.kind.journal(self)
        if self.given_up:  # the journal cannot know the host reversed it: in doubt until settlement
            rows[-1] = rows[-1][:2] + ("in_doubt",)
        return rows + [("sale", NEXT_FEN, "approved")]


_FATE = {
    "no-answer": "withheld",
    "late": "late",
    "drop": "dropped",
    "garbage": "garbled",
    "bad-mac": "bad_mac",
    "duplicate": "duplicated",
}
assert set(FAULTS) == set(FAULT_KINDS) == set(_FATE)


def cases(counts=(1, 2, 3, 4)):
    """Every cell: each kind x fault x count (a duplicate: counts 1 and 2, the second one hitting
    the next sale; more change nothing)."""
    out = []
    for kind in KINDS:
        for fault in FAULTS:
            for n in counts:
                if fault != "duplicate" or n <= 2:
                    out.append(Case(kind, fault, n))
    return out


class Run:
    """The headless terminal with its embedded host, state in `state` (the host's ledger beside it,
    as `python -m sim run --state` keeps them)."""

    def __init__(self, state):
        self.state = state
        self.err = io.StringIO()
        self.out = io.StringIO()
        args = SimpleNamespace(state=state, lang="en", offline=False, host=None, trace=None)
        self._ctx = _opened_board(args, self.err)
        board, self.host, route = self._ctx.__enter__()
        self.sc = _scenario(board, self.out, self.host, route)

    def close(self):
        self._ctx.__exit__(None, None, None)

    def do(self, *lines):
        for step in scenario.parse("\n".join(lines)):
            self.sc.do(step)

    def screen(self):
        return scenario.screen_text(self.sc.board.display)

    def answer(self):
        """Let a held answer time out (as the terminal's clock runs), again while a resend (a
        refund's) waits for its answer in turn, the signature when one is asked for, then the
        screen."""
        for _ in range(3):
            if "Waiting for host" not in self.screen():
                break
            self.do("wait {}".format(TIMEOUT_S))
        if "Cardholder, sign" in self.screen():  # approved: the cardholder signs at once
            self.do("sign")
        return self.screen()


def run_case(case, tmp):
    """Run one cell in a new terminal and host under the directory tmp; the lines saying what
    differs from the cell's expectation ([] when it holds)."""
    state = os.path.join(tmp, "pos")
    run = Run(state)
    problems = []
    try:
        try:
            _drive(run, case, problems)
        except scenario.Failure as e:
            problems.append("{}: {}\n{}".format(case, e, run.screen()))
        history = [f for f in run.host.history if f.mti in ("0200", "0220", "0400")]
        seen = [(f.mti, f.kind, f.fate) for f in history]
        if seen != case.requests():
            problems.append("the host decided {}, the matrix expects {}".format(seen, case.requests()))
        balance = run.host.call(lambda a: a.ledger.balance(PAN))
    finally:
        run.close()
    problems += agreement(state, case.journal(), balance, case.kind.refunded)
    return problems


def _drive(run, case, problems):
    kind = case.kind
    run.do(*kind.setup)
    on = " on " + kind.on if kind.on else ""
    run.do("host fault {}{} count {}".format(case.fault, on, case.count))
    run.do(*kind.lines)
    shown = run.answer()
    if case.shown() not in shown:
        problems.append("after the fault: {!r} expected, the screen:\n{}".format(case.shown(), shown))
    run.do("key ENTER")
    # The next sale: the pending reversal goes first (after a sign-in when the MAC failed); while
    # its answer is faulted too the sale does not go ("Reversal due: retry").
    retries = gave_up = 0
    for _ in range(REVERSAL_ATTEMPTS + 1):
        for line in sale_lines(NEXT_FEN):
            run.do(line)
            shown = run.answer()
            if "Reversal failed" in shown:  # the last attempt faulted too: given up, the sale goes on
                gave_up += 1
                if "Approved" not in shown:  # at the card when a sign-in had to come first
                    run.do("key ENTER")
                    shown = run.screen()
            if "Reversal due: retry" in shown:  # at the card when a sign-in must come first
                break
        if "Reversal due: retry" in shown:
            retries += 1
            run.do("key ENTER")
            continue
        break
    if retries != case.retries():
        problems.append("{} reversal retries, the matrix expects {}".format(retries, case.retries()))
    if gave_up != case.given_up:
        problems.append(
            "the reversal given up {} times, the matrix expects {}".format(gave_up, int(case.given_up))
        )
    if "Approved" not in shown:
        problems.append("the next sale: not approved:\n{}".format(shown))
    run.do("key ENTER", "host clear")


def agreement(state, expected, balance, refunded=0):
    """The journal and the ledger after a case: the journal's rows are `expected` ((kind, amount,
    state) in order), sim.journal's diff finds no difference but the ones in doubt, the card's
    balance at the host is the opening balance less exactly what the journal charged it plus the
    `refunded` fen the host booked back once, and the host's sales were refunded `refunded` in all."""
    problems = []
    journal, found = rows(ReadOnly(state))
    got = [(r["kind"], r["amount"], r["state"]) for r in found]
    if got != expected:
        problems.append("the journal holds {}, the matrix expects {}".format(got, expected))
    ledger = Ledger(host_db(state))
    try:
        booked = ledger_rows(ledger)
        txns = ledger.txns()
    finally:
        ledger.close()
    terminal = found[0]["terminal"] if found else None
    # In doubt is the one difference the diff must show: the reversal given up, to be tried again
    # before settlement (the recovery table's 0400 row); every other one is a failure.
    # A refund not confirmed is the other (the recovery table's 0220 row): the host did book it.
    doubt = [
        "batch {:06d} trace {:06d}: {}".format(r["batch"], r["trace"], _DOUBT[r["kind"] == "refund"])
        for r in found
        if r["state"] == "in_doubt"
    ]
    lines = differences(found, booked, terminal)
    if lines != doubt:
        problems += ["sim.journal diff: " + line for line in lines]
    keys = [(r["terminal"], r["batch"], r["trace"]) for r in booked]
    if len(keys) != len(set(keys)):
        problems.append("the host booked a (terminal, batch, trace) twice: {}".format(sorted(keys)))
    charged = sum(r["amount"] for r in found if r["kind"] == "sale" and r["state"] == "approved")
    if balance != OPENING_BALANCE - charged + refunded:
        problems.append(
            "the card's balance at the host is {}, the journal charged {} of {} and {} went back".format(
                balance, charged, OPENING_BALANCE, refunded
            )
        )
    booked_back = sum(r["refunded"] for r in txns if r["kind"] == "sale")
    refunds = sum(r["amount"] for r in txns if r["kind"] == "refund" and r["status"] == "ok")
    if booked_back != refunded or refunds != refunded:
        problems.append(
            "the host refunded the sales {} in {} of refunds, the matrix expects {}".format(
                booked_back, refunds, refunded
            )
        )
    return problems


_DOUBT = {
    False: "in doubt (its reversal has not cleared)",
    True: "refund not confirmed (its resend has not been answered)",
}
