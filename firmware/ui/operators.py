# Main menu item 7 (操作员): sign in, sign out, change my password, manage operators (the supervisor:
# add, remove, list, reset a password), sign off from the host (the supervisor). Loaded when chosen
# (Terminal.flow), dropped back at idle. The passwords: firmware/operators.py, firmware/ui/password.py.

from firmware.operators import ADMIN, MAX_OPERATORS, is_operator_id, table
from firmware.ui.menu import MainMenuScreen
from firmware.ui.password import NewPasswordScreen, PasswordScreen, require_supervisor
from firmware.ui.widgets import (
    DigitEntryScreen,
    ItemScreen,
    MenuScreen,
    MessageScreen,
    Screen,
    can_go_online,
    center,
    render_scrolled,
    scroll_key,
)
from hal.contracts import KEY_CANCEL


def _items():
    return (
        ("op_sign_in", _sign_in, False),
        ("op_sign_out", _sign_out, False),
        ("op_change_pwd", _change_password, False),
        ("op_manage", _manage, False),
        ("op_host_sign_off", _host_sign_off, True),
    )


def operators_menu(term, key=None):
    """Menu 7 with the item `key` highlighted."""
    return OperatorsMenuScreen(term).at(key)


def _back_to(key):
    return lambda term: operators_menu(term, key)


class OperatorsMenuScreen(MenuScreen):
    title_key = "op_title"

    def menu_items(self):
        return _items()

    def back(self):
        self.term.go(MainMenuScreen(self.term).at("menu_operators"))


class IdScreen(DigitEntryScreen):
    """An operator number (two digits); ENTER calls chosen(term, id) for the next screen."""

    def __init__(self, term, title_key, chosen, back):
        super().__init__(term, title_key)
        self.chosen = chosen
        self.back_to = back

    def menu(self):
        return self.back_to(self.term)

    def take_digit(self, key):
        return len(self.digits) < 2

    def accept(self):
        if len(self.digits) != 2:
            self.problem = "op_not_operator"
            return
        screen = self.chosen(self.term, self.digits)
        if type(screen) is str:  # a refusal: its catalog key
            self.problem = screen
            return
        self.term.go(screen)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(2, center(t("op_id_prompt"), cols))
        d.text(3, center(self.digits + "_" * (2 - len(self.digits)), cols))
        if self.problem:
            d.text(5, center(t(self.problem), cols))


# ---- 1 sign in, 2 sign out, 3 change my password ---------------------------------------------------


def sign_in_screen(term, title_key, then, back):
    """The operator's number, then the password; then(term) once signed in (the 0800 first when
    the host can be reached). Also where a sale goes when the operator_required parameter is on."""

    def chosen(term, op):
        if op == ADMIN or (op not in _known(term)):
            return "op_unknown"
        return PasswordScreen(term, title_key, op, lambda term: _signed_in(term, title_key, op, then), back)

    return IdScreen(term, title_key, chosen, back)


def _known(term):
    try:
        return table(term).ops
    except OSError:
        return {}


def _signed_in(term, title_key, op, then):
    term.operator = op
    term.log_event("sign_in", op)
    done = MessageScreen(term, title_key, [term.t("op_signed_in", op)], then(term))
    if can_go_online(term) and not term.fault and _link_up(term):
        sale = term.flow("firmware.ui.sale")
        return _host_sign_in(sale.AuthorisingScreen)(term, title_key, None, done, done)
    return done


def _link_up(term):
    return term.use("dev_link", term.link.online) is True


def _host_sign_in(AuthorisingScreen):
    """The authorising screen that sends the 0800 whatever the day's sign-in state (it carries the
    operator now signed in)."""

    class HostSignInScreen(AuthorisingScreen):  # type: ignore[valid-type,misc]
        def enter(self):
            Online = self.term.flow("firmware.online").Online
            self.online = Online(self.term, None, True)

    return HostSignInScreen


def _sign_in(term, key):
    return sign_in_screen(term, key, _back_to(key), _back_to(key))


def _sign_out(term, key):
    op = term.operator
    if op is None:
        return MessageScreen(term, key, [term.t("op_nobody")], operators_menu(term, key))
    term.operator = None
    term.log_event("sign_out", op)
    return MessageScreen(term, key, [term.t("op_signed_out")], operators_menu(term, key))


def _change_password(term, key):
    back = _back_to(key)

    def chosen(term, op):
        if op not in _known(term):
            return "op_unknown"
        change = lambda term: NewPasswordScreen(term, key, op, back, back)  # noqa: E731
        return PasswordScreen(term, key, op, change, back)

    return IdScreen(term, key, chosen, back)


# ---- 4 manage operators (the supervisor) -----------------------------------------------------------


def _manage(term, key):
    return require_supervisor(term, key, lambda term: ManageMenuScreen(term), _back_to(key))


def manage_menu(term, key=None):
    return ManageMenuScreen(term).at(key)


def _back_to_manage(key):
    return lambda term: manage_menu(term, key)


class ManageMenuScreen(MenuScreen):
    title_key = "op_manage"

    def menu_items(self):
        return (
            ("op_add", _add, False),
            ("op_remove", _remove, False),
            ("op_list", ListScreen, False),
            ("op_reset_pwd", _reset, False),
        )

    def back(self):
        self.term.go(operators_menu(self.term, "op_manage"))


def _add(term, key):
    back = _back_to_manage(key)

    def chosen(term, op):
        if not is_operator_id(op):
            return "op_not_operator"
        ops = _known(term)
        if op in ops:
            return "op_exists"
        if len(ops) >= MAX_OPERATORS + 2:
            return "op_full"
        return NewPasswordScreen(term, key, op, back, back, initial="op_add")

    return IdScreen(term, key, chosen, back)


def _remove(term, key):
    back = _back_to_manage(key)

    def chosen(term, op):
        if not is_operator_id(op) or op not in _known(term):
            return "op_unknown"
        try:
            table(term).remove(op)
        except OSError:
            return "storage_failed"
        if term.operator == op:
            term.operator = None
        term.log_event("op_remove", op)
        return MessageScreen(term, key, [term.t("op_removed", op)], back(term))

    return IdScreen(term, key, chosen, back)


def _reset(term, key):
    back = _back_to_manage(key)

    def chosen(term, op):
        if not is_operator_id(op) or op not in _known(term):
            return "op_unknown"
        return NewPasswordScreen(term, key, op, back, back, initial="pwd_reset")

    return IdScreen(term, key, chosen, back)


class ListScreen(Screen):
    """The operators' numbers, a locked one marked; UP/DOWN scroll, other keys go back."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.first = 0
        t = term.t
        lines = []
        try:
            tab = table(term)
            for op in tab.operator_ids():
                lines.append(t("op_locked_mark", op) if tab.locked(op) else op)
        except OSError:
            lines.append(t("storage_failed"))
        self.lines = lines or [t("op_none")]

    def back(self):
        self.term.go(manage_menu(self.term, self.title_key))

    def on_key(self, key):
        return scroll_key(self, key)

    def render(self, d, rows, cols):
        render_scrolled(self, d, rows, cols)


# ---- 5 sign off from the host (the supervisor) -----------------------------------------------------


def _host_sign_off(term, key):
    return require_supervisor(term, key, lambda term: SignOffScreen(term, key), _back_to(key))


class SignOffScreen(ItemScreen):
    """签退 (firmware.online.SignOff): connecting / sending / waiting with the seconds left, then
    "Signed off", or why the host did not confirm and that the terminal signed off here all the
    same. CANCEL stops it before the 0820 is sent (nothing changes); any key on the result goes
    back to menu 7."""

    times_out = False  # the session's own timeout ends it

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.sign_off = None

    def menu(self):
        return operators_menu(self.term, self.title_key)

    def enter(self):
        # Loaded here, not with this module: menu 7's other screens do not need the host modules.
        SignOff = self.term.flow("firmware.online").SignOff
        self.sign_off = SignOff(self.term)  # failed at once (no host parameter ...): the next tick says so

    def tick(self):
        sign_off = self.sign_off
        if sign_off is None:
            return False
        moved = sign_off.step()
        if sign_off.outcome is not None:
            self._finish()
            return True
        return moved

    def on_second(self):
        return self.sign_off is not None  # the countdown

    def on_key(self, key):
        if key == KEY_CANCEL and self.sign_off is not None:
            if self.sign_off.cancel():
                self._finish()
            return True
        return False

    def _finish(self):
        t = self.term.t
        sign_off = self.sign_off
        self.sign_off = None
        if sign_off.message is None:
            self.end([t("op_host_signed_off")])
            return
        lines = [t(sign_off.message)]
        if sign_off.code is not None:
            from firmware.host.messages import response_message  # loaded by enter()

            key, args = response_message(sign_off.code)
            lines.append(t(key, *args))
        if sign_off.signed_off:
            lines.append(t("signoff_here"))
        self.end(lines)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        sign_off = self.sign_off
        if sign_off is None:
            return
        state = SESSION_STATES.get(sign_off.session.state)
        if state:
            d.text(3, center(t(state), cols))
            d.text(4, center(t("auth_countdown", sign_off.remaining_s()), cols))
        d.text(rows - 1, center(t("auth_cancel_hint"), cols))


# firmware.host.session's states (its names, not imported: see SignOffScreen.enter) -> catalog keys.
SESSION_STATES = {"connecting": "auth_connecting", "sending": "auth_sending", "receiving": "auth_receiving"}
