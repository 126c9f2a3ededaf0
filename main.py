# main.py: what a MicroPython board runs after boot.py. It picks the board, builds its devices
# and hands them to the firmware. Never put terminal logic here.

from firmware.terminal import Terminal

# The only board shipped so far: any MicroPython port over its serial console. A real terminal
# board adds hal/<board>.py with the same make_board() and is selected here.
from hal.console import make_board


def main():
    Terminal(make_board()).run()


main()
