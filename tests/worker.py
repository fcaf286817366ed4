"""Starting a real Celery worker for integration tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def celery_worker(*, queue: str, log_path: Path, extra_args: tuple[str, ...] = (), **env: str
                  ) -> Iterator[subprocess.Popen]:
    """Run `celery --app clinic worker` on `queue` for the duration of the block."""
    environment = {**os.environ, **env}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "clinic", "worker", "--pool", "solo", "--loglevel", "INFO",
             "--queues", queue, "--hostname", f"{queue}@%h", "--without-mingle", "--without-gossip", *extra_args],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield process
        finally:
            stop(process, signal.SIGTERM)


def stop(process: subprocess.Popen, how: int = signal.SIGKILL) -> None:
    """Signal the worker and everything it started (an embedded beat is a child process)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, how)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
