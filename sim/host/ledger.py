# The host's durable ledger: SQLite in WAL mode with synchronous=FULL (a commit is on disk before
# an answer leaves). It never holds a full PAN, track data, a PIN block or a key: cards are a keyed
# hash of the PAN plus the masked number (first 6 + last 4); working keys live in RAM only.
import hashlib
import hmac
import os
import secrets
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS terminals(
    terminal_id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, batch INTEGER NOT NULL,
    signed_in TEXT);
CREATE TABLE IF NOT EXISTS cards(
    card TEXT PRIMARY KEY,            -- keyed hash of the PAN (HMAC-SHA256, hex)
    masked TEXT NOT NULL, balance INTEGER NOT NULL, pin_fails INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS requests(
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER, mti TEXT,
    digest BLOB NOT NULL,             -- keyed hash of the request's fields but F64
    answer BLOB NOT NULL,             -- the answer frame as first sent, F64 zeroed
    at TEXT NOT NULL,
    PRIMARY KEY(terminal_id, merchant_id, batch, trace, mti));
CREATE TABLE IF NOT EXISTS txns(
    id INTEGER PRIMARY KEY, terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER,
    kind TEXT,                        -- sale, void, refund
    amount INTEGER, card TEXT, masked TEXT, domestic INTEGER,
    rrn TEXT UNIQUE, auth TEXT, day TEXT, at TEXT,
    status TEXT,                      -- ok, reversed
    orig_id INTEGER, voided INTEGER NOT NULL DEFAULT 0, refunded INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS txns_key ON txns(terminal_id, merchant_id, batch, trace);
CREATE INDEX IF NOT EXISTS txns_day ON txns(merchant_id, day);
CREATE TABLE IF NOT EXISTS early_reversals(  -- a reversal that came before its original
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER,
    kind TEXT,                        -- sale, void: what it reverses
    amount INTEGER, at TEXT,
    PRIMARY KEY(terminal_id, merchant_id, batch, trace, kind));
CREATE TABLE IF NOT EXISTS esigns(  -- e-signature uploads the host took (checked), one a transaction
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER, rrn TEXT, amount INTEGER,
    slip BLOB,                        -- F55: the slip elements as TLV
    image BLOB,                       -- F62: the JBIG1 image as uploaded
    at TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS esigns_key ON esigns(terminal_id, merchant_id, batch, trace);
CREATE TABLE IF NOT EXISTS uploads(
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER, type TEXT, amount INTEGER,
    rrn TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS settlements(
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, domestic INTEGER, foreign_ INTEGER,
    terminal_totals TEXT, host_totals TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS backoffice(  -- back-office refunds (sim/host/backoffice.py)
    id INTEGER PRIMARY KEY,
    orig_id INTEGER NOT NULL,         -- the sale refunded (txns.id)
    terminal_id TEXT, merchant_id TEXT, rrn TEXT, orig_day TEXT,  -- the sale's
    amount INTEGER NOT NULL, reason TEXT NOT NULL, evidence TEXT NOT NULL,
    state TEXT NOT NULL,              -- submitted, approved, rejected
    submitted_by TEXT NOT NULL, submitted_at TEXT NOT NULL,
    reviewed_by TEXT, reviewed_at TEXT, note TEXT,
    day TEXT);                        -- approved: the merchant's day it is booked in
CREATE INDEX IF NOT EXISTS backoffice_day ON backoffice(merchant_id, day);
"""

# Files of a terminal's storage directory (firmware record files): a ledger beside them would put
# its -wal and -shm files where the firmware loads every file as its own storage.
_TERMINAL_FILES = ("counters.a", "counters.b", "params.a", "params.b", "provisioned.a")


def merchant_net(db, merchant_id, day):
    """A merchant's net of a day in fen: its sales minus its voids and refunds booked that day
    (reversed ones do not count), minus the back-office refunds approved that day."""
    terminal = db.execute(
        "SELECT COALESCE(SUM(CASE kind WHEN 'sale' THEN amount ELSE -amount END), 0) FROM txns"
        " WHERE merchant_id=? AND day=? AND status='ok'",
        (merchant_id, day),
    ).fetchone()[0]
    office = db.execute(
        "SELECT COALESCE(SUM(amount), 0) FROM backoffice WHERE merchant_id=? AND day=? AND state='approved'",
        (merchant_id, day),
    ).fetchone()[0]
    return terminal - office


class LedgerError(Exception):
    """The ledger cannot be opened where asked (one line for the command line)."""


def _hash_key(path):
    """The secret of the keyed hashes: beside the database (PATH.hashkey, mode 0600), created once;
    a fresh random one for ":memory:"."""
    if path == ":memory:":
        return secrets.token_bytes(32)
    key_path = path + ".hashkey"
    try:
        with open(key_path, "rb") as f:
            key = f.read()
        if len(key) == 32:
            return key
        raise LedgerError("{} is not a 32-byte key".format(key_path))
    except FileNotFoundError:
        if _has_rows(path):
            # A new key would make every card hash already booked unmatchable (a void or refund
            # of those sales would be refused as "another card"): the ledger is refused instead.
            raise LedgerError(
                "{} is missing: the card hashes of {} cannot be checked without it; restore it,"
                " or give a new ledger file".format(key_path, path)
            )
        key = secrets.token_bytes(32)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        return key


def _has_rows(path):
    """True if path is an SQLite ledger that has booked transactions (an unreadable or empty file,
    or one without the table, has none)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return False
    try:
        db = sqlite3.connect(Path(os.path.abspath(path)).as_uri() + "?mode=ro", uri=True)
        try:
            return db.execute("SELECT 1 FROM txns LIMIT 1").fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:
        return False


def check_place(path):
    """LedgerError if path's directory is (or looks like) a terminal's storage directory."""
    if path == ":memory:":
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        names = set(os.listdir(directory))
    except OSError:
        return
    if names & set(_TERMINAL_FILES):
        raise LedgerError(
            "{} holds a terminal's storage: give the ledger a directory of its own".format(directory)
        )


class Ledger:
    """The SQLite connection (one thread uses it: the host's ledger worker) and the keyed hash."""

    def __init__(self, path=":memory:", busy_s=5.0):
        check_place(path)
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._key = _hash_key(path)
        try:
            self.db = sqlite3.connect(path, busy_s, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as e:
            raise LedgerError("{}: {}".format(path, e))

    def keyed_hash(self, data):
        """HMAC-SHA256 of data under the ledger's secret, hex."""
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def close(self):
        self.db.close()

    # ---- reading, for the tests, the bench and the later `ledger` subcommand ------------------
    def balance(self, pan):
        """A card's balance in fen, or None if the host has not seen it."""
        card = self.keyed_hash(pan.encode())
        row = self.db.execute("SELECT balance FROM cards WHERE card=?", (card,)).fetchone()
        return None if row is None else row[0]

    def txns(self, terminal_id=None):
        """Every transaction row as a dict, oldest first."""
        cur = self.db.execute(
            "SELECT * FROM txns WHERE ?1 IS NULL OR terminal_id=?1 ORDER BY id", (terminal_id,)
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def esigns(self, terminal_id=None):
        """The stored e-signature uploads as dicts (image and slip as bytes), oldest first."""
        cur = self.db.execute(
            "SELECT * FROM esigns WHERE ?1 IS NULL OR terminal_id=?1 ORDER BY rowid", (terminal_id,)
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def esign_keys(self):
        """{(terminal, merchant, batch, trace)} of the stored e-signature uploads."""
        return set(self.db.execute("SELECT terminal_id, merchant_id, batch, trace FROM esigns"))

    def count(self, table):
        if table not in (
            "txns",
            "requests",
            "early_reversals",
            "esigns",
            "uploads",
            "settlements",
            "backoffice",
            "cards",
            "terminals",
        ):
            raise ValueError("no table " + table)
        return self.db.execute("SELECT COUNT(*) FROM " + table).fetchone()[0]
