"""Several workers, each with its own SO_REUSEPORT socket, under one supervising process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.serving import listening_socket, reuse_port_supported

pytestmark = pytest.mark.skipif(
    not reuse_port_supported(), reason="SO_REUSEPORT is Linux-only; elsewhere uvicorn's workers"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def listening_pids(port: int) -> set[int]:
    """Processes holding a listening socket on ``port`` (by inode, from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    holders = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            holders.add(int(entry.name))
    return holders


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    env = {**os.environ, "CREDSCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    cli = [sys.executable, "-m", "service.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_until_ready(port: int, pids: int, deadline: float) -> None:
    """Until ``pids`` processes listen on ``port`` and it answers (a busy CI machine is slow)."""
    while time.monotonic() < deadline:
        if len(listening_pids(port)) >= pids:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"{pids} workers never answered on {port}")


def test_each_worker_listens_and_sigterm_stops_them_all(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    wait_until_ready(port, 2, time.monotonic() + 120)
    # Two sockets, one per worker; the supervisor holds none.
    workers = listening_pids(port)
    assert len(workers) == 2
    assert workers <= children(process.pid)
    for _ in range(10):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_taken_port_fails_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "CREDSCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            capture_output=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert b"Address already in use" in result.stderr


def test_sockets_share_a_port() -> None:
    first = listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = listening_socket("127.0.0.1", port)
    try:
        assert second.getsockname()[1] == port
    finally:
        first.close()
        second.close()


@pytest.fixture
def metrics_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "CREDSCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    cli = [sys.executable, "-m", "service.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process, port, metrics_dir
    if process.poll() is None:
        process.kill()
        process.wait()


def test_metrics_add_up_every_worker(
    metrics_server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, metrics_dir = metrics_server
    wait_until_ready(port, 2, time.monotonic() + 120)
    workers = listening_pids(port)
    before = healthz_count(port)
    for _ in range(40):
        # A new connection each time: the kernel spreads them over both workers' sockets.
        with httpx.Client() as http:
            assert http.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200
    # Both workers counted requests into the shared directory...
    counting = {int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob("counter_*.db")}
    assert workers <= counting
    # ...and any worker's /metrics reports the sum (a request is counted just after its answer
    # leaves, hence the retries).
    for _ in range(50):
        if healthz_count(port) - before == 40:
            break
        time.sleep(0.1)
    assert healthz_count(port) - before == 40
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def healthz_count(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("credscore_http_requests_total{") and 'route="/healthz"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
