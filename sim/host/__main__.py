# `python -m sim.host [serve] [options]`: the acquirer host simulator (docs/HOST.md).
# Never prints a key, a PIN or card data.
import argparse
import sys

from sim.host.ledger import LedgerError
from sim.host.provisioning import DEFAULT_DIR
from sim.host.server import FAULT_KINDS, LATE_MS, MAX_CONNECTIONS, MAX_PER_PEER, Host


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sim.host", description="The QianPOS acquirer host simulator."
    )
    commands = parser.add_subparsers(title="commands", dest="command")
    serve = commands.add_parser("serve", help="run the host (the default)")
    _serve_options(serve)
    ledger = commands.add_parser("ledger", help="print the ledger's transactions (sim.journal's view)")
    ledger.add_argument("--db", required=True, metavar="FILE", help="the ledger (SQLite)")
    ledger.add_argument("--json", action="store_true", help="one JSON object a line")
    return parser


def _ledger(args):
    """The ledger's transactions in sim.journal's keys and words: a table, or JSON lines."""
    import json
    import os

    from sim.host.ledger import Ledger
    from sim.journal import ledger_rows

    if not os.path.isfile(args.db):
        print("host: no ledger {}".format(args.db), file=sys.stderr)
        return 2
    try:
        db = Ledger(args.db)
    except LedgerError as e:
        print("host: {}".format(e), file=sys.stderr)
        return 2
    try:
        found = ledger_rows(db)
    finally:
        db.close()
    for r in found:
        if args.json:
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
        else:
            print(
                "{} {:06d} {:06d} {:<7} {:>12} {:<9} {:<13} {}".format(
                    r["terminal"],
                    r["batch"],
                    r["trace"],
                    r["kind"],
                    r["amount"],
                    r["state"],
                    r["rrn"],
                    r["time"],
                )
            )
    return 0


def _serve_options(p):
    p.add_argument("--port", type=int, default=0, help="TCP port (0: pick a free one)")
    p.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="the IP address to listen on (default 127.0.0.1; a board on the LAN: this PC's address)",
    )
    p.add_argument("--db", default=":memory:", metavar="FILE", help="the ledger (SQLite; :memory: allowed)")
    p.add_argument("--trace", metavar="FILE", help="append every frame as a JSON line (holds track data!)")
    p.add_argument("--provisioning", default=DEFAULT_DIR, metavar="DIR", help="the terminals' JSON files")
    p.add_argument("--unbalance", action="store_true", help="answer every settlement unbalanced")
    p.add_argument("--fault", choices=FAULT_KINDS, help="hit answers with this fault")
    p.add_argument("--fault-on", metavar="MTI", help="MTI[,MTI] the fault hits (default: 0200,0220,0400)")
    p.add_argument("--fault-count", type=int, default=1, metavar="N", help="hit the next N (0: every one)")
    p.add_argument("--fault-rate", type=float, metavar="P", help="hit each with probability P instead")
    p.add_argument("--seed", type=int, help="seed of --fault-rate and of garbage")
    p.add_argument("--late-ms", type=int, default=LATE_MS, help="how long `late` holds an answer")
    p.add_argument("--idle-s", type=float, default=120.0, help="close a connection idle this long")
    p.add_argument(
        "--max-per-peer",
        type=int,
        default=MAX_PER_PEER,
        metavar="N",
        help="connections from one address; a new one closes that address's idlest (default %(default)s)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        metavar="N",
        help="connections in all; a new one closes the idlest (default %(default)s)",
    )


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "serve")  # serve is the default command
    args = _parser().parse_args(argv)
    if args.command == "ledger":
        return _ledger(args)
    if args.command != "serve":
        return 2
    try:
        options = {
            "idle_s": args.idle_s,
            "bind": args.bind,
            "max_per_peer": args.max_per_peer,
            "max_connections": args.max_connections,
        }
        host = Host(args.db, args.port, args.trace, args.provisioning, args.unbalance, **options)
        if args.fault:
            on = args.fault_on.split(",") if args.fault_on else None
            host.set_fault(args.fault, on, args.fault_count, args.fault_rate, args.seed, args.late_ms)
    except (LedgerError, ValueError, OSError) as e:
        print("host: {}".format(e), file=sys.stderr)
        return 2

    def ready(port):
        print("listening on {}:{}".format(args.bind, port), flush=True)

    try:
        host.serve(ready)
    except KeyboardInterrupt:
        pass
    except OSError as e:
        print("host: {}".format(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
