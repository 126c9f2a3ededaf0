# The signature image's costs on whichever runtime runs it: for each signature of a set (strokes as
# the pad reports them), the time to draw it into the signing area's bitmap (firmware.sigimage),
# the time to encode it (firmware.jbig), its size, and the heap one encode allocates. Prints, ends
# with a RESULT line; never asserts. Needs the set: bench/jbig.py passes it (run(SET)).
#
# MicroPython: run by python bench/jbig.py (a generated script with the set calls run()).
import gc

from bench.upy_timing import ticks_diff, ticks_us
from firmware.jbig import MAX_IMAGE, encode_into
from firmware.sigimage import AREA_HEIGHT, AREA_WIDTH, Canvas, signature_image

_MEM_ALLOC = getattr(gc, "mem_alloc", None)  # MicroPython only


def strokes_of(packed):
    """A signature of the set: a list of strokes, each bytes of x, y pairs."""
    return [[(s[i], s[i + 1]) for i in range(0, len(s), 2)] for s in packed]


def _pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, (len(sorted_values) * p) // 100)]


def run(signature_set, result=True):
    """Draw and encode every signature of signature_set (packed as strokes_of takes it); the
    RESULT line (for bench/upy.py) only if result. Returns the sizes."""
    canvas = Canvas()
    out = bytearray(MAX_IMAGE)
    sizes = []
    draw_us = []
    encode_us = []
    for packed in signature_set:
        strokes = strokes_of(packed)
        canvas.clear()
        t0 = ticks_us()
        for points in strokes:
            canvas.stroke(points)
        t1 = ticks_us()
        n = encode_into(out, canvas.bitmap, AREA_WIDTH, AREA_HEIGHT)
        t2 = ticks_us()
        sizes.append(n)
        draw_us.append(ticks_diff(t1, t0))
        encode_us.append(ticks_diff(t2, t1))
    # The heap of one encode (the context table, the coder), then of a whole signature_image()
    # (its bitmap and output too): this port's collector frees nothing while a script runs, so
    # mem_alloc's rise is the peak.
    heap_encode = heap_image = None
    if _MEM_ALLOC is not None:
        strokes = strokes_of(signature_set[0])
        gc.collect()
        before = _MEM_ALLOC()
        encode_into(out, canvas.bitmap, AREA_WIDTH, AREA_HEIGHT)
        heap_encode = _MEM_ALLOC() - before
        gc.collect()
        before = _MEM_ALLOC()
        signature_image(strokes, out)
        heap_image = _MEM_ALLOC() - before
    sizes_sorted = sorted(sizes)
    enc = sorted(encode_us)
    drw = sorted(draw_us)
    print("signatures: {}".format(len(sizes)))
    print(
        "size, bytes: min {} median {} p90 {} max {}".format(
            sizes_sorted[0], _pct(sizes_sorted, 50), _pct(sizes_sorted, 90), sizes_sorted[-1]
        )
    )
    print(
        "encode, ms: median {} p90 {} max {}".format(
            _pct(enc, 50) // 1000, _pct(enc, 90) // 1000, enc[-1] // 1000
        )
    )
    print(
        "draw, ms: median {} p90 {} max {}".format(
            _pct(drw, 50) // 1000, _pct(drw, 90) // 1000, drw[-1] // 1000
        )
    )
    if heap_encode is not None:
        print("heap of one encode: {} bytes; of signature_image(): {} bytes".format(heap_encode, heap_image))
    if result:
        _result(sizes, sizes_sorted, enc, drw, heap_encode, heap_image)
    return sizes


def _result(sizes, sizes_sorted, enc, drw, heap_encode, heap_image):
    print(
        "RESULT n={} min={} median={} p90={} max={} enc_med_us={} enc_p90_us={} enc_max_us={} "
        "draw_med_us={} heap_encode={} heap_image={} sizes={}".format(
            len(sizes),
            sizes_sorted[0],
            _pct(sizes_sorted, 50),
            _pct(sizes_sorted, 90),
            sizes_sorted[-1],
            _pct(enc, 50),
            _pct(enc, 90),
            enc[-1],
            _pct(drw, 50),
            heap_encode,
            heap_image,
            ",".join([str(s) for s in sizes]),
        )
    )
