# A test terminal for the host simulator's tests: it speaks to a running sim.host over TCP and does
# its key and MAC work with the terminal's own soft primitives (hal/soft/des.py, hal/soft/mac.py), while the
# host uses `cryptography`: every exchange here is a cross-check of the two.
import socket

from firmware.host import messages as msg
from firmware.host.codec import decode, encode, frame_size, mac_input, put_mac
from hal.soft.des import TripleDES, check_value
from hal.soft.mac import pin_block_format0, pos_ecb_mac, x919_mac
from sim.cards import DECK
from sim.host.acquirer import card_pin as host_card_pin

TID = "10000001"
MID = "898100012340001"
TMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # sim/provisioning/10000001.json
ACC = msg.Acceptor(TID, MID)
RIGHT = "right"  # sale(pin=RIGHT): the card's own PIN


def card_pin(name):
    """The PIN the host expects for a deck card: its `pin` in the deck."""
    return host_card_pin(DECK[name])


def track2(name):
    return DECK[name].track2


def pan(name):
    return DECK[name].track2.split("=")[0]


class Client:
    """One connection to the host as terminal TID; batch 1 until told otherwise."""

    def __init__(
        self, port, acc=ACC, tmk=TMK, algorithm="x919", timeout=10.0, address="127.0.0.1", source=None
    ):
        """source: the local address to connect from (e.g. 127.0.0.2: another peer for the host)."""
        where = None if source is None else (source, 0)
        self.sock = socket.create_connection((address, port), timeout=timeout, source_address=where)
        self.acc = acc
        self.tmk = TripleDES(tmk)
        self.algorithm = algorithm
        self.mak = None
        self.pik = None
        self.batch = 1
        self.trace = 0

    def close(self):
        self.sock.close()

    def next_trace(self):
        self.trace += 1
        return self.trace

    # ---- frames -------------------------------------------------------------------------------
    def frame(self, message):
        """The encoded frame of message, MACed under the session key when it carries F64."""
        frame = encode(message)
        if 64 in message.fields and self.mak is not None:
            put_mac(frame, self.mac(mac_input(frame)))
        return bytes(frame)

    def mac(self, data):
        return x919_mac(self.mak, data) if self.algorithm == "x919" else pos_ecb_mac(self.mak, data)

    def send(self, data):
        self.sock.sendall(data)

    def read_frame(self):
        """One whole frame, or b"" when the host closed the connection."""
        head = self._read(2)
        if len(head) < 2:
            return b""
        return head + self._read(frame_size(head) - 2)

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                break
            out += chunk
        return out

    def exchange(self, message):
        """Send message, read the answer, check it (check_answer and, when present, its MAC);
        returns the decoded answer."""
        self.send(self.frame(message))
        frame = self.read_frame()
        assert frame, "the host closed the connection"
        answer = decode(frame)
        msg.check_answer(message, answer)
        if 64 in answer.fields and self.mak is not None:
            assert answer[64] == self.mac(mac_input(frame)), "answer MAC"
        return answer

    # ---- messages -----------------------------------------------------------------------------
    def sign_in(self):
        answer = self.exchange(msg.sign_in(self.acc, self.next_trace(), self.batch))
        assert answer[39] == "00"
        keys = msg.working_keys(answer)
        pik = self.tmk.decrypt(keys.pin_key)
        mak = self.tmk.decrypt(keys.mac_key)
        assert check_value(pik) == keys.pin_check and check_value(mak) == keys.mac_check
        self.pik = TripleDES(pik)
        self.mak = TripleDES(mak)
        self.batch = msg.batch_of(answer)
        return answer

    def pin_block(self, pin, card):
        return self.pik.encrypt(bytes(pin_block_format0(pin, pan(card))))

    def sale(self, amount, card="debit", pin=RIGHT, entry="swipe", trace=None):
        """A 0200 sale; pin: RIGHT (the card's PIN), None (no PIN block) or the digits to send."""
        if pin == RIGHT:
            pin = card_pin(card)
        return msg.sale(
            self.acc,
            trace or self.next_trace(),
            self.batch,
            amount,
            track2(card),
            entry,
            pin_block=None if pin is None else self.pin_block(pin, card),
        )
