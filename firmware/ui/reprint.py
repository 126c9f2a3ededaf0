# Main menu item 5, Reprint (重打印): 1 the last transaction, 2 one by its trace, 3 the last
# settlement report (firmware/ui/settle.py). The slip (firmware/ui/slip.py) is shown again
# stamped 重打印 / DUPLICATE; the stamp is part of the screen only, never of the stored record.
# Only an approved transaction (a sale voided since too) has a slip. Moves no money, so it needs no
# supervisor. Loaded when chosen (Terminal.flow), dropped back at idle.

from firmware.ui.menu import MainMenuScreen
from firmware.ui.slip import SlipScreen, TraceScreen, fields, find, has_slip, journal_refusal, state_key
from firmware.ui.widgets import MenuScreen, MessageScreen
from hal.record import Damaged


def _items():
    return (
        ("rpt_last", _last, False),
        ("rpt_by_trace", _by_trace, False),
        ("rpt_settlement", _settlement, False),
    )


def open_reprint(term, title_key):
    """Main menu 5: the Reprint menu, or the fault that stops it (the journal cannot be read)."""
    return journal_refusal(term, title_key) or ReprintMenuScreen(term)


def reprint_menu(term, key=None):
    """The Reprint menu with the item `key` highlighted."""
    return ReprintMenuScreen(term).at(key)


def _back_to(key):
    return lambda term: reprint_menu(term, key)


class ReprintMenuScreen(MenuScreen):
    title_key = "menu_reprint"

    def menu_items(self):
        return _items()

    def back(self):
        self.term.go(MainMenuScreen(self.term).at("menu_reprint"))


def duplicate(term, view, back):
    """The slip of view stamped 重打印 / DUPLICATE."""
    return SlipScreen(term, "menu_reprint", fields(term, view, True), back)


def last_with_slip(batch):
    """The newest transaction of the batch that has a slip (the last approved one), or None.
    Damaged or OSError if the journal does not read back."""
    i = batch.count - 1
    while i >= 0:
        view = batch.at(i)
        if has_slip(view):
            return view
        i -= 1
    return None


# ---- 1 the last transaction -------------------------------------------------------------------
def _last(term, key):
    t = term.t
    back = _back_to(key)
    try:
        view = last_with_slip(term.journal.batch)
    except Damaged:
        return MessageScreen(term, key, [t("qry_unreadable")], back(term))
    except OSError:
        return MessageScreen(term, key, [t("storage_failed")], back(term))
    if view is None:
        return MessageScreen(term, key, [t("rpt_none")], back(term))
    return duplicate(term, view, back)


# ---- 2 by trace -------------------------------------------------------------------------------
def _by_trace(term, key):
    back = _back_to(key)

    def chosen(term, trace):
        view, why = find(term, trace)
        if view is None:
            return why
        again = lambda term: TraceScreen(term, key, chosen, back)  # noqa: E731
        if not has_slip(view):
            t = term.t
            return MessageScreen(term, key, [t("rpt_no_slip"), t(state_key(view))], again(term))
        return duplicate(term, view, again)

    return TraceScreen(term, key, chosen, back)


# ---- 3 the settlement report ---------------------------------------------------------------------
def _settlement(term, key):
    return term.flow("firmware.ui.settle").last_report(term, reprint_menu(term, key))
