# Drives a terminal on a board of test doubles the way a person would: boot it, press keys, read the
# screen. Shared by the portable tests; not a test module itself.
from firmware.params import Params
from firmware.terminal import Terminal
from tests.portable.fakes import make_board


def boot(language="en", merchant=None, **devices):
    """A terminal booted on a fresh fake board (devices= replaces slots), in `language`."""
    board = make_board(**devices)
    params = Params.load(board.storage)
    params.language = language
    if merchant:
        params.merchant_name = merchant
    params.save(board.storage)
    term = Terminal(board)
    term.settle()
    return board, term


def press(board, term, *keys):
    """Press keys one after the other, letting the terminal finish with each."""
    for key in keys:
        board.keypad.press(key)
        term.settle()


def screen(board):
    """The shown text rows joined with newlines."""
    return "\n".join(board.display.lines())


# The passwords the tests that are not about passwords give (set directly, not through the forced
# change): the administrator's before the service menu, the supervisor's before operator management.
ADMIN_PASSWORD = "20261207"
SUPERVISOR_PASSWORD = "202612"
ADMIN_KEYS = ("ENTER", "8") + tuple(ADMIN_PASSWORD) + ("ENTER",)  # idle -> the service menu


def random_bytes(n):
    """A deterministic random source for a SoftSecurityModule's device key (MicroPython's
    WebAssembly port has no os.urandom)."""
    return b"\x5a" * n


def set_passwords(term):
    """Give the administrator and the supervisor ADMIN_PASSWORD and SUPERVISOR_PASSWORD (a terminal
    with a security module; nothing without one)."""
    if term.board.security is None:
        return
    from firmware.operators import ADMIN, SUPERVISOR, table

    t = table(term)
    t.set_password(ADMIN, ADMIN_PASSWORD)
    t.set_password(SUPERVISOR, SUPERVISOR_PASSWORD)


def open_admin(board, term):
    """From idle: the service menu (ENTER 8), giving ADMIN_PASSWORD when it is asked for."""
    press(board, term, "ENTER", "8")
    if term.screen.masked_input:
        press(board, term, *ADMIN_PASSWORD)
        press(board, term, "ENTER")
