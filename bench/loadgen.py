"""The webhook's load generator, a process of its own: ``python -m bench.loadgen --url URL --out FILE``.

Keeps ``--connections`` HTTP/1.1 keep-alive connections busy posting authenticated STP order-status
callbacks (X-Webhook-Secret from DISPERSA_WEBHOOK_SECRET), each with a body of its own so that each is
stored as a new event, for ``--duration`` seconds or ``--requests`` requests after a warm-up. Writes what
it saw as JSON: requests, statuses, errors, the measured window and every latency in milliseconds."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

FIRST_ORDER_ID = 900_000_000  # STP ids no order of the run has (the sandbox starts at 10,000,000)


@dataclass
class Load:
    """What the connections share: the next body's number, the clock's marks and what was seen."""

    host: str
    port: int
    path: str
    secret: str
    requests: int            # 0: no limit but the time
    record_from: float       # monotonic: the end of the warm-up
    stop_at: float           # monotonic
    next_number: int = 0
    measured_sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    last_answer: float = 0.0

    def take(self) -> int | None:
        """The number of the next request's body, or None when the run is over."""
        now = time.monotonic()
        if now >= self.stop_at or (self.requests and self.measured_sent >= self.requests):
            return None
        if now >= self.record_from:
            self.measured_sent += 1
        self.next_number += 1
        return self.next_number

    def record(self, started: float, status: int) -> None:
        """One answer: counted and timed when it was sent after the warm-up."""
        if started >= self.record_from:
            now = time.monotonic()
            self.statuses[status] += 1
            self.latencies_ms.append((now - started) * 1000)
            self.last_answer = now


def callback_body(number: int) -> bytes:
    """A liquidation callback for an order no one has: stored as a new event, matched to nothing."""
    return json.dumps({"id": FIRST_ORDER_ID + number, "empresa": "DISPERSA", "folioOrigen": f"BENCHLOAD{number:010d}",
                       "estado": "LQ", "causaDevolucion": None, "tsLiquidacion": int(time.time() * 1000)}).encode()


def request_bytes(load: Load, body: bytes) -> bytes:
    """The raw HTTP/1.1 request."""
    head = (f"POST {load.path} HTTP/1.1\r\nHost: {load.host}:{load.port}\r\nContent-Type: application/json\r\n"
            f"X-Webhook-Secret: {load.secret}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of one response (its body read and dropped), and whether the server closes the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() == "close"


async def connection(load: Load) -> None:
    """One keep-alive connection posting callbacks until the run is over, reconnecting when closed."""
    writer = None
    try:
        while (number := load.take()) is not None:
            if writer is None:
                reader, writer = await asyncio.open_connection(load.host, load.port)
            started = time.monotonic()
            try:
                writer.write(request_bytes(load, callback_body(number)))
                await writer.drain()
                status, closing = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                load.errors[type(e).__name__] += 1
                writer.close()
                writer = None
                continue
            load.record(started, status)
            if closing:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def run(load: Load, connections: int) -> None:
    """Every connection, to the end of the run."""
    await asyncio.gather(*(connection(load) for _ in range(connections)))


def summary(load: Load, connections: int, warmup: float) -> dict[str, Any]:
    """What the run saw, for the bench."""
    window = max(load.last_answer - load.record_from, 0.0)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"connections": connections, "warmup_seconds": warmup, "requests": sum(load.statuses.values()),
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "statuses": {str(k): v for k, v in load.statuses.items()}, "errors": dict(load.errors),
            "window_seconds": window, "latencies_ms": load.latencies_ms}


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run the load, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the webhook's URL")
    parser.add_argument("--out", required=True, help="where the JSON goes")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured, after the warm-up")
    parser.add_argument("--requests", type=int, default=0, help="stop after this many measured requests (0: time)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load not measured")
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    now = time.monotonic()
    load = Load(url.hostname or "127.0.0.1", url.port or 80, url.path, os.environ.get("DISPERSA_WEBHOOK_SECRET", ""),
                args.requests, now + args.warmup, now + args.warmup + args.duration)
    asyncio.run(run(load, args.connections))
    with open(args.out, "w") as out:
        json.dump(summary(load, args.connections, args.warmup), out)


if __name__ == "__main__":
    main()
