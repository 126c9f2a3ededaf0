# The JBIG1 codec (firmware/jbig.py, firmware/jbigdec.py) and the signature's drawing
# (firmware/sigimage.py) on both runtimes: known answers from JBIG-KIT's pbmtojbg (byte for byte),
# round trips of hand-made and random bitmaps, the size limit, and every class of bad input.
from firmware.jbig import CONTEXTS, LRLTWO, MAX_IMAGE, OPTIONS, TPBON, ImageTooBig, encode, encode_into
from firmware.jbigdec import decode, header
from firmware.sigimage import AREA_HEIGHT, AREA_WIDTH, FITS, PEN, Canvas, signature_image
from tests.portable.heap import heap_probe

# 21 x 9: a frame, a diagonal, a blob and a bar (rows of 3 bytes, 3 padding bits).
PICTURE = bytes.fromhex("fffff8800008a03008907808883008840008820388810008fffff8")

# pbmtojbg -q -o 0 -m 0 -p OPTIONS -s L0 (JBIG-KIT 2.1) of PICTURE: (options, L0, BIE).
KNOWN = (
    (OPTIONS, 9, "0000010000000015000000090000000900000000ea54f98b67a53af7d3884e31edeab452ff02"),
    (TPBON, 9, "0000010000000015000000090000000900000008f5f9e51dbad80e79a18f24dafaed99a9ff02"),
    (TPBON | LRLTWO, 9, "0000010000000015000000090000000900000048fd343adbba4b201e89893ea2aeefd7c00960ff02"),
    (0, 4, "0000010000000015000000090000000400000000ea54f98b67a540ff0236787109c63db8ff02edcaa4ff02"),
    (
        TPBON,
        2,
        "0000010000000015000000090000000200000008f5faff02acb15d6c08ff022563e880ff02094f7ed0ff02e49e48ff02",
    ),
)
# The same tool's answers (-p 0, our options) for the signing area all white and all black.
WHITE_AREA = "00000100000000f00000008000000080000000004bc8ff02"
BLACK_AREA = "00000100000000f0000000800000008000000000e9a9d9ff00042cff02"


def _lcg(seed):
    """A tiny deterministic generator (the same numbers on both runtimes): next() -> 0..65535."""
    state = [seed & 0x7FFFFFFF]

    def nxt():
        state[0] = (state[0] * 1103515245 + 12345) & 0x7FFFFFFF
        return state[0] >> 15

    return nxt


def _random_bitmap(width, height, per_65536, seed):
    nxt = _lcg(seed)
    bpl = (width + 7) >> 3
    bm = bytearray(bpl * height)
    for y in range(height):
        for x in range(width):
            if nxt() < per_65536:
                bm[y * bpl + (x >> 3)] |= 0x80 >> (x & 7)
    return bm


def _round_trip(bm, width, height, options=OPTIONS, l0=0):
    bie = encode(bm, width, height, limit=20000, options=options, l0=l0)
    w, h, out = decode(bie)
    assert (w, h) == (width, height)
    assert out == bm, "decoded bitmap differs ({}x{}, options {}, L0 {})".format(width, height, options, l0)
    return bie


def _value_error(fn, *args):
    try:
        fn(*args)
    except ImageTooBig:
        raise AssertionError("ImageTooBig where a ValueError was expected")
    except ValueError as e:
        return str(e)
    raise AssertionError("no ValueError")


def test_known_answers_of_pbmtojbg_byte_for_byte():
    for options, l0, expected in KNOWN:
        bie = encode(PICTURE, 21, 9, options=options, l0=l0)
        assert bie.hex() == expected, "options {} L0 {}".format(options, l0)
        assert decode(bytes.fromhex(expected)) == (21, 9, bytearray(PICTURE))
    white = bytearray(AREA_WIDTH * AREA_HEIGHT // 8)
    assert encode(white, AREA_WIDTH, AREA_HEIGHT).hex() == WHITE_AREA
    black = bytearray(b"\xff" * len(white))
    assert encode(black, AREA_WIDTH, AREA_HEIGHT).hex() == BLACK_AREA
    assert decode(bytes.fromhex(BLACK_AREA))[2] == black


def test_all_white_and_all_black_of_odd_sizes_round_trip():
    for width, height in ((1, 1), (7, 3), (8, 1), (9, 2), (33, 5)):
        bpl = (width + 7) >> 3
        _round_trip(bytearray(bpl * height), width, height)
        black = bytearray(bpl * height)
        for y in range(height):
            for x in range(width):
                black[y * bpl + (x >> 3)] |= 0x80 >> (x & 7)
        for options in (OPTIONS, 0, LRLTWO, LRLTWO | TPBON):
            _round_trip(black, width, height, options)


def test_single_pixels_at_the_edges_and_corners():
    width, height = 13, 5
    bpl = 2
    for x, y in ((0, 0), (12, 0), (0, 4), (12, 4), (6, 0), (0, 2), (12, 2), (7, 4), (8, 3)):
        bm = bytearray(bpl * height)
        bm[y * bpl + (x >> 3)] = 0x80 >> (x & 7)
        for options in (OPTIONS, LRLTWO):
            for l0 in (0, 1, 2):
                _round_trip(bm, width, height, options, l0)


def test_random_bitmaps_round_trip_in_every_option_and_stripe_height():
    seed = 1
    for width, height in ((5, 4), (16, 6), (23, 9), (64, 3), (71, 7)):
        for density in (700, 6000, 32768, 60000):
            seed += 1
            bm = _random_bitmap(width, height, density, seed)
            for options in (OPTIONS, 0, LRLTWO, LRLTWO | TPBON):
                for l0 in (0, 1, 3):
                    _round_trip(bm, width, height, options, l0)


def test_repeated_lines_cost_one_decision_each_with_typical_prediction():
    width, height = 240, 128
    bm = bytearray(30 * height)
    for y in range(40, 90):  # a thick bar: 50 equal lines
        for i in range(5, 25):
            bm[y * 30 + i] = 0xFF
    with_tp = _round_trip(bm, width, height, TPBON)
    without = _round_trip(bm, width, height, 0)
    assert len(with_tp) < len(without)


def test_an_image_that_does_not_fit_raises_and_is_never_cut():
    noise = _random_bitmap(AREA_WIDTH, 40, 32768, 7)
    try:
        encode(noise, AREA_WIDTH, 40)
    except ImageTooBig as e:
        assert str(MAX_IMAGE) in str(e)
    else:
        raise AssertionError("1,200 bytes of noise fitted in 999")
    for size in (0, 19, 20, 21, 37):
        out = bytearray(size)
        try:
            encode_into(out, PICTURE, 21, 9)
        except ImageTooBig:
            continue
        raise AssertionError("a {}-byte buffer held a 38-byte image".format(size))
    assert encode_into(bytearray(38), PICTURE, 21, 9) == 38


def test_a_context_table_given_is_cleared_then_used_the_image_unchanged():
    # The terminal hands the encoder its context table, allocated at boot, for every image: what
    # the last image left in it must not change the next one.
    bm = _random_bitmap(AREA_WIDTH, AREA_HEIGHT, 900, 3)
    fresh = encode(bm, AREA_WIDTH, AREA_HEIGHT)
    st = bytearray(b"\xff" * CONTEXTS)  # no state is 0x7F (the table has 113)
    for _ in range(2):
        out = bytearray(MAX_IMAGE)
        n = encode_into(out, bm, AREA_WIDTH, AREA_HEIGHT, st=st)
        assert bytes(out[:n]) == fresh
        assert all(b != 0xFF for b in st) and any(st)  # cleared, then the contexts' states written
    out = bytearray(MAX_IMAGE)
    short = bytearray(CONTEXTS // 2)
    assert "context table" in _value_error(encode_into, out, bm, AREA_WIDTH, AREA_HEIGHT, 0, 0, short)


def test_bad_bitmaps_and_options_are_refused():
    assert "rows" in _value_error(encode, bytes(5), 21, 9)
    assert "past the width" in _value_error(encode, b"\x00\x00\x01", 21, 1)
    assert "positive" in _value_error(encode, b"", 0, 1)
    assert "positive" in _value_error(encode, b"", 1, 0)
    assert "positive" in _value_error(encode, b"\x00", True, 1)
    assert "options" in _value_error(encode, PICTURE, 21, 9, MAX_IMAGE, 0x04)


def test_malformed_images_are_refused_with_a_reason():
    good = bytes.fromhex(KNOWN[0][2])
    assert "20-byte" in _value_error(decode, good[:19])
    assert "layers" in _value_error(decode, b"\x01" + good[1:])
    assert "plane" in _value_error(decode, good[:2] + b"\x02" + good[3:])
    assert "positive" in _value_error(decode, good[:4] + bytes(4) + good[8:])
    assert "larger" in _value_error(decode, good[:4] + b"\x00\x10\x00\x00" + good[8:])
    assert "MY" in _value_error(decode, good[:17] + b"\x01" + good[18:])
    assert "not terminated" in _value_error(decode, good[:-2])
    assert "not terminated" in _value_error(decode, good[:-1])
    assert "missing" in _value_error(decode, good[:20])
    assert "after the last" in _value_error(decode, good + b"\x00")
    assert "ATMOVE" in _value_error(decode, good[:20] + b"\xff\x06" + bytes(6) + good[20:])
    assert "NEWLEN" in _value_error(decode, good[:20] + b"\xff\x05" + bytes(4) + good[20:])
    assert "ABORT" in _value_error(decode, good[:20] + b"\xff\x04" + good[20:])
    assert "marker" in _value_error(decode, good[:-1] + b"\x01")
    assert "COMMENT" in _value_error(decode, good[:20] + b"\xff\x07\x00\x00\x01\x00")
    with_comment = good[:20] + b"\xff\x07\x00\x00\x00\x02hi" + good[20:]
    assert decode(with_comment) == (21, 9, bytearray(PICTURE))
    assert header(good) == (21, 9, 9, OPTIONS)
    assert header(bytes.fromhex(KNOWN[1][2]))[3] == TPBON


def test_every_changed_byte_decodes_or_is_refused_and_never_hangs():
    good = bytes.fromhex(KNOWN[4][2])  # five stripes
    for at in range(len(good)):
        for value in (0x00, 0x01, 0x02, 0x7F, 0xFE, 0xFF, good[at] ^ 0x10):
            bad = bytearray(good)
            bad[at] = value
            try:
                w, h, bm = decode(bytes(bad))
            except ValueError:
                continue
            assert len(bm) == ((w + 7) >> 3) * h


def test_encoding_allocates_only_its_tables():
    # Per image: the 1 KB context table and the coder object; nothing per pixel or per line. The
    # WebAssembly port is 32-bit like the board: a register or window past 2**30 would be a long int
    # and allocate, so this also checks that the coder's registers stay small ints.
    bm = _random_bitmap(AREA_WIDTH, AREA_HEIGHT, 900, 3)
    out = bytearray(20000)
    encode_into(out, bm, AREA_WIDTH, AREA_HEIGHT)
    start, stop = heap_probe()
    start()
    encode_into(out, bm, AREA_WIDTH, AREA_HEIGHT)
    used = stop()
    assert used < 2500, "one encode allocated {} bytes".format(used)


def test_canvas_draws_strokes_with_the_pen_and_clips():
    c = Canvas(16, 6, pen=2)
    c.stroke([(0, 0), (5, 0)])
    assert c.bitmap[0:4] == b"\xfe\x00\xfe\x00"  # x 0..6: the last dot's square reaches x 6
    c.clear()
    c.stroke([(15, 5)])  # the pen's square clipped at the corner
    assert c.bitmap[-1] == 0x01 and sum(c.bitmap) == 1
    c.clear()
    c.pen = 1
    c.stroke([(0, 0), (3, 3)])  # a diagonal, one pixel a row
    assert bytes([c.bitmap[i] for i in (0, 2, 4, 6)]) == b"\x80\x40\x20\x10"
    c.clear()
    c.stroke([(-5, -5), (40, 40)], 0)  # far outside: clipped, no error
    c.stroke([(8, 4)], 1)  # scale 1: drawn at (4, 2)
    assert c.bitmap[2 * 2] & 0x08
    try:
        Canvas(16, 6, bitmap=bytearray(5))
    except ValueError:
        pass
    else:
        raise AssertionError("a bitmap of the wrong size was taken")


def test_signature_image_fits_by_thinning_then_shrinking_and_decodes_to_its_drawing():
    strokes = [[(20, 60), (60, 20), (100, 100), (140, 30), (200, 90)], [(30, 100), (210, 100)]]
    image, (pen, scale) = signature_image(strokes)
    assert (pen, scale) == (PEN, 0)
    canvas = Canvas()
    for s in strokes:
        canvas.stroke(s)
    assert decode(image) == (AREA_WIDTH, AREA_HEIGHT, canvas.bitmap)
    # 2,000 dots, too many for field 62 at full size: drawn thinner or smaller, never cut.
    nxt = _lcg(5)
    scribble = [[(nxt() % AREA_WIDTH, nxt() % AREA_HEIGHT)] for _ in range(2000)]
    image, fit = signature_image(scribble)
    assert len(image) <= MAX_IMAGE
    assert fit in FITS and fit != FITS[0]
    canvas = Canvas(pen=fit[0])
    for s in scribble:
        canvas.stroke(s, fit[1])
    assert decode(image)[2] == canvas.bitmap


def test_drawing_a_stroke_allocates_nothing_per_point():
    canvas = Canvas()
    points = [(10 + (i * 7) % 200, 20 + (i * 13) % 90) for i in range(300)]
    canvas.stroke(points[:5])
    start, stop = heap_probe()
    start()
    canvas.stroke(points)
    used = stop()
    assert used < 200, "a 300-point stroke allocated {} bytes".format(used)


def test_decoding_allocates_the_bitmap_and_its_tables_only():
    bm = _random_bitmap(AREA_WIDTH, AREA_HEIGHT, 900, 4)
    for y in range(60, 100):  # and 40 typical lines, copied from the line above
        for i in range(30):
            bm[y * 30 + i] = bm[59 * 30 + i]
    bie = encode(bm, AREA_WIDTH, AREA_HEIGHT, limit=20000)
    decode(bie)
    start, stop = heap_probe()
    start()
    assert decode(bie)[2] == bm
    used = stop()
    assert used < 3840 + 2500, "one decode allocated {} bytes".format(used)
