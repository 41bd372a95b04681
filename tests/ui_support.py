"""Running ``podfence ui`` as a user would: the console script on a free port, its URL from stdout's first line."""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from cli_support import PODFENCE, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def ui_server(*args: str, cwd: Path | None = None) -> Iterator[str]:
    """The URL of a running ``podfence ui ARGS --port 0 --no-browser``; stopped when the block ends."""
    proc = subprocess.Popen([str(PODFENCE), "ui", *args, "--port", "0", "--no-browser"], cwd=cwd or ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PODFENCE_DEBUG": ""})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), f"no URL on the first line; stderr: {proc.stderr.read() if proc.stderr else ''}"
        _wait_listening(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_listening(url: str) -> None:
    import httpx

    for _ in range(200):
        try:
            httpx.get(url.split("?")[0] + "api/contexts", timeout=5)  # any answer, even 403, means it listens
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")
