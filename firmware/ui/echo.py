# The echo test (回响测试, service menu item 8): firmware.online.Echo with the authorising
# screen's countdown. Loaded when chosen; dropped with the service menu back at idle.

from firmware.ui.service import ServiceScreen
from firmware.ui.widgets import center
from hal.contracts import KEY_CANCEL


class EchoScreen(ServiceScreen):
    """The echo test (回响测试, firmware.online.Echo): connecting / sending / waiting with the
    seconds left, then "Link OK" and the round trip, or why it failed. Needs no sign-in and uses no
    trace number. CANCEL stops it before it is sent; any key on the result goes back."""

    times_out = False  # the session's own timeout ends it

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.echo = None

    def enter(self):
        # Loaded here, not with this module: the service menu's other screens do not need the host
        # modules (Terminal.flow; back at idle they are dropped with this module).
        Echo = self.term.flow("firmware.online").Echo
        self.echo = Echo(self.term)  # failed at once (no host parameter ...): the next tick says so

    def tick(self):
        echo = self.echo
        if echo is None:
            return False
        moved = echo.step()
        if echo.outcome is not None:
            self._finish()
            return True
        return moved

    def on_second(self):
        return self.echo is not None  # the countdown

    def on_key(self, key):
        if key == KEY_CANCEL and self.echo is not None:
            if self.echo.cancel():
                self._finish()
            return True
        return False

    def _finish(self):
        term = self.term
        t = term.t
        echo = self.echo
        self.echo = None
        from firmware.online import APPROVED  # loaded by enter()

        if echo.outcome == APPROVED:
            lines = [t("echo_ok"), t("echo_round_trip", echo.round_trip_ms)]
        else:
            lines = [t(echo.message)]
            if echo.code is not None:
                from firmware.host.messages import response_message

                key, args = response_message(echo.code)
                lines.append(t(key, *args))
        self.end(lines)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        echo = self.echo
        if echo is None:
            return
        state = _ECHO_STATES.get(echo.session.state)
        if state:
            d.text(3, center(t(state), cols))
            d.text(4, center(t("auth_countdown", echo.remaining_s()), cols))
        d.text(rows - 1, center(t("auth_cancel_hint"), cols))


# firmware.host.session's states (its names, not imported: see EchoScreen.enter) -> catalog keys.
_ECHO_STATES = {"connecting": "auth_connecting", "sending": "auth_sending", "receiving": "auth_receiving"}
