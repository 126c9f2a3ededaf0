# The simulator's command line: `python -m sim run SCRIPT` drives a headless terminal with a scenario
# script; `python -m sim` reads script lines from the keyboard. Never shows a traceback unless --debug.

import argparse
import io
import os
import sys
import traceback

from firmware.params import Params
from hal.contracts import HalError
from sim import scenario
from sim.board import make_board

HELP = """\
key K...      press keys: 0-9 ENTER CANCEL CLEAR FUNC UP DOWN (any case; 123 = 1 2 3)
swipe NAME    swipe, insert or tap a card of the deck (docs/CARDS.md)
insert NAME
tap NAME
scan TEXT     the scanner reads TEXT
sign          the cardholder signs and presses OK; "sign none": OK without drawing
wait SECONDS  let time pass (at most 86400)
clock YYYY-MM-DD HH:MM   set the terminal's wall clock (its local time)
expect TEXT   check that TEXT is on the screen
reboot        power-cycle: storage survives, RAM does not
cut N [torn MODE]  the power fails at the N-th storage operation of the next step, which reboots;
              MODE of the write in flight: none (default), 1, half, all-but-1, all (all unsynced lands)
help, quit    this list; end the session (or Ctrl-D)
A line that does not start with a verb is read as keys: "123 enter" = "key 1 2 3 ENTER".
"""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="The QianPOS simulator. With no command: interactive.",
    )
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--state", metavar="DIR", help="keep the terminal's storage in DIR between runs")
    options.add_argument("--lang", choices=("zh", "en"), help="set the terminal's language before it boots")
    options.add_argument("--debug", action="store_true", help="show the traceback when the terminal crashes")
    commands = parser.add_subparsers(title="commands", dest="command")
    run = commands.add_parser("run", parents=[options], help="run a scenario script headless")
    run.add_argument("--quiet", action="store_true", help="print nothing but a failure")
    run.add_argument("script", metavar="SCRIPT", help="the script file (docs/SCENARIOS.md), - for stdin")
    commands.add_parser("interactive", parents=[options], help="type script lines one by one (the default)")
    return parser


def _board(args):
    """The board, with storage in args.state if given, and the language set if asked for."""
    if args.state:
        os.makedirs(args.state, exist_ok=True)
    board = make_board(state_dir=args.state)
    if args.lang:
        params = Params.load(board.storage)
        params.language = args.lang
        params.save(board.storage)
    return board


def _read_script(path):
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def run_script(args, out, err):
    try:
        text = _read_script(args.script)
    except (OSError, UnicodeDecodeError) as e:
        err.write(f"sim: cannot read {args.script}: {e}\n")
        return 2
    try:
        steps = scenario.parse(text)
    except scenario.ScriptError as e:
        err.write(f"{e}\n")
        return 2
    board = _board(args)
    try:
        sc = scenario.Scenario(board, io.StringIO() if args.quiet else out)
    except scenario.Crashed as e:
        scenario.report(e, err, board.display, args.debug)
        return e.exit_code
    return scenario.run(steps, sc, err, args.debug)


def _interactive_step(lineno, line):
    """Like scenario.parse_line, but a line that does not start with a verb is read as keys."""
    words = line.split()
    if words and words[0].lower() not in scenario.VERBS and not words[0].startswith("#"):
        line = "key " + line
    return scenario.parse_line(lineno, line)


def interactive(args, out, err):
    if sys.stdin.isatty():
        import readline  # noqa: F401 - line editing and history for input()
    board = _board(args)
    try:
        sc = scenario.Scenario(board, out, headers=False)
    except scenario.Crashed as e:
        scenario.report(e, err, board.display, args.debug)
        return e.exit_code
    lineno = 0
    while True:
        try:
            line = input("> ")
        except EOFError:
            out.write("\n")
            return 0
        lineno += 1
        command = line.strip().lower()
        if command in ("quit", "exit"):
            return 0
        if command == "help":
            out.write(HELP)
            continue
        try:
            step = _interactive_step(lineno, line)
            if step is not None:
                sc.do(step)
        except scenario.ScriptError as e:
            err.write(f"{e}\n")
        except scenario.Failure as e:
            scenario.report(e, err, sc.board.display, args.debug)
            if isinstance(e, scenario.Crashed):
                err.write("(type reboot to power-cycle the terminal)\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in ("run", "interactive", "-h", "--help"):
        argv.insert(0, "interactive")  # `python -m sim [--state DIR] [--lang L]`
    args = _parser().parse_args(argv)
    command = run_script if args.command == "run" else interactive
    try:
        return command(args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:  # `python -m sim run x | head`: the reader left, nothing to report
        sys.stdout = None
        return 0
    except (OSError, HalError) as e:  # the state directory cannot be made or used, or is damaged
        sys.stderr.write(f"sim: {e}\n")
        return 2
    except Exception as e:  # noqa: BLE001 - a bug in the simulator itself: still no traceback unless asked
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"sim: internal error: {type(e).__name__}: {e} (--debug shows where)\n")
        return 3


if __name__ == "__main__":
    sys.exit(main())
