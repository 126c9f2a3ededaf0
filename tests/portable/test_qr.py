# The QR encoder (firmware/qr.py) on both runtimes: whole matrices known from segno (its own mask
# choice) and python-qrcode (a given mask), the version chosen by capacity, the format information
# that a reader checks, and every class of bad input. tests/host/test_qr_oracle.py compares with
# those libraries over every version and level and decodes with zxing-cpp.
from firmware import qr

# (data, level, version, mask, the symbol's rows packed MSB first): segno 1.6.6,
# segno.make_qr(data, error=level, boost_error=False), mask and version its own.
KNOWN = (
    (
        "HELLO WORLD",
        qr.M,
        1,
        0,
        "fe2bf882e208ba2ae8ba2ae8babae8827208feabf8000000aa48907890881fd2c0f59d704f53a800a228fe0960826340"
        "bacbf8ba3510baf748821c58fed708",
    ),
    (
        "01234567",
        qr.L,
        1,
        3,
        "fecbf8824a08baaae8ba92e8bae2e8820208feabf8006000f2a4e8f189600fcf90c9ac5093348000c508fe66b0821e28"
        "ba5208ba84b0ba94a082dad8fed910",
    ),
    # a terminal's public key as the about screen's QR holds it (130 hex digits: alphanumeric)
    (
        "0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB67903FE1008B8BC99A41AE9E9562"
        "8BC64F2F1B20C2D7E9F5177A3C294D4462299",
        qr.M,
        6,
        4,
        "fee4bcf5bf8082583eeb2080ba58f33bae80ba93c49bae80ba8b88122e8082d49a26a080feaaaaaabf8000cc469a8000"
        "8bc86bd7fc80c084c06e0f009ff7eb9dd0800dbfe2f52c803298b940360011bef4efad807e1db5ae740048d05f21c380"
        "3e13e0dc5b801d8470a23980b62fb6e41500818a0cd52a00a2ee9952cb8064887afede006b385b5f81807065ce783e80"
        "ce09f441e80014cfbf81c780d2165fceea80ad2cef5a51809242a1f8eb00a931bc02bb002b8b8c545e00088682da3000"
        "e3acbfaafb0000ef2cfe8c00fe99c98bac808241eb398e00baec3370fd80ba6a10426600ba42d62c1c808227239f3300"
        "fef638f33200",
    ),
)
# Byte mode (UTF-8), level Q, mask 5 given: python-qrcode 8.2, QRCode(error_correction=Q,
# mask_pattern=5), add_data(data.encode(), optimize=0), version 2 by fit.
KNOWN_BYTES = (
    "签购单 e-receipt",
    "feac3f8082e8a080ba512e80ba65ae80ba0aae808222a080feaabf8000508000439141805c5f0d0086b7b600151d3780"
    "f60dac00b1f98a009ed7f40098047100be53fb8000a48c00fedeae00822d8b00ba41fe80ba3c2d80ba2d088082d7d680"
    "fe3eac80",
)


def _hex(b):
    return "".join("{:02x}".format(x) for x in b)


def test_known_matrices_with_the_mask_chosen_by_penalty():
    for data, level, version, mask, expected in KNOWN:
        symbol = qr.encode(data, level)
        assert (symbol.version, symbol.mask, symbol.level) == (version, mask, level)
        assert symbol.size == 17 + 4 * version and symbol.stride == (symbol.size + 7) // 8
        assert _hex(symbol.bits) == expected, data
        assert _hex(qr.encode(data.encode(), level).bits) == expected  # a str is its UTF-8 bytes


def test_known_matrix_in_byte_mode_with_a_given_mask():
    data, expected = KNOWN_BYTES
    symbol = qr.encode(data, qr.Q, mask=5)
    assert (symbol.version, symbol.mask) == (2, 5)
    assert _hex(symbol.bits) == expected


def test_the_smallest_version_that_holds_the_data():
    # version 1 holds 14 bytes, 20 alphanumeric characters or 34 digits at M (ISO 18004 Table 7)
    assert qr.encode(b"x" * 14).version == 1 and qr.encode(b"x" * 15).version == 2
    assert qr.encode("A" * 20).version == 1 and qr.encode("A" * 21).version == 2
    assert qr.encode("7" * 34).version == 1 and qr.encode("7" * 35).version == 2
    assert qr.encode(b"x" * 17, qr.L).version == 1 and qr.encode(b"x" * 18, qr.L).version == 2
    # version 10 at M holds 213 bytes; version 40 at L 2953
    assert qr.encode(b"x" * 213).version == 10 and qr.encode(b"x" * 214).version == 11
    assert qr.encode("HELLO", version=5).version == 5  # a version asked for, larger than needed


def test_too_long_and_bad_arguments_are_refused():
    for call in (
        lambda: qr.encode(b"x" * 15, version=1),
        lambda: qr.encode(b"x" * 1274, qr.H),  # version 40 at H holds 1273 bytes
    ):
        try:
            call()
            raise AssertionError("not refused")
        except qr.TooLong:
            pass
    for call in (
        lambda: qr.encode("A", level=4),
        lambda: qr.encode("A", mask=8),
        lambda: qr.encode("A", version=0),
        lambda: qr.encode("A", version=41),
    ):
        try:
            call()
            raise AssertionError("not refused")
        except ValueError as e:
            assert not isinstance(e, qr.TooLong)


def _format_word(symbol):
    """The 15 format bits read from the copy around the top-left finder (column 8 rows 0..8,
    row 8 columns 7..0, skipping the timing module), most significant first."""
    bits = 0
    for i in range(15):
        if i < 6:
            x, y = 8, i
        elif i < 8:
            x, y = 8, i + 1
        elif i == 8:
            x, y = 7, 8
        else:
            x, y = 14 - i, 8
        bits |= symbol.module(x, y) << i
    return bits


def test_format_information_says_the_level_and_mask_in_both_copies():
    for level in (qr.L, qr.M, qr.Q, qr.H):
        for mask in range(8):
            s = qr.encode(b"QianPOS", level, mask=mask)
            word = _format_word(s) ^ 0x5412
            assert word >> 13 == (1, 0, 3, 2)[level] and (word >> 10) & 7 == mask
            n = s.size
            second = 0
            for i in range(15):
                second |= (s.module(n - 1 - i, 8) if i < 8 else s.module(8, n - 15 + i)) << i
            assert second == _format_word(s)
            assert s.module(8, n - 8) == 1  # the dark module


def test_finders_timing_and_version_information():
    s = qr.encode(b"x" * 110, qr.M)  # version 7: the first with version information
    assert s.version == 7
    n = s.size
    for cx, cy in ((3, 3), (n - 4, 3), (3, n - 4)):
        ring = [s.module(cx + d, cy - 3) for d in range(-3, 4)]
        assert ring == [1] * 7 and s.module(cx, cy) == 1 and s.module(cx - 2, cy) == 0
    assert [s.module(x, 6) for x in range(8, n - 8)] == [(x + 1) % 2 for x in range(8, n - 8)]
    # version 7's 18 bits (000111 110010 010100) from the least significant, bottom-left block
    word = 0
    for i in range(18):
        word |= s.module(i // 3, n - 11 + i % 3) << i
    assert word == 0x07C94
