"""Load on the generic webhook: messages/s, p50/p99 latency and server CPU per message (issue 3).

Three server set-ups (bench/webhook_server.py: the bare-aiohttp ceiling, the bot with an echo skill, the
bot with the demo shop's skills), each driven at 1, 16 and 64 concurrent conversations by `wrk` (a
compiled client: a Python client process tops out near the ceiling's own rate on one core). Every
request is a distinct message, validly signed beforehand (timestamps stay fresh: a run lasts seconds),
so the duplicate check never short-cuts. Request i belongs to conversation i mod concurrency and each
conversation goes through the texts in turn (a customer repeating one message would be escalated). All
traffic goes to 127.0.0.1; each run is bounded by --seconds and by the number of prepared requests.

    python bench/webhook_load.py [--seconds 5] [--concurrency 1,16,64] [--setups ceiling,echo,shop]

Prints one JSON line per (set-up, concurrency), then the ratios to the ceiling. Needs `wrk`
(apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bots.adapters.generic import sign

BENCH = Path(__file__).resolve().parent
TEXTS = {
    "echo": ["hello", "你好", "where is my order?"],
    "shop": ["你好", "where is my order DS100234?", "营业时间是几点", "DS100235 到哪了", "opening hours?",
             "我的订单 DS100236", "track my parcel DS100234", "hello"],
}
TEXTS["ceiling"] = TEXTS["echo"]
REQUESTS_PER_SECOND_CAP = 40_000  # prepared requests per second of run: more than any set-up reaches here


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _prepare(path: Path, setup: str, run: str, count: int, conversations: int, secret: str, unique: bool) -> None:
    """Distinct, validly signed requests, one per line, for the wrk script. With `unique`, every text
    also differs (a request number appended), so no per-text cache (the sentence embedding's) can help."""
    stamp = str(int(time.time()))
    texts = TEXTS[setup]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            text = texts[(i // conversations) % len(texts)] + (f" #{i}" if unique else "")
            body = json.dumps({
                "id": f"{run}-{i}", "conversation_id": f"{run}-c{i % conversations}",
                "user": {"id": f"u{i % conversations}"}, "text": text,
            }, ensure_ascii=False).encode()
            out.write(f"{stamp}\t{sign(secret, stamp, body)}\t{body.decode()}\n")


def _wrk(port: int, script_input: Path, concurrency: int, seconds: int) -> tuple[dict[str, float], float]:
    """Run wrk once; its JSON result line and the CPU seconds wrk itself used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--timeout", "10s", "-s", str(BENCH / "webhook_wrk.lua"),
         f"http://127.0.0.1:{port}/webhook/generic", "--", str(script_input)],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(done.stdout.strip().splitlines()[-1]), client_cpu


def _start_server(setup: str, data_dir: Path, secret: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    env = {**os.environ, "BOTS_WEBHOOK_SECRET": secret, "PYTHONPATH": os.pathsep.join([str(BENCH), *sys.path])}
    server = subprocess.Popen([sys.executable, str(BENCH / "webhook_server.py"), setup, str(port), str(data_dir)],
                              stdout=subprocess.PIPE, text=True, env=env)
    assert server.stdout is not None
    if server.stdout.readline().strip() != "ready":
        server.kill()
        raise RuntimeError(f"{setup} server did not start")
    return server, port


def bench_setup(setup: str, concurrencies: list[int], seconds: int, unique: bool) -> list[dict[str, object]]:
    secret = secrets.token_hex(16)
    results = []
    with tempfile.TemporaryDirectory(prefix=f"webhook-{setup}-") as tmp:
        server, port = _start_server(setup, Path(tmp), secret)
        try:
            for concurrency in concurrencies:
                requests_file = Path(tmp) / f"requests-{concurrency}.tsv"
                prepared = REQUESTS_PER_SECOND_CAP * seconds
                _prepare(requests_file, setup, secrets.token_hex(4), prepared, concurrency, secret, unique)
                server_before = _cpu_seconds(server.pid)
                figures, client_cpu = _wrk(port, requests_file, concurrency, seconds)
                server_cpu = _cpu_seconds(server.pid) - server_before
                wall = figures["duration_us"] / 1e6
                done = figures["requests"]
                results.append({
                    "setup": setup, "unique_texts": unique, "concurrency": concurrency, "messages": done,
                    "messages_per_s": round(done / wall, 1),
                    "p50_ms": round(figures["p50_us"] / 1000, 2), "p99_ms": round(figures["p99_us"] / 1000, 2),
                    "server_cpu_ms_per_message": round(server_cpu * 1000 / max(done, 1), 3),
                    "server_cpu_utilisation": round(server_cpu / wall, 2),
                    "client_cpu_utilisation": round(client_cpu / wall, 2),
                    "errors": figures["socket_errors"] + figures["non_2xx"],
                    "ran_out_of_prepared_requests": done >= prepared - concurrency,
                })
                print(json.dumps(results[-1]), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=120)  # a graceful stop flushes the outbox and checkpoints the store
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5.0, help="length of each run (bounded: at most 30)")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--setups", default="ceiling,echo,shop")
    parser.add_argument("--unique-texts", action="store_true", help="make every message text distinct")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    seconds = int(min(max(args.seconds, 1), 30))
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    results = [r for setup in args.setups.split(",") for r in bench_setup(setup, concurrencies, seconds, args.unique_texts)]
    ceiling = {r["concurrency"]: r["messages_per_s"] for r in results if r["setup"] == "ceiling"}
    for r in results:
        if r["setup"] != "ceiling" and r["concurrency"] in ceiling:
            ratio = r["messages_per_s"] / ceiling[r["concurrency"]]  # type: ignore[operator]
            print(json.dumps({"ratio_to_ceiling": {"setup": r["setup"], "concurrency": r["concurrency"],
                                                   "ratio": round(ratio, 3)}}))


if __name__ == "__main__":
    main()
