# The memory bench: heap after importing what a terminal imports (main.py's path on a board: the
# firmware and the board's own hal modules), after booting a Terminal, while keying a sale (live and
# with garbage), the bytes one idle tick of the event loop allocates, and what the rest of firmware/
# and hal/ would add. Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_memory.py [modules NAME...]   (gc.mem_alloc; one
#   phase per call, because this port's collector frees nothing until control returns to JavaScript)
#   QIANPOS_UPY_MPY=build/mpy runs it from the .mpy build (bench/memory.py does both).
#   "modules NAME...": import the named modules one per phase and print each one's heap.
# MicroPython unix port (a 32-bit build with firmware/, hal/ and the doubles frozen; bench/memory.py
#   with QIANPOS_UPY_UNIX): unix_main(...) runs the phases in one call, its collector working as a
#   board's does: "table" (the phases, automatic collection off so the peaks count the garbage),
#   "fit keying" / "fit sale" / "fit service" (only that scenario, automatic collection on: it
#   completes or stops on a MemoryError, for the bisection over -X heapsize), "modules NAME..." (as
#   above).
# CPython: bench/memory.py runs the same phases under tracemalloc, then prints the table.
#
# Nothing of firmware/ or hal/ is imported at this module's top: the baseline must not hold it.
import gc
import os
import sys

# What main.py imports on a board: itself (firmware.terminal and its imports) and the board
# factory's hal modules: the reference ESP32 board's module (main.esp32_board) and every driver its
# make_board() imports, including the card parts it builds at their first arm().
BOARD_MODULES = (
    "hal.esp32.board",
    "hal.drivers.buzzer",
    "hal.drivers.ili9341",
    "hal.drivers.keymatrix",
    "hal.drivers.touch_pad",
    "hal.esp32.wifi_link",
    "hal.drivers.xpt2046",
    "hal.drivers.font8x16",
    "hal.drivers.fontfile",
    "hal.drivers.pn532",
    "hal.drivers.uart_reader",
)
# The test doubles the bench drives the terminal with: imported in a phase of their own, and their
# heap taken off every later row (a board holds its drivers instead, counted with BOARD_MODULES).
DOUBLES = ("virtual.devices", "virtual.storage", "tests.portable.fakes")

# One key per event: open the menu, choose sale (firmware.ui.amount loads), key 123.45, backspace,
# confirm, cancel.
EVENTS = ("ENTER", "1", "1", "2", "3", "4", "5", "CLEAR", "ENTER", "CANCEL", "CANCEL")


# The hook for the peak of a whole sale: a tuple of events, each a key code (str) pressed on the
# keypad, or a function called with the board (one that presents a card). On a terminal rebuilt as
# tests/portable/online_kit.py's Rig (soft security module with its TMK, PIN entry over the keypad,
# an in-process FakeHost behind the LoopbackLink) with the board's display: menu, sale, 12.34,
# confirm, the chip card (the first sale signs in there: 0800, then the PIN), PIN 1234, confirm
# (the 0200 and its answer, the records written ahead), the signature and its upload, dismiss the
# result. No receipt yet.
def _present_chip(board):
    from tests.portable.online_kit import chip

    board.card_reader.present(chip())


def _event_name(event):
    if type(event) is str:
        return event
    return "card" if event is _present_chip else "signature"


# The signature (firmware/ui/esign.py): 12 strokes of 40 points each drawn on the pad one event at
# a time (a point list made per stroke, as a pad reports them), then OK: the image is made, kept and
# uploaded (the 0820) before the result is dismissed.
_SIGN_STROKES = 12
_SIGN_POINTS = 40


def _stroke(i):
    x0 = 8 + i * 18
    return [(x0 + (j * 7) % 16, 20 + (j * 37 + i * 11) % 90) for j in range(_SIGN_POINTS)]


def _draw(i):
    def draw(board):
        board.signature_pad.draw([_stroke(i)])

    return draw


def _confirm_signature(board):
    board.signature_pad.confirm()


SIGNING = tuple(_draw(i) for i in range(_SIGN_STROKES)) + (_confirm_signature,)
WHOLE_SALE = (
    ("ENTER", "1", "1", "2", "3", "4", "ENTER", _present_chip, "1", "2", "3", "4", "ENTER")
    + SIGNING
    + ("ENTER",)
)
# What the whole sale loads that keying one does not: its firmware and hal modules (charged to the
# sale), then the online test rig (charged to the doubles, like DOUBLES).
SALE_MODULES = (
    "firmware.online",
    "firmware.host.codec",
    "firmware.host.messages",
    "firmware.host.session",
    "firmware.ui.sale",
    "firmware.ui.esign",
    "firmware.esign",
    "firmware.sigfile",
    "firmware.sigimage",
    "firmware.jbig",
    "hal.soft.des",
    "hal.soft.mac",
    "hal.soft.keystore",
    "hal.soft.security",
    "hal.soft.pin",
)
SALE_DOUBLES = "tests.portable.online_kit"
# The in-process host's room: a reserve allocated when the rig boots, charged to the doubles, let
# go while the host answers a request and made again after, so that the host's work (decoding the
# request, its answer) never takes the terminal's heap. Its answers are built in a frame of their
# own (_sale_boot). HOST_PEAK, printed by the fit runs, is the most it used in one answer.
HOST_ROOM = 4096
_ROOM_BLOCK = 256  # the room in blocks: it holds free space, not one run (which a heap may lack)


def _room():
    return [bytearray(_ROOM_BLOCK - 16) for _ in range(HOST_ROOM // _ROOM_BLOCK)]


# After the whole sale, on the same terminal: the service menu from idle (ENTER 8, the
# administrator's password: the rig's, tests/portable/drive.py ADMIN_PASSWORD, not imported here:
# it would load the terminal before the baseline), About (2) and back, the echo test (8) against
# the rig's host, its result dismissed, back to the main menu and to idle, where the terminal drops
# the service menu's modules (firmware.terminal.DROPPED_AT_IDLE).
_ADMIN_KEYS = tuple("20261207") + ("ENTER",)
SERVICE = ("ENTER", "8") + _ADMIN_KEYS + ("2", "CANCEL", "8", "ENTER", "CANCEL", "CANCEL")

# After the whole sale, on the same terminal: the batch filled to a full one (SETTLE_BATCH approved
# sales, appended to the batch journal directly: the storage is a board's flash), then settlement
# (menu 4, the supervisor's password: tests/portable/drive.py SUPERVISOR_PASSWORD, not imported
# here; the totals; ENTER, pressed by the phase that runs it) against the rig's host answering
# unbalanced, so every item goes up in a batch upload (0320 each), the end message, the batch
# closed, the report shown. The sweep before the 0500 uploads the receipts still waiting.
SETTLE_BATCH = 500
SETTLE_WAITING = 100  # one receipt in this many not yet uploaded: the sweep sends it (0820)
SETTLE_KEYS = ("ENTER", "4") + tuple("202612") + ("ENTER",)
_SETTLE_STEPS = 40000  # loop passes for the settlement of the full batch (one exchange takes a few)

_MAX_STEPS = 200  # per event: a terminal that never settles is reported, not waited for
IDLE_TICKS = 1000  # steps of the idle loop measured with the clock standing still
IDLE_SECONDS = 20  # seconds of the idle loop measured with the clock moving 20 ms per step
_IDLE_STEP_MS = 20  # firmware.terminal's idle sleep
_S_IFDIR = 0x4000

# The glyph file the board's display reads on demand (make deploy puts it at hal.esp32.board.FONT_FILE).
FONT_PATH = "fonts/qianpos16.qpf"


def device_modules(root="."):
    """Dotted names of every module in firmware/ and hal/, sorted."""
    names = []
    _walk(root, "firmware", names)
    _walk(root, "hal", names)
    names.sort()
    return names


def _walk(root, package, names):
    folder = root + "/" + package.replace(".", "/")
    for fname in os.listdir(folder):
        if os.stat(folder + "/" + fname)[0] & _S_IFDIR:
            if fname != "__pycache__":
                _walk(root, package + "." + fname, names)
        elif fname == "__init__.py" or fname == "__init__.mpy":
            names.append(package)
        elif fname.endswith(".py"):
            names.append(package + "." + fname[:-3])
        elif fname.endswith(".mpy"):
            names.append(package + "." + fname[:-4])


def board_display():
    """The ESP32 board's display: the hal/drivers/ili9341.py driver with the board's font (the glyph file,
    as hal.esp32.board opens it) over a fake SPI bus and pins that allocate nothing. Built in a phase,
    so the classes cost the baseline nothing."""
    from hal.drivers.ili9341 import ILI9341
    from hal.esp32 import board as esp32

    class Bus:  # machine.SPI: the panel's bytes go nowhere
        def init(self, baudrate=None):
            pass

        def write(self, data):
            pass

    class Pin:
        def value(self, v=None):
            return 1 if v is None else None

    return ILI9341(
        Bus(),
        Pin(),
        Pin(),
        rst=Pin(),
        font=esp32._font(FONT_PATH),
        sleep_ms=_no_sleep,
        baudrate=esp32.LCD_BAUDRATE,
    )


def _no_sleep(ms):
    pass


class MemoryBench:
    """The scenario as phases. Each phase starts with gc.collect(), so the figure taken there is
    what the previous phase left reachable ("live"); within an event phase, samples after every
    step with no collection give the peak including garbage. Figures are absolute; rows after the
    doubles' phase have the doubles' own heap taken off."""

    def __init__(self, mem_now, root=".", alloc_now=None, scenario=None, storage_root=None):
        self.mem_now = mem_now
        # Where the boards' files go (unix port: a fresh folder per run, through hal.port's
        # VfsStorage, so that files stay out of the heap as a board's flash does); None: the
        # doubles' RamStorage, whose files are bytes objects in the heap (counted in the rows).
        self.storage_root = storage_root
        self.alloc_now = alloc_now  # MicroPython: gc.mem_alloc (exact inside a phase); None on CPython
        self.root = root
        keys = ("baseline", "import", "doubles", "boot", "live", "peak", "sale_live", "sale_peak", "rest")
        self.figures = dict((k, None) for k in keys + ("svc_live", "svc_peak", "stl_live", "stl_peak"))
        self.figures["sale_boot"] = None
        self.figures["sale_modules"] = None
        self.figures["idle_tick"] = None
        self.figures["idle_second"] = None
        self.problems = []
        self.loaded = []  # the firmware/hal modules a terminal imports, as loaded
        self.board = None
        self.term = None
        self.keys = None  # where key events are pressed: the board's keypad, or the rig's raw one
        self.rig = None
        self._sale_modules = 0
        self._before_sale_modules = 0
        self._before_kit = 0
        self._host_frame = None
        self.host_bytes = 0  # what the in-process host allocated in the current phase
        self.host_peak = 0  # the most it allocated in one answer (HOST_ROOM must hold it)
        self._host_room = None  # the in-process host's reserve while the terminal runs
        self.requests = []  # the kind of each request the rig's host answered (online_kit.kind)
        self.uploaded = 0  # batch-upload items the rig's host booked (its list is emptied each time)
        self.esigns = 0  # e-signature and receipt uploads (0820) the rig's host received
        self.names = []  # each phase's name, for the phase a MemoryError stopped
        self._plan = self._phases(scenario)

    def _phases(self, scenario):
        """Every phase (scenario None), or only what a scenario needs ("keying": import, boot and
        the keys of EVENTS; "sale": import, then the whole sale on a freshly booted rig;
        "service": the sale's, then SERVICE on the same terminal; "settle": the sale's, then the
        settlement of a full batch with its upload on the same terminal)."""
        plan = [("import", self._import_terminal), ("doubles", self._import_doubles)]
        sale = scenario in ("sale", "service", "settle")
        if not sale:
            plan.append(("boot", self._boot))
            plan += [("key " + key, self._event_phase(key)) for key in EVENTS]
        if scenario is None:
            plan += [("idle", self._idle_warm), ("idle ticks", self._idle_ticks)]
            plan.append(("idle seconds", self._idle_seconds))
        if WHOLE_SALE is not None and scenario != "keying":
            if sale:
                plan.append(("doubles done", self._doubles_done))
            plan += [("sale's modules", self._sale_imports), ("sale's doubles", self._sale_doubles)]
            plan += [("sale boot", self._sale_boot), ("sale start", self._sale_start)]
            plan += [("sale " + _event_name(e), self._event_phase(e, "sale_peak")) for e in WHOLE_SALE]
            if scenario == "settle":
                plan.append(("settle fill", self._settle_fill))
                plan += [("settle " + key, self._event_phase(key, "stl_peak")) for key in SETTLE_KEYS]
                plan.append(("settle run", self._settle_run))
                plan.append(("settle check", self._settle_end))
            elif scenario != "sale":
                plan.append(("service start", self._service_start))
                plan += [("service " + key, self._event_phase(key, "svc_peak")) for key in SERVICE]
                plan.append(("service check", self._service_end))
        if scenario is None:
            plan += [("the rest", self._import_rest), ("end", self._end)]
        elif sale:
            plan.append(("sale check", self._sale_end))
        self.names = ["baseline"] + [name for name, _ in plan]
        return [run for _, run in plan]

    def phase(self, i):
        """Run phase i; False when there is none left."""
        gc.collect()
        now = self.mem_now()
        if i == 0:
            self.figures["baseline"] = now
            return True
        return self._plan[i - 1](now) is not False and i < len(self._plan)

    def _net(self, now):
        """now without the test doubles' heap."""
        return now - (self.figures["doubles"] or 0)

    def _import_terminal(self, now):
        before = set(sys.modules)
        for name in ("main",) + BOARD_MODULES:
            try:
                __import__(name)
            except MemoryError:
                raise  # the unix port's "fit" runs report where the heap ran out
            except Exception as e:
                self.problems.append("import {}: {}: {}".format(name, type(e).__name__, e))
        self.loaded = sorted(n for n in sys.modules if n not in before)

    def _import_doubles(self, now):
        self.figures["import"] = now
        for name in DOUBLES:
            __import__(name)

    def _doubles_done(self, now):
        self.figures["doubles"] = now - self.figures["import"]

    def _boot(self, now):
        self._doubles_done(now)
        from firmware.terminal import Terminal, manage_heap
        from tests.portable.fakes import make_board

        manage_heap()  # as main.py does on a board
        self.board = make_board(display=board_display(), **self._storage("keying"))
        self.term = Terminal(self.board)
        self.keys = self.board.keypad

    def _storage(self, name):
        """{"storage": a VfsStorage in storage_root/name} on the unix port, else {}."""
        if self.storage_root is None:
            return {}
        from hal.port import VfsStorage

        return {"storage": VfsStorage(self.storage_root + "/" + name)}

    def _event_phase(self, event, peak_key="peak"):
        def run(now):
            f = self.figures
            now = self._net(now)
            live_key = peak_key[:-4] + "live"
            if peak_key == "peak" and f["boot"] is None:
                f["boot"] = f["live"] = f["peak"] = now
            else:
                f[live_key] = now if f[live_key] is None else max(f[live_key], now)
            if f[peak_key] is None:
                f[peak_key] = now
            self.host_bytes = 0
            if type(event) is str:
                self.keys.press(event)
            else:
                event(self.board)
            steps = 0
            while self.term.step():
                steps += 1
                f[peak_key] = max(f[peak_key], self._net(self.mem_now()) - self.host_bytes)
                if steps >= _MAX_STEPS:
                    self.problems.append("terminal still busy after {} steps on {}".format(steps, event))
                    break
            f[peak_key] = max(f[peak_key], self._net(self.mem_now()) - self.host_bytes)

        return run

    def _idle_warm(self, now):
        self.figures["live"] = max(self.figures["live"], self._net(now))
        name = type(self.term.screen).__name__
        if name != "IdleScreen":
            self.problems.append("the idle loop measured on {}, not IdleScreen".format(name))
        self._run_idle(2 * 1000 // _IDLE_STEP_MS, _IDLE_STEP_MS)  # a first pass over every path

    def _idle_ticks(self, now):
        self.term.step()  # the second the warm-up's last sleep began, outside the measurement
        if self.alloc_now is not None:
            self.figures["idle_tick"] = self._run_idle(IDLE_TICKS, 0) / IDLE_TICKS

    def _idle_seconds(self, now):
        if self.alloc_now is not None:
            steps = IDLE_SECONDS * 1000 // _IDLE_STEP_MS
            self.figures["idle_second"] = self._run_idle(steps, _IDLE_STEP_MS) / IDLE_SECONDS

    def _run_idle(self, steps, advance_ms):
        """steps of Terminal.step() on the idle screen, the virtual clock moved advance_ms after
        each (as the loop's sleep would); the bytes allocated meanwhile (MicroPython), else 0."""
        term = self.term
        clock = self.board.clock
        start = self.alloc_now() if self.alloc_now is not None else 0
        for _ in range(steps):
            term.step()
            if advance_ms:
                clock.sleep_ms(advance_ms)
        end = self.alloc_now() if self.alloc_now is not None else 0
        return end - start

    def _sale_imports(self, now):
        if self.figures["live"] is not None:
            self.figures["live"] = max(self.figures["live"], self._net(now))
        self._before_sale_modules = self._net(now)
        for name in SALE_MODULES:
            try:
                __import__(name)
            except MemoryError:
                raise  # the unix port's "fit" runs report where the heap ran out
            except Exception as e:
                self.problems.append("import {}: {}: {}".format(name, type(e).__name__, e))

    def _sale_doubles(self, now):
        self._sale_modules = self._net(now) - self._before_sale_modules  # "rest" counts them too
        self.figures["sale_modules"] = self._sale_modules
        self._before_kit = now
        __import__(SALE_DOUBLES)
        from firmware.host.codec import MAX_BODY

        self._host_frame = bytearray(MAX_BODY + 2)  # the rig's host builds its answers here (_sale_boot)

    def _sale_boot(self, now):
        """The terminal rebuilt as the online rig, on the board's display; the keying terminal
        dropped. The host's own allocations inside a step (decoding the request, its answer) are
        counted in host_bytes and taken off the samples: a real host is not in the terminal. It
        builds its answers in one buffer allocated with the doubles (_sale_doubles): codec.encode's
        new 2 KB buffer per answer was, in the unix port's smallest-heap runs, the allocation that
        failed first (a heap fragmented by the terminal's garbage), which no board's host can do."""
        self.figures["doubles"] += now - self._before_kit
        from firmware.host.codec import encode_into
        from tests.portable import online_kit
        from tests.portable.online_kit import FakeHost, Rig

        bench = self
        frame = self._host_frame

        def encode(msg):  # codec.encode without its 2 KB buffer per answer
            return frame[: encode_into(msg, frame)]

        class CountedHost(FakeHost):
            def handle(self, data):
                before = bench.mem_now()
                kit_encode = online_kit.encode
                online_kit.encode = encode  # for FakeHost._frame, this call only
                try:
                    return FakeHost.handle(self, data)
                finally:
                    online_kit.encode = kit_encode
                    if self.received:
                        bench.requests.append(online_kit.kind(self.received[-1]))
                        del bench.requests[:-4]  # the last few: a settlement sends 500 and more
                    if self.uploads:
                        bench.requests.append("esign")
                        bench.esigns += len(self.uploads)
                    self.received = []  # the rig's record of requests: not the terminal's heap
                    self.frames = []
                    bench.uploaded += len(self.batch_uploads)
                    self.batch_uploads = []
                    self.uploads = []
                    used = max(0, bench.mem_now() - before)
                    bench.host_bytes += used
                    bench.host_peak = max(bench.host_peak, used)

        self.board = self.term = self.keys = None
        devices = self._storage("sale")
        if devices:
            from hal.soft.keystore import StorageKeyStore

            devices["key_store"] = StorageKeyStore(self._storage("keys")["storage"])
            devices["language"] = "en"  # a Rig on a given storage sets its parameters only when asked
        # The host's own objects (its keys, its ledger) are the harness's, not the terminal's: a
        # real host is not in the terminal's heap. Charged to the doubles, as its module is.
        gc.collect()
        before = self.mem_now()
        host = CountedHost()
        self._host_room = _room()
        gc.collect()
        self.figures["doubles"] += self.mem_now() - before
        from firmware.terminal import manage_heap

        manage_heap()  # as main.py does on a board
        self.rig = Rig(host=host, display=board_display(), **devices)
        self.board = self.rig.board
        link = self.board.link
        send = link.send

        def send_in_room(data):
            # The host works in its own room: the reserve made at boot is let go, the loopback's
            # copy of the request and the host's garbage fall into it, and it is made again after.
            bench._host_room = None
            gc.collect()
            try:
                return send(data)
            finally:
                gc.collect()
                bench._host_room = _room()

        link.send = send_in_room
        self.term = self.rig.term
        self.keys = self.rig.raw

    def _sale_start(self, now):
        self.figures["sale_peak"] = self._net(now)
        self.figures["sale_boot"] = self._net(now)

    def _service_start(self, now):
        self._sale_check()
        self.figures["sale_live"] = max(self.figures["sale_live"] or 0, self._net(now))
        self.figures["svc_peak"] = self._net(now)

    def _service_end(self, now):
        """Back at idle after SERVICE: the echo went to the host, the service menu was dropped."""
        self.figures["svc_live"] = max(self.figures["svc_live"] or 0, self._net(now))
        name = type(self.term.screen).__name__
        if name != "IdleScreen":
            self.problems.append("after the service menu: {}, not IdleScreen".format(name))
        if self.requests[-1:] != ["echo"]:
            answered = self.requests
            crash = self.term.last_crash
            self.problems.append(
                "the echo test was not answered: {} (last failure: {})".format(answered, crash)
            )
        from firmware.terminal import DROPPED_AT_IDLE

        kept = [name for name in DROPPED_AT_IDLE if name in sys.modules]
        if kept:
            self.problems.append("back at idle, the service menu's modules stayed: {}".format(kept))

    def _settle_fill(self, now):
        """The batch filled to SETTLE_BATCH approved sales (the whole sale's one included), written
        as a sale writes them (its record, its approved state, no signature asked under the
        contactless limit, its signed e-receipt stored and answered 00 by the host, but one in
        SETTLE_WAITING whose upload still waits for the sweep), each its own trace and RRN: a
        board's storage at the end of a full day, one receipt file a sale."""
        self._sale_check()
        self.figures["sale_live"] = max(self.figures["sale_live"] or 0, self._net(now))
        from firmware import receipt
        from firmware.batch import SALE

        batch = self.term.journal.batch
        storage = self.term.board.storage
        first = batch.last[1] + 1
        for i in range(SETTLE_BATCH - batch.count):
            trace = first + i
            record = {"batch": 1, "trace": trace, "amount": 100 + i, "card": "621700*********5675"}
            record.update({"org": "CUP", "mode": "tap", "time": 1796000000, "op": "01"})
            batch.begin(SALE, record)
            rrn = "9" + "{:011d}".format(trace)
            batch.change(1, trace, 1796000000, state="approved", code="00", rrn=rrn, auth="A00001")
            batch.change(1, trace, 1796000000, esign="no_sig_rule")
            receipt.make(self.term, batch.by_trace(trace))
            if i % SETTLE_WAITING:  # one in SETTLE_WAITING still waits: the sweep uploads it
                receipt.answered(storage, 1, trace, "00")
            record = None
            gc.collect()  # each sale's garbage gone before the next, as at idle after each
        # Back at idle, as after each sale of the day: the terminal drops what the fill loaded
        # (the receipt's and the e-signature's modules: DROPPED_AT_IDLE) and collects.
        self.term.back_at_idle()
        self.term.step()
        if type(self.term.screen).__name__ != "IdleScreen":
            self.problems.append("the full batch's settlement not started from idle")
        self.rig.host.unbalance = True
        self.figures["stl_peak"] = self._net(self.mem_now())

    def _settle_run(self, now):
        """The settlement, once confirmed, to its report: the sweep's uploads, the 0500, every item,
        the end message."""
        self.esigns = 0
        f = self.figures
        f["stl_live"] = max(f["stl_live"] or 0, self._net(now))
        term = self.term
        self.keys.press("ENTER")  # on the totals: settle
        for _ in range(_SETTLE_STEPS):
            self.host_bytes = 0
            term.step()
            f["stl_peak"] = max(f["stl_peak"], self._net(self.mem_now()) - self.host_bytes)
            if type(term.screen).__name__ == "ReportScreen":
                return
        self.problems.append("the settlement did not end: {}".format(type(term.screen).__name__))

    def _settle_end(self, now):
        self.figures["stl_live"] = max(self.figures["stl_live"] or 0, self._net(now))
        counters = self.term.counters
        swept = SETTLE_BATCH // SETTLE_WAITING
        if self.uploaded != SETTLE_BATCH or counters.batch != 2 or self.term.journal.batch.count:
            done = (self.uploaded, counters.batch, self.term.journal.batch.count)
            self.problems.append("the settlement did not upload and close the batch: {}".format(done))
        elif self.esigns != swept:
            self.problems.append("the sweep sent {} receipts of the {} waiting".format(self.esigns, swept))
        return False

    def _sale_check(self):
        if self.rig is not None and len(self.rig.host.ledger) != 1:
            self.problems.append("the whole sale was not approved: {}".format(self.rig.term.screen))
        if self.rig is not None and "esign" not in self.requests:
            self.problems.append("the whole sale's signature was not uploaded: {}".format(self.requests))

    def _sale_end(self, now):
        self._sale_check()
        self.figures["sale_live"] = max(self.figures["sale_live"] or 0, self._net(now))
        return False

    def _import_rest(self, now):
        if self.rig is not None:
            self._sale_check()
            key = "sale_live" if self.figures["svc_live"] is None else "svc_live"
            self.figures[key] = max(self.figures[key] or 0, self._net(now))
        else:
            self.figures["live"] = max(self.figures["live"], self._net(now))
        self._rest_from = self._net(now)
        for name in device_modules(self.root):
            try:
                __import__(name)
            except MemoryError:
                raise  # the unix port's "fit" runs report where the heap ran out
            except Exception as e:
                self.problems.append("import {}: {}: {}".format(name, type(e).__name__, e))

    def _end(self, now):
        self.figures["rest"] = self._net(now) - self._rest_from + self.figures["import"] + self._sale_modules
        return False


def measure(mem_now, root=".", alloc_now=None):
    """All phases in one go (CPython, where the collector works at any time): (figures, problems)."""
    bench = MemoryBench(mem_now, root, alloc_now)
    i = 0
    while bench.phase(i):
        i += 1
    return bench.figures, bench.problems


def report(title, figures, problems, loaded=()):
    print(title)
    base = figures["baseline"]
    print("  baseline: {}".format(base))
    for label, key in (
        ("after import", "import"),
        ("after boot", "boot"),
        ("live, keying a sale", "live"),
        ("peak, keying a sale", "peak"),
        ("live, whole sale", "sale_live"),
        ("peak, whole sale", "sale_peak"),
        ("live, service menu after it", "svc_live"),
        ("peak, service menu after it", "svc_peak"),
        ("live, a full batch's settlement", "stl_live"),
        ("peak, a full batch's settlement", "stl_peak"),
        ("every firmware/hal module imported", "rest"),
    ):
        value = figures[key]
        text = "-" if value is None else "{} (+{})".format(value, value - base)
        print("  {}: {}".format(label, text))
    print("  the whole sale's modules (in its rows): {}".format(figures["sale_modules"]))
    print("  test doubles (taken off the rows above): {}".format(figures["doubles"]))
    for label, key in (("per idle tick", "idle_tick"), ("per idle second", "idle_second")):
        value = figures[key]
        print("  allocated {}: {}".format(label, "-" if value is None else "{} bytes".format(value)))
    if loaded:
        print("  a terminal imports: " + " ".join(loaded))
    for p in problems:
        print("  PROBLEM " + p)


class ModuleBench:
    """One module imported per phase (its imports already done by earlier phases, when the names
    come in dependency order): the heap each one adds."""

    def __init__(self, names):
        self.names = names
        self.sizes = []
        self._last = None

    def phase(self, i):
        gc.collect()
        now = gc.mem_alloc()  # type: ignore[attr-defined]  # MicroPython only
        if i > 0:
            self.sizes.append((self.names[i - 1], now - self._last))
        self._last = now
        if i == len(self.names):
            return False
        __import__(self.names[i])
        return True


_bench = None


def upy_phase(i):
    """Called by tests/upy/run.mjs once per phase, each in a call of its own."""
    if isinstance(_bench, ModuleBench):
        if _bench.phase(i):
            return True
        for name, size in _bench.sizes:
            print("MODULE {} {}".format(name, size))
        return False
    if not _bench.phase(i):
        version = ".".join(str(n) for n in sys.implementation.version[:3])
        title = "MicroPython {} heap bytes (gc.mem_alloc):".format(version)
        report(title, _bench.figures, _bench.problems, _bench.loaded)
        # One machine-readable line for bench/memory.py; keys sorted as dicts are unordered here.
        print("RESULT " + " ".join("{}={}".format(k, _bench.figures[k]) for k in sorted(_bench.figures)))
        print("LOADED " + " ".join(_bench.loaded))
        if _bench.problems:
            raise SystemExit(1)
        return False
    return True


def frozen_check(names):
    """The problems of a unix-port run whose firmware/hal should come from the frozen image: a
    module loaded from a folder of sys.path (bench/memory.py puts absolute folders there only, and
    a frozen module's __file__ is its path in the image, relative). The doubles may be either;
    returns (problems, doubles frozen: True/False/None if mixed)."""
    problems = []
    frozen_doubles = []
    for name in names:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", "") if module is not None else ""
        is_file = path.startswith("/")
        if name.split(".")[0] in ("firmware", "hal") and is_file:
            problems.append("{} not frozen: loaded from {}".format(name, path))
        elif name.split(".")[0] in ("virtual", "tests"):
            frozen_doubles.append(not is_file)
    if not frozen_doubles:
        return problems, None
    if all(frozen_doubles):
        return problems, True
    return problems, False if not any(frozen_doubles) else None


def unix_main(mode="table", *names):
    """The bench on the unix port, in one call (its collector frees garbage at any time, as a
    board's does). mode "table": every phase with automatic collection off (each phase still
    starts with gc.collect()), so a phase's samples count its garbage as on the WebAssembly port;
    prints the report and the RESULT line. "fit keying" / "fit sale" / "fit service": that scenario alone,
    automatic collection on (the heap's size set by -X heapsize); prints "FIT ok" or "FIT
    MemoryError <phase>" and the heap's size. "modules NAME...": as upy_phase's ModuleBench."""
    import micropython

    while "" in sys.path:  # the current folder (the repo) must not shadow the frozen modules
        sys.path.remove("")
    if mode == "modules":
        bench = ModuleBench(names)
        i = 0
        while bench.phase(i):
            i += 1
        for name, size in bench.sizes:
            print("MODULE {} {}".format(name, size))
        return
    fit = mode == "fit"
    storage_root = os.getenv("QIANPOS_BENCH_STORAGE")  # type: ignore[attr-defined]  # the unix port's os
    bench = MemoryBench(
        gc.mem_alloc,  # type: ignore[attr-defined]
        alloc_now=gc.mem_alloc,  # type: ignore[attr-defined]
        scenario=names[0] if fit else None,
        storage_root=storage_root,
    )
    phases = bench.names
    if not fit:
        gc.disable()
    i = 0
    try:
        while bench.phase(i):
            i += 1
    except MemoryError as e:
        # The heap as the allocation found it (it collected before giving up): free in all, and
        # the largest free run of blocks (micropython.mem_info: "max free sz", in blocks).
        print("FREE {}".format(gc.mem_free()))  # type: ignore[attr-defined]  # MicroPython only
        micropython.mem_info()  # type: ignore[attr-defined]
        bench = None  # what the run held, for the lines below
        gc.collect()
        print("FIT MemoryError {}".format(phases[i] if i < len(phases) else i))
        sys.print_exception(e)  # type: ignore[attr-defined]  # MicroPython only
        _print_heap()
        return
    finally:
        gc.enable()
    problems, doubles_frozen = frozen_check(sys.modules)
    problems = bench.problems + problems
    if fit:
        for p in problems:
            print("PROBLEM " + p)
        print("FIT {}".format("problem" if problems else "ok"))
        _print_heap()
        print("STORAGE {}".format(_storage_bytes(bench)))
        print("BASELINE {}".format(bench.figures["baseline"]))
        print("DOUBLES {}".format(bench.figures["doubles"] or 0))
        print("HOST_PEAK {} of its room {}".format(bench.host_peak, HOST_ROOM))
        print("DOUBLES_FROZEN {}".format(doubles_frozen))
        return
    version = ".".join(str(n) for n in sys.implementation.version[:3])
    title = "MicroPython {} unix port heap bytes (gc.mem_alloc), doubles frozen: {}:".format(
        version, doubles_frozen
    )
    report(title, bench.figures, problems, bench.loaded)
    print("RESULT " + " ".join("{}={}".format(k, bench.figures[k]) for k in sorted(bench.figures)))


def _storage_bytes(bench):
    """The bytes the test doubles' RamStorage objects hold (files a board keeps in flash, not in
    its heap): the board's storage and the rig's key store's, each bytes object counted once."""
    stores = []
    if bench.board is not None:
        stores.append(getattr(bench.board, "storage", None))
    if bench.rig is not None:
        stores.append(getattr(bench.rig.key_store, "storage", None))
    seen = {}
    for store in stores:
        for files in (getattr(store, "_durable", None), getattr(store, "_current", None)):
            for data in (files or {}).values():
                seen[id(data)] = len(data)
    return sum(seen.values())


def _print_heap():
    print("HEAP {}".format(gc.mem_alloc() + gc.mem_free()))  # type: ignore[attr-defined]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "modules":
        _bench = ModuleBench(sys.argv[2:])
    else:
        _bench = MemoryBench(gc.mem_alloc, alloc_now=gc.mem_alloc)  # type: ignore[attr-defined]
