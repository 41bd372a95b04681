"""Running ``podfence watch`` in the background in tests: its lines as they come, its exit."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cli_support import PODFENCE, ROOT


class Watch:
    """``podfence watch ARGS`` running; :meth:`line` waits for the next line of stdout."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([str(PODFENCE), "watch", *args], stdout=subprocess.PIPE, stderr=self._stderr,
                                     text=True, cwd=ROOT, env={**os.environ, "PODFENCE_DEBUG": "", **(env or {})})
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def line(self, timeout: float = 10.0) -> str | None:
        """The next line of stdout, or None when none came within ``timeout`` seconds (or the process ended)."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    def wait_for_stderr(self, words: str, timeout: float = 20.0) -> bool:
        """Poll stderr until it holds ``words`` (the watch says it is ready, or lost the server)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if words in self.stderr():
                return True
            if self.proc.poll() is not None:
                return words in self.stderr()
            time.sleep(0.05)
        return False

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
