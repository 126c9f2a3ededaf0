# The conversation with the acquirer host (主机): `codec` turns frames into Messages and back
# (ISO 8583, the UnionPay POS subset), `messages` builds and checks every message we exchange.
# Nothing here does I/O or holds a key; docs/PROTOCOL.md is the reference.
