# The flows a terminal loads at their first use (Terminal.flow): the service menu is imported when
# it is chosen and dropped back at idle; a flow that cannot be loaded is refused with a message.
import sys

from firmware.errors import FlowUnavailable
from firmware.screens import Screen
from firmware.terminal import DROPPED_AT_IDLE
from tests.portable.conformance import raises
from tests.portable.drive import boot, press, screen


def _forget_service_menu():
    for name in DROPPED_AT_IDLE:  # another test module may have imported it
        sys.modules.pop(name, None)


def test_the_service_menu_loads_when_chosen_and_is_dropped_back_at_idle():
    board, term = boot()
    _forget_service_menu()
    press(board, term, "ENTER")  # the main menu: item 8 is the service menu, not loaded yet
    assert "Admin" in screen(board)
    assert "firmware.service" not in sys.modules
    press(board, term, "8")
    assert "firmware.service" in sys.modules and "firmware.registry" in sys.modules
    assert "Set date and time" in screen(board)
    press(board, term, "CANCEL", "CANCEL")  # back to the main menu, then idle
    assert type(term.screen).__name__ == "IdleScreen"
    assert "firmware.service" not in sys.modules and "firmware.registry" not in sys.modules
    press(board, term, "ENTER", "8", "2")  # loaded again: the about screen still works
    assert "Version" in screen(board)


def test_the_service_menu_stays_while_its_screens_are_used():
    board, term = boot()
    _forget_service_menu()
    press(board, term, "ENTER", "8", "2")  # about: several steps, never back at idle
    term.settle()
    assert "firmware.service" in sys.modules
    press(board, term, "ENTER")  # any key: back to the service menu
    assert "Set date and time" in screen(board) and "firmware.service" in sys.modules


def test_a_flow_that_cannot_be_loaded_is_a_message_not_a_crash():
    board, term = boot()
    exc = raises(FlowUnavailable, term.flow, "firmware.no_such_flow")
    assert exc.key == "flow_unavailable"
    # Where it failed, recorded as run() records a crash (CPython says ModuleNotFoundError).
    assert term.last_crash.split(" ")[0] in ("ImportError", "ModuleNotFoundError"), term.last_crash
    assert "firmware.no_such_flow" not in sys.modules

    class Opens(Screen):  # a screen whose flow is missing, as a menu item's would be
        def on_key(self, key):
            self.term.go(self.term.flow("firmware.no_such_flow").Screen(self.term))
            return True

        def render(self, d, rows, cols):
            d.text(0, "opens")

    term.go(Opens(term))
    term.settle()
    press(board, term, "ENTER")
    assert "Cannot load function" in screen(board)  # step() shows the PosError; no traceback
    press(board, term, "ENTER")
    assert type(term.screen).__name__ == "IdleScreen"
    assert term.failures == 0  # not a bug of the loop: run() backs off for nothing
