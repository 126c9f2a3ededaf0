# The host session (主机会话): one request and its answer over the Link, advanced by step() from the
# event loop. Never blocks, never trusts an answer before check_answer and the MAC, never logs a frame.
#
# start() MACs the request through the security module and opens the link; step() connects, sends,
# reads the 2-byte length and the frame, decodes it, checks it and verifies its MAC. Every phase has
# the same timeout (the host_timeout_s parameter) counted on the Clock's ticks. Frames that answer
# another message (a late or duplicate answer of an earlier request) are dropped, never counted.
# The terminal has one session, which the sale, the reversal, the sign-in and the echo test share:
# each exchange is numbered (`exchange`), and its answer is never handed to another (see reset()).

from firmware.compat import const
from firmware.host.codec import (
    MAX_BODY,
    ProtocolError,
    answer_mti,
    decode,
    encode_into,
    frame_size,
    mac_input,
    put_mac,
)
from firmware.host.messages import carries_mac, check_answer
from hal.contracts import HalError, LinkError, ticks_add, ticks_diff

# States, in order; DONE and FAILED are final.
IDLE = "idle"
CONNECTING = "connecting"
SENDING = "sending"
RECEIVING = "receiving"
DONE = "done"
FAILED = "failed"

# Why a session failed. The first three mean the request never left the terminal (nothing to
# reverse); the others leave it in doubt.
UNREACHABLE = "unreachable"  # no connection (refused, network down, connect timeout)
CANCELLED = "cancelled"  # CANCEL before anything was sent
NO_KEY = "no_key"  # the security module could not MAC the request (no working keys)
NOT_WRITTEN = "unwritten"  # the caller's write before the send failed (storage): nothing sent
NO_ANSWER = "no_answer"  # sent, no answer before the timeout
BROKEN = "broken"  # the link broke after sending began
GARBAGE = "garbage"  # bytes that are not a frame of ours
MISMATCH = "mismatch"  # a frame for our trace that fails check_answer (amount, terminal, ...)
BAD_MAC = "bad_mac"  # the answer's F64 is not the MAC of its content
NEVER_SENT = (UNREACHABLE, CANCELLED, NO_KEY, NOT_WRITTEN)

_STRAY_MAX = const(4)  # frames of other messages dropped before the connection counts as garbage
_READS_PER_STEP = const(8)


def split_host(value):
    """("10.0.0.5", 8583) of the host parameter "10.0.0.5:8583"; ValueError if malformed."""
    if type(value) is not str or value.count(":") != 1:
        raise ValueError("host must be host:port")
    host, port = value.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("host must be host:port")
    return host, int(port)


class Session:
    """One exchange at a time over `link`. After start(), call step() every loop pass until `state`
    is DONE (then `answer` and `code`) or FAILED (then `error`, one of the reasons above). `sent`
    tells whether send() was ever called for this request (a partial send counts: it may have
    left). One frame buffer serves the request, then the answer: the request is wiped once the
    link has taken all of it, before the answer is read. `frame`: that buffer, a bytearray of
    MAX_BODY + 2 bytes the caller allocated early (Terminal: at boot, before the heap fragments);
    None: allocated here, once per session object. ValueError for another size or type."""

    def __init__(self, link, clock, security, mac_algorithm="x919", frame=None):
        self.link = link
        self.clock = clock
        self.security = security
        self.mac_algorithm = mac_algorithm
        if frame is None:
            frame = bytearray(MAX_BODY + 2)
        elif type(frame) is not bytearray or len(frame) != MAX_BODY + 2:
            raise ValueError("the frame buffer is a bytearray of MAX_BODY + 2 bytes")
        self._out = frame  # the request, sent from here
        self._in = frame  # the answer, read into the same bytes once the request is gone
        self.exchange = 0  # counts start(): whose answer `answer` is
        self._n = 0
        self._reset()

    def reset(self):
        """Forget the last exchange: IDLE, no answer, no code, no error, the request wiped and the
        link closed (an answer still on its way is lost with the connection). A new user of the
        session (a sale, an echo test) calls it first, so that it never reads the answer of an
        exchange it did not start; start() does it too."""
        self._wipe_out()
        if self.state in (CONNECTING, SENDING, RECEIVING):
            self._close()
        self._reset()

    def _reset(self):
        self.state = IDLE
        self.error = None
        self.answer = None
        self.code = None
        self.sent = False
        self.strays = 0  # frames of other messages dropped
        self._request = None
        self._have = 0
        self._size = 0
        self._deadline = 0
        self._timeout_ms = 0
        self._before_send = None

    def start(self, request, host, timeout_ms, before_send=None):
        """Begin the exchange of `request` (a Message, F64 = MAC_ROOM when its MTI carries a MAC)
        with `host` ("ip:port"). before_send(): called once connected, just before the first byte
        goes (the caller's last durable write, e.g. a reversal's attempt count); an exception from
        it fails the session as NOT_WRITTEN with nothing sent. ProtocolError if the request cannot
        be encoded; ValueError for a bad host. The state is CONNECTING or FAILED afterwards, and
        `exchange` one more: nothing of an earlier exchange (its answer, its code, its connection
        with whatever it still held) is left."""
        self.reset()
        self.exchange += 1
        self._request = request
        self._timeout_ms = timeout_ms
        self._before_send = before_send
        n = encode_into(request, self._out)
        self._n = n
        if carries_mac(request.mti):
            try:
                mac = self.security.mac(mac_input(self._out, n), self.mac_algorithm)
            except HalError:
                return self._fail(NO_KEY)
            put_mac(self._out, mac, n)
        ip, port = split_host(host)
        self._deadline = ticks_add(self.clock.ticks_ms(), timeout_ms)
        self.state = CONNECTING
        try:
            self.link.open(ip, port)
        except LinkError:
            return self._fail(UNREACHABLE)

    def cancel(self):
        """CANCEL: abort while nothing has been sent (True); once sending began, False (the answer
        must be waited for, or the request reversed)."""
        if self.state == CONNECTING:
            self._fail(CANCELLED)
            return True
        return False

    def remaining_s(self):
        """Whole seconds before the current phase times out (the screen's countdown); 0 when done."""
        if self.state not in (CONNECTING, SENDING, RECEIVING):
            return 0
        ms = ticks_diff(self._deadline, self.clock.ticks_ms())
        return 0 if ms <= 0 else (ms + 999) // 1000

    def done(self):
        return self.state == DONE or self.state == FAILED

    def step(self):
        """Advance as far as the link allows now; True if the state changed or bytes moved."""
        state = self.state
        try:
            if state == CONNECTING:
                return self._connecting()
            if state == SENDING:
                return self._sending()
            if state == RECEIVING:
                return self._receiving()
        except LinkError:
            self._fail(BROKEN if self.sent else UNREACHABLE)
            return True
        return False

    def _expired(self):
        return ticks_diff(self.clock.ticks_ms(), self._deadline) >= 0

    def _connecting(self):
        if self.link.poll_open() is None:
            if self._expired():
                self._fail(UNREACHABLE)
                return True
            return False
        if self._before_send is not None:
            try:
                self._before_send()
            except Exception:  # noqa: BLE001 - the caller's durable write failed: never send
                self._fail(NOT_WRITTEN)
                return True
        self.sent = True
        self.link.send(memoryview(self._out)[: self._n])
        self.state = SENDING
        return self._sending() or True

    def _sending(self):
        if self.link.flush() == 0:
            self._wipe_out()
            self.state = RECEIVING
            self._deadline = ticks_add(self.clock.ticks_ms(), self._timeout_ms)
            return True
        if self._expired():
            self._fail(NO_ANSWER)
            return True
        return False

    def _receiving(self):
        moved = False
        for _ in range(_READS_PER_STEP):
            need = 2 - self._have if self._have < 2 else self._size - self._have
            data = self.link.recv(need)
            if not data:
                break
            moved = True
            have = self._have
            self._in[have : have + len(data)] = data
            self._have = have + len(data)
            if self._have == 2:
                try:
                    self._size = frame_size(self._in)
                except ProtocolError:
                    self._fail(GARBAGE)
                    return True
            if self._have >= 2 and self._have == self._size:
                if self._frame():
                    return True
        if not moved and self._expired():
            self._fail(NO_ANSWER)
            return True
        return moved

    def _frame(self):
        """A whole frame is in: decide. True when the session ended."""
        frame = bytes(memoryview(self._in)[: self._size])
        self._have = 0
        self._size = 0
        request = self._request
        if request is None:
            return False  # cannot happen: frames are read only while a request is out
        try:
            answer = decode(frame)
        except ProtocolError:
            self._fail(GARBAGE)
            return True
        if answer.mti != answer_mti(request.mti) or (11 in request.fields and answer.get(11) != request[11]):
            # Not the answer to this request: a late or duplicate answer of an earlier one.
            self.strays += 1
            if self.strays > _STRAY_MAX:
                self._fail(GARBAGE)
                return True
            return False
        try:
            code = check_answer(request, answer)
        except ProtocolError:
            self._fail(MISMATCH)
            return True
        if carries_mac(answer.mti) and 64 in answer.fields:
            try:
                good = self.security.verify_mac(mac_input(frame), answer[64], self.mac_algorithm)
            except (HalError, ProtocolError):
                good = False
            if not good:
                self._fail(BAD_MAC)
                return True
        self.answer = answer
        self.code = code
        self.state = DONE
        self._close()
        return True

    def _fail(self, reason):
        self.error = reason
        self.state = FAILED
        self._wipe_out()
        self._close()

    def _close(self):
        self._request = None
        try:
            self.link.close()
        except LinkError:
            pass  # closing a broken link: nothing more to do

    def _wipe_out(self):
        # The request frame held track 2 and the PIN block: nothing of it stays in RAM.
        buf = self._out
        for i in range(self._n):
            buf[i] = 0
        self._n = 0
