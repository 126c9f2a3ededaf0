# The screen/menu state machine: one class per screen, each turning keys and card reads into
# the next screen. Screens never touch storage or the host directly and never show card data.

from firmware.card import read_card
from firmware.dates import civil, format_minute
from firmware.errors import BadCardData
from firmware.journal import needs_sign_in
from firmware.money import format_fen
from hal.contracts import (
    CARD_INSERT,
    CARD_MODES,
    CARD_SCAN,
    CARD_SWIPE,
    CARD_TAP,
    DIGITS,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_DOWN,
    KEY_ENTER,
    KEY_FUNC,
    KEY_UP,
    HalError,
    cut_cells,
    has,
    text_cells,
)

# The catalog names of the card reader's parts, for the idle screen's fault line.
_SOURCE_KEYS = {
    CARD_SWIPE: "cardsrc_swipe",
    CARD_INSERT: "cardsrc_insert",
    CARD_TAP: "cardsrc_tap",
    CARD_SCAN: "cardsrc_scan",
}


def center(s, cols):
    s = cut_cells(s, cols)
    return " " * ((cols - text_cells(s)) // 2) + s


def right(s, cols):
    s = cut_cells(s, cols)
    return " " * (cols - text_cells(s)) + s


class Screen:
    """Base screen. Handlers return True if they used the key (an unused key beeps)."""

    # Back to the idle screen after the idle_timeout_s parameter without input (not the idle screen).
    times_out = True
    # The keys typed on this screen are a secret (a password): whatever echoes keys (the
    # simulator's scenario runner, sim.scenario.masked_input) shows them as "*".
    masked_input = False

    def __init__(self, term):
        self.term = term

    def enter(self):
        pass

    def leave(self):
        pass

    def on_key(self, key):
        return False

    def on_card(self, event):
        pass

    def on_signature(self, event):
        """(SIG_*, data) from the signature pad, while this screen has it capturing."""
        pass

    def on_pin(self, event):
        """(PIN_* or KEY_PART, value) from the PIN entry, while an entry this screen began is active:
        digit counts and the ending, never a digit."""
        pass

    def on_second(self):
        """Called about once a second; return True to be redrawn."""
        return False

    def tick(self):
        """Called every loop pass: advance work that must not wait for input (the host session);
        return True when something changed (the loop then does not sleep, and redraws)."""
        return False

    def render(self, d, rows, cols):
        raise NotImplementedError


class IdleScreen(Screen):
    """Merchant name, date and time, batch, link state; ENTER or FUNC opens the main menu.
    Its once-a-second check allocates nothing (tests/portable/test_idle_loop.py): the status is
    read into a list kept for it, the date and sign-in state are worked out once a minute."""

    times_out = False

    def __init__(self, term):
        super().__init__(term)
        # [date and time text, link online, dead card modes, failed device, signed in]: what is
        # shown, and the scratch list on_second() reads the status into to compare with it.
        self._shown = [None, None, None, None, None]
        self._now = [None, None, None, None, None]
        # The minute [_from, _until) and time zone the text and the sign-in state are for.
        self._from = self._until = 0
        self._tz = None
        self._minute_text = ""
        self._signed = None

    def enter(self):
        self.term.back_at_idle()

    def _status(self, into):
        """Read the status into the 5-slot list `into`."""
        term = self.term
        link = term.link
        try:  # term.use() would allocate a bound method every second
            into[1] = link.online() is True
        except HalError:
            term.device_failed("dev_link")
            into[1] = False
        else:
            term.device_ok("dev_link")
        into[2] = term.card_reader.dead_modes()  # a dead part (the scanner) fails alone: shown here
        into[3] = term.device_fault()
        self._each_minute()
        into[4] = self._signed
        # never a 2000-01-01 date from an RTC that lost its power
        into[0] = self._minute_text if term.clock_valid else term.t("clock_not_set")

    def _each_minute(self):
        """The date and time shown and the sign-in state, worked out when the minute turns:
        on_second asks every second, and formatting the time each time was 528 of the 672 bytes an
        idle second allocated (bench/memory.py); the key set the sign-in asks for is a new dict.
        The wall clock is read every second (a clock set from outside shows at once): on
        MicroPython its Unix seconds are a long int (over 2**30), the one allocation left there."""
        term = self.term
        seconds = term.clock.time()
        tz = term.params.tz_minutes
        # Compared, not divided: arithmetic on a long int allocates, a comparison does not.
        if self._from <= seconds < self._until and tz == self._tz:
            return
        self._from = seconds - seconds % 60  # this minute, [_from, _until)
        self._until = self._from + 60
        self._tz = tz
        self._minute_text = format_minute(seconds, tz)
        # A terminal that cannot go online says nothing about a sign-in.
        self._signed = None if not _online(term) else not needs_sign_in(term)

    def on_key(self, key):
        if key in (KEY_ENTER, KEY_FUNC):
            self.term.go(MenuScreen(self.term))
            return True
        return key == KEY_CANCEL

    def on_second(self):
        now = self._now
        self._status(now)
        return now != self._shown

    def render(self, d, rows, cols):
        term = self.term
        t = term.t
        self._until = 0  # worked out again: the sign-in state may have changed (a flow ended)
        self._status(self._shown)
        now, online, dead, failed, signed = self._shown
        batch = "------" if term.counters is None else _six(term.counters.batch)
        lines = [
            center(term.params.merchant_name, cols),
            center(now, cols),
            center(t("idle_batch", batch), cols),
            center(t("idle_online" if online else "idle_offline"), cols),
        ]
        if signed is not None:
            lines.append(center(t("idle_signed_in" if signed else "idle_sign_in_due"), cols))
        if term.fault:
            lines.append(center(t(term.fault), cols))
        if failed:
            lines.append(center(device_fault_text(term, failed), cols))
        if term.params.damaged:
            lines.append(center(t("params_damaged"), cols))
        if dead:
            names = ",".join([t(_SOURCE_KEYS[mode]) for mode in dead])
            lines.append(center(t("card_source_dead", names), cols))
        for i in range(len(lines)):
            d.text(i, lines[i])
        d.text(rows - 1, center(t("idle_hint"), cols))


def device_fault_text(term, device):
    """ "Card reader fault": device is the catalog key of a Board slot, "dev_" + the slot's name."""
    return term.t("device_fault", term.t(device))


def _six(n):
    s = str(n)
    return "0" * (6 - len(s)) + s


# The main menu: (catalog key, screen(term, key) or None while the feature is not built yet, guarded:
# refused while the terminal has a fault or its clock is not set).
def _menu_items():
    return (
        ("menu_sale", AmountScreen, True),
        ("menu_void", None, True),
        ("menu_refund", None, True),
        ("menu_settle", None, True),
        ("menu_reprint", None, True),
        ("menu_query", None, True),
        ("menu_operators", None, True),
        ("menu_admin", _open_service_menu, False),  # the way out of a fault or an unset clock
    )


def _open_service_menu(term, title_key):
    # firmware/service.py builds on this module's screens; loaded when chosen, not with the menu.
    return term.flow("firmware.service").open_service_menu(term, title_key)


class MenuScreen(Screen):
    """`1 Sale 2 Void …`: a digit opens its item, UP/DOWN move the highlight, ENTER opens it.
    A subclass gives other items (menu_items()), title (title_key) and way back (back())."""

    title_key = "menu_title"

    def __init__(self, term, selected=0):
        super().__init__(term)
        self.items = self.menu_items()
        self.selected = selected

    def menu_items(self):
        return _menu_items()

    def back(self):
        self.term.go_idle()

    def on_key(self, key):
        n = len(self.items)
        if key == KEY_CANCEL:
            self.back()
        elif key == KEY_UP:
            self.selected = (self.selected - 1) % n
            self.term.redraw()
        elif key == KEY_DOWN:
            self.selected = (self.selected + 1) % n
            self.term.redraw()
        elif key == KEY_ENTER:
            self.open(self.selected)
        elif len(key) == 1 and "1" <= key <= str(n):
            self.open(int(key) - 1)
        else:
            return False
        return True

    def open(self, index):
        self.selected = index
        key, screen, guarded = self.items[index]
        term = self.term
        t = term.t
        if screen is None:
            term.go(MessageScreen(term, key, [t("not_available")], type(self)(term, index)))
        elif guarded and term.fault:
            term.go(MessageScreen(term, key, [t(term.fault)], type(self)(term, index)))
        elif guarded and not term.clock_valid and key == "menu_sale" and _online(term):
            # The sign-in sets an invalid clock: the sale asks for it first, and is refused (with
            # the way to set the clock by hand) only when the host cannot be reached.
            AuthorisingScreen = term.flow("firmware.ui.sale").AuthorisingScreen
            back = type(self)(term, index)
            term.go(AuthorisingScreen(term, key, None, screen(term, key), back))
        elif guarded and not term.clock_valid:
            lines = [t("clock_not_set"), t("clock_set_hint")]
            term.go(MessageScreen(term, key, lines, type(self)(term, index)))
        else:
            term.go(screen(term, key))

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        visible = rows - 1
        first = 0 if self.selected < visible else self.selected - visible + 1
        for row in range(visible):
            i = first + row
            if i >= len(self.items):
                break
            d.text(row + 1, "{} {}".format(i + 1, t(self.items[i][0])), i == self.selected)


def _online(term):
    """True if the terminal can go online: a security module and trusted transaction records."""
    return term.board.security is not None and term.journal is not None


class DigitEntryScreen(Screen):
    """Typing digits: a digit adds to the entry (if take_digit() allows it), CLEAR deletes the last
    one, CANCEL calls back(), ENTER calls accept(). A problem (catalog key) set by accept() shows
    until the next key."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.digits = ""
        self.problem = None

    def take_digit(self, key):
        """True if the digit key may be added to the entry."""
        raise NotImplementedError

    def back(self):
        raise NotImplementedError

    def accept(self):
        raise NotImplementedError

    def on_key(self, key):
        problem = self.problem
        self.problem = None
        if key in DIGITS and len(key) == 1:
            used = self.take_digit(key)
            if used:
                self.digits += key
        elif key == KEY_CLEAR:
            used = bool(self.digits)
            self.digits = self.digits[:-1]
        elif key == KEY_CANCEL:
            self.back()
            return True
        elif key == KEY_ENTER:
            used = True
            self.accept()
        else:
            used = False
        if used or problem:
            self.term.redraw()
        return used


class AmountScreen(DigitEntryScreen):
    """Amount entry in fen: digits shift in from the right (1 2 3 = ¥1.23), CLEAR deletes the last
    digit, CANCEL backs out to the menu, ENTER accepts an amount between ¥0.01 and the maximum.
    `problem` is (catalog key, argument) here."""

    def take_digit(self, key):
        if key == "0" and not self.digits:
            return False  # no leading zero: the amount shifts in from the right
        return len(self.digits) < len(str(self.term.params.max_amount))

    def back(self):
        self.term.go(MenuScreen(self.term))

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
        d.text(0, center(t(self.title_key), cols))
        d.text(1, t("amount_prompt"))
        d.text(3, right(format_fen(self.amount()), cols))
        if self.problem:
            key, arg = self.problem
            d.text(5, center(t(key), cols))
            if arg:
                d.text(6, center(t("amount_limit", arg), cols))


class CardScreen(Screen):
    """Waits for a swipe, insert, tap or scanned payment code; bad reads stay here with a message."""

    def __init__(self, term, title_key, fen):
        super().__init__(term)
        self.title_key = title_key
        self.fen = fen
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
            self.term.go(MenuScreen(self.term))
            return True
        return False

    def on_card(self, event):
        term = self.term
        t = term.t
        if event.mode == CARD_SCAN:
            # Payment-code (付款码) sales go online with the host protocol issue.
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
        card_read = term.flow("firmware.ui.sale").card_read  # the sale flow builds on these screens
        self.handed = True  # the sale flow takes (or drops) its track 2 from here on
        card_read(term, self.title_key, self.fen, card)

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        d.text(1, right(format_fen(self.fen), cols))
        d.text(3, center(t("card_prompt"), cols))
        if "dev_card_reader" in self.term.device_faults:  # a dead reader: say so, CANCEL still works
            d.text(5, center(device_fault_text(self.term, "dev_card_reader"), cols))
        elif self.problem:
            d.text(5, center(t(self.problem), cols))
            d.text(6, center(t("retry_card"), cols))


class MessageScreen(Screen):
    """A title and a few lines; any key goes on to `then` (a screen)."""

    def __init__(self, term, title_key, lines, then):
        super().__init__(term)
        self.title_key = title_key
        self.lines = lines
        self.then = then

    def on_key(self, key):
        self.term.go(self.then)
        return True

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        for i in range(len(self.lines)):
            d.text(i + 2, center(self.lines[i], cols))
        d.text(rows - 1, center(t("press_any_key"), cols))
