# Test doubles for the online tests: an in-process acquirer host built from firmware/host (answers
# with MACs under the MAC key it delivered at sign-in, a ledger of what it charged, faults on
# demand) and a terminal board with a provisioned soft security module and PIN entry. Tests only.
from firmware.host.codec import MAC_ROOM, Message, answer_mti, decode, encode, f60, mac_input, put_mac
from firmware.host.messages import carries_mac
from firmware.params import Params
from firmware.terminal import Terminal
from hal.contracts import CardEvent, LinkError
from hal.soft.des import TripleDES, check_value
from hal.soft.keystore import StorageKeyStore
from hal.soft.mac import pos_ecb_mac, x919_mac
from hal.soft.pin import KeypadPinEntry
from hal.soft.security import SoftSecurityModule
from tests.portable.drive import SUPERVISOR_PASSWORD, set_passwords
from tests.portable.fakes import make_board
from virtual.devices import LoopbackLink, VirtualClock, VirtualKeypad
from virtual.storage import RamStorage

# The keys of tests/portable/conformance.py (not imported: the online bench measures this rig's heap).
TMK_PARTS = (
    bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"),
    bytes.fromhex("1111111111111111AAAAAAAAAAAAAAAA"),
)
PIK = bytes.fromhex("F1E2D3C4B5A69788796A5B4C3D2E1F00")
MAK = bytes.fromhex("0F1E2D3C4B5A69788796A5B4C3D2E1F0")
TMK = bytes(a ^ b for a, b in zip(TMK_PARTS[0], TMK_PARTS[1]))


def field62(tmk, keys):
    """F62 of a sign-in answer: each key encrypted under tmk, then its check value."""
    out = b""
    for key in keys:
        out += TripleDES(tmk).encrypt(key) + check_value(key)
    return out


# Insert: service code 220 (PIN required). Tap: 220 too, but at or under the no-PIN limit.
PAN = "6217002430012345675"
TRACK2 = PAN + "D30122200000000000"
TRACK2_OPTIONAL = PAN + "D30122210000000000"  # service code 221: the PIN may be left empty


def chip(track2=TRACK2):
    return CardEvent("insert", track2, "CUP")


def tap(track2=TRACK2):
    return CardEvent("tap", track2, "CUP")


# The host's side, kept here rather than imported: firmware/host/answers.py moves to the host
# simulator (sim/, CPython only), and this kit must run on MicroPython.
_ECHOED = (3, 4, 11, 25, 41, 42, 48, 49, 60)


def start_answer(request, code):
    """The answer a host starts: MTI + 10, TPDU swapped, echoed fields, F39, F64 room if MACed."""
    tpdu = request.tpdu[:1] + request.tpdu[3:5] + request.tpdu[1:3]
    m = Message(answer_mti(request.mti), {}, tpdu, request.header)
    for n in _ECHOED:
        if n in request.fields:
            m[n] = request.fields[n]
    m[39] = code
    if carries_mac(m.mti):
        m[64] = MAC_ROOM
    return m


def kind(msg):
    """ "sign_in", "sale", "void", "reversal", "echo", "sign_off", "esign" or "" for a request (or its answer)
    of these tests."""
    base = msg.mti[:2] + str(int(msg.mti[2]) & 6) + msg.mti[3]
    if base == "0800":
        return "sign_in"
    if base == "0200" and msg.get(3) == "000000":
        return "sale"
    if base == "0200" and msg.get(3) == "200000" and msg.get(60, "")[:2] == "23":
        return "void"
    if base == "0220":
        return "refund"
    if base == "0400":
        return "reversal"
    if base == "0820" and msg.get(60, "")[8:11] == "301":
        return "echo"
    if base == "0820" and msg.get(60, "")[8:11] == "002":
        return "sign_off"
    if base == "0820" and msg.get(60, "")[8:11] == "800":
        return "esign"
    if base == "0500":
        return "settlement"
    if base == "0320" and msg.get(60, "")[8:11] == "201":
        return "batch_upload"
    if base == "0320" and msg.get(60, "")[8:11] in ("202", "207"):
        return "batch_upload_end"
    return ""


def refund_digest(req):
    """A 0220's content for the repeat check: every field but the card's (F22, F26, F35, F36, F52,
    F53) and the MAC, as the host simulator's rule (docs/HOST.md)."""
    out = []
    for n in sorted(req.fields):
        if n not in (22, 26, 35, 36, 52, 53, 64):
            out.append((n, req.fields[n]))
    return repr(out)


def _mac(algorithm, mak, data):
    return pos_ecb_mac(mak, data) if algorithm == "ecb" else x919_mac(mak, data)


class FakeHost:
    """Answers each frame LoopbackLink hands it. `plan`: actions for the next requests in turn
    (default "ok"): "ok"; "code:XX" (answer XX, MACed as every answer of this host);
    "unsigned:XX" (answer XX without F64, as some hosts decline); "mitm:XX" (a man in the middle:
    the host approves and charges, the terminal gets XX without F64, RRN or auth code); "silent"
    (processes it, answers nothing: the answer is lost); "lost" (the request is lost before the
    host processes it); "garbage"; "bad_mac"; "mismatch" (the amount changed); "dup" (the answer
    twice); "norrn" (approved, signed, no RRN); "stray" (an answer to another trace first, then
    the right one); "drop" (the connection breaks after it processed the request). `ledger`:
    (batch, trace) -> fen of sales charged and not reversed or voided; `voided`: (batch, trace) of
    a void -> (batch, trace) of the sale it voided (docs/HOST.md's void rule: 25 no such sale, 12
    voided already, 13 not its amount; a reversal of the void makes the sale live again).
    `received`: every request decoded; `bad_request_macs`: requests whose MAC was wrong."""

    def __init__(self, batch=1, mmdd="1129", hhmmss="103000", algorithm="x919"):
        self.batch = batch
        self.mmdd = mmdd
        self.hhmmss = hhmmss
        self.algorithm = algorithm
        self.mak = TripleDES(MAK)
        self.plan = []
        self.received = []
        self.frames = []
        self.ledger = {}
        self.voided = {}
        self.bad_request_macs = 0
        self.uploads = []  # e-signature uploads (0820, 60.3 800) decoded, in the order received
        self.esign_plan = []
        self.unbalance = False  # every settlement answered unbalanced (domestic)
        self.settled = {}  # batch -> its F48 result digits, as first answered (once per batch)
        self.batch_uploads = []  # (batch, trace) of each batch-upload item booked (a repeat is not)
        self.upload_ends = []  # (batch, count, 60.3) of each end message
        self.keys = field62(TMK, [PIK, MAK])
        self._rrn = 0
        self.sales = {}  # RRN of an approved sale -> (batch, trace, fen)
        self.refunds = {}  # (batch, trace) of a refund booked -> (the original's RRN, fen)
        self.back_office = {}  # the original's RRN -> fen refunded by the back office (not the terminal)
        self.seen_0220 = {}  # (batch, trace) of a 0220 -> (its digest, the answer first given)

    def _esign(self, req):
        """An e-signature upload: kept in `uploads` and answered by `esign_plan` (its own plan, so
        the other requests' plans and `received` read as before signatures were asked for):
        "ok", "code:NN", "lost" (never processed), "silent" (processed, the answer lost)."""
        action = self.esign_plan.pop(0) if self.esign_plan else "ok"
        if action == "lost":
            return b""
        self.uploads.append(req)
        if action == "silent":
            return b""
        code = action[5:] if action.startswith("code:") else "00"
        return self._frame(start_answer(req, code), False)

    def kinds(self):
        return [kind(m) for m in self.received]

    def handle(self, data):
        req = decode(data)
        if kind(req) == "esign":
            return self._esign(req)
        self.frames.append(bytes(data))
        self.received.append(req)
        if carries_mac(req.mti) and _mac(self.algorithm, self.mak, mac_input(data)) != req[64]:
            self.bad_request_macs += 1
        action = self.plan.pop(0) if self.plan else "ok"
        if action == "lost":
            return b""  # the request never reached the host's processing
        code = action[5:] if action.startswith("code:") else "00"
        if action.startswith("unsigned:"):
            code = action[9:]
        what = kind(req)
        if what == "sign_in":
            answer = self._sign_in(req, code)
        elif what == "sale":
            answer = self._sale(req, code)
        elif what == "void":
            answer = self._void(req, code)
        elif what == "reversal":
            answer = self._reversal(req, code)
        elif what == "refund":
            answer = self._refund(req, code, action)
        elif what == "settlement":
            answer = self._settlement(req, code)
        elif what == "batch_upload":
            answer = self._upload(req, code)
        elif what == "batch_upload_end":
            answer = start_answer(req, code)
            self.upload_ends.append((int(req[60][2:8]), int(req[48]), req[60][8:11]))
        elif what in ("echo", "sign_off"):
            answer = start_answer(req, code)
            answer[12] = self.hhmmss
            answer[13] = self.mmdd
        else:
            answer = start_answer(req, "12")
        if action == "mismatch":
            answer[4] = "000000000001"
        if action == "norrn":  # approved and signed, without F37
            answer.fields.pop(37, None)
        if action.startswith("unsigned:") or action.startswith("mitm:"):
            answer[39] = action[action.find(":") + 1 :]
            for n in (37, 38, 64):
                answer.fields.pop(n, None)
        frame = self._frame(answer, action == "bad_mac")
        if action == "silent":
            return b""
        if action == "drop":
            raise LinkError("host closed the connection")
        if action == "garbage":
            return b"\x00\x30" + b"\x60" * 48
        if action == "dup":
            return frame + frame
        if action == "stray":
            other = answer.copy()
            other[11] = "999999"
            return self._frame(other, False) + frame
        return frame

    def _frame(self, answer, spoil):
        frame = encode(answer)
        if 64 in answer.fields:
            mac = bytearray(_mac(self.algorithm, self.mak, mac_input(frame)))
            if spoil:
                mac[0] ^= 1
            put_mac(frame, bytes(mac))
        return bytes(frame)

    def _sign_in(self, req, code):
        answer = start_answer(req, code)
        answer[12] = self.hhmmss
        answer[13] = self.mmdd
        answer[60] = f60("00", self.batch, "003")
        if code == "00":
            answer[62] = self.keys
        return answer

    def _sale(self, req, code):
        answer = start_answer(req, code)
        answer[12] = self.hhmmss
        answer[13] = self.mmdd
        if code == "00":
            self._rrn += 1
            answer[37] = "0000" + "{:08d}".format(self._rrn)
            answer[38] = "A{:05d}".format(self._rrn)
            batch = int(req[60][2:8])
            self.ledger[(batch, int(req[11]))] = int(req[4])
            self.sales[answer[37]] = (batch, int(req[11]), int(req[4]))
        return answer

    def left(self, rrn):
        """What the refunds of the sale with this RRN (both channels) leave of it, in fen."""
        batch, trace, fen = self.sales[rrn]
        if (batch, trace) not in self.ledger:
            return 0  # voided or reversed
        done = self.back_office.get(rrn, 0)
        for key in self.refunds:
            if self.refunds[key][0] == rrn:
                done += self.refunds[key][1]
        return fen - done

    def _refund(self, req, code, action):
        # docs/HOST.md's refund rule: a repeat (the same batch and trace) with the same content but
        # the card fields (F22, F26, F35, F36, F52, F53) gets the answer first given; a card-less
        # 0220 never seen gets 25; 25 no such sale, 35 over what is left, planned codes as given.
        key = (int(req[60][2:8]), int(req[11]))
        digest = refund_digest(req)
        if code == "94":
            return start_answer(req, "94")  # as if other content had come under this trace first
        if key in self.seen_0220:
            first_digest, first = self.seen_0220[key]
            if first_digest != digest:
                return start_answer(req, "94")
            return first.copy()
        rrn = req[37]
        if code == "00":
            if 35 not in req.fields:
                code = "25"  # card-less: the refund never came with its card
            elif rrn not in self.sales:
                code = "25"
            elif int(req[4]) > self.left(rrn):
                code = "35"
        answer = start_answer(req, code)
        answer[12] = self.hhmmss
        answer[13] = self.mmdd
        if code == "00":
            self._rrn += 1
            answer[37] = "0000" + "{:08d}".format(self._rrn)
            answer[38] = "A{:05d}".format(self._rrn)
            self.refunds[key] = (rrn, int(req[4]))
        self.seen_0220[key] = (digest, answer.copy())
        return answer

    def _void(self, req, code):
        if code == "00":
            sale = (int(req[61][:6]), int(req[61][6:12]))
            if sale in self.voided.values():
                code = "12"
            elif sale not in self.ledger:
                code = "25"
            elif self.ledger[sale] != int(req[4]):
                code = "13"
        answer = start_answer(req, code)
        answer[12] = self.hhmmss
        answer[13] = self.mmdd
        if code == "00":
            self._rrn += 1
            answer[37] = "0000" + "{:08d}".format(self._rrn)
            answer[38] = "A{:05d}".format(self._rrn)
            del self.ledger[sale]
            self.voided[(int(req[60][2:8]), int(req[11]))] = sale
        return answer

    def _settlement(self, req, code):
        answer = start_answer(req, code)
        answer[12] = self.hhmmss
        answer[13] = self.mmdd
        answer[15] = self.mmdd
        if code != "00":
            return answer
        batch = int(req[60][2:8])
        if batch not in self.settled:  # the host settles a batch once: a repeat gets the same
            self.settled[batch] = "21" if self.unbalance else "11"
            self.batch = max(self.batch, batch + 1)
        digits = self.settled[batch]
        f48 = req[48]
        answer[48] = f48[:30] + digits[0] + f48[31:61] + digits[1]
        return answer

    def _upload(self, req, code):
        key = (int(req[60][2:8]), int(req[11]))
        if code == "00" and key not in self.batch_uploads:
            self.batch_uploads.append(key)
        return start_answer(req, code)

    def _reversal(self, req, code):
        key = (int(req[60][2:8]), int(req[11]))
        if code == "00" and key in self.voided:  # a void undone: its sale is live again
            sale = self.voided.pop(key)
            self.ledger[sale] = int(req[4])
        elif code == "00":
            if key not in self.ledger:
                code = "25"
            else:
                del self.ledger[key]
        answer = start_answer(req, code)
        if code != "00":
            answer.fields.pop(64, None)
        else:
            answer[64] = MAC_ROOM
        return answer


# A short signature: a wave and an underline, inside the signing area (240 x 128)
SIGNATURE = (
    [(20 + 4 * i, 50 + (i % 7) * 3 - (i % 5) * 2) for i in range(40)],
    [(30, 100), (120, 98), (200, 96)],
)


class SlowLink(LoopbackLink):
    """A LoopbackLink whose answers arrive `delay_ms` after the send, on the terminal's clock: a late
    answer (past the timeout) is lost with the connection the terminal closed."""

    def __init__(self, host, clock, delay_ms):
        super().__init__(host)
        self.clock = clock
        self.delay_ms = delay_ms
        self._at = 0
        self._held = b""

    def send(self, data):
        super().send(data)
        self._held = self._inbox
        self._inbox = b""
        self._at = self.clock.ticks_ms() + self.delay_ms

    def recv(self, max_bytes):
        if self._held and self.clock.ticks_ms() >= self._at:
            self._inbox += self._held
            self._held = b""
        return super().recv(max_bytes)

    def close(self):
        super().close()
        self._held = b""


class Rig:
    """A terminal on virtual devices with a provisioned security module (TMK loaded, no working
    keys yet), a PIN entry over the keypad, and a FakeHost behind a LoopbackLink. `display`: the
    board's display (a virtual one by default; the memory bench gives the ESP32 board's driver);
    `signature_pad` likewise (a virtual pad with a pen by default)."""

    def __init__(
        self,
        storage=None,
        host=None,
        link=None,
        key_store=None,
        clock=None,
        display=None,
        signature_pad=None,
        **params,
    ):
        self.raw = VirtualKeypad()
        self.clock = clock or VirtualClock()
        self.key_store = key_store or StorageKeyStore(RamStorage())
        self.security = SoftSecurityModule(self.key_store, urandom=lambda n: b"\x01" * n)
        if self.security.tmk_check_value() is None:
            self.security.load_tmk_components(list(TMK_PARTS))
        self.pin = KeypadPinEntry(self.raw, self.security, self.clock)
        self.host = host or FakeHost()
        self.link = link or LoopbackLink(self.host)
        self.storage = storage or RamStorage()
        devices = {  # type: dict
            "keypad": self.pin.keypad,
            "clock": self.clock,
            "storage": self.storage,
            "link": self.link,
            "security": self.security,
            "pin_entry": self.pin,
            "key_store": self.key_store,
        }
        if display is not None:
            devices["display"] = display
        if signature_pad is not None:
            devices["signature_pad"] = signature_pad
        self.board = make_board(**devices)
        if params or storage is None:
            p = Params.load(self.storage)
            p.language = "en"
            for name in params:
                setattr(p, name, params[name])
            p.save(self.storage)
        self.term = Terminal(self.board)
        set_passwords(self.term)
        self.term.settle()

    def reboot(self, sign=True):
        """Power back on with the same storage, key store, host and link (the security module
        reloads its keys from the key store). sign: when the terminal asks for the signature again
        (a cut came while the cardholder signed), the cardholder signs (False: left on screen)."""
        self.storage.power_on()
        pad = self.board.signature_pad
        rig = Rig(self.storage, self.host, self.link, self.key_store, self.clock, signature_pad=type(pad)())
        if sign:
            rig.sign()
        return rig

    def press(self, *keys):
        for key in keys:
            self.raw.press(key)
            self.term.settle()

    def screen(self):
        return "\n".join(self.board.display.lines())

    def start_sale(self, fen, event):
        """Menu -> sale -> amount -> the card presented; the terminal settles after each."""
        self.press("ENTER", "1")
        self.press(*list(str(fen)))
        self.press("ENTER")
        assert self.board.card_reader.present(event), self.screen()
        self.term.settle()

    def sale(self, fen=1234, event=None, pin="1234", sign=True):
        """A whole sale: the card (a chip card needing a PIN by default), the PIN, authorising, and
        when approved the signature (sign: a stroke drawn and OK; False: the signing screen left)."""
        self.start_sale(fen, event or chip())
        if pin is not None and "Enter PIN" in self.screen():
            self.press(*list(pin))
            self.press("ENTER")
        self.term.settle()
        if sign:
            self.sign()
        return self.screen()

    def signing(self):
        """True if the signing screen is up (the pad capturing)."""
        pad = self.board.signature_pad
        return getattr(pad, "active", lambda: False)() and "Signature" in self.screen()

    def sign(self, strokes=SIGNATURE):
        """If the signing screen is up: the cardholder draws strokes and presses OK."""
        if not self.signing():
            return False
        pad = self.board.signature_pad
        for stroke in strokes:
            pad.draw([stroke])
            self.term.settle()
        pad.confirm()
        self.term.settle()
        return True

    def void(self, trace, event=None, pin="1234", sign=True):
        """Menu 2 -> the supervisor's password -> the trace -> ENTER on the original shown -> the
        card (a chip card by default) and its PIN when asked; the screen at the end."""
        self.press("ENTER", "2")
        if self.term.screen.masked_input:
            self.press(*SUPERVISOR_PASSWORD)
            self.press("ENTER")
        self.press(*list("{:d}".format(trace)))
        self.press("ENTER")
        if "Void it?" not in self.screen():
            return self.screen()  # refused
        self.press("ENTER")
        if "Card of the sale" in self.screen():
            assert self.board.card_reader.present(event or chip()), self.screen()
            self.term.settle()
        if pin is not None and "Enter PIN" in self.screen():
            self.press(*list(pin))
            self.press("ENTER")
        self.term.settle()
        if sign:
            self.sign()
        return self.screen()

    def refund(self, rrn, mmdd, fen, reason=1, event=None, confirm=True, sign=True):
        """Menu 3 -> the supervisor's password -> the card (a chip card by default) -> the
        original's RRN -> its date -> the amount -> the reason (1..5) -> ENTER on the summary
        (confirm), and when approved the signature (sign: a stroke drawn and OK; False: the signing
        screen left); the screen at the end (a refusal stops it where it is shown)."""
        self.press("ENTER", "3")
        if self.term.screen.masked_input:
            self.press(*SUPERVISOR_PASSWORD)
            self.press("ENTER")
        if "Card to refund to" not in self.screen():
            return self.screen()
        assert self.board.card_reader.present(event or chip()), self.screen()
        self.term.settle()
        for typed, then in ((rrn, "Original date"), (mmdd, "Refund amount"), (str(fen), "Refund reason")):
            if "_" not in self.screen() and "¥" not in self.screen():
                return self.screen()
            self.press(*list(typed))
            self.press("ENTER")
            if then not in self.screen():
                return self.screen()
        self.press(str(reason))
        if not confirm or "Refund it?" not in self.screen():
            return self.screen()
        self.press("ENTER")
        self.term.settle()
        if sign:
            self.sign()
        return self.screen()

    def settle(self, password=None):
        """Menu 4 -> the supervisor's password -> ENTER on the totals: the screen at the end (the
        report, or why not). A refusal before the totals returns its screen."""
        self.press("ENTER", "4")
        if self.term.screen.masked_input:
            self.press(*(password or SUPERVISOR_PASSWORD))
            self.press("ENTER")
        if type(self.term.screen).__name__ != "ConfirmScreen":  # refused: not the totals
            return self.screen()
        self.press("ENTER")
        self.term.settle()
        return self.screen()

    def wait(self, seconds):
        """Let seconds pass a second at a time, the loop running (the session's timeout)."""
        for _ in range(int(seconds)):
            self.clock.advance(1)
            self.term.settle()
