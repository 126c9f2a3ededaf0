# The batch journal of a simulated terminal, read from its state directory: a readable table
# (masked, with totals) or one JSON object a line. Reads only: never writes to the state directory.
#
#   python -m sim.journal --state DIR [--json] [--all]
#   python -m sim.journal diff --state DIR --db FILE
import argparse
import json
import os
import sys
import time

from firmware import batch as bj
from firmware.money import format_fen
from firmware.params import PARAMS, Params
from firmware.sigfile import NO_CODE, UPLOAD_DONE, upload_code
from firmware.store import Damaged, load
from sim.storage import DirStorage

# The journal's states in the tool's words: a transaction still "sent" at rest was never confirmed
# (a refund not confirmed is "in_doubt" too); a refund not done (the host never had it: its
# card-less resend was answered 25) is "unsent": it moved no money and is never resent.
_WORDS = {
    bj.NOT_DONE: "unsent",
    bj.SENT: "in_doubt",
    bj.APPROVED: "approved",
    bj.DECLINED: "declined",
    bj.UNSENT: "unsent",
    bj.IN_DOUBT: "in_doubt",
    bj.REVERSED: "reversed",
    bj.VOIDED: "voided",
}
_CHINA = 8 * 3600  # the host and the slips are in China time (+08:00)


class ReadOnly(DirStorage):
    """The state directory as Storage, refusing every change (the tool only reads)."""

    def _refuse(self, *args):
        raise OSError(30, "sim.journal reads only")

    write = append = rename = remove = _refuse

    def sync(self):
        pass


def iso(seconds):
    t = time.gmtime(seconds + _CHINA)
    return "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}+08:00".format(*t[:6])


def identity(storage):
    """(terminal id, merchant id) as stored, read only (Params.load would store the defaults of a
    terminal that has none, or its warning): the defaults when none is stored, "" when unreadable."""
    defaults = Params()
    try:
        record = load(storage, PARAMS).record
    except (OSError, Damaged):
        return "", ""
    if record is None:
        return getattr(defaults, "terminal_id"), getattr(defaults, "merchant_id")
    return record.get("terminal_id", ""), record.get("merchant_id", "")


def rows(storage, with_archive=False):
    """(journal, [row dict in the tool's keys]) of the current batch (and the archive)."""
    terminal, merchant = identity(storage)
    journal = bj.Batch(storage)
    out = []
    for t in journal.transactions():
        out.append(
            {
                "terminal": terminal,
                "merchant": merchant,
                "batch": t["batch"],
                "trace": t["trace"],
                "rrn": t["rrn"],
                "kind": t["kind"],
                "amount": t["amount"],
                "state": _WORDS[t["state"]],
                "time": iso(t["time"]),
                "card": t["card"],
                "esign": t["esign"],  # none, pending, uploaded, failed
            }
        )
    if with_archive:
        for r in journal.archive_rows(limit=0):
            row = {
                "terminal": terminal,
                "merchant": merchant,
                "batch": r["batch"],
                "trace": r["trace"],
                "rrn": r["rrn"],
                "kind": r["kind"],
                "amount": r["amount"],
                "state": "voided" if r["voided"] else _WORDS[r.get("state", bj.APPROVED)],
                "time": "",
                "card": "",
            }
            if r["open"]:  # its upload was not done at the closing: its file says how it went since
                code = upload_code(storage, r["batch"], r["trace"], bytearray(6))
                if code == NO_CODE:
                    row["esign"] = "pending"
                elif code is not None:
                    row["esign"] = "uploaded" if code in UPLOAD_DONE else "failed"
            out.append(row)
    return journal, out


def table(journal, found):
    lines = [
        "{:<7} {:<7} {:<7} {:>12} {:<9} {:<13} {:<20} {}".format(
            "batch", "trace", "kind", "amount", "state", "rrn", "card", "time"
        )
    ]
    for r in found:
        lines.append(
            "{:06d}  {:06d}  {:<7} {:>12} {:<9} {:<13} {:<20} {}".format(
                r["batch"],
                r["trace"],
                r["kind"],
                format_fen(r["amount"]),
                r["state"],
                r["rrn"],
                r["card"],
                r["time"],
            )
        )
    totals = journal.totals()
    for kind in ("sale", "void", "refund"):
        n, fen = totals[kind]
        lines.append("{:<7} {:>4} approved {:>12}".format(kind, n, format_fen(fen)))
    return "\n".join(lines)


def ledger_rows(db):
    """The host ledger's transactions (a Ledger) in the tool's keys and words; `esign`
    "uploaded" on those whose e-signature upload the host stored (absent on the others)."""
    signed = db.esign_keys()
    out = []
    for r in db.txns():
        state = "reversed" if r["status"] == "reversed" else ("voided" if r["voided"] else "approved")
        out.append(
            {
                "terminal": r["terminal_id"],
                "merchant": r["merchant_id"],
                "batch": r["batch"],
                "trace": r["trace"],
                "rrn": r["rrn"] or "",
                "kind": r["kind"],
                "amount": r["amount"],
                "state": state,
                "time": r["at"] or "",
            }
        )
        if (r["terminal_id"], r["merchant_id"], r["batch"], r["trace"]) in signed:
            out[-1]["esign"] = "uploaded"
    return out


def differences(found, booked, terminal):
    """Lines saying each difference between the journal's rows and the ledger's (docs/JOURNAL.md,
    "The tool"); [] when they match."""
    mine = {}
    for r in booked:
        if r["terminal"] == terminal:
            mine[(r["batch"], r["trace"])] = r
    out = []
    seen = set()
    for t in found:
        key = (t["batch"], t["trace"])
        seen.add(key)
        row = mine.get(key)
        where = "batch {:06d} trace {:06d}".format(*key)
        if t["state"] in ("approved", "voided"):
            if row is None or row["state"] == "reversed":
                out.append("{}: {} in the journal, not booked by the host".format(where, t["state"]))
            elif row["amount"] != t["amount"] or row["rrn"] != t["rrn"]:
                out.append(
                    "{}: journal {} rrn {}, host {} rrn {}".format(
                        where, t["amount"], t["rrn"], row["amount"], row["rrn"]
                    )
                )
            elif row["state"] != t["state"]:  # a sale voided at one end only
                out.append("{}: {} in the journal, {} at the host".format(where, t["state"], row["state"]))
            elif "esign" in t:  # an archive row without an upload to do does not say
                out.extend(_esign_difference(where, t["esign"], row.get("esign")))
        elif t["state"] == "reversed":
            if row is not None and row["state"] != "reversed":
                out.append("{}: reversed in the journal, booked by the host".format(where))
        elif t["state"] == "in_doubt" and t["kind"] == "refund":
            out.append("{}: refund not confirmed (its resend has not been answered)".format(where))
        elif t["state"] == "in_doubt":
            out.append("{}: in doubt (its reversal has not cleared)".format(where))
        elif row is not None and row["state"] != "reversed":
            out.append("{}: {} in the journal, booked by the host".format(where, t["state"]))
    for key in sorted(mine):
        row = mine[key]
        # (back-office refunds are not in the ledger's txns: they belong to no terminal's batch)
        if key not in seen and row["state"] != "reversed":
            out.append("batch {:06d} trace {:06d}: booked by the host, not in the journal".format(*key))
    return out


def _esign_difference(where, journal, host):
    """[the line] when the journal's e-signature state (none, pending, uploaded, failed) and the
    host's ("uploaded" or None) disagree; [] when they agree."""
    if journal == "uploaded" and host is None:
        return ["{}: e-signature uploaded in the journal, not stored by the host".format(where)]
    if journal != "uploaded" and host is not None:
        return ["{}: e-signature {} in the journal, stored by the host".format(where, journal)]
    return []


def diff(argv):
    from sim.host.ledger import Ledger, LedgerError

    parser = argparse.ArgumentParser(prog="python -m sim.journal diff")
    parser.add_argument("--state", required=True, help="the terminal's state directory")
    parser.add_argument("--db", required=True, help="the host's ledger (SQLite)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.state) or not os.path.isfile(args.db):
        print("sim.journal diff: no state directory or ledger there", file=sys.stderr)
        return 2
    try:
        journal, found = rows(ReadOnly(args.state), True)
        db = Ledger(args.db)
    except (OSError, ValueError, LedgerError) as exc:
        print("sim.journal diff: cannot read: {}".format(exc), file=sys.stderr)
        return 2
    try:
        lines = differences(found, ledger_rows(db), found[0]["terminal"] if found else None)
    finally:
        db.close()
    for line in lines:
        print(line)
    return 1 if lines else 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "diff":
        return diff(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m sim.journal", description=__doc__)
    parser.add_argument("--state", required=True, help="the terminal's state directory")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.add_argument("--all", action="store_true", help="the archive of settled batches too")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.state):
        print("sim.journal: no state directory {}".format(args.state), file=sys.stderr)
        return 2
    storage = ReadOnly(args.state)
    try:
        journal, found = rows(storage, args.all)
    except (OSError, ValueError) as exc:
        print("sim.journal: the journal cannot be read: {}".format(exc), file=sys.stderr)
        return 2
    if args.json:
        for r in found:
            r = dict(r)
            del r["card"]
            if r.get("esign") == "none":
                del r["esign"]
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
    else:
        print(table(journal, found))
    if journal.damaged_bytes or journal.unreadable:
        print(
            "sim.journal: the journal is damaged: {} bytes hold no valid record{}".format(
                journal.damaged_bytes,
                ", unreadable: " + " ".join(journal.unreadable) if journal.unreadable else "",
            ),
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
