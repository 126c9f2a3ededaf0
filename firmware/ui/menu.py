# The main menu (1 Sale ... 8 Admin): a digit opens its item. Loaded at boot with the idle screen;
# each item's screens are a flow of their own, loaded when it is chosen (Terminal.flow).

from firmware.ui.widgets import MessageScreen, Screen, can_go_online, center
from hal.contracts import KEY_CANCEL, KEY_DOWN, KEY_ENTER, KEY_UP


# The main menu: (catalog key, screen(term, key) or None while the feature is not built yet, guarded:
# refused while the terminal has a fault or its clock is not set).
def _menu_items():
    return (
        ("menu_sale", _open_sale, True),
        ("menu_void", None, True),
        ("menu_refund", None, True),
        ("menu_settle", None, True),
        ("menu_reprint", None, True),
        ("menu_query", None, True),
        ("menu_operators", None, True),
        ("menu_admin", _open_service_menu, False),  # the way out of a fault or an unset clock
    )


def _open_sale(term, title_key):
    # firmware/ui/amount.py: the amount and card screens, loaded at the first sale and kept.
    return term.flow("firmware.ui.amount").AmountScreen(term, title_key)


def _open_service_menu(term, title_key):
    # firmware/ui/service.py builds on this module's menu; loaded when chosen, not with the menu.
    return term.flow("firmware.ui.service").open_service_menu(term, title_key)


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
        elif guarded and not term.clock_valid and key == "menu_sale" and can_go_online(term):
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
