"""Running the API in several worker processes, each with its own listening socket.

uvicorn's ``--workers`` shares one listening socket between the workers, and whichever worker
is in ``accept`` when a burst of connections arrives takes them all, leaving the others idle
(bench/README.md, "Why 2 workers, each with its own socket", has the counts). With
``SO_REUSEPORT`` each worker listens on its own socket and the kernel spreads new connections
across them by their addresses, as gunicorn's ``--reuse-port`` and nginx's ``reuseport`` do.
Where the option is missing (not Linux), the shared socket is used.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

# uvicorn's default backlog.
BACKLOG = 2048
# A worker that dies sooner than this after starting is not restarted (a crash loop).
MIN_WORKER_LIFETIME_SECONDS = 5.0


def prepare_multiprocess_metrics() -> str:
    """Point every worker's Prometheus metrics at one directory, emptied for this run.

    /metrics on any worker then adds up all of them (service/metrics/router.py). The workers
    inherit the variable, and read it when they first import prometheus_client. Files left by
    an earlier run would be counted again, so they are removed first.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    else:
        directory = tempfile.mkdtemp(prefix="credscore-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def reuse_port_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port`` in the port's SO_REUSEPORT group.

    ``listen=False`` only checks that the port can be had: a socket that does not listen gets
    no connections, so none can queue on it and be lost when it closes.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(BACKLOG)
    return sock


def uvicorn_options(proxy_headers: bool) -> dict[str, Any]:
    return {
        "factory": True,
        "access_log": False,  # the app logs each request itself (service/logging.py)
        "log_config": None,
        "proxy_headers": proxy_headers,
    }


def _run_worker(host: str, port: int, proxy_headers: bool) -> None:
    import uvicorn

    # Imported before the socket joins the port's group: the kernel hands a listening socket its
    # share of connections at once, and they would wait out the seconds this import takes.
    import service.app  # noqa: F401

    sock = listening_socket(host, port)
    config = uvicorn.Config("service.app:create_app", **uvicorn_options(proxy_headers))
    uvicorn.Server(config).run(sockets=[sock])


def serve_reuse_port(host: str, port: int, workers: int, *, proxy_headers: bool) -> int:
    """Start ``workers`` processes, restart any that dies, stop them all on SIGTERM/SIGINT."""
    # Bound here first so that a taken port fails at once, in this process, with its error.
    listening_socket(host, port, listen=False).close()
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_run_worker, args=(host, port, proxy_headers))
        process.start()
        return process

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes = {start(): time.monotonic() for _ in range(workers)}
    status = 0
    while not stopping:
        time.sleep(0.2)
        for process, started in list(processes.items()):
            if process.is_alive() or stopping:
                continue
            del processes[process]
            if time.monotonic() - started < MIN_WORKER_LIFETIME_SECONDS:
                print(
                    f"worker {process.pid} exited at start ({process.exitcode}); stopping",
                    file=sys.stderr,
                    flush=True,
                )
                stopping, status = True, 1
                break
            print(
                f"worker {process.pid} exited ({process.exitcode}); restarting",
                file=sys.stderr,
                flush=True,
            )
            processes[start()] = time.monotonic()
    for process in processes:
        if process.pid is not None and process.is_alive():
            process.terminate()  # uvicorn shuts down gracefully on SIGTERM
    for process in processes:
        process.join()
    return status
