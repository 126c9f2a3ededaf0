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
