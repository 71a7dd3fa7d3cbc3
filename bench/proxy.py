"""A TCP proxy that adds a fixed one-way latency, to show what a remote database costs.

Every chunk read from one side is queued with a due time (arrival + delay) and written to the
other side at that time, one queue per direction, so ordering is preserved and bandwidth is not
capped by the delay (chunks are pipelined, as on a real long link). TCP_NODELAY is set on both
sockets so the kernel adds no batching of its own.

Run as its own process (so its event loop never competes for the GIL with what it measures):

    python bench/proxy.py --target 127.0.0.1:5432 --delay-ms 1 [--port 0] [--stats FILE]

It prints `listening <port> timer_overshoot_ms <ms>` on stdout once ready, and appends one JSON line per connection to
`--stats` when the connection opens and when it closes (chunks, bytes and "turns" each way: a turn
is a client chunk that follows server data, i.e. one latency-bound round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import selectors
import signal
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import TextIO

READ_SIZE = 256 * 1024
DEFAULT_DELAY_MS = 1.0
PR_SET_TIMERSLACK = 29  # linux/prctl.h
CALIBRATION_SAMPLES = 25


@dataclass
class LinkStats:
    """What crossed one proxied connection."""

    id: int
    opened: float = field(default_factory=time.time)
    closed: float = 0.0
    c2s_chunks: int = 0
    s2c_chunks: int = 0
    c2s_bytes: int = 0
    s2c_bytes: int = 0
    turns: int = 0  # client chunks sent after the server had spoken: latency-bound round trips
    last: str = ""


class StatsLog:
    """Appends one JSON object per event to a file (or nowhere)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def write(self, event: str, stats: LinkStats) -> None:
        if self.stream is not None:
            record = {"event": event, **{k: v for k, v in asdict(stats).items() if k != "last"}}
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def timer_overshoot(delay: float, samples: int = CALIBRATION_SAMPLES) -> float:
    """Median time by which `asyncio.sleep(delay)` oversleeps on this machine (wake-up latency)."""
    if delay <= 0:
        return 0.0
    loop = asyncio.get_running_loop()
    late = []
    for _ in range(samples):
        start = loop.time()
        await asyncio.sleep(delay)
        late.append(loop.time() - start - delay)
    late.sort()
    return max(0.0, late[len(late) // 2])


async def _forward(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    stats: LinkStats,
    direction: str,
    early: float = 0.0,
) -> None:
    """Copy reader -> writer, each chunk written `delay` seconds after it arrived, in arrival order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def receive() -> None:
        try:
            while data := await reader.read(READ_SIZE):
                if direction == "c2s":
                    stats.c2s_chunks += 1
                    stats.c2s_bytes += len(data)
                    if stats.last != "c2s":
                        stats.turns += 1
                else:
                    stats.s2c_chunks += 1
                    stats.s2c_bytes += len(data)
                stats.last = direction
                queue.put_nowait((loop.time() + delay, data))
        except ConnectionError:
            pass
        finally:
            queue.put_nowait((loop.time() + delay, b""))  # end of stream, delivered after the data

    async def send() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time() - early  # wake `early` sooner: the loop reliably wakes that late
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            while not queue.empty() and queue._queue[0][0] <= loop.time() and queue._queue[0][1]:  # type: ignore[attr-defined]
                writer.write(queue.get_nowait()[1])  # already due: coalesce before draining
            await writer.drain()

    receiving = asyncio.create_task(receive())
    try:
        await send()
    except ConnectionError:
        receiving.cancel()
    finally:
        await asyncio.gather(receiving, return_exceptions=True)


async def serve(target_host: str, target_port: int, port: int, delay: float, log: StatsLog) -> None:
    """Accept on 127.0.0.1:`port` and forward every connection to the target with the delay."""
    ids = itertools.count(1)
    early = await timer_overshoot(delay)

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        stats = LinkStats(next(ids))
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        _nodelay(client_writer)
        _nodelay(server_writer)
        log.write("open", stats)
        try:
            await asyncio.gather(
                _forward(client_reader, server_writer, delay, stats, "c2s", early),
                _forward(server_reader, client_writer, delay, stats, "s2c", early),
            )
        finally:
            for w in (client_writer, server_writer):
                w.close()
            stats.closed = time.time()
            log.write("close", stats)

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    actual = server.sockets[0].getsockname()[1]
    print(f"listening {actual} timer_overshoot_ms {early * 1000:.3f}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def _precise_timers() -> None:
    """Ask Linux for 1 ns timer slack instead of 50 us (best effort; harmless elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port to forward to")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free one)")
    parser.add_argument("--delay-ms", type=float, default=DEFAULT_DELAY_MS, help="one-way delay per direction")
    parser.add_argument("--stats", help="append per-connection JSON lines here")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    stream = open(args.stats, "a", encoding="utf-8") if args.stats else None
    _precise_timers()
    # select() takes a microsecond timeout; epoll and poll round every wait up to a whole
    # millisecond, which would add up to ~1 ms to each 1 ms delay.
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    try:
        loop.run_until_complete(serve(host or "127.0.0.1", int(port), args.port, args.delay_ms / 1000, StatsLog(stream)))
    finally:
        loop.close()
        if stream:
            stream.close()


if __name__ == "__main__":
    sys.exit(main())
