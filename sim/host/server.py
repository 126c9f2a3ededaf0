# The host as a server: an asyncio TCP listener (127.0.0.1 unless bound elsewhere) framing by the
# 2-byte length, one ledger worker thread that decides requests in group-committed transactions,
# the faults, the frame trace, and the in-process control API (Host). Never logs a key, a PIN or
# card data; the trace holds whole frames and is a test tool only (docs/HOST.md).
import asyncio
import dataclasses
import datetime
import errno
import json
import queue
import random
import socket
import sys
import threading
from dataclasses import dataclass

from firmware.host.codec import MAX_BODY
from sim.host.acquirer import Acquirer, Outcome, china_now
from sim.host.ledger import Ledger
from sim.host.provisioning import DEFAULT_DIR, Provisioning

FAULT_KINDS = ("no-answer", "late", "drop", "garbage", "bad-mac", "duplicate")
FINANCIAL = ("0200", "0220", "0400")  # what a fault acts on unless told an MTI
# A fate per request, reported as it is decided (Host.fates, Host.wait_for).
FATE_OF = {
    None: "answered",
    "no-answer": "withheld",
    "late": "late",
    "drop": "dropped",
    "garbage": "garbled",
    "bad-mac": "bad_mac",
    "duplicate": "duplicated",
}
# Fates of frames the host does not process: "rejected" (answered 30, format error), "closed"
# (closed the connection: unreadable length, oversized, truncated, too slow, not a request).
LATE_MS = 35000  # longer than a terminal's answer timeout
GROUP = 256  # most requests one ledger commit decides
_MIN_BODY = 21  # TPDU + header + MTI + bitmap
MAX_CONNECTIONS = 1000  # connections open at once; a new one closes the idlest
MAX_PER_PEER = 64  # connections from one address (every simulator terminal is on 127.0.0.1)
BACKLOG = 128  # the listener's queue; also the most connections one wake-up accepts
ACCEPT_RETRY_S = 0.1  # out of descriptors with none of ours to close: wait this long, accept again
FD_RESERVE = 8  # out of descriptors: keep this many free below the connections (files, the ledger)
# accept() errors that mean "no descriptor (or memory) for a new socket now", not a bad peer
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


@dataclass(frozen=True, slots=True, repr=False)
class Fate:
    """What became of one request: seq (1, 2, ... in decision order), peer "IP:port", mti, kind
    (sim.host.answers.kind), terminal_id, trace (int or None), code (the answer's F39, "" when
    none) and fate (answered, withheld, late, dropped, garbled, bad_mac, duplicated, rejected,
    closed)."""

    seq: int
    peer: str
    mti: str
    kind: str
    terminal_id: str
    trace: int | None
    code: str
    fate: str

    @classmethod
    def of(cls, seq, peer, outcome, fate):
        """The Fate of request number seq from peer, which the host decided as outcome."""
        o = outcome
        return cls(seq, peer, o.mti, o.kind, o.terminal_id, o.trace, o.code, fate)

    def __repr__(self):
        return "Fate({} {} {} {} trace={} code={} {})".format(
            self.seq, self.peer, self.mti, self.kind, self.trace, self.code or "-", self.fate
        )


@dataclasses.dataclass(eq=False)
class _Conn:
    """One accepted connection: its socket, the peer's address (ip, and "ip:port" for the fates),
    when it was last active (a counter: higher is more recent), whether a request of it is being
    decided or answered (busy), and its stream writer once the event loop has taken it."""

    sock: socket.socket
    ip: str
    peer: str
    last: int
    busy: bool = False
    writer: asyncio.StreamWriter | None = None
    evicted: bool = False

    def idleness(self):
        """Sort key: the idlest first (not busy before busy, then the least recently active)."""
        return (self.busy, self.last)


class FaultPlan:
    """Which answers a fault hits: kind (FAULT_KINDS), on (an MTI, a tuple of MTIs, or None =
    every financial request), and either count (the next N matching requests; 0 = every one) or
    rate (each matching request with probability rate, from random.Random(seed))."""

    def __init__(self, kind, on=None, count=1, rate=None, seed=None, late_ms=LATE_MS):
        if kind not in FAULT_KINDS:
            raise ValueError("fault must be one of " + ", ".join(FAULT_KINDS))
        if type(count) is not int or count < 0:
            raise ValueError("fault count must be an int >= 0")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be 0..1")
        if type(late_ms) is not int or late_ms < 0:
            raise ValueError("late ms must be an int >= 0")
        self.kind = kind
        self.on = FINANCIAL if on is None else (on,) if isinstance(on, str) else tuple(on)
        for mti in self.on:
            if type(mti) is not str or len(mti) != 4 or not mti.isdigit():
                raise ValueError("fault-on takes 4-digit MTIs such as 0200")
        self.count = count
        self.rate = rate
        self.random = random.Random(seed)
        self.late_ms = late_ms
        self.left = count  # with count > 0: how many more it hits

    def decide(self, outcome):
        """The fault kind for this answer, or None. bad-mac hits only answers that carry F64."""
        if outcome.mti not in self.on or not outcome.kind:
            return None
        if self.kind == "bad-mac" and not _has_mac(outcome.answer):
            return None
        if self.rate is not None:
            return self.kind if self.random.random() < self.rate else None
        if self.count == 0:
            return self.kind
        if self.left > 0:
            self.left -= 1
            return self.kind
        return None


def _listen(bind, port):
    """The listening socket on bind:port (non-blocking); OSError when it cannot be had."""
    family, _, _, _, address = socket.getaddrinfo(
        bind, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.create_server(address, family=family, backlog=BACKLOG)
    sock.setblocking(False)
    return sock


def _has_mac(frame):
    return frame is not None and len(frame) > 23 and bool(frame[22] & 1)


class Trace:
    """--trace FILE: one JSON object per line per frame, both directions, appended and flushed.
    It holds whole frames, track data included: a test tool only."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def frame(self, direction, peer, data):
        t = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
        self.file.write(json.dumps({"t": t, "dir": direction, "peer": peer, "hex": bytes(data).hex()}) + "\n")
        self.file.flush()

    def close(self):
        self.file.close()


class _Worker(threading.Thread):
    """The ledger's one thread: takes requests (and calls) from a queue, decides a group of them
    in one transaction (a savepoint each), commits once, then hands the outcomes back."""

    def __init__(self, acquirer):
        super().__init__(name="host-ledger", daemon=True)
        self.acquirer = acquirer
        self.db = acquirer.db
        self.jobs: queue.Queue = queue.Queue()

    def submit(self, job, done):
        """job(acquirer) runs on this thread; done(result, error) is called after the commit."""
        self.jobs.put((job, done))

    def run(self):
        while True:
            first = self.jobs.get()
            if first is None:
                return
            group = [first]
            while len(group) < GROUP:
                try:
                    item = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.jobs.put(None)
                    break
                group.append(item)
            for done, result, error in self._decide(group):
                try:
                    done(result, error)
                except RuntimeError:  # the event loop closed meanwhile (shutting down)
                    pass

    def _decide(self, group):
        """[(done, result, error)] of a group, committed together. A job that raises is rolled
        back alone; a transaction that cannot begin or commit (the file locked, the disk full)
        fails the whole group, and the worker goes on with the next one."""
        results: list = []
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except Exception as e:
            return [(done, None, e) for _, done in group]
        for job, done in group:
            self.db.execute("SAVEPOINT job")
            try:
                results.append((done, job(self.acquirer), None))
                self.db.execute("RELEASE job")
            except Exception as e:  # one bad request must not take the others down
                self.db.execute("ROLLBACK TO job")
                self.db.execute("RELEASE job")
                results.append((done, None, e))
        try:
            self.db.execute("COMMIT")
        except Exception as e:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            return [(done, None, e) for done, _, _ in results]
        return results


class Host:
    """The acquirer host simulator. Embedded use (make sim and the scenario runner, sim/__main__.py):

        host = Host(db=":memory:")
        port = host.start()                  # a thread of its own; listening on 127.0.0.1:port
        host.set_fault("no-answer", on="0200")
        fates = host.wait_for(1)             # blocks until the host has decided one request
        host.stop()

    `serve()` runs it in the calling thread instead (the command line)."""

    def __init__(
        self,
        db=":memory:",
        port=0,
        trace=None,
        provisioning=DEFAULT_DIR,
        unbalance=False,
        clock=None,
        idle_s=120.0,
        frame_s=10.0,
        max_connections=MAX_CONNECTIONS,
        busy_s=5.0,
        bind="127.0.0.1",
        max_per_peer=MAX_PER_PEER,
    ):
        for name, value in (("max connections", max_connections), ("max per peer", max_per_peer)):
            if type(value) is not int or value < 1:
                raise ValueError("{} must be an int >= 1".format(name))
        self.ledger = Ledger(db, busy_s)
        self.acquirer = Acquirer(self.ledger, Provisioning(provisioning), clock, unbalance)
        self.port = port
        self.bind = bind  # the address it listens on: loopback unless a board on the LAN needs it
        self.trace = Trace(trace) if trace else None
        self.idle_s = idle_s
        self.frame_s = frame_s
        self.max_connections = max_connections
        self.max_per_peer = max_per_peer
        self.plan = None
        self.fates: queue.Queue = queue.Queue()
        self.history: list = []
        self.errors: list = []  # type names of exceptions a request raised (a host bug)
        self._seq = 0
        self._lock = threading.Lock()
        self._worker = _Worker(self.acquirer)
        self._loop = None
        self._stopping = None
        self._release = None
        self._thread = None
        self._started = threading.Event()
        self._error = None
        self._conns: set = set()  # the open connections (_Conn)
        self._tasks: set = set()  # their tasks
        self._tick = 0  # activity counter of _Conn.last
        self._listener = None
        self._accepting = False
        self._fd_cap = None  # once out of descriptors: the most connections that leave FD_RESERVE free
        self._fd_warned = False  # "out of file descriptors" is said once

    # ---- control API ------------------------------------------------------------------------------
    def set_fault(self, kind, on=None, count=1, rate=None, seed=None, late_ms=LATE_MS):
        """From now on, hit answers with this fault (FaultPlan); replaces any fault set before."""
        plan = FaultPlan(kind, on, count, rate, seed, late_ms)
        with self._lock:
            self.plan = plan

    def clear_faults(self):
        with self._lock:
            self.plan = None

    def wait_for(self, n=1, timeout=10.0):
        """The next n fates, in decision order; TimeoutError if they are not all decided within
        timeout seconds (a bound for a stuck test, not a clock to wait on)."""
        out = []
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=timeout)
        while len(out) < n:
            left = (deadline - datetime.datetime.now()).total_seconds()
            try:
                out.append(self.fates.get(timeout=max(left, 0.0)))
            except queue.Empty:
                raise TimeoutError("{} of {} fates decided".format(len(out), n))
        return out

    def set_clock(self, clock):
        """From now on the host's time is clock() (a naive datetime in China time, as the Acquirer's
        clock; None: china_now, the real time). sim.host.acquirer.clock_of(seconds) makes one from
        a function of Unix seconds (a simulator run's virtual clock)."""
        self.acquirer.clock = clock or china_now

    def release_late(self):
        """Send every answer a `late` fault is holding now, instead of at late_ms."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._release_all)

    def call(self, fn, timeout=10.0):
        """fn(acquirer) run on the ledger's thread between requests (e.g. a.ledger.balance(pan),
        a.ledger.txns(), a.clock = ...); its result."""
        box: queue.Queue = queue.Queue()
        self._worker.submit(fn, lambda result, error: box.put((result, error)))
        result, error = box.get(timeout=timeout)
        if error is not None:
            raise error
        return result

    # ---- running ----------------------------------------------------------------------------------
    def start(self, timeout=10.0):
        """Run in a thread of its own; the port it listens on."""
        self._thread = threading.Thread(target=self._run_thread, name="host", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError("the host did not start")
        if self._error is not None:
            raise self._error
        return self.port

    def _run_thread(self):
        try:
            asyncio.run(self._main(None))
        except Exception as e:
            self._error = e
            self._started.set()

    def serve(self, ready=None):
        """Run in this thread until stop() (or KeyboardInterrupt); ready(port) once listening."""
        asyncio.run(self._main(ready))

    def stop(self, timeout=10.0):
        """Stop serving, finish the ledger's work, close it (and the trace). Idempotent."""
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stopping.set)
            except RuntimeError:  # the loop closed meanwhile: already stopped
                pass
        if self._thread is not None:
            self._thread.join(timeout)

    async def _main(self, ready):
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._release = asyncio.Event()
        self._worker.start()
        try:
            self._listener = _listen(self.bind, self.port)
        except BaseException:
            self._worker.jobs.put(None)
            raise
        self.port = self._listener.getsockname()[1]
        self._resume_accept()
        self._started.set()
        if ready is not None:
            ready(self.port)
        try:
            await self._stopping.wait()
        finally:
            self._pause_accept()
            self._listener.close()
            for conn in list(self._conns):
                if conn.writer is not None:
                    conn.writer.close()
            self._worker.jobs.put(None)
            await asyncio.to_thread(self._worker.join)
            self.ledger.close()
            if self.trace is not None:
                self.trace.close()

    def _release_all(self):
        self._release.set()
        self._release = asyncio.Event()

    # ---- accepting: never refuse a new connection, close the idlest instead ---------------------------
    def _resume_accept(self):
        if not self._accepting and not self._stopping.is_set():
            self._loop.add_reader(self._listener.fileno(), self._accept_ready)
            self._accepting = True

    def _pause_accept(self):
        if self._accepting:
            self._loop.remove_reader(self._listener.fileno())
            self._accepting = False

    def _accept_ready(self):
        for _ in range(BACKLOG):
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in _OUT_OF_RESOURCES:
                    self._out_of_descriptors(e)
                    return
                continue  # that peer's connection failed on the way in (reset, aborted): the next
            sock.setblocking(False)
            self._make_room(address[0])
            conn = _Conn(sock, address[0], "{}:{}".format(address[0], address[1]), self._touch())
            self._conns.add(conn)
            task = self._loop.create_task(self._client(conn))
            self._tasks.add(task)  # a strong reference while it runs (the loop keeps weak ones)
            task.add_done_callback(self._tasks.discard)

    def _out_of_descriptors(self, error):
        """accept() found no descriptor for the connection waiting (the process's limit): from now
        on at most FD_RESERVE fewer connections than are open now (the ledger, the trace and the
        provisioning files need descriptors too), the idlest closed down to that; accepting goes
        on at the loop's next turn, when their descriptors are free (with none of ours to close: in
        ACCEPT_RETRY_S). Said once, on stderr."""
        if not self._fd_warned:
            self._fd_warned = True
            name = errno.errorcode.get(error.errno, error.errno)
            print(
                "host: out of file descriptors ({}) at {} connections: fewer from now on,"
                " the idlest closed first".format(name, len(self._conns)),
                file=sys.stderr,
                flush=True,
            )
        if len(self._conns) > FD_RESERVE:  # else they are not what uses the descriptors
            cap = len(self._conns) - FD_RESERVE
            self._fd_cap = cap if self._fd_cap is None else min(self._fd_cap, cap)
        keep = len(self._conns) if self._fd_cap is None else self._fd_cap
        victims = sorted(self._conns, key=_Conn.idleness)[: max(0, len(self._conns) - keep)]
        freed = False
        for conn in victims:
            freed = freed or conn.writer is not None
            self._evict(conn)
        self._pause_accept()
        if freed:
            self._loop.call_soon(self._resume_accept)  # after their sockets close (queued first)
        else:
            self._loop.call_later(ACCEPT_RETRY_S, self._resume_accept)

    def _make_room(self, ip):
        """Before taking a connection from ip: when ip has max_per_peer open, close its idlest; else
        when the most connections are open (max_connections, or fewer once out of descriptors),
        close the idlest of all."""
        limit = self.max_connections if self._fd_cap is None else min(self.max_connections, self._fd_cap)
        mine = [c for c in self._conns if c.ip == ip]
        if len(mine) >= self.max_per_peer:
            self._evict(min(mine, key=_Conn.idleness))
        elif len(self._conns) >= limit:
            self._evict(min(self._conns, key=_Conn.idleness))

    def _evict(self, conn):
        """Close conn now (its descriptor is freed on the loop's next turn); it no longer counts."""
        self._conns.discard(conn)
        conn.evicted = True
        if conn.writer is not None:
            conn.writer.transport.abort()

    def _touch(self):
        self._tick += 1
        return self._tick

    # ---- one connection -----------------------------------------------------------------------------
    def _report(self, peer, outcome, fate):
        with self._lock:
            self._seq += 1
            f = Fate.of(self._seq, peer, outcome, fate)
        self.history.append(f)
        self.fates.put(f)
        return f

    def _decide(self, frame):
        loop = self._loop
        future = loop.create_future()

        def done(result, error):
            loop.call_soon_threadsafe(self._settle, future, result, error)

        self._worker.submit(lambda acquirer: acquirer.process(frame), done)
        return future

    def _send(self, writer, peer, data):
        if self.trace is not None:
            self.trace.frame("out", peer, data)
        writer.write(data)

    async def _client(self, conn):
        """Serve one accepted connection (as asyncio.start_server would: a reader and a writer)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_BODY + 2)
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            transport, _ = await loop.connect_accepted_socket(lambda: protocol, conn.sock)
        except OSError:
            self._conns.discard(conn)
            conn.sock.close()
            return
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        conn.writer = writer
        try:
            if not conn.evicted:
                await self._serve_peer(reader, writer, conn)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            self._conns.discard(conn)
            if conn.evicted:
                writer.transport.abort()
            else:
                writer.close()

    async def _serve_peer(self, reader, writer, conn):
        peer = conn.peer
        while True:
            conn.busy = False
            try:
                head = await asyncio.wait_for(reader.readexactly(2), self.idle_s)
            except asyncio.IncompleteReadError as e:
                if e.partial:
                    self._report(peer, Outcome(None), "closed")
                return
            size = head[0] << 8 | head[1]
            if size < _MIN_BODY or size > MAX_BODY:
                self._report(peer, Outcome(None), "closed")
                return
            try:
                body = await asyncio.wait_for(reader.readexactly(size), self.frame_s)
            except (asyncio.IncompleteReadError, TimeoutError):
                self._report(peer, Outcome(None), "closed")
                return
            frame = head + body
            conn.last = self._touch()
            conn.busy = True
            if self.trace is not None:
                self.trace.frame("in", peer, frame)
            outcome = await self._decide(frame)
            if outcome.answer is None:
                self._report(peer, outcome, "closed")
                return
            if not outcome.decoded:
                self._report(peer, outcome, "rejected")
                self._send(writer, peer, outcome.answer)
                await asyncio.wait_for(writer.drain(), self.frame_s)
                continue
            with self._lock:
                plan = self.plan
                fault = plan.decide(outcome) if plan is not None else None
            self._report(peer, outcome, FATE_OF[fault])
            answer = outcome.answer
            if fault == "no-answer":
                continue
            if fault == "drop":
                return
            if fault == "late":
                release = self._release
                try:
                    await asyncio.wait_for(release.wait(), plan.late_ms / 1000)
                except TimeoutError:
                    pass
                if writer.is_closing():
                    return
            elif fault == "garbage":
                body = bytearray(plan.random.randbytes(len(answer) - 2))
                body[0] = 0  # never a TPDU (60 ..): the frame cannot decode
                answer = answer[:2] + bytes(body)
            elif fault == "bad-mac":
                answer = answer[:-1] + bytes((answer[-1] ^ 0x01,))
            self._send(writer, peer, answer)
            if fault == "duplicate":
                self._send(writer, peer, answer)
            await asyncio.wait_for(writer.drain(), self.frame_s)
            conn.last = self._touch()

    def _settle(self, future, result, error):
        """Hand a decision back to its connection. A request whose processing raised (a bug) is
        rolled back, its connection closed, and the error's type kept in `errors` (no content)."""
        if error is not None:
            self.errors.append(type(error).__name__)
            print("host: request failed: {}".format(type(error).__name__), file=sys.stderr)
            result = Outcome(None)
        if not future.done():
            future.set_result(result)
