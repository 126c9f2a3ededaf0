# The password screens (密码): asking for a password (shown as "*", masked in any echo), the forced
# change of a factory password, the change of one's own password, and the gates that put the
# supervisor's or the administrator's password before a flow (require_supervisor, require_admin).
# Loaded when a gate is met (Terminal.flow), dropped back at idle.

from firmware.operators import (
    ADMIN,
    FORCED,
    LOCKED,
    OK,
    SUPERVISOR,
    UNKNOWN,
    WRONG,
    length,
    refusal,
    table,
)
from firmware.ui.widgets import MessageScreen, Screen, center
from hal.contracts import DIGITS, KEY_CANCEL, KEY_CLEAR, KEY_ENTER, HalError


def prompt(term, op):
    if op == SUPERVISOR:
        return term.t("pwd_prompt_00")
    if op == ADMIN:
        return term.t("pwd_prompt_99")
    return term.t("pwd_prompt_op", op)


def locked_lines(term, minutes):
    """ "Locked", then the minutes left (or: until the supervisor resets it)."""
    if minutes < 0:
        return [term.t("pwd_locked"), term.t("pwd_locked_reset")]
    return [term.t("pwd_locked"), term.t("pwd_locked_min", minutes)]


class _SecretEntry(Screen):
    """Digits typed as "*" (masked_input: never echoed): up to `size`; CLEAR deletes the last one,
    CANCEL goes to back(term), ENTER calls accept() with the digits (then forgotten here)."""

    masked_input = True

    def __init__(self, term, title_key, op, then, back):
        super().__init__(term)
        self.title_key = title_key
        self.op = op
        self.then = then  # then(term): the screen once the password was accepted
        self.back = back  # back(term): the screen CANCEL goes to
        self.size = length(op)
        self.digits = ""
        self.problem = None  # a line shown until the next key
        self.detail = None  # and a second one

    def on_key(self, key):
        term = self.term
        self.problem = self.detail = None
        if key == KEY_CANCEL:
            self.digits = ""
            term.go(self.back(term))
            return True
        if key == KEY_CLEAR:
            self.digits = self.digits[:-1]
        elif key == KEY_ENTER:
            digits = self.digits
            self.digits = ""
            self.accept(digits)
        elif len(key) == 1 and key in DIGITS and len(self.digits) < self.size:
            self.digits += key
        else:
            return False
        term.redraw()
        return True

    def line(self):
        return ""

    def accept(self, digits):
        raise NotImplementedError

    def render(self, d, rows, cols):
        self.title(d, cols)
        d.text(2, center(self.line(), cols))
        d.text(3, center("*" * len(self.digits), cols))
        if self.problem:
            d.text(5, center(self.problem, cols))
        if self.detail:
            d.text(6, center(self.detail, cols))


class PasswordScreen(_SecretEntry):
    """op's password, checked (firmware/operators.py): right goes to then(term) (a factory
    password to its forced change first); wrong shows the tries left; a lock shows its minutes."""

    def line(self):
        return prompt(self.term, self.op)

    def accept(self, digits):
        term = self.term
        t = term.t
        try:
            result, n = table(term).check(self.op, digits)
        except OSError:
            term.go(MessageScreen(term, self.title_key, [t("storage_failed")], self.back(term)))
            return
        if result == OK:
            term.go(self.then(term))
        elif result == FORCED:
            term.go(NewPasswordScreen(term, self.title_key, self.op, self.then, self.back, True))
        elif result == WRONG:
            self.problem = t("pwd_wrong")
            self.detail = t("pwd_tries_left", n)
        elif result == LOCKED:
            term.go(MessageScreen(term, self.title_key, locked_lines(term, n), self.back(term)))
        elif result == UNKNOWN:
            term.go(MessageScreen(term, self.title_key, [t("op_unknown")], self.back(term)))
        else:  # FAULT
            term.go(MessageScreen(term, self.title_key, [t("pwd_damaged")], self.back(term)))


class NewPasswordScreen(_SecretEntry):
    """op's new password, typed twice; refused if it is the factory one, all one digit or a straight
    run. Stored, then a message and then(term). forced: a factory password was just accepted."""

    def __init__(self, term, title_key, op, then, back, forced=False, initial=None):
        super().__init__(term, title_key, op, then, back)
        self.forced = forced
        # "op_add" or "pwd_reset": the supervisor gives an operator a first password, which its
        # owner must change at the first sign-in (the event logged is this code).
        self.initial = initial
        self.first = None  # the first typing, until the second is compared with it

    def line(self):
        t = self.term.t
        return t("pwd_again") if self.first is not None else t("pwd_new", self.size)

    def leave(self):
        self.first = None

    def accept(self, digits):
        term = self.term
        t = term.t
        if self.first is None:
            why = refusal(self.op, digits)
            if why is not None:
                self.problem = t(why)
                return
            self.first = digits
            return
        first = self.first
        self.first = None
        if digits != first:
            self.problem = t("pwd_mismatch")
            return
        try:
            table(term).set_password(self.op, digits, 1 if self.initial else 0)
        except OSError:
            term.go(MessageScreen(term, self.title_key, [t("storage_failed")], self.back(term)))
            return
        except HalError:  # the device key failed
            term.go(MessageScreen(term, self.title_key, [t("pwd_damaged")], self.back(term)))
            return
        term.log_event(self.initial or "pwd_change", self.op)
        done = {"op_add": "op_added", "pwd_reset": "op_reset_done"}.get(self.initial, "pwd_changed")
        term.go(MessageScreen(term, self.title_key, [t(done, self.op)], self.then(term)))

    def render(self, d, rows, cols):
        _SecretEntry.render(self, d, rows, cols)
        if self.forced and not self.problem and self.first is None:
            d.text(5, center(self.term.t("pwd_must_change"), cols))


def gate(term, title_key, op, then, back):
    """The screen that asks op's password before then(term); then(term) itself on a board without
    a security module (it keeps no passwords and never goes online). While op is locked, "Locked"
    and the minutes left at once, not a password prompt whose every answer would be refused."""
    if term.board.security is None:
        return then(term)
    try:
        minutes = table(term).lock_minutes(op)
    except OSError:
        minutes = 0  # the prompt says so at the check
    if minutes:
        return MessageScreen(term, title_key, locked_lines(term, minutes), back(term))
    return PasswordScreen(term, title_key, op, then, back)


def require_supervisor(term, title_key, then, back):
    """The supervisor's password (主管密码) before then(term): void, refund, settlement, operator
    management. CANCEL goes to back(term)."""
    return gate(term, title_key, SUPERVISOR, then, back)


def require_admin(term, title_key, then, back):
    """The administrator's password (系统管理员密码) before then(term): the service menu."""
    return gate(term, title_key, ADMIN, then, back)
