# The acquirer host simulator (收单主机): a real TCP server with a durable SQLite ledger, the
# approval rules, faults and a frame trace (docs/HOST.md). CPython only; it does its own DES,
# MAC and key work with `cryptography` and never imports hal/soft/des.py or hal/soft/mac.py.
