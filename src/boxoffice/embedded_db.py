"""Start and stop the embedded MongoDB-wire server (nx-27017) for development, demos and tests.

Production runs real MongoDB; this exists so a fresh machine needs no database install.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _executable() -> str:
    beside = Path(sys.executable).with_name("nx-27017")
    if beside.exists():
        return str(beside)
    found = shutil.which("nx-27017")
    if not found:
        raise RuntimeError("nx-27017 is not installed; run `uv sync` first")
    return found


class EmbeddedMongo:
    """One nx-27017 process; `db_path` is a file path or "memory"."""

    def __init__(self, db_path: str, port: int, run_dir: Path) -> None:
        self.db_path = db_path
        self.port = port
        self.run_dir = run_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 15.0) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.db_path != "memory":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        log_file = self.run_dir / f"nx-{self.port}.log"
        self.process = subprocess.Popen(
            [
                _executable(),
                "--db",
                self.db_path,
                "-p",
                str(self.port),
                "--pid-file",
                str(self.run_dir / f"nx-{self.port}.pid"),
                "--log-file",
                str(log_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops us in order
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nx-27017 exited with {self.process.returncode}; see {log_file}")
            if self.is_up():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nx-27017 did not answer on port {self.port} within {timeout:.0f}s")

    def is_up(self) -> bool:
        client: MongoClient[dict[str, object]] = MongoClient(self.uri, serverSelectionTimeoutMS=300)
        try:
            client.admin.command("ping")
        except PyMongoError:
            return False
        finally:
            client.close()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        self.process = None
