"""HTTP load benchmark of the whole service against PostgreSQL, in one run (`make bench`).

Starts PostgreSQL if it is down, creates a fresh database, migrates it, starts the production
server (`credscore serve --workers N`, access log on unless --no-access-log), loads a registry
of 1,000+ outlets (domain names from ../shared/data/outlets/mbfc-emnlp18/corpus.tsv, none of
its labels; synthetic names when the file is absent) with one synthetic track record each, and
100,000+ scored claims through the batch endpoint, then drives the API from wrk on loopback:

    /healthz                 the framework's ceiling on this machine
    POST /v1/score           stateless scoring            target >= 0.6x /healthz
    POST /v1/claims          scored and stored            target >= 0.3x /healthz, p99 < 50 ms
    GET /v1/claims/{id}      If-None-Match: <ETag>        target >= 0.8x /healthz, all 304
    POST /v1/claims/batch    1,000 claims per request     claims/s >= POST /v1/claims req/s

each after a warm-up for a fixed duration, and prints one table (and --json FILE). With
--profile it also samples the API workers with py-spy under POST /v1/claims and POST /v1/score
load and prints the hot spots. Everything it starts is stopped at the end.

    .venv/bin/python bench/http_load.py [--workers 2] [--duration 12] [--json FILE] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "http_wrk.lua"
CORPUS = ROOT.parent / "shared" / "data" / "outlets" / "mbfc-emnlp18" / "corpus.tsv"
HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
KINDS = ("newspaper", "online", "broadcaster", "wire", "ngo_monitor", "state_media", "government")
WORDS = (
    "troops",
    "reportedly",
    "killed",
    "civilians",
    "said",
    "strike",
    "village",
    "officials",
    "according",
    "sources",
    "confirmed",
    "denied",
    "shelling",
    "convoy",
    "hospital",
    "ministry",
    "residents",
    "witnesses",
    "overnight",
    "border",
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# PostgreSQL and the server


def ensure_postgres() -> None:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=2).close()
        return
    except psycopg.OperationalError:
        log("PostgreSQL is down; starting it with pg_ctlcluster")
    for version in sorted(os.listdir("/etc/postgresql")):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(PG_ADMIN_URL, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def recreate_database(name: str, *, drop_only: bool = False) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def postgres_max_connections() -> int:
    with psycopg.connect(PG_ADMIN_URL) as connection:
        row = connection.execute("SHOW max_connections").fetchone()
    return int(row[0]) if row else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str
    database: str

    @property
    def tag(self) -> tuple[int, str]:
        """What tells this bench's processes apart: the process group and the database."""
        return self.process.pid, self.database

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server's own process group, SIGKILL if it outlives ``timeout``."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def start_server(
    env: dict[str, str], port: int, workers: int, log_path: Path, database: str
) -> Server:
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                str(BIN / "credscore"),
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, log_path, f"http://{HOST}:{port}", database)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early; see {log_path}")
        try:
            if httpx.get(server.base_url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"the server did not become ready; see {log_path}")


# ---------------------------------------------------------------------------------------------
# CPU accounting: which tier used the two cores during a measurement


@dataclass
class CpuSample:
    by_pid: dict[int, tuple[str, float]]
    busy: float
    idle: float


def _tier(pid: int, comm: str, pgrp: int, server_pgid: int, database: str) -> str:
    if pgrp == server_pgid:
        return "api"
    if comm == "wrk" or pid == os.getpid():
        return "loadgen"
    if comm.startswith("postgres"):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return "other"
        # A backend's title is "postgres: 15/main: USER DATABASE HOST(PORT) STATE"; the rest are
        # the server's own processes (WAL writer, checkpointer, ...), counted for the bench.
        if "(" in title and f" {database} " not in title:
            return "other"
        return "postgres"
    return "other"


def cpu_sample(server_pgid: int, database: str) -> CpuSample:
    """CPU seconds so far of every process, by tier, and the machine's busy and idle time."""
    by_pid: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pgrp, utime, stime = int(fields[2]), int(fields[11]), int(fields[12])
        pid = int(entry)
        by_pid[pid] = (
            _tier(pid, comm, pgrp, server_pgid, database),
            (utime + stime) / CLK_TCK,
        )
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:8]]
    idle = (values[3] + values[4]) / CLK_TCK
    return CpuSample(by_pid, sum(values) / CLK_TCK - idle, idle)


def cpu_delta(
    before: CpuSample, after: CpuSample, seconds: float, loadgen: float
) -> dict[str, float]:
    """Cores busy per tier over ``seconds``; ``loadgen`` is measured by the caller (wrk exits
    before the second sample, so its time is taken from getrusage of reaped children)."""
    tiers = {"api": 0.0, "postgres": 0.0, "loadgen": loadgen}
    for pid, (tier, used) in after.by_pid.items():
        if tier in ("api", "postgres"):
            tiers[tier] += max(0.0, used - before.by_pid.get(pid, (tier, 0.0))[1])
    busy = after.busy - before.busy
    tiers["other"] = max(0.0, busy - sum(tiers.values()))
    tiers["idle"] = after.idle - before.idle
    return {key: round(value / seconds, 2) for key, value in tiers.items()}


# ---------------------------------------------------------------------------------------------
# Data


def slugify(domain: str) -> str:
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in domain.lower())
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug.strip("-")[:80]


def outlet_names(count: int) -> list[tuple[str, str]]:
    """(slug, name) pairs: the corpus's domains (only the domain column), then synthetic ones."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    if CORPUS.exists():
        lines = CORPUS.read_text(encoding="utf-8").splitlines()
        header = lines[0].split("\t")
        column = header.index("source_url_normalized")
        for line in lines[1:]:
            parts = line.split("\t")
            if len(parts) <= column:
                continue
            domain = parts[column].strip()
            slug = slugify(domain)
            if slug and slug not in seen:
                seen.add(slug)
                pairs.append((slug, domain))
    index = 0
    while len(pairs) < count:
        index += 1
        slug = f"bench-outlet-{index:05d}"
        if slug not in seen:
            seen.add(slug)
            pairs.append((slug, f"Bench outlet {index}"))
    return pairs


def claim_text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(5, 12))) + f" {rng.randint(1, 500)}"


def claim_item(rng: random.Random, slugs: list[str], now: datetime) -> dict[str, Any]:
    published = now - timedelta(seconds=rng.randint(3600, 3 * 365 * 86400))
    item: dict[str, Any] = {
        "outlet_slug": rng.choice(slugs),
        "text": claim_text(rng),
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if rng.random() < 0.5:
        item["figure"] = {"value": rng.randint(1, 400), "unit": "people"}
    return item


def batch_body(rng: random.Random, slugs: list[str], size: int) -> bytes:
    now = datetime.now(UTC)
    return orjson.dumps({"claims": [claim_item(rng, slugs, now) for _ in range(size)]})


def run_parallel(work: list[Any], worker: Any, threads: int) -> list[Any]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(worker, work))


_local = threading.local()


def client(base_url: str, key: str) -> httpx.Client:
    existing = getattr(_local, "client", None)
    if existing is None or getattr(_local, "base_url", None) != base_url:
        existing = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=120,
        )
        _local.client, _local.base_url = existing, base_url
    return existing


def expect(response: httpx.Response, *codes: int) -> httpx.Response:
    if response.status_code not in codes:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} "
            f"{response.text[:500]}"
        )
    return response


def load_outlets(base: str, key: str, count: int, seed: int) -> list[str]:
    pairs = outlet_names(count)
    now = datetime.now(UTC)

    def create(pair: tuple[str, str]) -> str:
        slug, name = pair
        http = client(base, key)
        kind = KINDS[zlib.crc32(slug.encode()) % len(KINDS)]
        expect(http.post("/v1/outlets", json={"slug": slug, "name": name, "kind": kind}), 201)
        rng = random.Random(f"{seed}:{slug}")
        as_of = now - timedelta(days=rng.randint(1, 4 * 365))
        record = {
            "source": "bench (synthetic counts)",
            "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "verified": rng.randint(0, 60),
            "refuted": rng.randint(0, 25),
            "corrections": rng.randint(0, 5),
            "retractions": rng.randint(0, 2),
        }
        expect(http.post(f"/v1/outlets/{slug}/records", json=record), 201)
        return slug

    return run_parallel(pairs, create, 8)


@dataclass
class Timed:
    status: int
    seconds: float
    started: float
    ended: float
    body: bytes = b""


def post_batch(base: str, key: str, body: bytes, keep_body: bool) -> Timed:
    http = client(base, key)
    started = time.perf_counter()
    try:
        response = http.post("/v1/claims/batch", content=body)
        status, content = response.status_code, response.content
    except httpx.HTTPError:
        status, content = 0, b""
    ended = time.perf_counter()
    return Timed(status, ended - started, started, ended, content if keep_body else b"")


@dataclass
class LoadedClaims:
    ids: list[int] = field(default_factory=list)
    published: dict[int, str] = field(default_factory=dict)


def load_claims(
    base: str, key: str, slugs: list[str], total: int, batch: int, threads: int, seed: int
) -> tuple[LoadedClaims, float]:
    rng = random.Random(seed)
    batches = (total + batch - 1) // batch
    bodies = [batch_body(rng, slugs, batch) for _ in range(batches)]
    started = time.perf_counter()
    results = run_parallel(bodies, lambda body: post_batch(base, key, body, True), threads)
    elapsed = time.perf_counter() - started
    loaded = LoadedClaims()
    for result in results:
        if result.status != 201:
            raise RuntimeError(f"batch load failed: {result.status} {result.body[:500]!r}")
        for item in orjson.loads(result.body)["items"]:
            loaded.ids.append(item["id"])
            loaded.published[item["id"]] = item["published_at"]
    return loaded, len(loaded.ids) / elapsed


def load_verdicts(base: str, key: str, loaded: LoadedClaims, count: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    ratings = ["true", "mostly-true", "mixed", "mostly-false", "false", "unverifiable"]
    latest = datetime.now(UTC) - timedelta(minutes=1)
    work = []
    for claim_id in rng.sample(loaded.ids, min(count, len(loaded.ids))):
        published = datetime.fromisoformat(loaded.published[claim_id].replace("Z", "+00:00"))
        decided = min(latest, published + timedelta(days=rng.randint(1, 60)))
        work.append((claim_id, rng.choice(ratings), decided.strftime("%Y-%m-%dT%H:%M:%SZ")))

    def record(item: tuple[int, str, str]) -> None:
        claim_id, rating, decided = item
        body = {"rating": rating, "source": "bench desk", "decided_at": decided}
        expect(client(base, key).post(f"/v1/claims/{claim_id}/verdicts", json=body), 201)

    run_parallel(work, record, 4)


def train_model(database_url: str) -> str:
    """Train and activate a claim model on the verdicts just recorded; returns its version.

    The bench's verdicts are random, so no model beats the track record on them and the quality
    gate would refuse it: it is activated with ``--force``, since what is measured here is the
    cost of the model path, not the model. The workers notice the activation through the
    ``model`` generation within a second (``CREDSCORE_CACHE_REFRESH_SECONDS``) and load it
    before the first measured run.
    """
    started = time.perf_counter()
    env = {**os.environ, "CREDSCORE_DATABASE_URL": database_url}
    completed = subprocess.run(
        [str(BIN / "credscore"), "train"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    version = completed.stdout.strip().splitlines()[-1]
    subprocess.run(
        [str(BIN / "credscore"), "models", "activate", version.rsplit("/", 1)[-1], "--force"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    log(f"model {version} trained and active in {time.perf_counter() - started:.1f} s")
    time.sleep(3)
    return version


def wait_for_jobs(database_url: str, limit_seconds: float = 600) -> tuple[int, float]:
    """Wait until the background jobs the verdicts queued (re-scoring) are done, so they do not
    run inside the measured windows; returns how many jobs there were and the seconds waited."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as connection:
        exists = connection.execute("SELECT to_regclass('jobs') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0, 0.0
        while True:
            row = connection.execute(
                "SELECT count(*) FILTER (WHERE status IN ('pending', 'running')), count(*) "
                "FROM jobs"
            ).fetchone()
            open_jobs, total = (int(row[0]), int(row[1])) if row else (0, 0)
            waited = time.perf_counter() - started
            if open_jobs == 0 or waited > limit_seconds:
                if open_jobs:
                    log(f"{open_jobs} background jobs still open after {waited:.0f} s")
                return total, waited
            time.sleep(1)


def poll_targets(base: str, key: str, ids: list[int]) -> list[tuple[int, str]]:
    http = client(base, key)
    return [
        (claim_id, expect(http.get(f"/v1/claims/{claim_id}"), 200).headers.get("etag", ""))
        for claim_id in ids
    ]


# ---------------------------------------------------------------------------------------------
# Measurement


@dataclass
class Result:
    name: str
    label: str
    connections: int
    rate: float  # requests/s, or claims/s for the batch
    unit: str
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: int
    cpu: dict[str, float]
    ceiling: float = 0.0  # the /healthz rate measured right before this run
    ratio: float = 0.0
    target: str = ""
    passed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def api_cpu_ms(self) -> float:
        """API CPU per request (per claim for the batch): steadier than req/s on a busy box."""
        return 1000 * self.cpu.get("api", 0.0) / self.rate if self.rate else 0.0

    @property
    def errors(self) -> int:
        bad = sum(
            count
            for code, count in self.statuses.items()
            if not (200 <= int(code) < 300 or int(code) == 304)
        )
        return bad + self.socket_errors


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    mode: str,
    url: str,
    key: str,
    data_dir: Path,
    *,
    connections: int,
    threads: int,
    seconds: float,
    out: Path,
) -> dict[str, Any]:
    env = {**os.environ, "BENCH_MODE": mode, "BENCH_KEY": key, "BENCH_DATA": str(data_dir)}
    env["BENCH_OUT"] = str(out)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if completed.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}")
    document: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    return document


def measure_wrk(
    name: str,
    label: str,
    mode: str,
    server: Server,
    key: str,
    data_dir: Path,
    args: argparse.Namespace,
) -> Result:
    common = {"connections": args.connections, "threads": args.wrk_threads}
    log(f"{label}: {args.warmup:g} s warm-up, {args.duration:g} s measured")
    wrk(
        mode, server.base_url, key, data_dir, seconds=args.warmup, out=data_dir / "w.json", **common
    )
    before, load_before, started = cpu_sample(*server.tag), children_cpu(), time.perf_counter()
    document = wrk(
        mode,
        server.base_url,
        key,
        data_dir,
        seconds=args.duration,
        out=data_dir / "m.json",
        **common,
    )
    elapsed = time.perf_counter() - started
    cpu = cpu_delta(before, cpu_sample(*server.tag), elapsed, children_cpu() - load_before)
    errors = document["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    return Result(
        name=name,
        label=label,
        connections=args.connections,
        rate=document["requests"] / (document["duration_us"] / 1e6),
        unit="req/s",
        p50_ms=document["p50_us"] / 1000,
        p99_ms=document["p99_us"] / 1000,
        statuses={str(code): count for code, count in document["statuses"].items()},
        socket_errors=socket_errors,
        cpu=cpu,
    )


def measure_batch(
    server: Server, key: str, slugs: list[str], args: argparse.Namespace, seed: int
) -> Result:
    """Closed loop: each connection posts 1,000-claim batches back to back until the deadline.

    Throughput counts every batch started before the deadline over the time until the last one
    finished, so no batch is cut off half-way (as a fixed-duration wrk run would).
    """
    rng = random.Random(seed + 2)
    bodies = [batch_body(rng, slugs, args.batch_size) for _ in range(8)]
    connections = args.batch_connections

    def loop(index: int, seconds: float) -> list[Timed]:
        done: list[Timed] = []
        deadline = time.perf_counter() + seconds
        turn = index
        while time.perf_counter() < deadline:
            done.append(post_batch(server.base_url, key, bodies[turn % len(bodies)], False))
            turn += connections
        return done

    label = f"POST /v1/claims/batch ({args.batch_size:,})"
    log(f"{label}: {args.warmup:g} s warm-up, {args.duration:g} s measured")
    run_parallel(list(range(connections)), lambda i: loop(i, args.warmup), connections)
    before, load_before = cpu_sample(*server.tag), time.process_time()
    started = time.perf_counter()
    timed = [
        item
        for batch in run_parallel(
            list(range(connections)), lambda i: loop(i, args.duration), connections
        )
        for item in batch
    ]
    elapsed = max(item.ended for item in timed) - started
    cpu = cpu_delta(before, cpu_sample(*server.tag), elapsed, time.process_time() - load_before)
    statuses = Counter(str(item.status) for item in timed if item.status)
    ok = sum(1 for item in timed if item.status == 201)
    seconds = sorted(item.seconds for item in timed)
    return Result(
        name="batch",
        label=label,
        connections=connections,
        rate=ok * args.batch_size / elapsed,
        unit="claims/s",
        p50_ms=statistics.median(seconds) * 1000,
        p99_ms=seconds[min(len(seconds) - 1, round(0.99 * (len(seconds) - 1)))] * 1000,
        statuses=dict(statuses),
        socket_errors=sum(1 for item in timed if item.status == 0),
        cpu=cpu,
        notes=[f"{len(timed)} batches in {elapsed:.1f} s"],
    )


def judge(results: dict[str, Result]) -> None:
    for result in results.values():
        result.ratio = result.rate / result.ceiling if result.ceiling else 0.0
    healthz = results["healthz"]
    healthz.target = "ceiling"
    healthz.passed = healthz.errors == 0
    score = results["score"]
    score.target = ">= 0.60x"
    score.passed = score.ratio >= 0.6 and score.errors == 0
    claims = results["claims"]
    claims.target = ">= 0.30x, p99 < 50 ms"
    claims.passed = claims.ratio >= 0.3 and claims.p99_ms < 50 and claims.errors == 0
    poll = results["poll_304"]
    poll.target = ">= 0.80x, all 304"
    not_modified = poll.statuses.get("304", 0)
    poll.passed = (
        poll.ratio >= 0.8 and poll.errors == 0 and not_modified == sum(poll.statuses.values())
    )
    if not_modified == 0:
        poll.notes.append("no 304 seen: the GET does not answer If-None-Match (yet)")
    batch = results["batch"]
    batch.target = f">= {claims.rate:,.0f} claims/s"
    batch.passed = batch.rate >= claims.rate and batch.errors == 0


def print_table(results: dict[str, Result], header: str) -> None:
    columns = [
        ("endpoint", 34, "<"),
        ("conns", 5, ">"),
        ("rate", 17, ">"),
        ("ratio", 6, ">"),
        ("target", 22, "<"),
        ("p50 ms", 8, ">"),
        ("p99 ms", 8, ">"),
        ("errors", 6, ">"),
        ("pass", 4, "<"),
    ]
    line = "  ".join(f"{name:{align}{width}}" for name, width, align in columns)
    print(header)
    print(line)
    print("-" * len(line))
    for result in results.values():
        cells = [
            result.label,
            str(result.connections),
            f"{result.rate:,.0f} {result.unit}",
            f"{result.ratio:.2f}x",
            result.target,
            f"{result.p50_ms:.1f}",
            f"{result.p99_ms:.1f}",
            str(result.errors),
            "PASS" if result.passed else "FAIL",
        ]
        print(
            "  ".join(
                f"{cell:{align}{width}}"
                for cell, (_, width, align) in zip(cells, columns, strict=True)
            )
        )
    print()
    print("status codes; /healthz req/s of the paired run; cores busy in the window (of 2):")
    for result in results.values():
        codes = ", ".join(f"{code}: {count:,}" for code, count in sorted(result.statuses.items()))
        cpu = " ".join(f"{tier} {value:.2f}" for tier, value in result.cpu.items())
        notes = f"  ({'; '.join(result.notes)})" if result.notes else ""
        print(
            f"  {result.name:<9} {codes:<24} healthz {result.ceiling:>6,.0f}  "
            f"API CPU {result.api_cpu_ms:5.2f} ms/{'claim' if result.name == 'batch' else 'req'}"
            f"  {cpu}{notes}"
        )


def json_document(results: dict[str, Result], run: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, result in results.items():
        rate_key = "claims_per_s" if result.unit == "claims/s" else "rps"
        document[name] = {
            rate_key: round(result.rate, 1),
            "ratio": round(result.ratio, 3),
            "p50_ms": round(result.p50_ms, 2),
            "p99_ms": round(result.p99_ms, 2),
            "errors": result.errors,
            "target": result.target,
            "pass": result.passed,
            "connections": result.connections,
            "healthz_paired_rps": round(result.ceiling, 1),
            "status_codes": result.statuses,
            "cpu_cores": result.cpu,
            "api_cpu_ms_per_" + ("claim" if result.name == "batch" else "request"): round(
                result.api_cpu_ms, 3
            ),
        }
    document["run"] = run
    return document


# ---------------------------------------------------------------------------------------------
# Profiling with py-spy


def py_spy() -> str | None:
    found = BIN / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def profile(
    mode: str, server: Server, key: str, data_dir: Path, args: argparse.Namespace, spy: str
) -> Profile:
    """Sample every worker (py-spy --subprocesses) while wrk drives ``mode``."""
    raw = data_dir / f"profile-{mode}.txt"
    seconds = args.profile_seconds
    loader = threading.Thread(
        target=wrk,
        args=(mode, server.base_url, key, data_dir),
        kwargs={
            "connections": args.connections,
            "threads": args.wrk_threads,
            "seconds": seconds + 3,
            "out": data_dir / f"p-{mode}.json",
        },
    )
    loader.start()
    time.sleep(1.5)
    try:
        spied = subprocess.run(
            [
                spy,
                "record",
                "--pid",
                str(server.process.pid),
                "--subprocesses",
                "--rate",
                "200",
                "--duration",
                str(max(1, round(seconds))),
                "--format",
                "raw",
                "--nolineno",
                "--output",
                str(raw),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        loader.join()
    if spied.returncode != 0 or not raw.exists():
        log(f"py-spy failed ({spied.returncode}): {spied.stderr[-1000:]}")
        return Profile()
    return fold(raw)


def frame_name(frame: str) -> str:
    """'func (path/to/file.py)' -> 'short/path.py:func'."""
    if " (" not in frame:
        return frame
    function, _, location = frame.rpartition(" (")
    path = location.rstrip(")")
    for marker in ("site-packages/", "/lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker.startswith("/lib"):
                path = "stdlib/" + path.split("/", 1)[1]
            break
    else:
        with contextlib.suppress(ValueError):
            path = str(Path(path).resolve().relative_to(ROOT))
    return f"{path}:{function}"


def package_of(name: str) -> str:
    path = name.split(":", 1)[0]
    if path.startswith("stdlib/"):
        return "stdlib/" + path.split("/")[1].removesuffix(".py")
    return path.split("/", 1)[0].removesuffix(".py")


_PROCESS_FRAME = re.compile(r'process \d+:"[^"]*";?')


# py-spy's --gil still reports some threads parked in these waits (idle thread-pool threads, the
# uvicorn supervisor's pipe); they are counted apart, not as work.
IDLE_LEAVES = frozenset(
    {
        "threading.py:Condition.wait",
        "threading.py:Event.wait",
        "multiprocessing/connection.py:Connection._recv",
        "multiprocessing/connection.py:Connection._poll",
        "selectors.py:EpollSelector.select",
    }
)


@dataclass
class Profile:
    own: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    packages: Counter[str] = field(default_factory=Counter)
    total: int = 0
    idle: int = 0


def fold(raw: Path) -> Profile:
    profile = Profile()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        stack = _PROCESS_FRAME.sub("", stack)
        count = int(count_text)
        frames = [
            frame_name(frame)
            for frame in stack.split(";")
            if frame and not frame.startswith(("process ", "thread "))
        ]
        if not frames:
            continue
        if frames[-1] in IDLE_LEAVES:
            profile.idle += count
            continue
        profile.total += count
        profile.own[frames[-1]] += count
        profile.packages[package_of(frames[-1])] += count
        for name in set(frames):
            profile.inclusive[name] += count
    return profile


def print_profile(label: str, profile: Profile) -> None:
    own, inclusive, packages, total = (
        profile.own,
        profile.inclusive,
        profile.packages,
        profile.total,
    )
    if not total:
        print(f"\nprofile {label}: no samples")
        return
    print(
        f"\nprofile {label}: {total:,} samples of the API workers at work (py-spy --gil, "
        f"200 Hz; {profile.idle:,} samples of idle waits left out)"
    )
    print("  self time by package:")
    for name, count in packages.most_common(12):
        print(f"    {100 * count / total:5.1f}%  {name}")
    print("  self time by function:")
    for name, count in own.most_common(15):
        print(f"    {100 * count / total:5.1f}%  {name}")
    print("  inclusive time, the project's own code (service/, scoring/):")
    ours = [
        (name, count)
        for name, count in inclusive.most_common()
        if name.startswith(("service/", "scoring/"))
    ]
    for name, count in ours[:15]:
        print(f"    {100 * count / total:5.1f}%  {name}")
    print("  inclusive time, selected library layers:")
    layers = (
        "fastapi/dependencies/utils.py:solve_dependencies",
        "starlette/concurrency.py:run_in_threadpool",
        "fastapi/routing.py:run_endpoint_function",
        "fastapi/routing.py:serialize_response",
        "starlette/requests.py:Request.json",
        "sqlalchemy/ext/asyncio/session.py:AsyncSession.execute",
        "sqlalchemy/ext/asyncio/session.py:AsyncSession.commit",
        "sqlalchemy/orm/session.py:Session.flush",
        "sqlalchemy/sql/cache_key.py:HasCacheKey._generate_cache_key",
        "sqlalchemy/sql/compiler.py:SQLCompiler.__init__",
        "psycopg/cursor_async.py:AsyncCursor.execute",
        "psycopg/cursor_async.py:AsyncCursor.executemany",
        "sqlalchemy/pool/base.py:Pool.connect",
        "sqlalchemy/engine/default.py:DefaultDialect._do_ping_w_event",
        "psycopg/connection_async.py:AsyncConnection.connect",
        "psycopg/connection_async.py:AsyncConnection.close",
        "logging/__init__.py:Logger.info",
    )
    for layer in layers:
        if inclusive.get(layer):
            print(f"    {100 * inclusive[layer] / total:5.1f}%  {layer}")


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="uvicorn worker processes (default 2: one per core; see bench/README.md)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--duration", type=float, default=12.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per run")
    parser.add_argument("--outlets", type=int, default=1000, help="at least this many outlets")
    parser.add_argument("--claims", type=int, default=100_000, help="claims loaded before runs")
    parser.add_argument("--verdicts", type=int, default=300, help="verdicts on loaded claims")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--batch-connections",
        type=int,
        default=0,
        help="concurrent batch posters (default 2x workers: more only queues)",
    )
    parser.add_argument("--load-threads", type=int, default=4, help="concurrent loading batches")
    parser.add_argument("--database", default="credscore_bench")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--no-access-log", action="store_true", help="CREDSCORE_ACCESS_LOG=false")
    parser.add_argument(
        "--model",
        action="store_true",
        help="train and activate a claim model on the bench's verdicts before the runs "
        "(scores then take the model path, not the track record)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", action="store_true", help="py-spy the claims/score paths")
    parser.add_argument("--profile-seconds", type=float, default=12.0)
    parser.add_argument("--keep", action="store_true", help="keep the database and the work dir")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--max-seconds", type=int, default=1800, help="give up (and clean up) after this long"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    args.batch_connections = args.batch_connections or 2 * args.workers
    return args


@contextlib.contextmanager
def work_dir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="credscore-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


class BenchTimeout(Exception):
    pass


def _give_up(signum: int, _frame: object) -> None:
    raise BenchTimeout(f"stopped by signal {signum} (time limit or SIGTERM)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Bounded in time: SIGALRM (and SIGTERM) unwind through the finally blocks below, which
    # stop the server and drop the database.
    signal.signal(signal.SIGALRM, _give_up)
    signal.signal(signal.SIGTERM, _give_up)
    signal.alarm(args.max_seconds)
    if shutil.which("wrk") is None:
        log("wrk is missing: apt-get install -y wrk (make bench installs it)")
        return 2
    spy = py_spy() if args.profile else None
    if args.profile and spy is None:
        log("py-spy is missing: .venv/bin/pip install py-spy (make bench PROFILE=1 does)")
        return 2
    ensure_postgres()
    database_url = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    env = {
        **os.environ,
        "CREDSCORE_DATABASE_URL": database_url,
        "CREDSCORE_ENVIRONMENT": "production",
        "CREDSCORE_ACCESS_LOG": "false" if args.no_access_log else "true",
    }
    recreate_database(args.database)
    with work_dir(args.keep) as data_dir:
        subprocess.run([str(BIN / "credscore"), "migrate"], env=env, check=True)
        key = subprocess.run(
            [
                str(BIN / "credscore"),
                "create-api-key",
                "--name",
                "bench",
                "--scopes",
                "read,submit,admin",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
        port = args.port or free_port()
        log(f"serving on {HOST}:{port} with {args.workers} workers; logs in {data_dir}/server.log")
        server = start_server(env, port, args.workers, data_dir / "server.log", args.database)
        try:
            return run(server, key, data_dir, args, spy, database_url)
        finally:
            log("stopping the server")
            server.stop()
            if not args.keep:
                with contextlib.suppress(psycopg.Error):
                    recreate_database(args.database, drop_only=True)


def run(
    server: Server,
    key: str,
    data_dir: Path,
    args: argparse.Namespace,
    spy: str | None,
    database_url: str,
) -> int:
    base = server.base_url
    started = time.perf_counter()
    slugs = load_outlets(base, key, args.outlets, args.seed)
    took = time.perf_counter() - started
    log(f"{len(slugs):,} outlets, each with one synthetic track record, in {took:.1f} s")
    started = time.perf_counter()
    loaded, load_rate = load_claims(
        base, key, slugs, args.claims, args.batch_size, args.load_threads, args.seed
    )
    took = time.perf_counter() - started
    log(f"{len(loaded.ids):,} claims via the batch endpoint in {took:.1f} s ({load_rate:,.0f}/s)")
    started = time.perf_counter()
    load_verdicts(base, key, loaded, args.verdicts, args.seed)
    log(f"{args.verdicts:,} verdicts in {time.perf_counter() - started:.1f} s")
    jobs, waited = wait_for_jobs(database_url)
    log(f"{jobs:,} background jobs (re-scoring after verdicts) done after {waited:.1f} s more")
    model = train_model(database_url) if args.model else None
    (data_dir / "slugs.txt").write_text("\n".join(slugs) + "\n")
    polls = poll_targets(base, key, random.Random(args.seed).sample(loaded.ids, 256))
    with_etag = sum(1 for _, etag in polls if etag)
    log(f"poll targets: {len(polls)} claims, {with_etag} answered with an ETag")
    (data_dir / "polls.tsv").write_text("".join(f"{i}\t{etag}\n" for i, etag in polls))

    # Each scenario runs right after its own /healthz run and its ratio is to that one, so a
    # neighbour's burst of CPU use moves both figures of a pair alike.
    scenarios = {
        "score": lambda: measure_wrk("score", "POST /v1/score", "score", *common),
        "claims": lambda: measure_wrk("claims", "POST /v1/claims", "claims", *common),
        "poll_304": lambda: measure_wrk(
            "poll_304", "GET /v1/claims/{id} If-None-Match", "poll", *common
        ),
        "batch": lambda: measure_batch(server, key, slugs, args, args.seed),
    }
    common = (server, key, data_dir, args)
    results: dict[str, Result] = {}
    ceilings: list[Result] = []
    for name, measure in scenarios.items():
        ceilings.append(measure_wrk("healthz", "GET /healthz", "healthz", *common))
        results[name] = measure()
        results[name].ceiling = ceilings[-1].rate
    healthz = sorted(ceilings, key=lambda item: item.rate)[len(ceilings) // 2]
    healthz.ceiling = healthz.rate
    healthz.statuses = dict(sum((Counter(item.statuses) for item in ceilings), Counter()))
    healthz.socket_errors = sum(item.socket_errors for item in ceilings)
    healthz.notes.append(
        "median of " + ", ".join(f"{item.rate:,.0f}" for item in ceilings) + " req/s"
    )
    results = {"healthz": healthz, **results}
    judge(results)

    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT count(*) FROM claims").fetchone()
        stored = int(row[0]) if row else 0
    run_info = {
        "workers": args.workers,
        "connections": args.connections,
        "wrk_threads": args.wrk_threads,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "access_log": not args.no_access_log,
        "outlets": len(slugs),
        "claims_loaded": len(loaded.ids),
        "claims_stored_at_end": stored,
        "verdicts": args.verdicts,
        "background_jobs_before_runs": jobs,
        "load_claims_per_s": round(load_rate, 1),
        "poll_targets_with_etag": with_etag,
        "cpus": os.cpu_count(),
        "postgres_max_connections": postgres_max_connections(),
        "model": model or "none (track record)",
    }
    header = (
        f"\ncredscore HTTP bench: {args.workers} workers, {args.connections} connections "
        f"(wrk -t{args.wrk_threads}), {args.duration:g} s after {args.warmup:g} s warm-up, "
        f"access log {'off' if args.no_access_log else 'on'}, {len(slugs):,} outlets, "
        f"{len(loaded.ids):,} claims loaded ({stored:,} at the end), {os.cpu_count()} CPUs, "
        f"scoring by {model or 'track record (no model)'}\n"
    )
    print_table(results, header)
    if args.json:
        args.json.write_text(json.dumps(json_document(results, run_info), indent=2) + "\n")
        log(f"wrote {args.json}")

    if spy is not None:
        for mode, label in (("claims", "POST /v1/claims"), ("score", "POST /v1/score")):
            log(f"profiling {label} for {args.profile_seconds:g} s")
            print_profile(label, profile(mode, server, key, data_dir, args, spy))
    missed = [name for name, result in results.items() if not result.passed]
    if missed:
        log(f"targets missed: {', '.join(missed)}")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
