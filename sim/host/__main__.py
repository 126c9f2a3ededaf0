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
    ledger.add_argument(
        "--batch", type=int, metavar="N", help="batch N: its settlement and upload as the host saw them"
    )
    _backoffice_parser(commands)
    esign = commands.add_parser(
        "esign",
        help="the stored e-signature uploads: list them, or write one's image out as a .jbg file",
        description="The e-signature uploads the host stored (docs/HOST.md): without --out a list;"
        " with --batch, --trace and --out the image of one, as uploaded (JBIG1: jbgtopbm FILE.jbg FILE.pbm).",
    )
    esign.add_argument("--db", required=True, metavar="FILE", help="the ledger (SQLite)")
    esign.add_argument(
        "--terminal", metavar="TID", help="its terminal id (needed when several have that batch and trace)"
    )
    esign.add_argument("--batch", type=int, metavar="N", help="its batch number")
    esign.add_argument("--trace", type=int, metavar="T", help="its trace number (the transaction's)")
    esign.add_argument("--out", metavar="FILE.jbg", help="write the image there")
    esign.add_argument("--json", action="store_true", help="the list as one JSON object a line")
    return parser


def _backoffice_parser(commands):
    from sim.host.backoffice import REASONS

    office = commands.add_parser(
        "backoffice",
        help="back-office refunds: submit, review (by another user), list, show",
        description="Back-office refunds (后台退单) over the host's ledger, safe while the host runs.",
    )
    office.add_argument("--db", required=True, metavar="FILE", help="the ledger (SQLite)")
    steps = office.add_subparsers(title="steps", dest="step", required=True)
    submit = steps.add_parser("submit", help="submit a refund of a sale; prints the request's id")
    submit.add_argument("--user", required=True, metavar="ID", help="who submits it")
    submit.add_argument("--rrn", required=True, help="the sale's RRN (12 digits, as on its slip)")
    submit.add_argument("--date", required=True, metavar="MMDD", help="the sale's date, as on its slip")
    submit.add_argument("--terminal", required=True, metavar="TID", help="the sale's terminal id")
    submit.add_argument(
        "--amount", required=True, metavar="FEN", help="the refund in fen (1250 = 12.50 yuan)"
    )
    submit.add_argument(
        "--reason",
        required=True,
        choices=[r[0] for r in REASONS],
        help="; ".join("{} ({}, {})".format(*r) for r in REASONS),
    )
    submit.add_argument(
        "--evidence", required=True, metavar="TEXT", help="the evidence: receipt numbers, ..."
    )
    review = steps.add_parser("review", help="approve or reject a submitted request (not your own)")
    review.add_argument("id", type=int, help="the request's id")
    review.add_argument("--user", required=True, metavar="ID", help="who reviews it (not its submitter)")
    decision = review.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", action="store_true", help="book the refund")
    decision.add_argument("--reject", action="store_true", help="refuse it")
    review.add_argument("--note", default="", metavar="TEXT", help="why")
    listing = steps.add_parser("list", help="every request: time, RRN, amount, reason, state, users")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    show = steps.add_parser("show", help="one request in full")
    show.add_argument("id", type=int, help="the request's id")
    show.add_argument("--json", action="store_true", help="a JSON object")


def _backoffice(args):
    """The back-office steps over the ledger file; a refusal is one line on stderr and exit 2."""
    import json
    import os
    import sqlite3

    from sim.host import backoffice as bo
    from sim.host.acquirer import china_now
    from sim.host.ledger import Ledger

    if not os.path.isfile(args.db):
        print("backoffice: no ledger {}".format(args.db), file=sys.stderr)
        return 2
    try:
        ledger = Ledger(args.db)
    except LedgerError as e:
        print("backoffice: {}".format(e), file=sys.stderr)
        return 2
    db = ledger.db
    try:
        if args.step == "submit":
            with bo.transaction(db):
                rid = bo.submit(
                    db,
                    china_now,
                    args.user,
                    args.rrn,
                    args.date,
                    args.terminal,
                    args.amount,
                    args.reason,
                    args.evidence,
                )
            print(rid)
        elif args.step == "review":
            with bo.transaction(db):
                r = bo.review(db, china_now, args.id, args.user, args.approve, args.note)
            print("back-office refund {} {} by {}".format(r["id"], r["state"], r["reviewed_by"]))
        elif args.step == "list":
            found = bo.requests(db)
            if args.json:
                for r in found:
                    print(json.dumps(r, ensure_ascii=False, sort_keys=True))
            else:
                print(_office_table(found))
        else:
            r = bo.request(db, args.id)
            if r is None:
                raise bo.Refused("no back-office refund {}".format(args.id))
            if args.json:
                print(json.dumps(r, ensure_ascii=False, sort_keys=True))
            else:
                print(_office_show(r))
    except bo.Refused as e:
        print("backoffice: {}".format(e), file=sys.stderr)
        return 2
    except sqlite3.Error as e:  # busy past the timeout, a full disk, a damaged file
        print("backoffice: the ledger {}: {}".format(args.db, e), file=sys.stderr)
        return 2
    finally:
        ledger.close()
    return 0


def _office_table(found):
    from firmware.money import format_fen

    lines = [
        "{:>4}  {:<19}  {:<12}  {:>10}  {:<9}  {:<12}  {:<12}  {}".format(
            "id", "submitted", "rrn", "amount", "state", "by", "reviewed by", "reason"
        )
    ]
    for r in found:
        lines.append(
            "{:>4}  {:<19}  {:<12}  {:>10}  {:<9}  {:<12}  {:<12}  {} {}".format(
                r["id"],
                r["submitted_at"],
                r["rrn"],
                format_fen(r["amount"]),
                r["state"],
                r["submitted_by"],
                r["reviewed_by"] or "-",
                r["reason"],
                r["reason_zh"],
            )
        )
    return "\n".join(lines)


def _office_show(r):
    from firmware.money import format_fen

    rows = [
        ("request", r["id"]),
        ("state", r["state"]),
        ("amount", "{} ({} fen)".format(format_fen(r["amount"]), r["amount"])),
        ("reason", "{} ({}, {})".format(r["reason"], r["reason_en"], r["reason_zh"])),
        ("evidence", r["evidence"]),
        (
            "sale",
            "RRN {} of {} at terminal {}, merchant {}".format(
                r["rrn"], r["orig_day"], r["terminal_id"], r["merchant_id"]
            ),
        ),
        ("submitted", "{} by {}".format(r["submitted_at"], r["submitted_by"])),
        ("reviewed", "{} by {}".format(r["reviewed_at"], r["reviewed_by"]) if r["reviewed_by"] else "-"),
        ("note", r["note"] or "-"),
        ("booked on", r["day"] or "-"),
    ]
    return "\n".join("{:<10} {}".format(k, v) for k, v in rows)


def batch_report(db, batch):
    """Batch `batch` as the host saw it, per terminal: its settlement (the first: a batch settles
    once), its totals by the host's own ledger, and the batch-upload items and end messages."""
    from sim.host.acquirer import batch_totals

    out = []
    terminals = db.db.execute(
        "SELECT DISTINCT terminal_id, merchant_id FROM txns WHERE batch=? UNION"
        " SELECT DISTINCT terminal_id, merchant_id FROM settlements WHERE batch=? ORDER BY 1",
        (batch, batch),
    ).fetchall()
    for tid, mid in terminals:
        row = db.db.execute(
            "SELECT domestic, foreign_, terminal_totals, at FROM settlements WHERE terminal_id=?"
            " AND merchant_id=? AND batch=? ORDER BY rowid LIMIT 1",
            (tid, mid, batch),
        ).fetchone()
        home, away = batch_totals(db.db, tid, mid, batch)
        uploads = db.db.execute(
            "SELECT trace, type, amount, rrn, at FROM uploads WHERE terminal_id=? AND merchant_id=?"
            " AND batch=? ORDER BY rowid",
            (tid, mid, batch),
        ).fetchall()
        ends = db.db.execute(
            "SELECT trace, at FROM requests WHERE terminal_id=? AND merchant_id=? AND batch=?"
            " AND mti='0320' AND trace NOT IN (SELECT trace FROM uploads WHERE terminal_id=?"
            " AND merchant_id=? AND batch=?) ORDER BY at",
            (tid, mid, batch, tid, mid, batch),
        ).fetchall()
        out.append(
            {
                "terminal": tid,
                "merchant": mid,
                "batch": batch,
                "settled": row is not None,
                "result": "" if row is None else "{}{}".format(row[0], row[1]),
                "terminal_f48": "" if row is None else row[2],
                "settled_at": "" if row is None else row[3],
                "domestic": list(home),
                "foreign": list(away),
                "uploads": [
                    {"trace": u[0], "type": u[1], "amount": u[2], "rrn": u[3], "at": u[4]} for u in uploads
                ],
                "upload_ends": [{"trace": e[0], "at": e[1]} for e in ends],
            }
        )
    return out


def _batch(db, batch, as_json):
    import json

    found = batch_report(db, batch)
    if not found:
        print("host: no batch {:06d} in the ledger".format(batch), file=sys.stderr)
        return 2
    for r in found:
        if as_json:
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
            continue
        state = "settled {} ({}) at {}".format(r["result"], _results(r["result"]), r["settled_at"])
        print("{} batch {:06d}: {}".format(r["terminal"], batch, state if r["settled"] else "open"))
        for name in ("domestic", "foreign"):
            d = r[name]
            print("  {:<8} debit {:>3} {:>12}  credit {:>3} {:>12}".format(name, d[1], d[0], d[3], d[2]))
        print("  uploaded {} item(s), {} end message(s)".format(len(r["uploads"]), len(r["upload_ends"])))
        for u in r["uploads"]:
            print("    {:06d} {} {:>12} {}".format(u["trace"], u["type"], u["amount"], u["rrn"]))
    return 0


def _results(digits):
    words = {"1": "balanced", "2": "unbalanced", "3": "error"}
    return "/".join(words.get(d, "?") for d in digits)


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
        if args.batch is not None:
            return _batch(db, args.batch, args.json)
        found = ledger_rows(db)
    finally:
        db.close()
    for r in found:
        if args.json:
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
        else:
            print(
                "{} {:06d} {:06d} {:<7} {:>12} {:<9} {:<13} {:<25} {}".format(
                    r["terminal"],
                    r["batch"],
                    r["trace"],
                    r["kind"],
                    r["amount"],
                    r["state"],
                    r["rrn"],
                    r["time"],
                    "e-signed" if "esign" in r else "",
                ).rstrip()
            )
    return 0


def _esign(args):
    """The stored uploads as a list, or one's image written to --out; a refusal is one line on
    stderr and exit 2."""
    import json
    import os

    from firmware.jbigdec import header
    from sim.host.ledger import Ledger

    if not os.path.isfile(args.db):
        print("esign: no ledger {}".format(args.db), file=sys.stderr)
        return 2
    if args.out is not None and (args.batch is None or args.trace is None):
        print("esign: --out needs --batch and --trace", file=sys.stderr)
        return 2
    try:
        db = Ledger(args.db)
    except LedgerError as e:
        print("esign: {}".format(e), file=sys.stderr)
        return 2
    try:
        found = [
            u
            for u in db.esigns(args.terminal)
            if (args.batch is None or u["batch"] == args.batch)
            and (args.trace is None or u["trace"] == args.trace)
        ]
    finally:
        db.close()
    if args.out is None:
        for u in found:
            row = {
                "terminal": u["terminal_id"],
                "merchant": u["merchant_id"],
                "batch": u["batch"],
                "trace": u["trace"],
                "rrn": u["rrn"],
                "amount": u["amount"],
                "bytes": len(u["image"] or b""),  # 0: an unsigned transaction's receipt, no image
                "time": u["at"],
            }
            if args.json:
                print(json.dumps(row, ensure_ascii=False, sort_keys=True))
            else:
                print(
                    "{terminal} {batch:06d} {trace:06d} {rrn:<13} {amount:>12} {bytes:>4} B  {time}".format(
                        **row
                    )
                )
        return 0
    if not found:
        print(
            "esign: no upload stored for batch {:06d} trace {:06d}".format(args.batch, args.trace),
            file=sys.stderr,
        )
        return 2
    if len(found) > 1:
        print(
            "esign: terminals {} have batch {:06d} trace {:06d}: give --terminal".format(
                " ".join(u["terminal_id"] for u in found), args.batch, args.trace
            ),
            file=sys.stderr,
        )
        return 2
    image = found[0]["image"]
    if image is None:
        print(
            "esign: batch {:06d} trace {:06d} was not signed: its receipt alone, no image".format(
                args.batch, args.trace
            ),
            file=sys.stderr,
        )
        return 2
    try:
        with open(args.out, "wb") as f:
            f.write(image)
    except OSError as e:
        print("esign: {}: {}".format(args.out, e.strerror or e), file=sys.stderr)
        return 2
    width, height = header(image)[:2]  # stored uploads passed the host's checks
    print(
        "{}: {} bytes, JBIG1 {} x {} (jbgtopbm {} OUT.pbm)".format(
            args.out, len(image), width, height, args.out
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
    if args.command == "backoffice":
        return _backoffice(args)
    if args.command == "esign":
        return _esign(args)
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
