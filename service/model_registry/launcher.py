"""Starts training runs as child processes of an API replica, and watches them exit.

A child process keeps the fit's CPU work and memory away from the request path entirely (a
thread would share the interpreter lock with request handling), and can be killed cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.database.types import utcnow
from service.model_registry.models import ModelVersion
from service.settings import Settings

logger = logging.getLogger("credscore.training")


class TrainingLauncher:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self._watchers: set[asyncio.Task[None]] = set()

    async def launch(self, model_id: int) -> int:
        environment = os.environ | {"CREDSCORE_DATABASE_URL": self.settings.database_url}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service.cli",
            "train",
            "--model-id",
            str(model_id),
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
        )
        self.processes[model_id] = process
        watcher = asyncio.create_task(self._watch(model_id, process))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        logger.info("training model %s in process %s", model_id, process.pid)
        return process.pid

    def kill(self, model_id: int) -> bool:
        process = self.processes.get(model_id)
        if process is None or process.returncode is not None:
            return False
        process.send_signal(signal.SIGKILL)
        return True

    async def _watch(self, model_id: int, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        self.processes.pop(model_id, None)
        if code == 0:
            return
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        async with self.sessionmaker() as session:
            row = await session.get(ModelVersion, model_id)
            if row is not None and row.status in ("queued", "training"):
                row.status = "failed"
                row.error = f"training process {how}"
                row.finished_at = utcnow()
                await session.commit()
        logger.warning("training of model %s %s", model_id, how)

    async def stop(self) -> None:
        for model_id in list(self.processes):
            self.kill(model_id)
        for watcher in list(self._watchers):
            watcher.cancel()
