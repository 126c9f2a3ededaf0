# The sale's first screens: the amount, then the card. Loaded at the first sale (Terminal.flow) and
# kept; the card screen hands a usable card to the rest of the sale (firmware/ui/sale.py).

from firmware.card import read_card
from firmware.dates import civil
from firmware.errors import BadCardData
from firmware.money import format_fen
from firmware.ui.idle import IdleScreen
from firmware.ui.menu import MainMenuScreen
from firmware.ui.widgets import DigitEntryScreen, ItemScreen, MessageScreen, center, device_fault_text, right
from hal.contracts import CARD_MODES, CARD_SCAN, CARD_SWIPE, KEY_CANCEL, has


class AmountScreen(DigitEntryScreen):
    """Amount entry in fen: digits shift in from the right (1 2 3 = ¥1.23), CLEAR deletes the last
    digit, CANCEL backs out to the menu, ENTER accepts an amount between ¥0.01 and the maximum.
    `problem` is (catalog key, argument) here."""

    def take_digit(self, key):
        if key == "0" and not self.digits:
            return False  # no leading zero: the amount shifts in from the right
        return len(self.digits) < len(str(self.term.params.max_amount))

    def menu(self):
        return MainMenuScreen(self.term)

    def amount(self):
        return int(self.digits) if self.digits else 0

    def accept(self):
        term = self.term
        fen = self.amount()
        if fen == 0:
            self.problem = ("amount_zero", None)
        elif fen > term.params.max_amount:
            self.problem = ("amount_over", format_fen(term.params.max_amount))
        else:
            term.go(CardScreen(term, self.title_key, fen))

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(1, t("amount_prompt"))
        d.text(3, right(format_fen(self.amount()), cols))
        if self.problem:
            key, arg = self.problem
            d.text(5, center(t(key), cols))
            if arg:
                d.text(6, center(t("amount_limit", arg), cols))


class CardScreen(ItemScreen):
    """Waits for a swipe, insert, tap or scanned payment code; bad reads stay here with a message.
    read(term, title_key, fen, card): where a usable card goes (None: on to the sale's PIN and
    authorising, firmware/ui/sale.py card_read; a void gives its own)."""

    def __init__(self, term, title_key, fen, read=None, prompt="card_prompt"):
        super().__init__(term, title_key)
        self.fen = fen
        self.read = read
        self.prompt = prompt
        self.problem = None
        self.card = None  # the last card read: its track 2 is dropped when this screen leaves
        self.handed = False  # ... unless it was handed on to the sale flow

    def enter(self):
        term = self.term
        reader = term.card_reader
        term.use("dev_card_reader", reader.arm, [mode for mode in CARD_MODES if has(reader, mode)])

    def leave(self):
        if self.card is not None and not self.handed:
            self.card.take_track2()  # no online request was built from it: drop the track data
        term = self.term
        term.use("dev_card_reader", term.card_reader.disarm)

    def on_key(self, key):
        if key == KEY_CANCEL:
            self.back()
            return True
        return False

    def menu(self):
        return MainMenuScreen(self.term)

    def on_card(self, event):
        term = self.term
        t = term.t
        if event.mode == CARD_SCAN:
            # TODO(scan): payment-code (付款码) sales online; the message builders refuse entry mode scan.
            lines = [t("scan_accepted"), format_fen(self.fen), t("not_available")]
            term.go(MessageScreen(term, self.title_key, lines, IdleScreen(term)))
            return
        # term.now() raises ClockNotSet: an expiry is never checked against a clock not set.
        year, month = civil(term.now(), term.params.tz_minutes)[:2]
        try:
            card = read_card(event, year, month)
        except BadCardData as exc:
            self.problem = exc.key
            term.redraw()
            return
        if self.card is not None:
            self.card.take_track2()  # an earlier read of this screen: its track is not needed
        self.card = card
        if event.mode == CARD_SWIPE and card.chip_capable():
            self.problem = "card_insert_chip"
            term.redraw()
            return
        # the sale flow builds on these screens (a void hands its own on)
        card_read = self.read or term.flow("firmware.ui.sale").card_read
        self.handed = True  # the sale flow takes (or drops) its track 2 from here on
        card_read(term, self.title_key, self.fen, card)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(1, right(format_fen(self.fen), cols))
        d.text(3, center(t(self.prompt), cols))
        if "dev_card_reader" in self.term.device_faults:  # a dead reader: say so, CANCEL still works
            d.text(5, center(device_fault_text(self.term, "dev_card_reader"), cols))
        elif self.problem:
            d.text(5, center(t(self.problem), cols))
            d.text(6, center(t("retry_card"), cols))
