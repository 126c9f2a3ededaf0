# What an online terminal imports before its flows run, in a fresh interpreter (the portable tests
# share one, where other test modules have imported everything): the idle screen and the main menu
# load neither the sale's modules nor the service menu's (Terminal.flow loads them at first use).
import subprocess
import sys

from tools.mpy_gate import REPO

_BOOT_AN_ONLINE_TERMINAL = """
import sys
from firmware.terminal import Terminal
from hal.soft.keystore import StorageKeyStore
from hal.soft.security import SoftSecurityModule
from tests.portable.fakes import make_board
from virtual.storage import RamStorage

key_store = StorageKeyStore(RamStorage())
board = make_board(security=SoftSecurityModule(key_store), key_store=key_store)
term = Terminal(board)
term.settle()
for _ in range(3):  # idle seconds: the idle screen asks whether a sign-in is due
    board.clock.sleep_ms(1000)
    term.step()
print("|".join(board.display.lines()))
board.keypad.press("ENTER")  # the main menu
term.settle()
print(type(term.screen).__name__)
print(" ".join(sorted(sys.modules)))
"""

LOADED_AT_FIRST_USE = (
    "firmware.online",
    "firmware.ui.amount",
    "firmware.ui.sale",
    "firmware.host",
    "firmware.host.codec",
    "firmware.host.messages",
    "firmware.host.session",
    "firmware.ui.service",
    "firmware.ui.keyload",
    "firmware.ui.touchcal",
    "firmware.ui.wifi",
    "firmware.ui.echo",
    "firmware.registry",
)


def test_an_online_terminal_loads_no_flow_until_one_runs():
    proc = subprocess.run(
        [sys.executable, "-c", _BOOT_AN_ONLINE_TERMINAL], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    shown, screen, modules = proc.stdout.strip().split("\n")
    assert "未签到" in shown or "Not signed in" in shown  # it did ask: the terminal is online
    assert screen == "MainMenuScreen"
    loaded = modules.split(" ")
    assert "firmware.terminal" in loaded and "hal.soft.security" in loaded  # the listing is the real one
    assert [name for name in LOADED_AT_FIRST_USE if name in loaded] == []
