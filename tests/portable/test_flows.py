# The flows a terminal loads at their first use (Terminal.flow): the service menu and each of its
# items' screens are imported when chosen and dropped back at idle, the sale's screens stay; a flow
# that cannot be loaded is refused with a message.
import sys

from firmware.errors import FlowUnavailable
from firmware.terminal import DROPPED_AT_IDLE
from firmware.ui.widgets import Screen
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
    assert "firmware.ui.service" not in sys.modules
    press(board, term, "8")
    assert "firmware.ui.service" in sys.modules and "firmware.registry" in sys.modules
    assert "Set date and time" in screen(board)
    press(board, term, "CANCEL", "CANCEL")  # back to the main menu, then idle
    assert type(term.screen).__name__ == "IdleScreen"
    assert [name for name in DROPPED_AT_IDLE if name in sys.modules] == []
    press(board, term, "ENTER", "8", "2")  # loaded again: the about screen still works
    assert "Version" in screen(board)


def test_the_service_menu_stays_while_its_screens_are_used():
    board, term = boot()
    _forget_service_menu()
    press(board, term, "ENTER", "8", "2")  # about: several steps, never back at idle
    term.settle()
    assert "firmware.ui.service" in sys.modules and "firmware.qr" not in sys.modules
    press(board, term, "ENTER")  # the key's QR code: its screen and the encoder load now
    assert "Signing public key" in screen(board)
    assert "firmware.ui.keyqr" in sys.modules and "firmware.qr" in sys.modules
    press(board, term, "5", "CANCEL")  # any key: back to About; any but ENTER, UP, DOWN: the menu
    assert "Set date and time" in screen(board) and "firmware.ui.service" in sys.modules
    press(board, term, "CANCEL", "CANCEL")
    assert [name for name in DROPPED_AT_IDLE if name in sys.modules] == []


def test_each_service_item_loads_its_own_screens_when_chosen():
    # The service menu's items with a module of their own (firmware/ui/keyload.py, touchcal.py,
    # wifi.py, echo.py, admin.py): none loaded with the menu, each when chosen, all dropped back at
    # idle.
    board, term = boot()
    _forget_service_menu()
    items = (
        ("5", "firmware.ui.keyload"),
        ("6", "firmware.ui.touchcal"),
        ("7", "firmware.ui.wifi"),
        ("9", "firmware.ui.admin"),
    )
    press(board, term, "ENTER", "8")
    assert [name for _, name in items if name in sys.modules] == []
    for digit, name in items:
        press(board, term, digit)
        assert name in sys.modules, digit
        press(board, term, "CANCEL")  # back to the service menu (the Wi-Fi screen: no Wi-Fi here)
        assert "Set date and time" in screen(board), screen(board)
    assert "firmware.ui.echo" not in sys.modules
    press(board, term, "CANCEL", "CANCEL")  # the main menu, then idle
    assert [name for name in DROPPED_AT_IDLE if name in sys.modules] == []


def test_the_sale_screens_load_at_the_first_sale_and_stay():
    board, term = boot()
    sys.modules.pop("firmware.ui.amount", None)  # another test module may have imported it
    press(board, term, "ENTER")
    assert "firmware.ui.amount" not in sys.modules
    press(board, term, "1", "1", "2", "3")
    assert "firmware.ui.amount" in sys.modules and "1.23" in screen(board)
    press(board, term, "CANCEL", "CANCEL")  # the main menu, then idle
    assert type(term.screen).__name__ == "IdleScreen"
    term.settle()
    assert "firmware.ui.amount" in sys.modules


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


def test_menu_7_loads_the_operator_modules_when_chosen_and_they_are_dropped_back_at_idle():
    from firmware.operators import table
    from hal.soft.keystore import StorageKeyStore
    from hal.soft.security import SoftSecurityModule
    from tests.portable.drive import SUPERVISOR_PASSWORD, random_bytes, set_passwords
    from virtual.storage import RamStorage

    security = SoftSecurityModule(StorageKeyStore(RamStorage()), urandom=random_bytes)
    board, term = boot(security=security)
    set_passwords(term)
    table(term).set_password("05", "2580")
    term.go_idle()
    term.settle()
    _forget_service_menu()
    operator_modules = (
        "firmware.operators",
        "firmware.ui.password",
        "firmware.ui.operators",
        "firmware.events",
    )
    press(board, term, "ENTER")
    assert [name for name in operator_modules if name in sys.modules] == []
    # Manage operators (the supervisor's password), remove 05 (an event is logged), back to idle.
    press(board, term, "7", "4", *SUPERVISOR_PASSWORD)
    press(board, term, "ENTER", "2", "0", "5", "ENTER")
    assert "Operator 05 removed" in screen(board), screen(board)
    assert [name for name in operator_modules if name not in sys.modules] == []
    press(board, term, "ENTER", "CANCEL", "CANCEL", "CANCEL")
    assert type(term.screen).__name__ == "IdleScreen"
    assert [name for name in DROPPED_AT_IDLE if name in sys.modules] == []
    assert term.event_failures == 0
