# Main menu item 3, Refund (退货): the supervisor's password, the card, the original's RRN, its date
# (MMDD, as on its slip), the amount (partial allowed), the reason (one of five), confirm, then the
# 0220 through the one request path (firmware/online.py Refund) and its result. No cardholder PIN
# (退货不输密). The local guard (refusal(), left_of()) refuses before anything is sent or a trace is
# consumed: an original in the journal or its archive that is not a sale, voided, in doubt, or whose
# refunds (approved and not confirmed) would go over it; any refund over the refund_max parameter.
# The host is the authority: it also counts the back office's refunds, which the terminal never
# hears of until its own refund is refused (35). Loaded when chosen, dropped back at idle.

from firmware.batch import APPROVED, VOIDED
from firmware.journal import REFUND_REASONS
from firmware.money import format_fen
from firmware.online import Refund
from firmware.ui.amount import CardScreen as _AmountCardScreen
from firmware.ui.menu import MainMenuScreen
from firmware.ui.widgets import DigitEntryScreen, MessageScreen, center, device_fault_text, right
from hal.contracts import KEY_CANCEL, KEY_ENTER
from hal.record import Damaged

_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 February: any year may be the sale's


def _menu(term):
    return MainMenuScreen(term).at("menu_refund")


def _drop(card):
    if card is not None:
        card.take_track2()


def open_refund(term, title_key):
    """Main menu 3: room in the batch, the supervisor's password, then the card."""
    why = _room(term)
    if why is not None:
        return MessageScreen(term, title_key, [term.t(why)], _menu(term))

    def then(term):
        return CardScreen(term, title_key)

    return term.flow("firmware.ui.password").require_supervisor(term, title_key, then, _menu)


def _room(term):
    try:
        return None if term.journal.batch.room(term.params.batch_size) is None else "settle_first"
    except OSError:
        return "storage_failed"


def valid_mmdd(mmdd):
    """True if mmdd is 4 digits of a month and a day it can have (29 February included)."""
    if len(mmdd) != 4 or not mmdd.isdigit():
        return False
    month, day = int(mmdd[:2]), int(mmdd[2:])
    return 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1]


def left_of(journal, rrn):
    """What the terminal knows of the original with this RRN: (None, None, None) when neither the
    current batch nor its archive has it; else (orig, left, why): orig its batch and trace
    ({"batch", "trace"}), left the fen its refunds (approved and not confirmed: this batch's,
    those its archive row counted and those of later settled batches) still leave, why None or
    the catalog key of why it cannot be refunded at all. OSError / Damaged when storage fails."""
    batch = journal.batch
    view = batch.by_rrn(rrn)
    if view is not None:
        orig = {"batch": view["batch"], "trace": view["trace"]}
        if view["kind"] != "sale":
            return orig, 0, "refund_not_sale"
        if view["state"] == VOIDED:
            return orig, 0, "refund_voided"
        if view["state"] != APPROVED or view["reversal"]:
            return orig, 0, "refund_orig_in_doubt"  # approved, then its recording failed: reversed
        return orig, view["amount"] - journal.refunded_against(rrn), None
    row = batch.archived(rrn=rrn)
    if row is None:
        return None, None, None
    orig = {"batch": row["batch"], "trace": row["trace"]}
    if row["kind"] != "sale":
        return orig, 0, "refund_not_sale"
    if row["voided"]:
        return orig, 0, "refund_voided"
    # its own batch's refunds (the row's `refunded`), later settled batches' (their archived
    # refund rows, approved or not confirmed) and the current batch's
    done = row["refunded"] + batch.archived_refunded(rrn, row["batch"]) + journal.refunded_against(rrn)
    return orig, row["amount"] - done, None


def refusal(term, rrn, fen=None):
    """(orig, None) if a refund of `fen` (or of anything, None) against the original with this
    RRN passes the local guard; else (None, catalog key). orig: its batch and trace as the journal
    has them (0 and 0 when it does not), and `left` (None when unknown)."""
    try:
        known, left, why = left_of(term.journal, rrn)
    except Damaged:
        return None, "qry_unreadable"
    except OSError:
        return None, "storage_failed"
    if why is not None:
        return None, why
    if known is not None and left <= 0:
        return None, "refund_over"
    if fen is not None:
        if fen > term.params.refund_max:
            return None, "refund_cap"
        if left is not None and fen > left:
            return None, "refund_over"
    orig = {"batch": 0, "trace": 0, "left": left}
    if known is not None:
        orig["batch"] = known["batch"]
        orig["trace"] = known["trace"]
    return orig, None


class _Step(DigitEntryScreen):
    """A screen of the refund after the card: it holds the card (its track 2 dropped when the flow
    ends anywhere but in the request) and what was typed before it (`info`)."""

    def __init__(self, term, card, info):
        super().__init__(term, "menu_refund")
        self.card = card
        self.info = info
        self.handed = False

    def menu(self):
        return _menu(self.term)

    def leave(self):
        if not self.handed:
            _drop(self.card)

    def hand(self, screen):
        self.handed = True
        self.term.go(screen)

    def refuse(self, key, extra=None):
        lines = [self.term.t(key)]
        if extra:
            lines.append(extra)
        self.end(lines)

    def head(self, d, cols):
        self.title(d, cols)
        d.text(1, center(self.card.masked_pan, cols))


class CardScreen(_AmountCardScreen):
    """The card the money goes back to (swipe, insert or tap): the sale's card screen with its own
    prompt and no amount yet; then the original's RRN."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key, 0, _card_read, "refund_card_prompt")

    def menu(self):
        return _menu(self.term)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(3, center(t(self.prompt), cols))
        if "dev_card_reader" in self.term.device_faults:
            d.text(5, center(device_fault_text(self.term, "dev_card_reader"), cols))
        elif self.problem:
            d.text(5, center(t(self.problem), cols))
            d.text(6, center(t("retry_card"), cols))


def _card_read(term, title_key, fen, card):
    term.go(RrnScreen(term, card, {}))


class RrnScreen(_Step):
    """The original's RRN (参考号): 12 digits, as on its slip."""

    def take_digit(self, key):
        return len(self.digits) < 12

    def accept(self):
        if len(self.digits) != 12:
            self.problem = "refund_rrn_hint"
            return
        orig, why = refusal(self.term, self.digits)
        if why is not None:
            return self.refuse(why)
        info = {"rrn": self.digits}
        self.hand(DateScreen(self.term, self.card, info))

    def render(self, d, rows, cols):
        t = self.term.t
        self.head(d, cols)
        d.text(3, center(t("refund_rrn_prompt"), cols))
        d.text(4, center(self.digits + "_" * (12 - len(self.digits)), cols))
        d.text(6, center(t(self.problem or "refund_rrn_hint"), cols))


class DateScreen(_Step):
    """The original's date, MMDD (the host's F13 of its answer, as on its slip)."""

    def take_digit(self, key):
        return len(self.digits) < 4

    def accept(self):
        if not valid_mmdd(self.digits):
            self.problem = "refund_bad_date"
            return
        info = dict(self.info)
        info["date"] = self.digits
        self.hand(AmountScreen(self.term, self.card, info))

    def render(self, d, rows, cols):
        t = self.term.t
        self.head(d, cols)
        d.text(3, center(t("refund_date_prompt"), cols))
        d.text(4, center(self.digits + "_" * (4 - len(self.digits)), cols))
        if self.problem:
            d.text(6, center(t(self.problem), cols))


class AmountScreen(_Step):
    """The amount to give back (fen, shifted in from the right): at most the refund_max parameter
    and, when the journal knows the original, what its refunds leave."""

    def take_digit(self, key):
        if key == "0" and not self.digits:
            return False
        return len(self.digits) < len(str(self.term.params.refund_max))

    def amount(self):
        return int(self.digits) if self.digits else 0

    def accept(self):
        term = self.term
        fen = self.amount()
        if fen == 0:
            self.problem = "amount_zero"
            return
        orig, why = refusal(term, self.info["rrn"], fen)
        if why == "refund_cap":
            return self.refuse(why, term.t("amount_limit", format_fen(term.params.refund_max)))
        if why == "refund_over":
            _, left, _ = left_of(term.journal, self.info["rrn"])
            return self.refuse(why, term.t("refund_left", format_fen(max(0, left or 0))))
        if why is not None:
            return self.refuse(why)
        info = dict(self.info)
        info["amount"] = fen
        info["batch"] = orig["batch"]
        info["trace"] = orig["trace"]
        self.hand(ReasonScreen(term, self.card, info))

    def render(self, d, rows, cols):
        t = self.term.t
        self.head(d, cols)
        d.text(2, t("refund_amount_prompt"))
        d.text(3, right(format_fen(self.amount()), cols))
        if self.problem:
            d.text(5, center(t(self.problem), cols))


class ReasonScreen(_Step):
    """The reason (退货原因), one of five: 1..5 picks it."""

    def take_digit(self, key):
        return False

    def on_key(self, key):
        if len(key) == 1 and "1" <= key <= str(len(REFUND_REASONS)):
            info = dict(self.info)
            info["reason"] = REFUND_REASONS[int(key) - 1]
            self.hand(ConfirmScreen(self.term, self.card, info))
            return True
        if key == KEY_CANCEL:
            self.back()
            return True
        return False

    def accept(self):
        pass

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(1, center(t("refund_reason_prompt"), cols))
        for i in range(len(REFUND_REASONS)):
            d.text(i + 2, "{} {}".format(i + 1, t("rr_" + REFUND_REASONS[i])))


class ConfirmScreen(_Step):
    """What will be refunded: the card, the amount, the original's RRN and date, the reason. ENTER
    sends the 0220, CANCEL goes back to the menu."""

    def take_digit(self, key):
        return False

    def on_key(self, key):
        term = self.term
        if key == KEY_CANCEL:
            self.back()
            return True
        if key != KEY_ENTER:
            return False
        info = self.info
        orig = {"batch": info["batch"], "trace": info["trace"], "rrn": info["rrn"], "date": info["date"]}
        refund = Refund(orig, info["amount"], self.card, info["reason"])
        self.hand(term.flow("firmware.ui.sale").AuthorisingScreen(term, "menu_refund", refund))
        return True

    def accept(self):
        pass

    def render(self, d, rows, cols):
        t = self.term.t
        info = self.info
        self.head(d, cols)
        d.text(2, center(format_fen(info["amount"]), cols))
        d.text(3, center(t("result_rrn", info["rrn"]), cols))
        d.text(4, center(t("refund_orig_date", info["date"]), cols))
        d.text(5, center(t("rr_" + info["reason"]), cols))
        d.text(6, center(t("refund_confirm"), cols))
        d.text(rows - 1, center(t("refund_confirm_hint"), cols))
