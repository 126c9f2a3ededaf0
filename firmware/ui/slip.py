# The slip (签购单) of one transaction of the batch journal (firmware/batch.py): its fields as
# (label, value) pairs, and those as screen lines. Reprint (firmware/ui/reprint.py) shows it stamped
# 重打印 / DUPLICATE, Query's detail (firmware/ui/query.py) under the transaction's state; the stamp
# is never part of the stored record, only of what is shown. The card shows as stored: first 6 and
# last 4 digits. Also the screens both flows share: a trace number typed, a slip scrolled.
# Loaded at first use (Terminal.flow), dropped back at idle (firmware.terminal.DROPPED_AT_IDLE).

from firmware.batch import APPROVED, VOIDED
from firmware.dates import format_minute
from firmware.money import format_fen
from firmware.sigfile import read_image
from firmware.ui.menu import MainMenuScreen
from firmware.ui.widgets import (
    DigitEntryScreen,
    MessageScreen,
    Screen,
    center,
    render_scrolled,
    scroll_key,
    six_digits,
)
from hal.contracts import cut_cells, text_cells
from hal.record import Damaged

DEFAULT_OPERATOR = "01"  # a record without an operator: the one of every sale while nobody signed in

# A transaction's kind and state as the screens name them
KIND_KEYS = {"sale": "kind_sale", "void": "kind_void", "refund": "kind_refund"}
_FULL_KIND_KEYS = {"sale": "slip_sale", "void": "slip_void", "refund": "slip_refund"}


def state_key(view):
    """The catalog key of a transaction's state ("st_approved" ...): a reversal given up shows as
    such rather than in doubt."""
    if view.get("reversal") == "failed":
        return "reversal_gave_up"
    if view["state"] == "in_doubt" and view.get("kind") == "refund":
        return "st_unconfirmed"  # a refund is resent, never reversed
    return "st_" + view["state"]


def has_slip(view):
    """True if the transaction was approved (a sale voided since was too): it has a slip."""
    return view["state"] in (APPROVED, VOIDED)


def esign_text(term, view):
    """Whether the transaction was signed and its upload's state, or why it was not signed
    (firmware/esign.py); a refused upload with the host's code, kept in the image file."""
    state = view.get("esign") or "none"
    if state != "failed":
        return term.t("es_" + state)
    code = "??"
    try:
        got = read_image(term.board.storage, view["batch"], view["trace"])
        if got is not None:
            code = got[1]
    except (OSError, Damaged):
        pass  # the state says refused all the same; the code is what the file could not give
    return term.t("es_failed", code)


def _mmdd(date):
    return date[:2] + "-" + date[2:] if len(date) == 4 else date


def fields(term, view, duplicate=False):
    """The slip of a transaction view (Batch.by_trace's dict) as (label, value) pairs, top to
    bottom; a label "" is a line of its own (the merchant's name, the stamp). duplicate: stamped
    重打印 / DUPLICATE first."""
    t = term.t
    params = term.params
    out = []
    if duplicate:
        out.append(("", t("slip_duplicate")))
    out.append(("", params.merchant_name))
    out.append((t("slip_merchant"), params.merchant_id))
    out.append((t("slip_terminal"), params.terminal_id))
    out.append((t("slip_operator"), view.get("op") or DEFAULT_OPERATOR))
    out.append((t("slip_card"), view.get("card") or "-"))  # an archive row keeps no card
    out.append((t("slip_kind"), t(_FULL_KIND_KEYS.get(view["kind"], "slip_sale"))))
    out.append((t("slip_batch"), six_digits(view["batch"])))
    out.append((t("slip_trace"), six_digits(view["trace"])))
    out.append((t("slip_rrn"), view.get("rrn") or "-"))
    out.append((t("slip_auth"), view.get("auth") or "-"))
    when = view.get("time")
    out.append((t("slip_time"), "-" if when is None else format_minute(when, params.tz_minutes)))
    out.append((t("slip_amount"), format_fen(view["amount"])))
    if has_slip(view) and view["kind"] in ("sale", "void", "refund"):
        out.append((t("slip_esign"), esign_text(term, view)))
    orig = view.get("orig")
    if orig is not None:
        if view["kind"] == "refund":
            out.append((t("slip_orig_batch"), six_digits(orig["batch"])))
        out.append((t("slip_orig_trace"), six_digits(orig["trace"])))
        if view["kind"] == "refund":
            out.append((t("slip_orig_rrn"), orig["rrn"] or "-"))
            out.append((t("slip_orig_date"), _mmdd(orig["date"]) or "-"))
            reason = view.get("reason")
            out.append((t("slip_reason"), t("rr_" + reason) if reason else "-"))
    if duplicate:
        out.append(("", t("slip_duplicate")))
    return out


def lines(pairs, cols):
    """(label, value) pairs as lines of at most cols cells: the label left and the value right on
    one line when both fit, else the label on a line and the value right-aligned under it; a pair
    without a label is centred."""
    out = []
    for label, value in pairs:
        if not label:
            out.append(center(value, cols))
            continue
        room = cols - text_cells(label) - text_cells(value)
        if room >= 1:
            out.append(label + " " * room + value)
        else:
            out.append(cut_cells(label, cols))
            out.append(" " * max(0, cols - text_cells(value)) + cut_cells(value, cols))
    return out


def spread(left, right, cols):
    """left and right on one line of cols cells: right whole at the right edge, left cut to fit."""
    left = cut_cells(left, max(0, cols - text_cells(right) - 1))
    return left + " " * (cols - text_cells(left) - text_cells(right)) + right


def journal_refusal(term, title_key):
    """None if the batch journal can be read, else the screen of the fault that stops Query and
    Reprint (they move no money: any other fault, or the clock not set, does not stop them)."""
    if term.journal is not None:
        return None
    back = MainMenuScreen(term).at(title_key)
    return MessageScreen(term, title_key, [term.t(term.fault or "storage_failed")], back)


def find(term, trace):
    """(view, None) of the current batch's transaction with this trace, or of a settled refund
    whose archive row is not confirmed (or was confirmed or not done since: its resend's outcome),
    or (None, catalog key of why not: not found, unreadable, storage failing)."""
    try:
        view = term.journal.batch.by_trace(trace)
        if view is None:
            row = term.journal.batch.archived(trace=trace)
            if row is not None and row["kind"] == "refund" and row.get("state", APPROVED) != APPROVED:
                view = row  # no card or time kept: the slip says "-"
    except Damaged:
        return None, "qry_unreadable"
    except OSError:
        return None, "storage_failed"
    if view is None:
        return None, "qry_not_found"
    return view, None


class TraceScreen(DigitEntryScreen):
    """A trace number typed (up to six digits; 0 is none); ENTER calls chosen(term, trace), which
    gives the next screen or a catalog key shown as the problem (not found ...)."""

    def __init__(self, term, title_key, chosen, back):
        super().__init__(term, title_key)
        self.chosen = chosen
        self.back_to = back

    def menu(self):
        return self.back_to(self.term)

    def take_digit(self, key):
        return len(self.digits) < 6

    def accept(self):
        trace = int(self.digits) if self.digits else 0
        if trace == 0:
            self.problem = "qry_trace_prompt"
            return
        screen = self.chosen(self.term, trace)
        if type(screen) is str:
            self.problem = screen
            return
        self.term.go(screen)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(2, center(t("qry_trace_prompt"), cols))
        d.text(3, center(self.digits + "_" * (6 - len(self.digits)), cols))
        if self.problem:
            d.text(5, center(t(self.problem), cols))


class SlipScreen(Screen):
    """Lines under a title (a slip, a list of reversals, the totals): UP/DOWN scroll, any other key
    goes to back(term). head: lines above the pairs (a transaction's state)."""

    def __init__(self, term, title_key, pairs, back, head=None):
        super().__init__(term)
        self.title_key = title_key
        self.pairs = pairs
        self.head = head or []
        self.back_to = back
        self.first = 0
        self.lines = []
        self._cols = 0

    def back(self):
        self.term.go(self.back_to(self.term))

    def on_key(self, key):
        return scroll_key(self, key)

    def render(self, d, rows, cols):
        if cols != self._cols:  # laid out for the display's width, once
            self._cols = cols
            out = []
            for line in self.head:
                out.append(center(line, cols))
            self.lines = out + lines(self.pairs, cols)
        render_scrolled(self, d, rows, cols)
