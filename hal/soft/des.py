# DES and 3DES (two- and three-key EDE) block encryption, ECB, in portable Python for the soft
# security module. Only security module implementations use it; no key ever leaves them.
#
# Not resistant to side channels (table look-ups, timing): a production board keeps its keys in a
# secure element or behind the MCU's flash encryption. Table-driven: the key schedule is computed
# once per key object, and a block allocates nothing (encrypt_into on preallocated buffers).
#
# Why 24-bit words: a MicroPython small int has 31 bits on a 32-bit port, and anything wider is a
# heap-allocated long int. Each half of the block is kept in its E-expanded form (48 bits) as two
# 24-bit words, so the S-box indexes are plain 6-bit fields and each combined table (_SPHn, _SPLn:
# E(P(S_n(x))), first and last 24 bits) is XORed in directly; E is linear, so a half never needs
# expanding again. 16 look-ups a round instead of 8, but no long ints. Measured on MicroPython 1.27
# (WebAssembly under node, warmed up, 2026-11): a whole block here (IP, 16 rounds, FP) takes 70 us
# and allocates 0 bytes; the 16 rounds alone on 32-bit halves with 32-bit SP tables take 76 us and
# allocate 6.8 KB of long ints per block (a collection every few blocks on a board).
#
# IP takes, from every input byte i, the bits of columns 1 3 5 7 (column 0 = most significant)
# into the left half and 0 2 4 6 into the right, at bit i of each byte of that half (byte 0 of L
# is column 1 of all 8 input bytes): _IPX[n] places bits 2 and 0 of a nibble n at bits 8 and 0 of
# a 16-bit half-word; x >> 4, x >> 5, x & 15 and (x >> 1) & 7 bring the right columns there. FP,
# the inverse, gathers from each nibble of the pre-output one column of 4 output bytes: _FPA gives
# its bits for the output words of bytes 6-7 (a high nibble) or 2-3 (a low one), _FPB for 4-5 or 0-1.
# Key schedule (FIPS 46-3 PC1, shifts, PC2): _PC1C/_PC1D are the key bits (0 = most significant of
# byte 0) feeding C and D; _PC2C/_PC2D the bits of C and of D (0 = most significant of 28) feeding
# the two 24-bit words of a round key.
#
# Generated from FIPS 46-3 by `python -m tools.des_tables` (tests/host/test_crypto_cross.py
# checks these literals against it). As module-level tuples they live in flash when frozen.
# BEGIN GENERATED
# fmt: off
_SPH0 = (
    0x001401, 0x000000, 0x000001, 0x001401, 0x001401, 0x000001, 0x000000, 0x000001,
    0x000000, 0x001401, 0x001401, 0x000000, 0x001400, 0x001401, 0x001400, 0x000000,
    0x000000, 0x001400, 0x001400, 0x000001, 0x000001, 0x001401, 0x001401, 0x001400,
    0x000001, 0x001400, 0x001400, 0x000001, 0x000000, 0x000000, 0x000001, 0x001400,
    0x000001, 0x001401, 0x000000, 0x001401, 0x001401, 0x001400, 0x001400, 0x000000,
    0x001401, 0x000001, 0x000001, 0x001400, 0x000000, 0x000000, 0x001400, 0x000001,
    0x001401, 0x000001, 0x001401, 0x001400, 0x001400, 0x000000, 0x000001, 0x001401,
    0x000000, 0x001400, 0x001400, 0x000000, 0x000001, 0x000001, 0x000000, 0x001401,
)
_SPH1 = (
    0x200050, 0x200000, 0x000000, 0x000050, 0x000050, 0x000000, 0x200050, 0x200000,
    0x200000, 0x200050, 0x200050, 0x200000, 0x200000, 0x000050, 0x000000, 0x200050,
    0x000050, 0x000050, 0x200000, 0x000000, 0x200000, 0x000000, 0x000050, 0x200050,
    0x000050, 0x200000, 0x000000, 0x000050, 0x000000, 0x200050, 0x200050, 0x000000,
    0x000000, 0x000050, 0x200050, 0x000050, 0x200000, 0x200050, 0x200050, 0x000000,
    0x200050, 0x200000, 0x000000, 0x200050, 0x000050, 0x000000, 0x000000, 0x200000,
    0x000000, 0x200050, 0x000050, 0x200000, 0x000050, 0x200000, 0x200000, 0x000050,
    0x000050, 0x000000, 0x200000, 0x000000, 0x200000, 0x200050, 0x200050, 0x000050,
)
_SPH2 = (
    0x000000, 0x008002, 0x000000, 0x008002, 0x008000, 0x000000, 0x000002, 0x008000,
    0x000002, 0x008000, 0x008000, 0x000002, 0x008002, 0x000002, 0x008002, 0x000000,
    0x008000, 0x000000, 0x008002, 0x000000, 0x000002, 0x008002, 0x008002, 0x000002,
    0x008000, 0x000002, 0x000002, 0x008000, 0x000000, 0x008002, 0x000000, 0x008000,
    0x008002, 0x008000, 0x000002, 0x000000, 0x000002, 0x008002, 0x008000, 0x000000,
    0x000000, 0x000002, 0x008002, 0x008000, 0x008000, 0x000000, 0x000000, 0x008002,
    0x008000, 0x000002, 0x008000, 0x008002, 0x000000, 0x000002, 0x000002, 0x008000,
    0x008002, 0x008000, 0x000000, 0x008002, 0x000002, 0x000000, 0x008002, 0x000002,
)
_SPH3 = (
    0x400200, 0x400000, 0x400000, 0x000000, 0x000200, 0x400200, 0x400200, 0x400000,
    0x000000, 0x000200, 0x000200, 0x400200, 0x400000, 0x000000, 0x000200, 0x400200,
    0x400000, 0x000000, 0x000200, 0x400200, 0x000000, 0x000200, 0x400000, 0x000000,
    0x400200, 0x400000, 0x000000, 0x000200, 0x000000, 0x000200, 0x400200, 0x400000,
    0x000200, 0x400200, 0x000200, 0x400200, 0x400000, 0x000000, 0x000000, 0x000200,
    0x000000, 0x000200, 0x400200, 0x400000, 0x400200, 0x400000, 0x400000, 0x000000,
    0x400200, 0x400000, 0x400000, 0x000000, 0x400200, 0x400000, 0x000200, 0x400200,
    0x400000, 0x000000, 0x000200, 0x400200, 0x000000, 0x000200, 0x000000, 0x000200,
)
_SPH4 = (
    0x000000, 0x002808, 0x002808, 0x102800, 0x000008, 0x000000, 0x100000, 0x002808,
    0x100008, 0x000008, 0x002800, 0x100008, 0x102800, 0x102808, 0x000008, 0x100000,
    0x002800, 0x100008, 0x100008, 0x000000, 0x100000, 0x102808, 0x102808, 0x002800,
    0x102808, 0x100000, 0x000000, 0x102800, 0x002808, 0x002800, 0x102800, 0x000008,
    0x000008, 0x102800, 0x000000, 0x002800, 0x100000, 0x002808, 0x102800, 0x100008,
    0x002800, 0x100000, 0x102808, 0x002808, 0x100008, 0x000000, 0x002800, 0x102808,
    0x102808, 0x000008, 0x102800, 0x102808, 0x002808, 0x000000, 0x100008, 0x102800,
    0x000008, 0x002800, 0x100000, 0x000008, 0x000000, 0x100008, 0x002808, 0x100000,
)
_SPH5 = (
    0x0A0000, 0x0A0100, 0x000000, 0x0A0100, 0x0A0100, 0x000000, 0x0A0100, 0x000100,
    0x0A0000, 0x000100, 0x000100, 0x0A0000, 0x000100, 0x0A0000, 0x0A0000, 0x000000,
    0x000000, 0x000100, 0x0A0000, 0x000000, 0x000100, 0x0A0000, 0x000000, 0x0A0100,
    0x0A0100, 0x000000, 0x000100, 0x0A0100, 0x000000, 0x000100, 0x0A0100, 0x0A0000,
    0x0A0000, 0x000000, 0x0A0100, 0x000100, 0x0A0100, 0x000100, 0x000000, 0x0A0000,
    0x000100, 0x0A0000, 0x0A0000, 0x000000, 0x0A0000, 0x0A0100, 0x000100, 0x0A0100,
    0x000100, 0x0A0100, 0x000000, 0x0A0100, 0x000000, 0x000000, 0x0A0100, 0x000100,
    0x000000, 0x000100, 0x0A0000, 0x000000, 0x0A0100, 0x0A0000, 0x000100, 0x0A0000,
)
_SPH6 = (
    0x0000A0, 0x8040A0, 0x804000, 0x000000, 0x000000, 0x804000, 0x8000A0, 0x0040A0,
    0x8040A0, 0x0000A0, 0x000000, 0x804000, 0x800000, 0x004000, 0x8040A0, 0x800000,
    0x004000, 0x8000A0, 0x8000A0, 0x004000, 0x804000, 0x0040A0, 0x0040A0, 0x8000A0,
    0x0040A0, 0x000000, 0x800000, 0x8040A0, 0x0000A0, 0x800000, 0x004000, 0x0000A0,
    0x004000, 0x0000A0, 0x0000A0, 0x804000, 0x804000, 0x8040A0, 0x8040A0, 0x800000,
    0x8000A0, 0x004000, 0x004000, 0x0000A0, 0x0040A0, 0x800000, 0x8000A0, 0x0040A0,
    0x800000, 0x804000, 0x8040A0, 0x0040A0, 0x0000A0, 0x000000, 0x800000, 0x8040A0,
    0x000000, 0x8000A0, 0x0040A0, 0x000000, 0x804000, 0x004000, 0x000000, 0x8000A0,
)
_SPH7 = (
    0x050000, 0x000000, 0x000004, 0x050004, 0x050000, 0x050000, 0x000000, 0x050000,
    0x000004, 0x050004, 0x050004, 0x000004, 0x050004, 0x000004, 0x000000, 0x000000,
    0x050004, 0x050000, 0x050000, 0x000000, 0x000004, 0x000004, 0x050004, 0x050004,
    0x000000, 0x000000, 0x000000, 0x050004, 0x050000, 0x050000, 0x000004, 0x000004,
    0x000004, 0x000004, 0x050004, 0x000000, 0x000000, 0x050004, 0x000000, 0x000004,
    0x050000, 0x000000, 0x050000, 0x050004, 0x050004, 0x050000, 0x000004, 0x050000,
    0x000000, 0x050004, 0x000004, 0x050000, 0x050004, 0x050000, 0x050000, 0x000000,
    0x050004, 0x000004, 0x000004, 0x000000, 0x000000, 0x000004, 0x050000, 0x050004,
)
_SPL0 = (
    0x404000, 0x000000, 0x400000, 0x404004, 0x400004, 0x404004, 0x000004, 0x400000,
    0x004000, 0x404000, 0x404004, 0x004000, 0x004004, 0x400004, 0x000000, 0x000004,
    0x004004, 0x004000, 0x004000, 0x404000, 0x404000, 0x400000, 0x400000, 0x004004,
    0x400004, 0x000004, 0x000004, 0x400004, 0x000000, 0x004004, 0x404004, 0x000000,
    0x400000, 0x404004, 0x000004, 0x400000, 0x404000, 0x000000, 0x000000, 0x004000,
    0x400004, 0x400000, 0x404000, 0x000004, 0x004000, 0x000004, 0x004004, 0x404004,
    0x404004, 0x400004, 0x400000, 0x004004, 0x000004, 0x004004, 0x404004, 0x404000,
    0x004004, 0x004000, 0x004000, 0x000000, 0x400004, 0x404000, 0x000000, 0x400004,
)
_SPL1 = (
    0x2000A0, 0x200000, 0x200000, 0x2000A0, 0x000000, 0x0000A0, 0x0000A0, 0x2000A0,
    0x0000A0, 0x2000A0, 0x200000, 0x000000, 0x200000, 0x000000, 0x0000A0, 0x0000A0,
    0x200000, 0x0000A0, 0x2000A0, 0x000000, 0x000000, 0x200000, 0x2000A0, 0x000000,
    0x0000A0, 0x0000A0, 0x000000, 0x200000, 0x2000A0, 0x200000, 0x000000, 0x2000A0,
    0x000000, 0x2000A0, 0x0000A0, 0x000000, 0x2000A0, 0x000000, 0x200000, 0x200000,
    0x000000, 0x200000, 0x0000A0, 0x2000A0, 0x2000A0, 0x0000A0, 0x200000, 0x000000,
    0x2000A0, 0x200000, 0x000000, 0x0000A0, 0x0000A0, 0x2000A0, 0x0000A0, 0x0000A0,
    0x200000, 0x000000, 0x200000, 0x2000A0, 0x000000, 0x0000A0, 0x2000A0, 0x200000,
)
_SPL2 = (
    0x002808, 0x802800, 0x000000, 0x800008, 0x002800, 0x000000, 0x802808, 0x002800,
    0x800008, 0x000008, 0x000008, 0x800000, 0x802808, 0x800008, 0x800000, 0x002808,
    0x000000, 0x000008, 0x802800, 0x002800, 0x802800, 0x800000, 0x800008, 0x802808,
    0x002808, 0x802800, 0x800000, 0x002808, 0x000008, 0x802808, 0x002800, 0x000000,
    0x802800, 0x000000, 0x800008, 0x002808, 0x800000, 0x802800, 0x002800, 0x000000,
    0x002800, 0x800008, 0x802808, 0x002800, 0x000008, 0x002800, 0x000000, 0x800008,
    0x002808, 0x800000, 0x000000, 0x802808, 0x000008, 0x802808, 0x802800, 0x000008,
    0x800000, 0x002808, 0x002808, 0x800000, 0x802808, 0x000008, 0x800008, 0x802800,
)
_SPL3 = (
    0x0A0001, 0x0A0201, 0x0A0201, 0x000200, 0x0A0200, 0x000201, 0x000001, 0x0A0001,
    0x000000, 0x0A0000, 0x0A0000, 0x0A0201, 0x000201, 0x000000, 0x000200, 0x000001,
    0x000001, 0x0A0000, 0x000000, 0x0A0001, 0x000200, 0x000000, 0x0A0001, 0x0A0200,
    0x000201, 0x000001, 0x0A0200, 0x000200, 0x0A0000, 0x0A0200, 0x0A0201, 0x000201,
    0x000200, 0x000001, 0x0A0000, 0x0A0201, 0x000201, 0x000000, 0x000000, 0x0A0000,
    0x0A0200, 0x000200, 0x000201, 0x000001, 0x0A0001, 0x0A0201, 0x0A0201, 0x000200,
    0x0A0201, 0x000201, 0x000001, 0x0A0000, 0x000001, 0x0A0001, 0x0A0200, 0x000201,
    0x0A0001, 0x0A0200, 0x000000, 0x0A0001, 0x000200, 0x000000, 0x0A0000, 0x0A0200,
)
_SPL4 = (
    0x001400, 0x001400, 0x000000, 0x001400, 0x000000, 0x001400, 0x000000, 0x000000,
    0x001400, 0x000000, 0x001400, 0x001400, 0x001400, 0x000000, 0x001400, 0x000000,
    0x000000, 0x000000, 0x000000, 0x000000, 0x001400, 0x001400, 0x001400, 0x001400,
    0x000000, 0x001400, 0x000000, 0x000000, 0x001400, 0x000000, 0x000000, 0x001400,
    0x000000, 0x001400, 0x001400, 0x000000, 0x000000, 0x000000, 0x001400, 0x001400,
    0x001400, 0x000000, 0x000000, 0x001400, 0x001400, 0x001400, 0x000000, 0x000000,
    0x001400, 0x001400, 0x000000, 0x001400, 0x000000, 0x000000, 0x000000, 0x000000,
    0x001400, 0x001400, 0x001400, 0x000000, 0x000000, 0x000000, 0x001400, 0x001400,
)
_SPL5 = (
    0x000050, 0x000000, 0x100000, 0x100050, 0x000000, 0x000050, 0x100050, 0x000000,
    0x100000, 0x100050, 0x000000, 0x000050, 0x000050, 0x100000, 0x000000, 0x100050,
    0x000000, 0x000050, 0x100050, 0x100000, 0x100000, 0x100050, 0x000050, 0x000050,
    0x000050, 0x000000, 0x100050, 0x100000, 0x100050, 0x100000, 0x100000, 0x000000,
    0x100000, 0x000050, 0x000050, 0x100000, 0x100050, 0x000000, 0x100050, 0x000050,
    0x000000, 0x100000, 0x000000, 0x100050, 0x000050, 0x100050, 0x100000, 0x000000,
    0x100050, 0x100000, 0x000000, 0x000050, 0x000050, 0x100000, 0x000000, 0x100050,
    0x100000, 0x000050, 0x100050, 0x000000, 0x100000, 0x000000, 0x000050, 0x100050,
)
_SPL6 = (
    0x000000, 0x000002, 0x008002, 0x000000, 0x008000, 0x008002, 0x008002, 0x008000,
    0x008002, 0x000000, 0x000000, 0x000002, 0x000002, 0x000000, 0x000002, 0x008002,
    0x008000, 0x008002, 0x000002, 0x008000, 0x000002, 0x000000, 0x008000, 0x000002,
    0x000000, 0x008000, 0x008002, 0x008002, 0x008000, 0x000002, 0x000000, 0x008000,
    0x000000, 0x008000, 0x000000, 0x008002, 0x008002, 0x000002, 0x000002, 0x000002,
    0x000002, 0x000000, 0x008000, 0x000000, 0x008000, 0x008002, 0x008002, 0x008000,
    0x008002, 0x000002, 0x008002, 0x000000, 0x008000, 0x000000, 0x000002, 0x008002,
    0x000000, 0x008002, 0x000000, 0x008000, 0x000002, 0x008000, 0x008000, 0x000002,
)
_SPL7 = (
    0x050100, 0x050000, 0x000000, 0x050100, 0x000000, 0x050100, 0x000100, 0x000000,
    0x000100, 0x000000, 0x050100, 0x050000, 0x050000, 0x050100, 0x050000, 0x000100,
    0x000000, 0x000100, 0x050000, 0x050100, 0x050000, 0x000100, 0x000100, 0x050000,
    0x050100, 0x000000, 0x000000, 0x000100, 0x000100, 0x050000, 0x050100, 0x000000,
    0x050100, 0x000000, 0x050000, 0x050000, 0x000100, 0x000100, 0x050000, 0x050100,
    0x050000, 0x000100, 0x000100, 0x000000, 0x000100, 0x000000, 0x000000, 0x050100,
    0x000000, 0x050100, 0x000100, 0x000100, 0x000000, 0x050000, 0x050100, 0x000000,
    0x050100, 0x050000, 0x050000, 0x050100, 0x050100, 0x000100, 0x000000, 0x050000,
)
_FPA = (
    0x000, 0x000, 0x000, 0x000, 0x100, 0x100, 0x100, 0x100,
    0x001, 0x001, 0x001, 0x001, 0x101, 0x101, 0x101, 0x101,
)
_FPB = (
    0x000, 0x100, 0x001, 0x101, 0x000, 0x100, 0x001, 0x101,
    0x000, 0x100, 0x001, 0x101, 0x000, 0x100, 0x001, 0x101,
)
_IPX = (
    0x000, 0x001, 0x000, 0x001, 0x100, 0x101, 0x100, 0x101,
    0x000, 0x001, 0x000, 0x001, 0x100, 0x101, 0x100, 0x101,
)
_PC1C = bytes((
    56, 48, 40, 32, 24, 16, 8, 0, 57, 49, 41, 33, 25, 17, 9, 1,
    58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35,
))
_PC1D = bytes((
    62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5,
    60, 52, 44, 36, 28, 20, 12, 4, 27, 19, 11, 3,
))
_PC2C = bytes((
    13, 16, 10, 23, 0, 4, 2, 27, 14, 5, 20, 9, 22, 18, 11, 3,
    25, 7, 15, 6, 26, 19, 12, 1,
))
_PC2D = bytes((
    12, 23, 2, 8, 18, 26, 1, 11, 22, 16, 4, 19, 15, 20, 10, 27,
    5, 24, 17, 13, 21, 7, 0, 3,
))
_SHIFTS = bytes((
    1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1,
))
# fmt: on
# END GENERATED


def _subkeys_into(key, ks, at):
    """The 16 round keys of an 8-byte key as 32 ints (24-bit words: S1..S4 then S5..S8) into
    ks[at : at + 32] in encryption order, and into ks[at + 32 : at + 64] in decryption order (each
    round's two words kept in order). Parity bits are ignored, as every DES does. Allocates
    nothing: the schedule is filled in place (a heap fragmented by a sale's garbage may have no
    run for a list that grows)."""
    c = 0
    for bit in _PC1C:
        c = (c << 1) | ((key[bit >> 3] >> (7 - (bit & 7))) & 1)
    d = 0
    for bit in _PC1D:
        d = (d << 1) | ((key[bit >> 3] >> (7 - (bit & 7))) & 1)
    i = at
    back = at + 62
    for s in _SHIFTS:
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFF
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFF
        kh = 0
        for bit in _PC2C:
            kh = (kh << 1) | ((c >> (27 - bit)) & 1)
        kl = 0
        for bit in _PC2D:
            kl = (kl << 1) | ((d >> (27 - bit)) & 1)
        ks[i] = kh
        ks[i + 1] = kl
        ks[back] = kh
        ks[back + 1] = kl
        i += 2
        back -= 2


def _crypt(ks, passes, src, dst):
    """One block: IP, a chained DES pass per offset of `passes` (the 32 round-key words of that
    pass start there in ks; 3DES skips the FP/IP between passes, which cancel), FP. Reads
    src[0..7] before writing dst[0..7], so src may be dst.
    No tuple packing of more than 3 values: MicroPython builds a heap tuple for those."""
    # Tables as locals: a global look-up is a dict search on MicroPython.
    sh0 = _SPH0
    sh1 = _SPH1
    sh2 = _SPH2
    sh3 = _SPH3
    sh4 = _SPH4
    sh5 = _SPH5
    sh6 = _SPH6
    sh7 = _SPH7
    sl0 = _SPL0
    sl1 = _SPL1
    sl2 = _SPL2
    sl3 = _SPL3
    sl4 = _SPL4
    sl5 = _SPL5
    sl6 = _SPL6
    sl7 = _SPL7
    ipx = _IPX
    # IP into four 16-bit half-words: L = lh ll, R = rh rl. Unrolled: 8 us of 12 (measured).
    x = src[0]
    lh = ipx[x >> 4]
    rh = ipx[x >> 5]
    ll = ipx[x & 15]
    rl = ipx[(x >> 1) & 7]
    x = src[1]
    lh |= ipx[x >> 4] << 1
    rh |= ipx[x >> 5] << 1
    ll |= ipx[x & 15] << 1
    rl |= ipx[(x >> 1) & 7] << 1
    x = src[2]
    lh |= ipx[x >> 4] << 2
    rh |= ipx[x >> 5] << 2
    ll |= ipx[x & 15] << 2
    rl |= ipx[(x >> 1) & 7] << 2
    x = src[3]
    lh |= ipx[x >> 4] << 3
    rh |= ipx[x >> 5] << 3
    ll |= ipx[x & 15] << 3
    rl |= ipx[(x >> 1) & 7] << 3
    x = src[4]
    lh |= ipx[x >> 4] << 4
    rh |= ipx[x >> 5] << 4
    ll |= ipx[x & 15] << 4
    rl |= ipx[(x >> 1) & 7] << 4
    x = src[5]
    lh |= ipx[x >> 4] << 5
    rh |= ipx[x >> 5] << 5
    ll |= ipx[x & 15] << 5
    rl |= ipx[(x >> 1) & 7] << 5
    x = src[6]
    lh |= ipx[x >> 4] << 6
    rh |= ipx[x >> 5] << 6
    ll |= ipx[x & 15] << 6
    rl |= ipx[(x >> 1) & 7] << 6
    x = src[7]
    lh |= ipx[x >> 4] << 7
    rh |= ipx[x >> 5] << 7
    ll |= ipx[x & 15] << 7
    rl |= ipx[(x >> 1) & 7] << 7
    # E-expand each half into two 24-bit words (chunks of 6 bits: S1..S4 | S5..S8).
    a = ((ll & 1) << 23) | ((lh >> 11) << 18) | (((lh >> 7) & 63) << 12) | (((lh >> 3) & 63) << 6)
    b = ((lh & 1) << 23) | ((ll >> 11) << 18) | (((ll >> 7) & 63) << 12) | (((ll >> 3) & 63) << 6)
    lh, ll = a | ((lh & 31) << 1) | (ll >> 15), b | ((ll & 31) << 1) | (lh >> 15)
    a = ((rl & 1) << 23) | ((rh >> 11) << 18) | (((rh >> 7) & 63) << 12) | (((rh >> 3) & 63) << 6)
    b = ((rh & 1) << 23) | ((rl >> 11) << 18) | (((rl >> 7) & 63) << 12) | (((rl >> 3) & 63) << 6)
    rh, rl = a | ((rh & 31) << 1) | (rl >> 15), b | ((rl & 31) << 1) | (rh >> 15)
    later = False
    for i in passes:
        if later:  # next 3DES pass: its L0 R0 are this pass's R16 L16
            lh, rh = rh, lh
            ll, rl = rl, ll
        later = True
        end = i + 32
        while i < end:
            x = rh ^ ks[i]
            y = rl ^ ks[i + 1]
            a = x >> 18
            b = (x >> 12) & 63
            c = (x >> 6) & 63
            x &= 63
            d = y >> 18
            e = (y >> 12) & 63
            f = (y >> 6) & 63
            y &= 63
            lh ^= sh0[a] ^ sh1[b] ^ sh2[c] ^ sh3[x] ^ sh4[d] ^ sh5[e] ^ sh6[f] ^ sh7[y]
            ll ^= sl0[a] ^ sl1[b] ^ sl2[c] ^ sl3[x] ^ sl4[d] ^ sl5[e] ^ sl6[f] ^ sl7[y]
            x = lh ^ ks[i + 2]
            y = ll ^ ks[i + 3]
            a = x >> 18
            b = (x >> 12) & 63
            c = (x >> 6) & 63
            x &= 63
            d = y >> 18
            e = (y >> 12) & 63
            f = (y >> 6) & 63
            y &= 63
            rh ^= sh0[a] ^ sh1[b] ^ sh2[c] ^ sh3[x] ^ sh4[d] ^ sh5[e] ^ sh6[f] ^ sh7[y]
            rl ^= sl0[a] ^ sl1[b] ^ sl2[c] ^ sl3[x] ^ sl4[d] ^ sl5[e] ^ sl6[f] ^ sl7[y]
            i += 4
    # FP of R16 L16. The pre-output's nibbles sit at bits 4..1 of each 6-bit chunk: a 24-bit word
    # holds the high and low nibbles of two bytes. R16 bytes 0..3 give output columns 1 3 5 7
    # (value bits 6 4 2 0), L16 bytes columns 0 2 4 6 (bits 7 5 3 1). Output words w0..w3 are
    # bytes 0-1, 2-3, 4-5, 6-7; a high nibble feeds w3 and w2, a low one w1 and w0.
    fa = _FPA
    fb = _FPB
    x = (rh >> 19) & 15
    w3 = fa[x] << 6
    w2 = fb[x] << 6
    x = (rh >> 13) & 15
    w1 = fa[x] << 6
    w0 = fb[x] << 6
    x = (rh >> 7) & 15
    w3 |= fa[x] << 4
    w2 |= fb[x] << 4
    x = (rh >> 1) & 15
    w1 |= fa[x] << 4
    w0 |= fb[x] << 4
    x = (rl >> 19) & 15
    w3 |= fa[x] << 2
    w2 |= fb[x] << 2
    x = (rl >> 13) & 15
    w1 |= fa[x] << 2
    w0 |= fb[x] << 2
    x = (rl >> 7) & 15
    w3 |= fa[x]
    w2 |= fb[x]
    x = (rl >> 1) & 15
    w1 |= fa[x]
    w0 |= fb[x]
    x = (lh >> 19) & 15
    w3 |= fa[x] << 7
    w2 |= fb[x] << 7
    x = (lh >> 13) & 15
    w1 |= fa[x] << 7
    w0 |= fb[x] << 7
    x = (lh >> 7) & 15
    w3 |= fa[x] << 5
    w2 |= fb[x] << 5
    x = (lh >> 1) & 15
    w1 |= fa[x] << 5
    w0 |= fb[x] << 5
    x = (ll >> 19) & 15
    w3 |= fa[x] << 3
    w2 |= fb[x] << 3
    x = (ll >> 13) & 15
    w1 |= fa[x] << 3
    w0 |= fb[x] << 3
    x = (ll >> 7) & 15
    w3 |= fa[x] << 1
    w2 |= fb[x] << 1
    x = (ll >> 1) & 15
    w1 |= fa[x] << 1
    w0 |= fb[x] << 1
    dst[0] = w0 >> 8
    dst[1] = w0 & 255
    dst[2] = w1 >> 8
    dst[3] = w1 & 255
    dst[4] = w2 >> 8
    dst[5] = w2 & 255
    dst[6] = w3 >> 8
    dst[7] = w3 & 255


def _check_key(key, sizes):
    if type(key) not in (bytes, bytearray, memoryview) or len(key) not in sizes:
        raise ValueError("key must be {} bytes".format(" or ".join(str(n) for n in sizes)))


# Where each pass's round keys start in a schedule: a key's schedule holds each DES key's 32
# words in encryption order, then reversed (decryption), K1 at 0 and 32, K2 at 64 and 96, K3 at 128
# and 160; a pass reads its 32 words in place. A 2-key 3DES thus holds 128 words (520 bytes on a
# 32-bit board), not an encryption and a decryption copy of all three passes (192) and the left
# half's own copies (64): 1,104 bytes a key before, with the TMK, PIK and MAK held at once.
_DES_ENC = (0,)
_DES_DEC = (32,)
_EDE2_ENC = (0, 96, 0)  # E K1, D K2, E K1
_EDE2_DEC = (32, 64, 32)  # D K1, E K2, D K1
_EDE3_ENC = (0, 96, 128)  # E K1, D K2, E K3
_EDE3_DEC = (160, 64, 32)  # D K3, E K2, D K1


class _BlockCipher:
    """ECB on 8-byte blocks with a precomputed schedule (ks: a list of round-key words; enc and
    dec: where each pass's words start in it, see above)."""

    def __init__(self, ks, enc, dec):
        self._ks = ks
        self._enc = enc
        self._dec = dec

    def encrypt_into(self, src, dst):
        """Encrypt the 8-byte block src into dst (a writable 8-byte buffer; may be src). The hot
        path: sizes are not checked (bytes 0..7 are used; a shorter buffer raises IndexError)."""
        _crypt(self._ks, self._enc, src, dst)

    def decrypt_into(self, src, dst):
        """Decrypt the 8-byte block src into dst (a writable 8-byte buffer; may be src)."""
        _crypt(self._ks, self._dec, src, dst)

    def encrypt(self, data):
        """ECB-encrypt data (a multiple of 8 bytes, at least one block); a new bytes."""
        return _ecb(self._ks, self._enc, data)

    def decrypt(self, data):
        """ECB-decrypt data (a multiple of 8 bytes, at least one block); a new bytes."""
        return _ecb(self._ks, self._dec, data)


def _ecb(ks, passes, data):
    n = len(data)
    if n == 0 or n % 8:
        raise ValueError("ECB data must be a non-empty multiple of 8 bytes")
    out = bytearray(data)
    mv = memoryview(out)
    for i in range(0, n, 8):
        block = mv[i : i + 8]
        _crypt(ks, passes, block, block)
    return bytes(out)


def _schedule(key, count, ks=None):
    """The round keys of the `count` 8-byte DES keys in key, each forwards then reversed: a list of
    64 * count words, filled in place. ks: that list, allocated by the caller ahead of time (a key
    installed in a heap fragmented by a sale's garbage then needs no new 512-byte run); else a new one."""
    if ks is None:
        ks = [0] * (64 * count)
    elif len(ks) != 64 * count:
        raise ValueError("a key schedule of {} keys is {} words".format(count, 64 * count))
    for n in range(count):
        _subkeys_into(memoryview(key)[8 * n : 8 * n + 8], ks, 64 * n)  # a view's slice copies no key bytes
    return ks


SCHEDULE_WORDS = 128  # the length of a double-length (16-byte) 3DES key's schedule


class DES(_BlockCipher):
    """Single DES under an 8-byte key (parity ignored)."""

    def __init__(self, key):
        _check_key(key, (8,))
        _BlockCipher.__init__(self, _schedule(key, 1), _DES_ENC, _DES_DEC)


class TripleDES(_BlockCipher):
    """3DES EDE: encrypt K1, decrypt K2, encrypt K3. A 16-byte key is K1 K2 with K3 = K1 (the
    double-length keys of UnionPay terminals); a 24-byte key is K1 K2 K3. `left` is the single
    DES of K1 (same methods, the same schedule), which ANSI X9.19 chains with; `key_size` is 16
    or 24. ks: a list of SCHEDULE_WORDS (16-byte key) or 192 words to build the schedule in, in
    place of a new one: it then belongs to this cipher (wipe() zeroes it)."""

    def __init__(self, key, ks=None):
        _check_key(key, (16, 24))
        self.key_size = len(key)
        ks = _schedule(key, len(key) // 8, ks)
        if len(key) == 24:
            _BlockCipher.__init__(self, ks, _EDE3_ENC, _EDE3_DEC)
        else:
            _BlockCipher.__init__(self, ks, _EDE2_ENC, _EDE2_DEC)
        self.left = _BlockCipher(ks, _DES_ENC, _DES_DEC)

    def check_value(self):
        """The key's check value (as check_value(key) gives it), from this schedule: no other."""
        out = bytearray(8)
        self.encrypt_into(out, out)
        return bytes(out[:4])

    def wipe(self):
        """Zero the schedule (key material): the cipher is unusable afterwards."""
        ks = self._ks
        for i in range(len(ks)):
            ks[i] = 0


def check_value(key):
    """The key check value: the first 4 bytes of the key (8, 16 or 24 bytes) encrypting 8 zero
    bytes, as a sign-in answer carries it."""
    _check_key(key, (8, 16, 24))
    cipher = DES(key) if len(key) == 8 else TripleDES(key)
    out = bytearray(8)
    cipher.encrypt_into(out, out)
    return bytes(out[:4])
