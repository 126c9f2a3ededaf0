# The portable soft signer: ECDSA over P-256 with SHA-256 digests and RFC 6979 deterministic nonces, in
# pure Python (MicroPython and CPython), its private key in the KeyStore. The private key never leaves
# this module and its key store. NOT constant-time: a secure element is the production path
# (docs/SECURITY.md).
#
# Key store entry "signer": the private scalar d, 32 bytes big-endian, 1 <= d < n (the format the
# simulator's signer has always written: existing state directories keep their key).
#
# Speed (bench/signer.py, figures in bench/README.md): Jacobian coordinates (no inversion per point
# operation); k*G by a fixed-base comb over a table of 2^_TEETH - 1 affine points built once, at the
# first use, then kept; one inversion per signature for x(kG) and one for 1/k, by Euclid (faster
# than Fermat's pow(x, m - 2, m) on MicroPython, whose pow(x, -1, m) silently gives 0).

import os

from hal.contracts import HalError, Signer
from hal.soft.hmac256 import hmac_sha256

KEY_NAME = "signer"

# NIST P-256 (FIPS 186-4, D.1.2.3): y^2 = x^3 - 3x + b over GF(p); G of prime order n.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5

# The comb: a scalar's 256 bits as TEETH rows of SPACING bits; column i takes bit i of every row, and
# the table holds, for each nonzero column value c, the affine point sum of c's bit j times
# 2^(j * SPACING) G. k*G is then SPACING doublings and at most SPACING additions. 4 teeth: 15 points,
# 64 doublings, 64 additions (bench/README.md compares 4, 5 and 6).
TEETH = 4
_RANDOM_TRIES = 8  # draws of 32 bytes before the random source is called broken (one fails in 2^32)

_tables = {}  # teeth -> (xs, ys): built at the first use, then kept (about 2.4 KB for 4 teeth)


def inverse(a, m):
    """1/a mod m for a prime m and a not a multiple of m (extended Euclid)."""
    lm, hm = 1, 0
    low, high = a % m, m
    while low > 1:
        q = high // low
        lm, low, hm, high = hm - lm * q, high - low * q, lm, low
    return lm % m


def on_curve(x, y):
    """True if (x, y) is an affine point of P-256 (coordinates reduced, not the point at infinity)."""
    return 0 <= x < P and 0 <= y < P and (y * y - x * x * x + 3 * x - B) % P == 0


# ---- Jacobian points: (X, Y, Z) is the affine (X/Z^2, Y/Z^3); Z == 0 is the point at infinity. ----
def double(X, Y, Z):
    """2(X, Y, Z) (dbl-2001-b, a = -3)."""
    p = P
    if Z == 0 or Y == 0:
        return 0, 1, 0
    zz = Z * Z % p
    yy = Y * Y % p
    s = X * yy % p
    m = (X - zz) * (X + zz) * 3 % p
    Z = (Y * Z << 1) % p
    X = (m * m - (s << 3)) % p
    Y = (m * ((s << 2) - X) - (yy * yy << 3)) % p
    return X, Y, Z


def add(X1, Y1, Z1, X2, Y2, Z2):
    """(X1, Y1, Z1) + (X2, Y2, Z2), any two points (equal, opposite or at infinity included)."""
    p = P
    if Z1 == 0:
        return X2, Y2, Z2
    if Z2 == 0:
        return X1, Y1, Z1
    z1z1 = Z1 * Z1 % p
    z2z2 = Z2 * Z2 % p
    u1 = X1 * z2z2 % p
    u2 = X2 * z1z1 % p
    s1 = Y1 * Z2 * z2z2 % p
    s2 = Y2 * Z1 * z1z1 % p
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    if h == 0:
        if r == 0:
            return double(X1, Y1, Z1)
        return 0, 1, 0
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    X3 = (r * r - hhh - 2 * v) % p
    Y3 = (r * (v - X3) - s1 * hhh) % p
    return X3, Y3, Z1 * Z2 * h % p


def affine(X, Y, Z):
    """The affine (x, y) of a Jacobian point; ValueError for the point at infinity."""
    if Z == 0:
        raise ValueError("the point at infinity")
    zi = inverse(Z, P)
    zi2 = zi * zi % P
    return X * zi2 % P, Y * zi2 * zi % P


def _exact(v):
    # A result of % keeps the dividend's digit array on MicroPython (twice the size): the table's
    # coordinates are copied into 32-byte integers, which halves the table's RAM there.
    return int.from_bytes(v.to_bytes(32, "big"), "big")


def comb_table(teeth=TEETH):
    """The comb's table for `teeth` rows: (xs, ys), lists of 2^teeth affine coordinates (entry 0
    unused). Built once per width, at the first call, and kept."""
    table = _tables.get(teeth)
    if table is not None:
        return table
    spacing = (256 + teeth - 1) // teeth
    rows = [(GX, GY, 1)]  # 2^(j * spacing) G
    for _ in range(teeth - 1):
        X, Y, Z = rows[-1]
        for _ in range(spacing):
            X, Y, Z = double(X, Y, Z)
        rows.append((X, Y, Z))
    points = [(0, 1, 0)]
    for c in range(1, 1 << teeth):
        top = 0
        while c >> (top + 1):
            top += 1
        X, Y, Z = rows[top]
        X2, Y2, Z2 = points[c ^ (1 << top)]
        points.append(add(X2, Y2, Z2, X, Y, Z))
    # Every Z to 1 with one inversion (Montgomery's trick): prefix products, then back.
    count = len(points)
    prefix = [1] * count
    acc = 1
    for c in range(1, count):
        acc = acc * points[c][2] % P
        prefix[c] = acc
    inv = inverse(acc, P)
    xs = [0] * count
    ys = [0] * count
    for c in range(count - 1, 0, -1):
        X, Y, Z = points[c]
        zi = inv * prefix[c - 1] % P  # 1/Z of point c
        inv = inv * Z % P
        zi2 = zi * zi % P
        xs[c] = _exact(X * zi2 % P)
        ys[c] = _exact(Y * zi2 * zi % P)
    table = (xs, ys)
    _tables[teeth] = table
    return table


def base_mul(k, teeth=TEETH):
    """k*G as a Jacobian (X, Y, Z), for 1 <= k < n, by the comb of `teeth` rows.

    The additions need no check for equal or opposite points: before column i is added, the sum
    is 2m*G (m: the scalar of the columns above) and the column adds c*G. For 1 <= k < n, 2m, c
    and 2m + c (the bits of k from i up, spread over the rows) are all below n, so the points are
    equal only if 2m == c in integers, which cannot be (c's bits sit at each row's bit 0, 2m's
    never do) unless both are 0, and opposite only if 2m + c == 0. A sum of 0 is the point at
    infinity, which the loop starts from (Z == 0) and never adds to."""
    xs, ys = comb_table(teeth)
    spacing = (256 + teeth - 1) // teeth
    size = (teeth * spacing + 7) >> 3
    kb = k.to_bytes(size, "big")
    last = size - 1
    p = P
    X = Y = Z = 0
    for i in range(spacing - 1, -1, -1):
        c = 0
        for j in range(teeth - 1, -1, -1):
            b = j * spacing + i
            c = (c << 1) | ((kb[last - (b >> 3)] >> (b & 7)) & 1)
        if Z:
            # double (dbl-2001-b, a = -3), inline: no call, no tuple
            # (shifts for the small constants, and y2 * zz reduced before its third factor: 10 %
            # faster than the plain formulas on MicroPython, bench/README.md)
            zz = Z * Z % p
            yy = Y * Y % p
            s = X * yy % p
            m = (X - zz) * (X + zz) * 3 % p
            Z = (Y * Z << 1) % p
            X = (m * m - (s << 3)) % p
            Y = (m * ((s << 2) - X) - (yy * yy << 3)) % p
            if c:
                # add the affine table point (x2, y2) (mixed addition, Z2 = 1)
                zz = Z * Z % p
                h = (xs[c] * zz - X) % p
                r = (ys[c] * zz % p * Z - Y) % p
                hh = h * h % p
                hhh = h * hh % p
                v = X * hh % p
                X = (r * r - hhh - (v << 1)) % p
                Y = (r * (v - X) - Y * hhh) % p
                Z = Z * h % p
        elif c:
            X = xs[c]
            Y = ys[c]
            Z = 1
    return X, Y, Z


def public_point(d):
    """The affine public point d*G of a private scalar 1 <= d < n."""
    X, Y, Z = base_mul(d)
    return affine(X, Y, Z)


def point_mul(k, x, y):
    """k*(x, y) as a Jacobian point for an affine point and 0 <= k < 2^256: 4-bit fixed window."""
    window = [(0, 1, 0), (x, y, 1)]
    for _ in range(14):
        X, Y, Z = window[-1]
        window.append(add(X, Y, Z, x, y, 1))
    X, Y, Z = 0, 1, 0
    kb = k.to_bytes(32, "big")
    for byte in kb:
        for nibble in (byte >> 4, byte & 15):
            for _ in range(4):
                X, Y, Z = double(X, Y, Z)
            if nibble:
                X2, Y2, Z2 = window[nibble]
                X, Y, Z = add(X, Y, Z, X2, Y2, Z2)
    return X, Y, Z


def nonces(d, digest):
    """The RFC 6979 (3.2) nonces k for the key d and a SHA-256 digest, in order: the first is the
    one a signature uses unless it gives r == 0 or s == 0."""
    x = d.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % N).to_bytes(32, "big")  # bits2octets: qlen == hlen == 256
    v = b"\x01" * 32
    k = hmac_sha256(b"\x00" * 32, v + b"\x00" + x + h)
    v = hmac_sha256(k, v)
    k = hmac_sha256(k, v + b"\x01" + x + h)
    v = hmac_sha256(k, v)
    while True:
        v = hmac_sha256(k, v)
        candidate = int.from_bytes(v, "big")
        if 0 < candidate < N:
            yield candidate
        k = hmac_sha256(k, v + b"\x00")
        v = hmac_sha256(k, v)


def sign(d, digest):
    """(r, s) of the digest (32 bytes) under the private scalar d, nonce by RFC 6979."""
    z = int.from_bytes(digest, "big")  # a 256-bit digest for a 256-bit order: taken whole
    for k in nonces(d, digest):
        X, _, Z = base_mul(k)
        zi = inverse(Z, P)
        r = X * zi * zi % P % N
        if r == 0:
            continue
        s = inverse(k, N) * (z + r * d) % N
        if s != 0:
            return r, s
    raise ValueError("no nonce")  # unreachable: nonces() never ends


def verify(public_key, digest, signature):
    """True if signature (64 bytes r || s) is an ECDSA P-256 signature of digest (32 bytes) under
    public_key (65 bytes 0x04 || X || Y). False for anything malformed, never an exception."""
    if len(public_key) != 65 or public_key[0] != 4 or len(signature) != 64 or len(digest) != 32:
        return False
    x = int.from_bytes(public_key[1:33], "big")
    y = int.from_bytes(public_key[33:], "big")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not on_curve(x, y) or not 0 < r < N or not 0 < s < N:
        return False
    w = inverse(s, N)
    z = int.from_bytes(digest, "big")
    u1 = z * w % N
    u2 = r * w % N
    X1, Y1, Z1 = base_mul(u1) if u1 else (0, 1, 0)
    X2, Y2, Z2 = point_mul(u2, x, y)
    X, Y, Z = add(X1, Y1, Z1, X2, Y2, Z2)
    if Z == 0:
        return False
    return affine(X, Y, Z)[0] % N == r


def _scalar(blob):
    """The private scalar of a key store blob, or None if it is not one (length, range)."""
    if len(blob) != 32:
        return None
    d = int.from_bytes(blob, "big")
    if not 0 < d < N:
        return None
    return d


def valid_private_key(d):
    """True if d (an int) is a P-256 private scalar: 1 <= d < n."""
    return type(d) is int and 0 < d < N


class SoftSigner(Signer):
    """The Signer in software over a KeyStore. The key is made at the first public_key() or
    sign_digest() if the store has none: 32 bytes from urandom(n) (default os.urandom), drawn again
    while they are not in 1..n-1 (no bias, never 0). urandom(n): the board's random source; a port
    without one gets HalError at that first use. A damaged key is HalError at every use, never
    replaced."""

    def __init__(self, key_store, urandom=None):
        self._store = key_store
        self._urandom = urandom if urandom is not None else getattr(os, "urandom", None)
        self._d = None
        self._public = None

    def _key(self):
        if self._d is not None:
            return self._d
        blob = self._store.load(KEY_NAME)  # HalError if the key file is damaged
        if blob is None:
            d = self._make_key()
            self._store.save(KEY_NAME, d.to_bytes(32, "big"))
        else:
            d = _scalar(blob)
            if d is None:
                raise HalError("key signer is damaged")
        self._d = d
        return d

    def _make_key(self):
        if self._urandom is None:
            raise HalError("no random source for the signing key")
        for _ in range(_RANDOM_TRIES):
            drawn = self._urandom(32)
            if len(drawn) != 32:
                break
            d = _scalar(drawn)
            if d is not None:
                return d
        raise HalError("random source failed")

    def public_key(self):
        if self._public is None:
            x, y = public_point(self._key())
            self._public = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
        return self._public

    def sign_digest(self, digest):
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise ValueError("sign_digest takes a 32-byte SHA-256 digest")
        r, s = sign(self._key(), digest)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
