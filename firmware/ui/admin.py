# The service menu's Administration submenu (管理): the parameter editor, the event log, the
# factory reset. One editor for every row of the parameter table, each typed in the form
# firmware.params.FORMS gives it; the changes themselves are firmware/admin.py's. Never shows a
# password or card data.

from firmware import admin
from firmware import params as P
from firmware.dates import format_minute
from firmware.money import format_fen
from firmware.ui.idle import IdleScreen
from firmware.ui.service import service_menu
from firmware.ui.widgets import (
    ItemScreen,
    MenuScreen,
    MessageScreen,
    center,
    digit_key,
    render_scrolled,
    right,
    scroll_key,
)
from hal.contracts import DIGITS, KEY_CANCEL, KEY_CLEAR, KEY_DOWN, KEY_ENTER, KEY_UP, text_cells


def _admin_items():
    return (
        ("adm_params", ParamListScreen, False),
        ("adm_events", EventLogScreen, False),
        ("adm_reset", _factory_reset, False),
    )


def _factory_reset(term, key):
    """The factory reset's screen, or why it is refused now (the batch is not empty)."""
    reason = admin.identity_lock(term)
    if reason is None:
        return FactoryResetScreen(term, key)
    return MessageScreen(term, key, [term.t("reset_refused"), term.t(reason)], admin_menu(term, key))


def open_admin_menu(term, title_key):
    """The service menu's item Administration: its submenu."""
    return AdminMenuScreen(term)


def admin_menu(term, key):
    """The submenu with the item `key` highlighted: where its screens go back to."""
    return AdminMenuScreen(term).at(key)


class AdminMenuScreen(MenuScreen):
    """1 Parameters 2 Event log 3 Factory reset; CANCEL goes back to the service menu."""

    title_key = "svc_admin"

    def menu_items(self):
        return _admin_items()

    def back(self):
        self.term.go(service_menu(self.term, "svc_admin"))


class AdminScreen(ItemScreen):
    def menu(self):
        return admin_menu(self.term, self.title_key)


def label(term, name):
    return term.t("pn_" + name)


def shown_value(term, name, value):
    """A parameter's value as the editor shows it ("--" when it is unknown: a lost identity)."""
    if value is None:
        return "--"
    kind = P.form(name)[0]
    if kind == "amount":
        return format_fen(value)
    if kind == "yesno":
        return term.t("pv_yes" if value else "pv_no")
    if kind == "choice":
        return term.t("pv_" + str(value))
    return str(value)


class ParamListScreen(AdminScreen):
    """Every parameter (firmware.params.names()): UP/DOWN move, the highlighted one's value shows
    at the bottom; ENTER changes it (refused with the reason for an identity parameter while the
    batch is not empty, or for a read-only one); CANCEL goes back to the submenu."""

    def __init__(self, term, title_key, selected=0):
        super().__init__(term, title_key)
        self.names = P.names()
        self.selected = selected

    def on_key(self, key):
        n = len(self.names)
        if key == KEY_UP:
            self.selected = (self.selected - 1) % n
        elif key == KEY_DOWN:
            self.selected = (self.selected + 1) % n
        elif key == KEY_CANCEL:
            self.back()
            return True
        elif key == KEY_ENTER:
            self.open()
            return True
        else:
            return False
        self.term.redraw()
        return True

    def open(self):
        term = self.term
        name = self.names[self.selected]
        form = P.form(name)
        reason = None
        if form[0] == "shown":
            reason = "param_read_only"
        elif P.identity(name):
            reason = admin.identity_lock(term)
        if reason is not None:
            lines = [label(term, name), term.t(reason)]
            if reason != "param_read_only":
                lines.insert(1, term.t("param_locked"))
            term.go(MessageScreen(term, self.title_key, lines, self))
            return
        editor = _EDITORS[form[0]]
        term.go(editor(term, self, name))

    def render(self, d, rows, cols):
        term = self.term
        self.title(d, cols)
        visible = rows - 3
        first = 0 if self.selected < visible else self.selected - visible + 1
        for row in range(visible):
            i = first + row
            if i >= len(self.names):
                break
            d.text(row + 1, label(term, self.names[i]), i == self.selected)
        name = self.names[self.selected]
        value = shown_value(term, name, getattr(term.params, name))
        if text_cells(value) <= cols:
            d.text(rows - 1, right(value, cols))
        else:  # the longest host address: "255.255.255.255:65535"
            d.text(rows - 2, value)
            d.text(rows - 1, right(value[cols:], cols))


class _Editor(ItemScreen):
    """Changing one parameter: its title is the parameter's label; the current value shows under
    it. save(value) stores it (firmware.admin.set_param) and says so, or shows why not; CANCEL goes
    back to the list at the same row."""

    def __init__(self, term, listing, name):
        super().__init__(term, "pn_" + name)
        self.listing = listing
        self.name = name
        self.form = P.form(name)
        self.problem = None

    def menu(self):
        return ParamListScreen(self.term, "adm_params", self.listing.selected)

    def save(self, value):
        term = self.term
        why = admin.set_param(term, self.name, value)
        if why == "param_bad":  # the form took it, the row's check did not
            form = self.form
            self.problem = form[2] if form[0] == "digits" and len(form) > 2 else "param_bad"
            term.redraw()
            return
        if why is None:
            lines = [term.t("param_saved"), shown_value(term, self.name, value)]
        elif why == "param_kept":
            lines = [term.t("param_kept"), shown_value(term, self.name, value)]
        else:
            lines = [term.t("param_not_saved"), term.t(why)]
        term.go(MessageScreen(term, self.title_key, lines, self.menu()))

    def render_now(self, d, cols):
        """The title, then the current value on row 1 (rows 1 and 2 when it is too long)."""
        self.title(d, cols)
        term = self.term
        value = shown_value(term, self.name, getattr(term.params, self.name))
        lines = _pair(term.t("param_now", ""), value, cols)
        for i in range(len(lines)):
            d.text(1 + i, lines[i])

    def render_problem(self, d, rows, cols):
        if self.problem:
            d.text(rows - 2, center(self.term.t(self.problem), cols))


class DigitsEditor(_Editor):
    """The forms typed in digits: "digits" (exactly n), "number" (lo..hi) and "amount" (fen
    lo..hi, shown as yuan.fen as it is typed). CLEAR deletes the last digit, ENTER saves."""

    def __init__(self, term, listing, name):
        super().__init__(term, listing, name)
        self.digits = ""

    def on_key(self, key):
        return digit_key(self, key)

    def take_digit(self, key):
        kind = self.form[0]
        if kind == "digits":
            return len(self.digits) < self.form[1]
        if kind == "amount" and key == "0" and not self.digits:
            return False  # the amount shifts in from the right
        return len(self.digits) < len(str(self.form[2]))

    def accept(self):
        kind = self.form[0]
        if kind == "digits":
            if len(self.digits) != self.form[1]:
                self.problem = "param_n_digits"
                return
            self.save(self.digits)
            return
        if not self.digits:
            value = 0
            if kind != "amount":
                self.problem = "param_empty"
                return
        else:
            value = int(self.digits)
        if not self.form[1] <= value <= self.form[2]:
            self.problem = "param_out_of_range"
            return
        self.save(value)

    def limits(self):
        lo, hi = self.form[1], self.form[2]
        if self.form[0] == "amount":
            return format_fen(lo), format_fen(hi)
        return str(lo), str(hi)

    def render(self, d, rows, cols):
        t = self.term.t
        self.render_now(d, cols)
        kind = self.form[0]
        if kind == "digits":
            d.text(3, t("param_type_digits", self.form[1]))
            d.text(4, right(self.digits, cols))
        else:
            lo, hi = self.limits()
            lines = _pair(t("param_min", ""), lo, cols) + _pair(t("param_max", ""), hi, cols)
            for i in range(len(lines)):
                d.text(3 + i, lines[i])
            shown = format_fen(int(self.digits or "0")) if kind == "amount" else self.digits
            d.text(3 + len(lines), right(shown, cols))
        problem = self.problem
        if problem == "param_n_digits":
            d.text(rows - 2, center(t(problem, self.form[1]), cols))
        else:
            self.render_problem(d, rows, cols)


def _pair(label, value, cols):
    """ "Min ¥0.01" on one line; else two: the label then the value right-aligned, or, for a value
    longer than a line (the longest host address), the label and the value's start, then its end."""
    label = label.strip()
    room = cols - text_cells(label) - 1
    if text_cells(value) <= room:
        return [label + " " + value]
    if text_cells(value) <= cols:
        return [label, right(value, cols)]
    return [label + " " + value[:room], right(value[room:], cols)]


class ChoiceEditor(_Editor):
    """The "choice" and "yesno" forms: a digit picks a value and saves it; CANCEL goes back."""

    def values(self):
        return (True, False) if self.form[0] == "yesno" else self.form[1]

    def on_key(self, key):
        values = self.values()
        if key == KEY_CANCEL:
            self.back()
        elif len(key) == 1 and "1" <= key <= str(len(values)):
            self.save(values[int(key) - 1])
        else:
            return False
        return True

    def render(self, d, rows, cols):
        term = self.term
        self.render_now(d, cols)
        values = self.values()
        current = getattr(term.params, self.name)
        for i in range(len(values)):
            text = "{} {}".format(i + 1, shown_value(term, self.name, values[i]))
            d.text(i + 3, text, values[i] == current)
        self.render_problem(d, rows, cols)


_PORT = 4  # the fields of the host form: four octets, then the port


def _ip_fields(host):
    """ "a.b.c.d:port" as its five fields, or None when it is not four octets and a port."""
    if type(host) is not str or host.count(":") != 1:
        return None
    ip, port = host.split(":")
    octets = ip.split(".")
    if len(octets) != 4:
        return None
    for part in octets + [port]:
        if not part or not part.isdigit():
            return None
    return octets + [port]


def host_of(fields):
    """The host parameter of five typed fields (leading zeros dropped: 010 is 10), or the catalog
    key of what is wrong: an octet over 255, a port not 1..65535, a field left empty."""
    out = []
    for i in range(5):
        if not fields[i]:
            return None, "param_fill"
        n = int(fields[i])
        if i < _PORT and n > 255:
            return None, "param_octet"
        if i == _PORT and not 0 < n < 65536:
            return None, "param_port"
        out.append(str(n))
    return ".".join(out[:_PORT]) + ":" + out[_PORT], None


class HostEditor(_Editor):
    """The host address typed as four octets and a port (the keypad has no dot or colon): digits
    fill the current field, three digits or ENTER end an octet, ENTER on the port saves; CLEAR
    deletes the last digit (back into the field before when this one is empty)."""

    def __init__(self, term, listing, name):
        super().__init__(term, listing, name)
        self.fields = ["", "", "", "", ""]
        self.at = 0

    def _check_field(self):
        """The catalog key of what is wrong with the current field, or None."""
        text = self.fields[self.at]
        if not text:
            return "param_fill"
        if self.at < _PORT and int(text) > 255:
            return "param_octet"
        if self.at == _PORT and not 0 < int(text) < 65536:
            return "param_port"
        return None

    def on_key(self, key):
        problem = self.problem
        self.problem = None
        fields = self.fields
        if key in DIGITS and len(key) == 1:
            size = 5 if self.at == _PORT else 3
            if len(fields[self.at]) >= size:
                return bool(problem)
            fields[self.at] += key
            if self.at < _PORT and len(fields[self.at]) == 3:
                self.problem = self._check_field()
                if self.problem is None:
                    self.at += 1
        elif key == KEY_CLEAR:
            if not fields[self.at] and self.at > 0:
                self.at -= 1
            fields[self.at] = fields[self.at][:-1]
        elif key == KEY_ENTER:
            self.problem = self._check_field()
            if self.problem is None:
                if self.at < _PORT:
                    self.at += 1
                else:
                    value, self.problem = host_of(fields)
                    if self.problem is None:
                        self.save(value)
                        return True
        elif key == KEY_CANCEL:
            self.back()
            return True
        else:
            return bool(problem)
        self.term.redraw()
        return True

    def render(self, d, rows, cols):
        t = self.term.t
        self.render_now(d, cols)
        parts = []
        for i in range(_PORT):
            parts.append(self.fields[i] + ("_" if i == self.at else ""))
        d.text(3, t("param_ip"))
        d.text(4, right(".".join(parts), cols))
        d.text(5, t("param_port_label"))
        d.text(6, right(self.fields[_PORT] + ("_" if self.at == _PORT else ""), cols))
        d.text(7, t("param_next_field"))
        self.render_problem(d, rows, cols)


_EDITORS = {
    "digits": DigitsEditor,
    "number": DigitsEditor,
    "amount": DigitsEditor,
    "yesno": ChoiceEditor,
    "choice": ChoiceEditor,
    "host": HostEditor,
}


def event_lines(term, entries):
    """Two lines per entry of the event log (newest first, as events.entries gives them): when
    (the local date and time, or the uptime when the clock was not set), then what (the catalog
    text ev_<code>) and which."""
    lines = []
    tz = term.params.tz_minutes
    for entry in entries:
        when, up, code, detail = entry
        lines.append(format_minute(when, tz) if when is not None else term.t("ev_uptime", up))
        if code == "param_change":
            lines.append(term.t("ev_param_change", label(term, detail)))
        else:
            lines.append(term.t("ev_" + code) + (" " + detail if detail else ""))
    return lines


class EventLogScreen(AdminScreen):
    """The event log (firmware/events.py), newest first: UP/DOWN scroll a line, other keys go
    back. Never holds a value, a password or card data, so none can show here."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        entries = term.flow("firmware.events").entries(term.storage)
        self.lines = event_lines(term, entries) or [term.t("ev_none")]
        self.first = 0

    def on_key(self, key):
        return scroll_key(self, key)

    def render(self, d, rows, cols):
        render_scrolled(self, d, rows, cols)


class FactoryResetScreen(AdminScreen):
    """Operators cleared, factory passwords (their change forced), parameters back to their
    defaults except the identity (firmware.admin.factory_reset): two confirmations; refused with
    the reason while the batch is not empty. CANCEL backs out; done, it goes to the idle screen."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.confirmations = 0

    def on_key(self, key):
        if key == KEY_CANCEL:
            self.back()
        elif key == KEY_ENTER:
            self.confirmations += 1
            if self.confirmations == 2:
                self.reset()
            else:
                self.term.redraw()
        else:
            return False
        return True

    def reset(self):
        term = self.term
        t = term.t
        why = admin.factory_reset(term)
        if why is None:
            # The administrator's password is the factory one again: out to the idle screen.
            term.go(
                MessageScreen(term, self.title_key, [t("reset_done"), t("reset_passwords")], IdleScreen(term))
            )
        else:
            self.end([t("reset_refused"), t(why)])

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(2, center(t("reset_what"), cols))
        d.text(3, center(t("reset_operators"), cols))
        d.text(4, center(t("reset_factory_pwd"), cols))
        d.text(5, center(t("reset_keeps"), cols))
        prompt = "svc_confirm_again" if self.confirmations else "svc_confirm"
        d.text(7, center(t(prompt), cols))
