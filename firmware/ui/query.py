# Main menu item 6, Query (查询): a transaction of the current batch by its trace, the batch as a
# list (newest first, scrolled with UP/DOWN, ENTER shows one), the batch's totals
# (firmware.batch.batch_totals, which the settlement sends too) and the reversals pending or given
# up. Reads the batch journal (term.journal.batch) one transaction at a time, never the whole batch
# into RAM; moves no money, so it needs no supervisor. Loaded when chosen (Terminal.flow), dropped
# back at idle.

from firmware.money import format_fen
from firmware.ui.menu import MainMenuScreen
from firmware.ui.slip import (
    KIND_KEYS,
    SlipScreen,
    TraceScreen,
    fields,
    find,
    journal_refusal,
    spread,
    state_key,
)
from firmware.ui.widgets import MenuScreen, MessageScreen, Screen, six_digits
from hal.contracts import KEY_CANCEL, KEY_DOWN, KEY_ENTER, KEY_UP
from hal.record import Damaged


def _items():
    return (
        ("qry_by_trace", _by_trace, False),
        ("qry_list", _list, False),
        ("qry_totals", _totals, False),
        ("qry_reversals", _reversals, False),
    )


def open_query(term, title_key):
    """Main menu 6: the Query menu, or the fault that stops it (the journal cannot be read)."""
    return journal_refusal(term, title_key) or QueryMenuScreen(term)


def query_menu(term, key=None):
    """The Query menu with the item `key` highlighted."""
    return QueryMenuScreen(term).at(key)


def _back_to(key):
    return lambda term: query_menu(term, key)


class QueryMenuScreen(MenuScreen):
    title_key = "menu_query"

    def menu_items(self):
        return _items()

    def back(self):
        self.term.go(MainMenuScreen(self.term).at("menu_query"))


def detail(term, view, back):
    """A transaction's state and amount, then its slip (not stamped: this is no reprint), scrolled."""
    head = [term.t(state_key(view)), format_fen(view["amount"])]
    return SlipScreen(term, "qry_detail", fields(term, view), back, head)


# ---- 1 by trace -------------------------------------------------------------------------------
def _by_trace(term, key):
    back = _back_to(key)

    def chosen(term, trace):
        view, why = find(term, trace)
        if view is None:
            return why
        return detail(term, view, lambda term: TraceScreen(term, key, chosen, back))

    return TraceScreen(term, key, chosen, back)


# ---- 2 the batch as a list --------------------------------------------------------------------
def _list(term, key):
    if term.journal.batch.count == 0:
        return MessageScreen(term, key, [term.t("qry_empty")], query_menu(term, key))
    return ListScreen(term, key)


class ListScreen(Screen):
    """The current batch, newest first, two rows a transaction: its trace, kind and time, then its
    state and amount. UP/DOWN move the highlight (the list scrolls with it), ENTER shows the
    highlighted one, CANCEL goes back. Only the rows shown are read from the journal."""

    def __init__(self, term, title_key, selected=0):
        super().__init__(term)
        self.title_key = title_key
        self.selected = selected  # 0: the newest
        self.first = 0  # the first one shown

    def _count(self):
        return self.term.journal.batch.count

    def _view(self, pos):
        """The transaction at list position pos (0 the newest), or None if it does not read."""
        batch = self.term.journal.batch
        try:
            return batch.at(batch.count - 1 - pos)
        except (Damaged, OSError):
            return None

    def on_key(self, key):
        n = self._count()
        term = self.term
        if key == KEY_CANCEL:
            term.go(query_menu(term, self.title_key))
        elif key == KEY_UP and self.selected > 0:
            self.selected -= 1
            term.redraw()
        elif key == KEY_DOWN and self.selected < n - 1:
            self.selected += 1
            term.redraw()
        elif key == KEY_ENTER and n:
            view = self._view(self.selected)
            title, selected = self.title_key, self.selected
            back = lambda term: ListScreen(term, title, selected)  # noqa: E731
            if view is None:
                term.go(MessageScreen(term, title, [term.t("qry_unreadable")], back(term)))
            else:
                term.go(detail(term, view, back))
        else:
            return False
        return True

    def render(self, d, rows, cols):
        self.title(d, cols)
        shown = (rows - 1) // 2
        if self.selected < self.first:
            self.first = self.selected
        elif self.selected >= self.first + shown:
            self.first = self.selected - shown + 1
        n = self._count()
        for k in range(shown):
            pos = self.first + k
            if pos >= n:
                break
            top, bottom = _rows(self.term, self._view(pos), cols)
            mark = pos == self.selected
            d.text(1 + 2 * k, top, mark)
            d.text(2 + 2 * k, bottom, mark)


def _rows(term, view, cols):
    """A transaction's two list rows: "000003 Sale   14:05" and "Approved     ¥12.34"."""
    t = term.t
    if view is None:
        return t("qry_unreadable"), ""
    hhmm = format_hhmm(view["time"], term.params.tz_minutes)
    top = spread(six_digits(view["trace"]) + " " + t(KIND_KEYS[view["kind"]]), hhmm, cols)
    return top, spread(t(state_key(view)), format_fen(view["amount"]), cols)


def format_hhmm(seconds, tz_minutes):
    """ "14:05" of wall-clock seconds in the terminal's zone."""
    s = (seconds + tz_minutes * 60) % 86400
    h, m = s // 3600, s % 3600 // 60
    return "{:02d}:{:02d}".format(h, m)


# ---- 3 the totals -----------------------------------------------------------------------------
def _totals(term, key):
    t = term.t
    back = _back_to(key)
    try:
        totals = term.journal.batch.totals()
    except Damaged:
        return MessageScreen(term, key, [t("qry_unreadable")], back(term))
    except OSError:
        return MessageScreen(term, key, [t("storage_failed")], back(term))
    pairs = [(t("slip_batch"), six_digits(_batch_number(term)))]
    for kind in ("sale", "void", "refund"):
        count, fen = totals[kind]
        pairs.append((t(KIND_KEYS[kind]) + " " + t("qry_count", count), format_fen(fen)))
    return SlipScreen(term, key, pairs, back)


def _batch_number(term):
    counters = term.counters
    return counters.batch if counters is not None else 0


# ---- 4 the reversals --------------------------------------------------------------------------
def _reversals(term, key):
    t = term.t
    journal = term.journal
    pairs = []
    pending = journal.pending_reversal()
    if pending is not None:
        pairs.append(("", t("qry_rev_pending")))
        pairs += _reversal_pairs(t, pending, t("qry_attempts"), str(pending["attempts"]))
    for item in journal.failed_reversals():
        pairs.append(("", t("reversal_gave_up")))
        pairs += _reversal_pairs(t, item, t("qry_reason"), item["reason"])
    if not pairs:
        return MessageScreen(term, key, [t("qry_no_reversal")], query_menu(term, key))
    return SlipScreen(term, key, pairs, _back_to(key))


def _reversal_pairs(t, item, label, value):
    return [
        (t("slip_batch"), six_digits(item["batch"])),
        (t("slip_trace"), six_digits(item["trace"])),
        (t("slip_amount"), format_fen(item["amount"])),
        (label, value),
    ]
