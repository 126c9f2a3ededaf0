# The main menu (1 Sale ... 8 Admin): a digit opens its item. Loaded at boot with the idle screen;
# each item's screens are a flow of their own, loaded when it is chosen (Terminal.flow).

from firmware.ui.widgets import MenuScreen, MessageScreen, can_go_online


# The main menu: (catalog key, screen(term, key) or None while the feature is not built yet, guarded:
# refused while the terminal has a fault or its clock is not set).
def _menu_items():
    return (
        ("menu_sale", _open_sale, True),
        ("menu_void", _open_void, True),
        ("menu_refund", _open_refund, True),
        ("menu_settle", _open_settle, True),
        ("menu_reprint", _open_reprint, False),
        ("menu_query", _open_query, False),
        ("menu_operators", _open_operators, False),
        ("menu_admin", _open_service_menu, False),  # the way out of a fault or an unset clock
    )


def _open_sale(term, title_key):
    # firmware/ui/amount.py: the amount and card screens, loaded at the first sale and kept.
    # A batch journal that cannot take one more transaction says so before the amount is typed
    # (the sale checks again before it consumes a trace).
    refused = _batch_refuses(term)
    if refused is not None:
        return MessageScreen(term, title_key, [term.t(refused)], MainMenuScreen(term))
    if term.params.operator_required and term.operator is None:
        # The operator_required parameter: the sign-in first (firmware/ui/operators.py), then the sale.
        operators = term.flow("firmware.ui.operators")
        back = lambda term: MainMenuScreen(term)  # noqa: E731
        return operators.sign_in_screen(term, "op_sign_in", _amount, back)
    return _amount(term, title_key)


def _batch_refuses(term):
    """The catalog key of why the batch journal takes no more transactions, or None."""
    journal = term.journal
    if journal is None:
        return None  # a fault: the menu refuses the sale for it
    if term.settling:
        return "settle_unfinished"
    try:
        return None if journal.batch.room(term.params.batch_size) is None else "settle_first"
    except OSError:
        return "storage_failed"


def _amount(term, title_key="menu_sale"):
    return term.flow("firmware.ui.amount").AmountScreen(term, title_key)


def _open_void(term, title_key):
    # firmware/ui/void.py: menu 2, loaded when chosen and dropped back at idle.
    return term.flow("firmware.ui.void").open_void(term, title_key)


def _open_refund(term, title_key):
    # firmware/ui/refund.py: menu 3, loaded when chosen and dropped back at idle.
    return term.flow("firmware.ui.refund").open_refund(term, title_key)


def _open_settle(term, title_key):
    # firmware/ui/settle.py: menu 4, loaded when chosen and dropped back at idle.
    return term.flow("firmware.ui.settle").open_settle(term, title_key)


def _open_reprint(term, title_key):
    # firmware/ui/reprint.py: menu 5, loaded when chosen and dropped back at idle.
    return term.flow("firmware.ui.reprint").open_reprint(term, title_key)


def _open_query(term, title_key):
    # firmware/ui/query.py: menu 6, loaded when chosen and dropped back at idle.
    return term.flow("firmware.ui.query").open_query(term, title_key)


def _open_operators(term, title_key):
    # firmware/ui/operators.py: menu 7, loaded when chosen and dropped back at idle.
    return term.flow("firmware.ui.operators").operators_menu(term)


def _open_service_menu(term, title_key):
    # firmware/ui/service.py builds on this module's menu; loaded when chosen, not with the menu.
    return term.flow("firmware.ui.service").open_service_menu(term, title_key)


class MainMenuScreen(MenuScreen):
    """The main menu: `1 Sale … 8 Admin` (_menu_items()); CANCEL goes back to idle."""

    title_key = "menu_title"

    def menu_items(self):
        return _menu_items()

    def back(self):
        self.term.go_idle()

    def open(self, index):
        key, screen, guarded = self.items[index]
        term = self.term
        if guarded and key == "menu_sale" and not term.fault and not term.clock_valid and can_go_online(term):
            # The sign-in sets an invalid clock: the sale asks for it first, and is refused (with
            # the way to set the clock by hand) only when the host cannot be reached.
            self.selected = index
            AuthorisingScreen = term.flow("firmware.ui.sale").AuthorisingScreen
            back = type(self)(term, index)
            term.go(AuthorisingScreen(term, key, None, screen(term, key), back))
        else:
            MenuScreen.open(self, index)
