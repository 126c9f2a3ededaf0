# The FIPS 46-3 tables of DES and the generator of the combined tables that hal/soft/des.py carries as
# literals. Host-only: test_crypto_cross.py checks that hal/soft/des.py's literals equal what this builds.
#
# python -m tools.des_tables   prints the literal block to paste into hal/soft/des.py

# FIPS 46-3 numbers bits from 1 (the most significant) in every table.
IP = (
    58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
    62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
    57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
    61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
)  # fmt: skip
E = (
    32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
    16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
)  # fmt: skip
P = (
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
    2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
)  # fmt: skip
PC1 = (
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
    10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
    63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
    14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
)  # fmt: skip
PC2 = (
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
)  # fmt: skip
SHIFTS = (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1)
SBOXES = (
    (14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
     0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
     4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
     15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13),
    (15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
     3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
     0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
     13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9),
    (10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
     13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
     13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
     1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12),
    (7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
     13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
     10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
     3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14),
    (2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
     14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
     4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
     11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3),
    (12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
     10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
     9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
     4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13),
    (4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
     13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
     1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
     6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12),
    (13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
     1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
     7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
     2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11),
)  # fmt: skip


def permute(value, table, width):
    """FIPS permutation: output bit k (1 = most significant) is input bit table[k-1] of `width`."""
    out = 0
    for src in table:
        out = (out << 1) | ((value >> (width - src)) & 1)
    return out


def sbox(s, six):
    """S-box s (0..7) of a 6-bit input b1..b6: row b1b6, column b2..b5."""
    row = ((six >> 4) & 2) | (six & 1)
    col = (six >> 1) & 15
    return SBOXES[s][row * 16 + col]


def sp_tables():
    """(hi, lo): for each S-box s, 64 entries E(P(S_s(x))) as the 48-bit expansion split into
    its first 24 bits (chunks of S1..S4) and its last 24 (S5..S8). DES rounds then run on
    24-bit words, which stay MicroPython small ints."""
    hi, lo = [], []
    for s in range(8):
        th, tl = [], []
        for x in range(64):
            f = sbox(s, x) << (28 - 4 * s)  # the S-box output's place in the 32-bit f before P
            e = permute(permute(f, P, 32), E, 32)
            th.append(e >> 24)
            tl.append(e & 0xFFFFFF)
        hi.append(tuple(th))
        lo.append(tuple(tl))
    return tuple(hi), tuple(lo)


def reference_encrypt(key, block):
    """Textbook DES of one 8-byte block, straight from the tables (slow; the generator's check)."""
    k = int.from_bytes(key, "big")
    cd = permute(k, PC1, 64)
    c, d = cd >> 28, cd & 0xFFFFFFF
    subkeys = []
    for s in SHIFTS:
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFF
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFF
        subkeys.append(permute((c << 28) | d, PC2, 56))
    x = permute(int.from_bytes(block, "big"), IP, 64)
    left, right = x >> 32, x & 0xFFFFFFFF
    for sk in subkeys:
        e = permute(right, E, 32) ^ sk
        f = 0
        for s in range(8):
            f = (f << 4) | sbox(s, (e >> (42 - 6 * s)) & 63)
        left, right = right, left ^ permute(f, P, 32)
    pre = (right << 32) | left
    inverse_ip = tuple(IP.index(k) + 1 for k in range(1, 65))
    return permute(pre, inverse_ip, 64).to_bytes(8, "big")


def small_tables():
    """The permutation helpers of hal/soft/des.py, by name (see its comments for what each does)."""
    return {
        # bits 2 and 0 of a nibble to bits 8 and 0 of a half-word (IP)
        "_IPX": tuple(((n >> 2) & 1) << 8 | (n & 1) for n in range(16)),
        # a pre-output nibble's bits for output bytes 6-7 / 2-3 and 4-5 / 0-1 (FP)
        "_FPA": tuple(((n >> 2) & 1) << 8 | (n >> 3) for n in range(16)),
        "_FPB": tuple((n & 1) << 8 | ((n >> 1) & 1) for n in range(16)),
    }


def key_tables():
    """PC1 split into C and D as 0-based key bits; PC2 as 0-based bits of C and of D."""
    return {
        "_PC1C": bytes(b - 1 for b in PC1[:28]),
        "_PC1D": bytes(b - 1 for b in PC1[28:]),
        "_PC2C": bytes(b - 1 for b in PC2[:24]),
        "_PC2D": bytes(b - 29 for b in PC2[24:]),
        "_SHIFTS": bytes(SHIFTS),
    }


def _literal(name, items, per_line, wrap=""):
    """`name = (items...)` in rows of per_line; wrap is "bytes" for a bytes literal."""
    lines = ["{} = {}(".format(name, wrap + "(" if wrap else "")]
    for row in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[row : row + per_line]) + ",")
    lines.append("))" if wrap else ")")
    return lines


def render():
    """The literal block of hal/soft/des.py, between its BEGIN and END markers."""
    hi, lo = sp_tables()
    lines = ["# fmt: off"]
    for name, tables in (("_SPH", hi), ("_SPL", lo)):
        for s, table in enumerate(tables):
            lines += _literal("{}{}".format(name, s), ["0x{:06X}".format(v) for v in table], 8)
    small = small_tables()
    for name in sorted(small):
        lines += _literal(name, ["0x{:03X}".format(v) for v in small[name]], 8)
    keys = key_tables()
    for name in sorted(keys):
        lines += _literal(name, [str(v) for v in keys[name]], 16, "bytes")
    lines.append("# fmt: on")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
