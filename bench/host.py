# The host simulator under load: 50 terminals on loopback, each its own connection, signed in, then
# sending pre-built sale frames (MACs computed beforehand with `cryptography`, so the clients cost
# little) one after another against the durable ledger (WAL, synchronous=FULL, a file on disk).
# Prints TPS and p50/p99 latency; never asserts. Goal: 2,000 TPS with p99 under 50 ms.
#
# python bench/host.py [--clients 50] [--sales 200]   (make bench)
import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL_TPS = 2000
GOAL_P99_MS = 50.0


def _provision(directory, clients):
    """One provisioning file per bench terminal (ids 2000000001.. style: 8 characters)."""
    terminals = []
    for i in range(clients):
        tid = "2{:07d}".format(i + 1)
        mid = "8981000{:08d}".format(i + 1)
        tmk = os.urandom(16)
        with open(os.path.join(directory, tid + ".json"), "w", encoding="utf-8") as f:
            json.dump({"terminal_id": tid, "merchant_id": mid, "tmk": tmk.hex().upper()}, f)
        terminals.append((tid, mid, tmk))
    return terminals


async def _read_frame(reader):
    head = await reader.readexactly(2)
    return head + await reader.readexactly(head[0] << 8 | head[1])


async def _terminal(port, tid, mid, tmk, sales, ready, start, latencies, codes):
    from firmware.host import messages as msg
    from firmware.host.codec import decode, encode, mac_input, put_mac
    from sim.cards import DECK
    from sim.host import crypto

    acc = msg.Acceptor(tid, mid)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(bytes(encode(msg.sign_in(acc, 1, 1))))
    keys = msg.working_keys(decode(await _read_frame(reader)))
    mak = crypto.ecb_decrypt(tmk, keys.mac_key)
    frames = []
    for i in range(sales):
        frame = encode(msg.sale(acc, i + 2, 1, 1, DECK["credit"].track2, "swipe"))
        put_mac(frame, crypto.x919_mac(mak, mac_input(frame)))
        frames.append(bytes(frame))
    ready.release()
    await start.wait()
    for frame in frames:
        t0 = time.perf_counter()
        writer.write(frame)
        answer = await _read_frame(reader)
        latencies.append(time.perf_counter() - t0)
        code = decode(answer).get(39)
        codes[code] = codes.get(code, 0) + 1
    writer.close()


async def _run(port, terminals, sales):
    start = asyncio.Event()
    ready = asyncio.Semaphore(0)
    latencies: list = []
    codes: dict = {}
    tasks = [
        asyncio.create_task(_terminal(port, *t, sales, ready, start, latencies, codes)) for t in terminals
    ]
    for _ in terminals:  # every terminal signed in, its frames built: then the clock starts
        await ready.acquire()
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0, latencies, codes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sales", type=int, default=200, help="sales per client")
    args = parser.parse_args()
    sys.path.insert(0, REPO)
    with tempfile.TemporaryDirectory() as tmp:
        prov = os.path.join(tmp, "provisioning")
        os.mkdir(prov)
        terminals = _provision(prov, args.clients)
        db = os.path.join(tmp, "ledger", "host.db")
        host = subprocess.Popen(
            # every client is on 127.0.0.1: room for all of them on that one address
            [
                sys.executable,
                "-m",
                "sim.host",
                "--db",
                db,
                "--provisioning",
                prov,
                "--max-per-peer",
                str(max(64, args.clients)),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            port = int(host.stdout.readline().rsplit(":", 1)[1])
            seconds, latencies, codes = asyncio.run(_run(port, terminals, args.sales))
        finally:
            host.terminate()
            host.wait(10)
    latencies.sort()
    n = len(latencies)
    p50 = latencies[n // 2] * 1000
    p99 = latencies[min(n - 1, int(n * 0.99))] * 1000
    tps = n / seconds
    print(
        "host: {} clients x {} sales = {} sales in {:.2f} s on {} CPUs".format(
            args.clients, args.sales, n, seconds, os.cpu_count()
        )
    )
    print(
        "  {:.0f} TPS (goal {}), p50 {:.1f} ms, p99 {:.1f} ms (goal < {:.0f}), max {:.1f} ms".format(
            tps, GOAL_TPS, p50, p99, GOAL_P99_MS, latencies[-1] * 1000
        )
    )
    print("  answers: {}".format(", ".join("{} x{}".format(k, v) for k, v in sorted(codes.items()))))
    print(
        "  ledger: SQLite WAL, synchronous=FULL, group commit, in {} ({})".format(
            tempfile.gettempdir(), _fs()
        )
    )


def _fs():
    """The file system type of the temporary directory (tmpfs makes fsync nearly free)."""
    try:
        out = subprocess.run(["df", "-T", tempfile.gettempdir()], capture_output=True, text=True).stdout
        return out.splitlines()[1].split()[1]
    except (OSError, IndexError):
        return "file system unknown"


if __name__ == "__main__":
    main()
