# The screens' shared parts: the Screen base (and ItemScreen, a menu item's screen: its title line
# and the way back to its menu), centring and right-aligning text, six-digit numbers, menus, digit
# entry, the message screen. Screens never touch storage or the host directly and never show card
# data; each flow's screens live in a module of their own (firmware/ui/__init__.py lists them).

from hal.contracts import DIGITS, KEY_CANCEL, KEY_CLEAR, KEY_DOWN, KEY_ENTER, KEY_UP, cut_cells, text_cells


def center(s, cols):
    s = cut_cells(s, cols)
    return " " * ((cols - text_cells(s)) // 2) + s


def right(s, cols):
    s = cut_cells(s, cols)
    return " " * (cols - text_cells(s)) + s


def six_digits(n):
    """A batch or trace number as its six digits: 42 -> "000042"."""
    s = str(n)
    return "0" * (6 - len(s)) + s


class Screen:
    """Base screen. Handlers return True if they used the key (an unused key beeps)."""

    # Back to the idle screen after the idle_timeout_s parameter without input (not the idle screen).
    times_out = True
    title_key = ""  # the catalog key of the first line (title())
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

    def title(self, d, cols):
        """The first line: the catalog text of title_key, centred."""
        d.text(0, center(self.term.t(self.title_key), cols))


class ItemScreen(Screen):
    """The screen of a menu item: its title is the item's catalog key, and it goes back to the menu
    with that item highlighted (menu(), given by the subclass): back(), or end(lines) after a
    message."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key

    def menu(self):
        """The menu to go back to."""
        raise NotImplementedError

    def back(self):
        self.term.go(self.menu())

    def end(self, lines):
        """Show lines under the title; any key then goes back to the menu."""
        term = self.term
        term.go(MessageScreen(term, self.title_key, lines, self.menu()))


def device_fault_text(term, device):
    """ "Card reader fault": device is the catalog key of a Board slot, "dev_" + the slot's name."""
    return term.t("device_fault", term.t(device))


def can_go_online(term):
    """True if the terminal can go online: a security module and trusted transaction records."""
    return term.board.security is not None and term.journal is not None


class MenuScreen(Screen):
    """A menu (`1 Sale 2 Void …`): a digit opens its item, UP/DOWN move the highlight, ENTER opens
    it. A subclass gives the items (menu_items(): (catalog key, screen(term, key) or None while the
    feature is not built yet, guarded: refused while the terminal has a fault or its clock is not
    set)), the title (title_key) and the way back (back())."""

    def __init__(self, term, selected=0):
        super().__init__(term)
        self.items = self.menu_items()
        self.selected = selected

    def menu_items(self):
        raise NotImplementedError

    def at(self, key):
        """This menu with the item `key` highlighted (where a screen of that item goes back to)."""
        for i in range(len(self.items)):
            if self.items[i][0] == key:
                self.selected = i
        return self

    def back(self):
        raise NotImplementedError

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
        elif guarded and not term.clock_valid:
            lines = [t("clock_not_set"), t("clock_set_hint")]
            term.go(MessageScreen(term, key, lines, type(self)(term, index)))
        else:
            term.go(screen(term, key))

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        visible = rows - 1
        first = 0 if self.selected < visible else self.selected - visible + 1
        for row in range(visible):
            i = first + row
            if i >= len(self.items):
                break
            d.text(row + 1, "{} {}".format(i + 1, t(self.items[i][0])), i == self.selected)


class DigitEntryScreen(ItemScreen):
    """Typing digits: a digit adds to the entry (if take_digit() allows it), CLEAR deletes the last
    one, CANCEL calls back(), ENTER calls accept(). A problem (catalog key) set by accept() shows
    until the next key."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.digits = ""
        self.problem = None

    def take_digit(self, key):
        """True if the digit key may be added to the entry."""
        raise NotImplementedError

    def accept(self):
        raise NotImplementedError

    def on_key(self, key):
        return digit_key(self, key)


def digit_key(screen, key):
    """A key on a screen that types digits (`digits`, `problem`, take_digit(), accept(), back()):
    DigitEntryScreen's keys, for an entry screen of another base too."""
    problem = screen.problem
    screen.problem = None
    if key in DIGITS and len(key) == 1:
        used = screen.take_digit(key)
        if used:
            screen.digits += key
    elif key == KEY_CLEAR:
        used = bool(screen.digits)
        screen.digits = screen.digits[:-1]
    elif key == KEY_CANCEL:
        screen.back()
        return True
    elif key == KEY_ENTER:
        used = True
        screen.accept()
    else:
        used = False
    if used or problem:
        screen.term.redraw()
    return used


def scroll_key(screen, key):
    """A key on a screen that shows `lines` from `first` under its title: UP/DOWN scroll a line
    (False at either end), any other key calls back()."""
    if key == KEY_UP and screen.first > 0:
        screen.first -= 1
    elif key == KEY_DOWN and screen.first < len(screen.lines) - 1:
        screen.first += 1
    elif key in (KEY_UP, KEY_DOWN):
        return False
    else:
        screen.back()
        return True
    screen.term.redraw()
    return True


def render_scrolled(screen, d, rows, cols):
    """The title, then `lines` from `first`, a line a row."""
    screen.title(d, cols)
    for row in range(1, rows):
        i = screen.first + row - 1
        if i < len(screen.lines):
            d.text(row, screen.lines[i])


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
        self.title(d, cols)
        for i in range(len(self.lines)):
            d.text(i + 2, center(self.lines[i], cols))
        d.text(rows - 1, center(t("press_any_key"), cols))
