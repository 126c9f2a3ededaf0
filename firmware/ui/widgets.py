# The screens' shared parts: the Screen base, centring and right-aligning text, digit entry, the
# message screen. Screens never touch storage or the host directly and never show card data; each
# flow's screens live in a module of their own (firmware/ui/__init__.py lists them).

from hal.contracts import DIGITS, KEY_CANCEL, KEY_CLEAR, KEY_ENTER, cut_cells, text_cells


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


def device_fault_text(term, device):
    """ "Card reader fault": device is the catalog key of a Board slot, "dev_" + the slot's name."""
    return term.t("device_fault", term.t(device))


def can_go_online(term):
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
