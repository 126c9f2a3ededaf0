# main.py: what a MicroPython board runs after boot.py. It picks the board, builds its devices
# and hands them to the firmware. Never put terminal logic here.

from firmware.compat import format_exception
from firmware.terminal import Terminal

# The only board shipped so far: any MicroPython port over its serial console. A real terminal
# board adds hal/<board>.py with the same make_board() and is selected here.
from hal.console import make_board


def main():
    board = make_board()
    try:
        terminal = Terminal(board)
    except Exception as exc:  # noqa: BLE001 - a terminal that cannot boot says so on its screen
        display = board.display
        display.clear()
        rows = ("启动失败", "Boot failed", format_exception(exc), "请联系客服", "Call support")
        for i in range(len(rows)):
            display.text(i, rows[i])
        display.show()
        return  # back to the REPL, where a technician can look
    terminal.run()


main()
