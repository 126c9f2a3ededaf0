# Main menu item 2, Void (消费撤销): the supervisor's password, the original's trace, the original
# shown (masked card, amount, time, trace, RRN), confirm, the sale's card again when the void_card
# parameter says so (the same card: its masked PAN), its PIN when the card needs one (as the sale
# decides), then the 0200 void through the one request path (firmware/online.py Void), the
# cardholder's signature when approved (firmware/ui/esign.py, from the sale's AuthorisingScreen) and
# its result. An original that cannot be voided is refused before anything is sent or a trace is
# consumed (refusal()). Loaded when chosen (Terminal.flow), dropped back at idle.

from firmware.batch import APPROVED, DECLINED, REVERSED, UNSENT, VOIDED
from firmware.dates import format_minute
from firmware.money import format_fen
from firmware.online import Void
from firmware.ui.menu import MainMenuScreen
from firmware.ui.slip import TraceScreen, find
from firmware.ui.widgets import MessageScreen, Screen, center, six_digits
from hal.contracts import KEY_CANCEL, KEY_ENTER

# Why an original of this batch cannot be voided, by its state in the batch journal
_STATE_REFUSALS = {
    VOIDED: "void_already",
    DECLINED: "void_declined",
    REVERSED: "void_reversed",
    UNSENT: "void_unsent",
}


def _menu(term):
    return MainMenuScreen(term).at("menu_void")


def open_void(term, title_key):
    """Main menu 2: the supervisor's password, then the original's trace."""
    why = _room(term)
    if why is not None:
        return MessageScreen(term, title_key, [term.t(why)], _menu(term))

    def then(term):
        return TraceScreen(term, title_key, _chosen, _menu)

    return term.flow("firmware.ui.password").require_supervisor(term, title_key, then, _menu)


def _room(term):
    if term.settling:
        return "settle_unfinished"
    try:
        return None if term.journal.batch.room(term.params.batch_size) is None else "settle_first"
    except OSError:
        return "storage_failed"


def refusal(term, trace):
    """(original, None) if the transaction with this trace can be voided: an approved sale of the
    current batch, nothing pending on it, room in the batch for the void; else (None, the catalog
    key of why not)."""
    journal = term.journal
    view, why = find(term, trace)
    if view is None:
        if why != "qry_not_found":
            return None, why
        try:
            settled = journal.batch.archived(trace=trace)
        except OSError:
            return None, "storage_failed"
        return None, "void_settled" if settled is not None else "void_not_found"
    if view["batch"] != term.counters.batch:
        return None, "void_not_found"
    if view["kind"] != "sale":
        return None, "void_not_sale"
    state = view["state"]
    if state in _STATE_REFUSALS:
        return None, _STATE_REFUSALS[state]
    rev = journal.pending_reversal()
    pending = rev is not None and rev["trace"] == trace and rev["batch"] == view["batch"]
    if state != APPROVED or pending or view["reversal"]:
        return None, "void_in_doubt"  # sent, in doubt, its reversal pending or given up
    if view["refunded"]:
        return None, "void_already"
    if not view["rrn"]:
        return None, "void_no_rrn"  # the host approved it without F37: a void has nothing to name it by
    return view, _room(term)


def _chosen(term, trace):
    view, why = refusal(term, trace)
    if why is not None:
        return why
    return ConfirmScreen(term, "menu_void", view)


class ConfirmScreen(Screen):
    """The original shown (masked card, amount, time, trace, RRN): ENTER voids it, CANCEL goes back
    to the menu."""

    def __init__(self, term, title_key, orig):
        super().__init__(term)
        self.title_key = title_key
        self.orig = orig

    def on_key(self, key):
        term = self.term
        if key == KEY_CANCEL:
            term.go(_menu(term))
            return True
        if key != KEY_ENTER:
            return False
        orig = self.orig
        if term.params.void_card:
            amount = term.flow("firmware.ui.amount")
            read = _card_read(orig)
            term.go(amount.CardScreen(term, self.title_key, orig["amount"], read, "void_card_prompt"))
        else:
            sale = term.flow("firmware.ui.sale")
            term.go(sale.AuthorisingScreen(term, self.title_key, Void(orig)))
        return True

    def render(self, d, rows, cols):
        t = self.term.t
        o = self.orig
        self.title(d, cols)
        d.text(1, center(o["card"], cols))
        d.text(2, center(format_fen(o["amount"]), cols))
        d.text(3, center(format_minute(o["time"], self.term.params.tz_minutes), cols))
        d.text(4, center(t("result_trace", six_digits(o["trace"])), cols))
        d.text(5, center(t("result_rrn", o["rrn"]), cols))
        d.text(6, center(t("void_confirm"), cols))
        d.text(rows - 1, center(t("void_confirm_hint"), cols))


def _card_read(orig):
    """The card screen's hand-off for a void: the same card as the sale's (its masked PAN), then
    the sale's PIN decision and authorising with a Void of orig."""

    def read(term, title_key, fen, card):
        if card.masked_pan != orig["card"]:
            card.take_track2()
            term.go(MessageScreen(term, title_key, [term.t("void_other_card")], _menu(term)))
            return
        make = lambda fen, card, pin_block=None: Void(orig, card, pin_block)  # noqa: E731
        term.flow("firmware.ui.sale").card_read(term, title_key, fen, card, make)

    return read
