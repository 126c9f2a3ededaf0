-- A host ledger written before the back-office table existed (sim/host of commit 92d0db6): a credit-card
-- sale of 10000 fen (RRN 000000000001, 2026-12-07, terminal 10000001) and a terminal refund of 2500.
-- Its .hashkey was bytes(range(32)). tests/host/test_host_backoffice.py opens it with today's Ledger.
BEGIN TRANSACTION;
CREATE TABLE cards(
    card TEXT PRIMARY KEY,            -- keyed hash of the PAN (HMAC-SHA256, hex)
    masked TEXT NOT NULL, balance INTEGER NOT NULL, pin_fails INTEGER NOT NULL DEFAULT 0);
INSERT INTO "cards" VALUES('9eb082827c2a3c2325632bcb301241166f23cf885c70ee907a9db3b3e163514b','625965******5671',4992500,0);
CREATE TABLE early_reversals(  -- a reversal that came before its original
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER,
    kind TEXT,                        -- sale, void: what it reverses
    amount INTEGER, at TEXT,
    PRIMARY KEY(terminal_id, merchant_id, batch, trace, kind));
CREATE TABLE esigns(
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER, rrn TEXT, amount INTEGER,
    slip BLOB, image BLOB, at TEXT);
CREATE TABLE requests(
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER, mti TEXT,
    digest BLOB NOT NULL,             -- keyed hash of the request's fields but F64
    answer BLOB NOT NULL,             -- the answer frame as first sent, F64 zeroed
    at TEXT NOT NULL,
    PRIMARY KEY(terminal_id, merchant_id, batch, trace, mti));
INSERT INTO "requests" VALUES('10000001','898100012340001',1,2,'0200',X'61613937613365623632666166663738383761653234633661313734616465323164313639646231373539383864353064326437346239313961373435313565',X'006860000000036031000000010210303A00800EC080110000000000000100000000021000001207120700303030303030303030303031303037393139303031303030303030313839383130303031323334303030313135360013220000010006000000000000000000','2026-12-07T10:00:00');
INSERT INTO "requests" VALUES('10000001','898100012340001',1,3,'0220',X'32656634366339666330313065643737306330396137666466633130613634353738366264636366626530316438663563326332336461313734366231666138',X'006860000000036031000000010230303A00800EC080112000000000000025000000031000001207120700303030303030303030303032303135383338303031303030303030313839383130303031323334303030313135360013250000010006000000000000000000','2026-12-07T10:00:00');
CREATE TABLE settlements(
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, domestic INTEGER, foreign_ INTEGER,
    terminal_totals TEXT, host_totals TEXT, at TEXT);
CREATE TABLE terminals(
    terminal_id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, batch INTEGER NOT NULL,
    signed_in TEXT);
INSERT INTO "terminals" VALUES('10000001','898100012340001',1,'2026-12-07T10:00:00');
CREATE TABLE txns(
    id INTEGER PRIMARY KEY, terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER,
    kind TEXT,                        -- sale, void, refund
    amount INTEGER, card TEXT, masked TEXT, domestic INTEGER,
    rrn TEXT UNIQUE, auth TEXT, day TEXT, at TEXT,
    status TEXT,                      -- ok, reversed
    orig_id INTEGER, voided INTEGER NOT NULL DEFAULT 0, refunded INTEGER NOT NULL DEFAULT 0);
INSERT INTO "txns" VALUES(1,'10000001','898100012340001',1,2,'sale',10000,'9eb082827c2a3c2325632bcb301241166f23cf885c70ee907a9db3b3e163514b','625965******5671',1,'000000000001','007919','2026-12-07','2026-12-07T10:00:00','ok',NULL,0,2500);
INSERT INTO "txns" VALUES(2,'10000001','898100012340001',1,3,'refund',2500,'9eb082827c2a3c2325632bcb301241166f23cf885c70ee907a9db3b3e163514b','625965******5671',1,'000000000002','015838','2026-12-07','2026-12-07T10:00:00','ok',1,0,0);
CREATE TABLE uploads(
    terminal_id TEXT, merchant_id TEXT, batch INTEGER, trace INTEGER, type TEXT, amount INTEGER,
    rrn TEXT, at TEXT);
CREATE INDEX txns_key ON txns(terminal_id, merchant_id, batch, trace);
CREATE INDEX txns_day ON txns(merchant_id, day);
COMMIT;
