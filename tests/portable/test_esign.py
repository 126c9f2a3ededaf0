# The e-signature (电子签名) driven with keys and the virtual pad over a real batch journal and a
# fake host (firmware/ui/esign.py, firmware/esign.py, firmware/sigfile.py): the capture (a stroke
# required, CLEAR, the timeout, the no-signature rule, a pad without a pen), the image kept beside
# the record, the upload (done, refused, its answer lost and sent again after the next sale) and a
# power cut at every storage operation from the signature to the next sale. Both runtimes.

import sys

from firmware import esign, jbigdec, registry
from firmware import receipt as rct
from firmware import settle as S
from firmware.batch import SALE
from firmware.host.codec import tlv_parse
from firmware.sigfile import image_hash, image_name, pack_image, read_image, unpack_image, write_image
from firmware.sigimage import AREA_HEIGHT, AREA_WIDTH, FITS, Canvas, signature_image
from hal.console import NoSignaturePad
from hal.record import Damaged
from tests.portable.campaign import CUT_SAMPLE
from tests.portable.online_kit import PAN, SIGNATURE, Rig, chip, tap
from tests.portable.test_receipt import same_receipt_as_made_again
from virtual.storage import TEAR_MODES, PowerCut, RamStorage

SAMPLE = CUT_SAMPLE  # campaign.py: MicroPython cuts each operation once


def _signed_rig(**kw):
    rig = Rig(**kw)
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    rig.host.uploads = []  # the first sale's
    return rig


def _view(rig, trace):
    return rig.term.journal.batch.by_trace(trace)


def _bitmap(strokes):
    canvas = Canvas()
    for s in strokes:
        canvas.stroke(s)
    return bytes(canvas.bitmap)


def _uploads_of(rig, trace):
    return [m for m in rig.host.uploads if int(m[11]) == trace]


def _detail_shows(rig, trace, text, menu="6"):
    """From the result screen: Query (6) or Reprint (5) by trace, scrolled until text shows."""
    rig.press("ENTER")
    rig.press("ENTER", menu, "1" if menu == "6" else "2")
    rig.press(*list(str(trace)))
    rig.press("ENTER")
    for _ in range(12):
        if text in rig.screen():
            return True
        rig.press("DOWN")
    return text in rig.screen()


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    raise AssertionError("no {}".format(exc.__name__))


# ---- the rules ----------------------------------------------------------------------------------
def test_the_feature_code_xors_the_settlement_date_and_rrn_halves():
    assert esign.feature_code("1129", "000000000001") == "11290001"
    assert esign.feature_code("", "123456789012") == "56788226"  # 00001234 ^ 56789012 per digit
    assert esign.feature_code("0101", "ABCDEF000000") == "EE01ABCD"
    assert len(esign.feature_code("1129", "")) == 8


def test_the_image_file_keeps_the_image_byte_exact_and_refuses_damage():
    image = bytes(range(256)) * 3
    data = bytearray(pack_image(image, "05"))
    assert unpack_image(bytes(data)) == (image, "05")
    for i in range(len(data)):
        for bit in range(8):
            spoiled = bytearray(data)
            spoiled[i] ^= 1 << bit
            raises(Damaged, unpack_image, bytes(spoiled))
    raises(Damaged, unpack_image, bytes(data[:-1]))


def test_the_image_s_hash_is_read_in_pieces_and_refuses_what_read_image_refuses():
    import hashlib

    store = RamStorage()
    image = bytes(range(256)) * 2 + b"tail"  # not a multiple of the 64-byte piece
    write_image(store, 3, 7, image, "05")
    assert read_image(store, 3, 7) == (image, "05")
    assert image_hash(store, 3, 7) == hashlib.sha256(image).digest()
    assert image_hash(store, 3, 8) is None and read_image(store, 3, 8) is None
    data = store.read(image_name(3, 7))
    step = 1 if sys.implementation.name != "micropython" else 7
    for i in range(0, len(data), step):
        spoiled = bytearray(data)
        spoiled[i] ^= 0x10
        store.write(image_name(3, 7), spoiled)
        raises(Damaged, image_hash, store, 3, 7)
        raises(Damaged, read_image, store, 3, 7)
    store.write(image_name(3, 7), data[:-1])
    raises(Damaged, image_hash, store, 3, 7)


# ---- the capture --------------------------------------------------------------------------------
def test_a_signed_sale_keeps_its_image_and_uploads_it_under_its_own_trace():
    rig = _signed_rig()
    before = rig.term.counters.trace
    shown = rig.sale(1234, sign=False)
    assert "Signature" in shown and "¥12.34" in shown
    trace = rig.term.journal.last["trace"]
    view = _view(rig, trace)
    assert "Code " + esign.feature_code(view["f15"], view["rrn"]) in shown
    assert rig.sign()
    assert "Approved" in rig.screen()
    assert rig.term.counters.trace == before + 1  # the sale's: the upload consumed none
    view = _view(rig, trace)
    assert view["esign"] == "uploaded"
    image, code = read_image(rig.storage, 1, trace)
    assert code == "--"
    w, h, bm = jbigdec.decode(image)
    assert (w, h) == (AREA_WIDTH, AREA_HEIGHT) and bytes(bm) == _bitmap(SIGNATURE)
    (up,) = _uploads_of(rig, trace)
    assert up[62] == image and up[37] == view["rrn"] and up[4] == "000000001234"
    assert up[60][:2] == "07" and up[60][8:11] == "800" and 64 not in up.fields
    assert _detail_shows(rig, trace, "Signed, sent")  # Query by trace


def test_ok_on_an_empty_pad_asks_for_a_stroke_and_clear_starts_again():
    rig = _signed_rig()
    rig.sale(500, sign=False)
    pad = rig.board.signature_pad
    pad.confirm()
    rig.term.settle()
    assert "Sign first, then OK" in rig.screen() and pad.active()
    pad.draw([[(5, 5), (200, 120)]])
    pad.clear()
    rig.term.settle()
    pad.confirm()
    rig.term.settle()
    assert "Sign first, then OK" in rig.screen()
    rig.press("CLEAR")  # the key does the same
    assert rig.sign([SIGNATURE[1]])
    trace = rig.term.journal.last["trace"]
    image = read_image(rig.storage, 1, trace)[0]
    assert bytes(jbigdec.decode(image)[2]) == _bitmap([SIGNATURE[1]])  # only what came after CLEAR


def test_ok_on_a_blank_drawing_asks_again_and_nothing_is_kept():
    rig = _signed_rig()
    rig.sale(500, sign=False)
    pad = rig.board.signature_pad
    pad.draw([[(5, 5), (200, 120)]])
    rig.term.settle()
    rig.term.screen.canvas.clear()  # strokes counted, nothing on the canvas: a blank image
    pad.confirm()
    rig.term.settle()
    trace = rig.term.journal.last["trace"]
    assert "Sign first, then OK" in rig.screen() and pad.active()
    assert read_image(rig.storage, 1, trace) is None and _uploads_of(rig, trace) == []


def test_nobody_signing_times_out_and_the_slip_says_so():
    rig = _signed_rig(esign_timeout_s=20)
    rig.sale(500, sign=False)
    trace = rig.term.journal.last["trace"]
    rig.wait(19)
    assert rig.signing()
    rig.board.signature_pad.draw([[(10, 10), (20, 20)]])  # the pen moved: the wait starts again
    rig.term.settle()
    rig.wait(19)
    assert rig.signing()
    rig.wait(1)
    assert "Approved" in rig.screen() and not rig.board.signature_pad.active()
    assert _view(rig, trace)["esign"] == "timeout"
    assert read_image(rig.storage, 1, trace) is None
    (up,) = rig.host.uploads  # its receipt alone (firmware/receipt.py): no image
    assert 62 not in up.fields and int(up[11]) == trace
    assert _detail_shows(rig, trace, "Unsigned: timed out", "5")


def test_cancel_ends_the_signing_unsigned():
    rig = _signed_rig()
    rig.sale(500, sign=False)
    rig.press("CANCEL")
    assert "Approved" in rig.screen()
    assert _view(rig, rig.term.journal.last["trace"])["esign"] == "cancelled"


def test_small_contactless_sales_take_no_signature_at_or_under_the_limit():
    rig = _signed_rig(esign_free_fen=1000)
    assert "Approved" in rig.sale(1000, tap(), pin=None, sign=False)
    assert _view(rig, rig.term.journal.last["trace"])["esign"] == "no_sig_rule"
    rig.press("ENTER")
    rig.sale(1001, tap(), pin=None, sign=False)
    assert rig.signing()  # one fen over
    assert rig.sign()
    rig.press("ENTER")
    rig.sale(500, chip(), sign=False)
    assert rig.signing()  # not contactless
    assert rig.sign()
    images = [m for m in rig.host.uploads if 62 in m.fields]
    assert len(images) == 2 and len(rig.host.uploads) == 3  # and the unsigned one's receipt


def test_a_pad_without_a_pen_takes_no_signature_and_the_slip_says_so():
    rig = _signed_rig(signature_pad=NoSignaturePad())
    assert "Approved" in rig.sale(5000, sign=False)
    trace = rig.term.journal.last["trace"]
    assert _view(rig, trace)["esign"] == "no_pen"
    assert [62 in m.fields for m in rig.host.uploads] == [False]  # its receipt, no image
    assert _detail_shows(rig, trace, "No pad: paper", "6")


def test_a_void_is_signed_and_uploaded_too():
    rig = _signed_rig()
    rig.sale(700)
    sale_trace = rig.term.journal.last["trace"]
    rig.press("ENTER")
    rig.void(sale_trace, sign=False)
    assert rig.signing()
    assert rig.sign()
    void_trace = rig.term.journal.last["trace"]
    assert void_trace != sale_trace and _view(rig, void_trace)["esign"] == "uploaded"
    assert len(_uploads_of(rig, void_trace)) == 1


# ---- the upload ---------------------------------------------------------------------------------
def test_a_refused_upload_keeps_its_code_and_is_not_sent_again():
    rig = _signed_rig()
    rig.host.esign_plan = ["code:05"]
    shown = rig.sale(600)
    trace = rig.term.journal.last["trace"]
    assert "refused 05" in shown and "Approved" in shown
    assert _view(rig, trace)["esign"] == "failed"
    assert read_image(rig.storage, 1, trace)[1] == "05"
    rig.press("ENTER")
    rig.sale(700)
    assert len(_uploads_of(rig, trace)) == 1  # kept and reported, never sent again
    assert _detail_shows(rig, trace, "Signed, refused 05", "6")


def test_a_duplicate_answer_counts_as_uploaded():
    rig = _signed_rig()
    rig.host.esign_plan = ["code:94"]
    rig.sale(600)
    assert _view(rig, rig.term.journal.last["trace"])["esign"] == "uploaded"


def test_a_lost_answer_is_sent_again_after_the_next_sale_under_the_same_trace():
    for lost in ("silent", "lost"):
        rig = _signed_rig(host_timeout_s=5)
        rig.host.esign_plan = [lost]
        rig.sale(600)
        first = rig.term.journal.last["trace"]
        rig.wait(6)
        assert "Signatures queued" in rig.screen() and "Approved" in rig.screen()
        assert _view(rig, first)["esign"] == "pending"
        rig.press("ENTER")
        rig = rig.reboot()  # the queue is on storage
        rig.sale(800)
        second = rig.term.journal.last["trace"]
        assert _view(rig, first)["esign"] == "uploaded" and _view(rig, second)["esign"] == "uploaded"
        firsts = _uploads_of(rig, first)
        assert len(firsts) == (2 if lost == "silent" else 1), lost
        for up in firsts:  # the same message again: its trace, its RRN, its image
            assert up[37] == _view(rig, first)["rrn"] and up[62] == read_image(rig.storage, 1, first)[0]
        assert [int(m[11]) for m in rig.host.uploads][-2:] == [second, first]  # this sale's first


def test_the_settlement_sweep_uploads_what_is_queued():
    rig = _signed_rig(host_timeout_s=5)
    rig.host.esign_plan = ["lost", "lost"]
    rig.sale(600)
    rig.wait(6)
    rig.press("ENTER")
    rig.sale(700)
    rig.wait(6)
    rig.press("ENTER")
    assert len(list(esign.pending(rig.term))) == 2
    sweep = _until_done(esign.settlement_sweep(rig.term))
    assert sweep.done and sweep.uploaded == 2 and sweep.refused == [] and sweep.left == 0
    assert list(esign.pending(rig.term)) == []


def _until_done(queue, passes=5000):
    """Step an UploadQueue until it is done (at most `passes` steps); returns it."""
    for _ in range(passes):
        if queue.done:
            break
        queue.step()
    return queue


def _receipts_waiting(rig, traces):
    """Approved contactless sales under the no-signature limit, written as a sale writes them, each
    with its receipt stored and not yet answered (the host down all day)."""
    batch = rig.term.journal.batch
    for trace in traces:
        record = {"batch": 1, "trace": trace, "amount": 100, "card": "621700*********5675"}
        record.update({"org": "CUP", "mode": "tap", "time": 1796000000, "op": "01"})
        batch.begin(SALE, record)
        batch.change(1, trace, 1796000000, state="approved", code="00", rrn="9{:011d}".format(trace))
        batch.change(1, trace, 1796000000, esign="no_sig_rule")
        rct.make(rig.term, batch.by_trace(trace))


def test_a_day_of_waiting_receipts_goes_out_one_at_a_time_in_the_order_made():
    # The queue takes what waits from the journal's index one at a time (never a list of a whole
    # batch's keys), across the index's chunks of 64, in the order the sales were made: the
    # traces wrap at 999999 on the way, so their order is not the made one.
    rig = _signed_rig()
    made = list(range(999970, 1000000)) + list(range(10, 46))
    _receipts_waiting(rig, made)
    rig.link.attached = False
    queue = _until_done(esign.UploadQueue(rig.term))
    assert queue.done and queue.uploaded == 0 and queue.left == len(made), queue.left
    rig.link.attached = True
    sweep = _until_done(esign.settlement_sweep(rig.term))
    assert sweep.done and sweep.uploaded == len(made) and sweep.left == 0
    assert [int(m[11]) for m in rig.host.uploads] == made
    assert list(esign.pending(rig.term)) == []


def test_a_host_refusing_a_whole_day_of_receipts_is_counted_and_the_first_16_listed():
    # The sweep before settlement meets a host that refuses every receipt (63: its signature does
    # not verify, a key the host does not know): each is counted as not uploaded, the first 16
    # (settle.LISTED_MAX) by trace; neither the queue nor the settlement keeps one entry each.
    rig = _signed_rig()
    made = list(range(100, 140))
    _receipts_waiting(rig, made)
    rig.host.esign_plan = ["code:63"] * len(made)
    assert "Settlement report" in rig.settle(), rig.screen()
    rec = S.State(rig.storage).rec
    assert rec["nsig"] == len(made) and rec["sig"] == made[: S.LISTED_MAX], (rec["nsig"], rec["sig"])
    assert len(rig.host.uploads) == len(made)
    assert list(esign.archived_pending(rig.term)) == []  # a refused one is not sent again


def test_no_stored_file_holds_the_full_card_number():
    rig = _signed_rig()
    rig.host.esign_plan = ["code:05"]
    rig.sale(600)
    rig.press("ENTER")
    rig.sale(700, tap(), pin=None)
    rig.press("ENTER")
    digits = PAN.encode()
    for name in rig.storage.list():
        data = rig.storage.read(name)
        assert digits not in data and digits[6:] not in data, name
    assert registry.unknown_files(rig.storage) == []
    assert image_name(1, rig.term.journal.last["trace"] - 1) in rig.storage.list()


# ---- power cuts ----------------------------------------------------------------------------------
def _cut_run(n, tear):
    """A sale approved and on its signing screen; the power cut at the n-th storage operation of
    the signature, its image, the upload and the result dismissed; reboot, one more signed sale.
    (fired, rig, trace)."""
    rig = _signed_rig()
    rig.sale(999, sign=False)
    trace = rig.term.journal.last["trace"]
    assert rig.signing()
    rig.storage.cut_at(n, tear)
    fired = False
    try:
        rig.sign()
        rig.press("ENTER")
    except PowerCut:
        fired = True
    if not fired:
        rig.storage.cut_at(None)
        return False, rig, trace
    rig = rig.reboot(sign=False)
    if rig.signing():  # the cut took the strokes: asked to sign again at power-up (请持卡人签名)
        # only when nothing of the signature was kept: no image, its state none
        assert read_image(rig.storage, 1, trace) is None and _view(rig, trace)["esign"] == "none"
        assert rig.sign()
    if "Last transaction" in rig.screen():
        rig.press("ENTER")
    assert "Approved" in rig.sale(100), rig.screen()
    return True, rig, trace


def test_a_power_cut_at_every_storage_operation_of_the_signature_never_loses_or_doubles_an_upload():
    runs = 0
    kept = 0
    for tear in TEAR_MODES:
        n = 1
        while True:
            if (n + TEAR_MODES.index(tear)) % SAMPLE != 0:
                n += 1
                continue
            fired, rig, trace = _cut_run(n, tear)
            if not fired:
                break
            where = "cut {} {}".format(n, tear)
            second = rig.term.journal.last["trace"]
            view = _view(rig, trace)
            got = read_image(rig.storage, 1, trace)
            assert view["esign"] == "uploaded", (where, view["esign"])  # none: signed again at boot
            if got is not None:  # kept: it was queued, and is uploaded by now
                kept += 1
                assert view["esign"] == "uploaded", where
                assert bytes(jbigdec.decode(got[0])[2]) == _bitmap(SIGNATURE), where
            for up in rig.host.uploads:  # every upload under a transaction's own trace and RRN
                t = int(up[11])
                assert t in (trace, second), where
                assert up[37] == _view(rig, t)["rrn"], where
                assert up[62] == read_image(rig.storage, 1, t)[0], where
            assert _uploads_of(rig, trace), where
            if rct.read(rig.storage, 1, trace) is None:  # a cut before it was stored: the sweep's
                esign.make_missing(rig.term)
            same_receipt_as_made_again(rig, trace)  # made once, or again with the same content
            same_receipt_as_made_again(rig, second)
            for up in rig.host.uploads:  # each upload's F55: the receipt kept, its signature
                t = int(up[11])
                assert tlv_parse(up[55]) == rct.f55(*rct.read(rig.storage, 1, t)[:2]), where
            assert _view(rig, second)["esign"] == "uploaded", where
            assert registry.unknown_files(rig.storage) == [], where
            runs += 1
            n += 1
    assert runs >= 5 * 4 // SAMPLE and kept > 0, (runs, kept)


def test_a_cut_on_the_signing_screen_asks_for_the_signature_again_at_power_up():
    rig = _signed_rig()
    rig.sale(999, sign=False)
    trace = rig.term.journal.last["trace"]
    assert rig.signing()
    rig.board.signature_pad.draw([SIGNATURE[0]])  # half signed: the strokes are only in RAM
    rig.term.settle()
    rig = rig.reboot(sign=False)
    assert rig.signing() and "Code" in rig.screen(), rig.screen()
    assert _view(rig, trace)["esign"] == "none" and read_image(rig.storage, 1, trace) is None
    assert rig.sign()
    assert "Approved" in rig.screen() and "Last transaction" in rig.screen(), rig.screen()
    assert _view(rig, trace)["esign"] == "uploaded" and len(_uploads_of(rig, trace)) == 1
    rig.press("ENTER")
    assert rig.reboot().screen().count("ENTER for menu") == 1  # seen: no question at the next boot


def test_the_result_after_a_signing_timeout_gets_its_whole_idle_timeout():
    rig = _signed_rig()  # esign_timeout_s 90, idle_timeout_s 60
    rig.sale(500, sign=False)
    rig.wait(90)
    assert "Approved" in rig.screen()  # not gone to idle at once: 90 s passed without a key
    rig.wait(59)
    assert "Approved" in rig.screen()
    rig.wait(1)
    assert "ENTER for menu" in rig.screen()


def test_the_terminals_signature_bitmap_is_the_canvas_size():
    from firmware import jbig, terminal

    assert terminal.SIG_BITMAP_BYTES == ((AREA_WIDTH + 7) >> 3) * AREA_HEIGHT
    assert terminal.SIG_CONTEXT_BYTES == jbig.CONTEXTS
    assert terminal.SIG_IMAGE_BYTES == jbig.MAX_IMAGE


def test_the_image_is_made_in_the_buffers_the_terminal_allocated_at_boot():
    # Bitmap, context table and output: allocated at boot (a sale's garbage leaves no 1 KB run by
    # the time it is signed: bench/README.md), never new ones at the signature.
    rig = _signed_rig()
    term = rig.term
    buffers = (term.sig_bitmap, term.sig_contexts, term.sig_image)
    rig.sale(1234)  # signed
    trace = term.journal.last["trace"]
    image = read_image(rig.storage, 1, trace)[0]
    assert (term.sig_bitmap, term.sig_contexts, term.sig_image) == buffers
    assert bytes(term.sig_image[: len(image)]) == image
    assert any(term.sig_contexts)  # the encoder's states of this image
    assert bytes(term.sig_bitmap) == _bitmap(SIGNATURE)


def test_the_signature_drops_the_amount_screens_and_the_next_sale_loads_them_again():
    rig = _signed_rig()
    rig.sale(1234, sign=False)
    assert rig.signing() and "firmware.ui.amount" not in sys.modules
    assert rig.sign() and "Approved" in rig.screen()
    rig.press("ENTER")
    rig.press("ENTER", "1")  # the next sale's amount: its screens loaded again
    assert "firmware.ui.amount" in sys.modules and "Enter amount" in rig.screen()
    rig.press("CANCEL", "CANCEL")
    assert "Approved" in rig.sale(500)


def test_the_points_are_kept_in_the_idle_frame_buffer_and_a_long_signature_still_fits():
    # While the cardholder signs, no exchange is under way: the points go into the host
    # session's frame buffer (Terminal.scratch), not a bytearray grown a point at a time. A long
    # signature overflows that buffer into one of its own; one too dense for field 62 at full size
    # is drawn again from its points, thinner or smaller, never cut.
    rig = _signed_rig()
    term = rig.term
    rig.sale(1234, sign=False)
    assert term.screen.points is term.scratch() and len(term.scratch()) == 2050
    state = [7]

    def nxt():
        state[0] = (state[0] * 1103515245 + 12345) & 0x7FFFFFFF
        return state[0] >> 15

    zigzag = [(nxt() % AREA_WIDTH, nxt() % AREA_HEIGHT) for _ in range(80)]  # dense: 1 KB at pen 2
    still = [(5, 5)] * 500  # the pen held in one place, twice: 2,000 bytes of points, no more ink
    pad = rig.board.signature_pad
    for stroke in (zigzag, still, still):
        pad.draw([stroke])
        term.settle()
    assert term.screen.n == 2 * (80 + 1000) + 3 and term.screen.points is not term.scratch()
    pad.confirm()
    term.settle()
    trace = term.journal.last["trace"]
    image, fit = signature_image([zigzag, still, still])
    assert fit != FITS[0]
    assert read_image(rig.storage, 1, trace)[0] == image
    assert _view(rig, trace)["esign"] == "uploaded"
