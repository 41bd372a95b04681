"""Loading nftables rulesets into pod namespaces, many at once.

Each pod's ruleset is one transaction (replace the table, or remove it), run
inside the pod's namespace. Workers are threads: each steps into a pod's
namespace and hands the text to libnftables in-process (no fork), or, where
the library cannot be loaded, to an ``nft -f -`` child that inherits the
thread's namespace. A transaction that deletes a table waits for the kernel
(about 15 ms), so running them side by side is what makes hundreds of pods
quick to update.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

from podfence.lab import linux

WORKERS = 16


class NftError(Exception):
    """A ruleset was refused; the message holds nft's own words."""


class _Libnftables:
    def __init__(self) -> None:
        lib = ctypes.CDLL(ctypes.util.find_library("nftables") or "libnftables.so.1", use_errno=True)
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        self.lib = lib

    def run(self, text: str) -> str:
        """Run ``text`` in the calling thread's namespace; return nft's output."""
        ctx = self.lib.nft_ctx_new(0)
        if not ctx:
            raise NftError("libnftables could not start")
        try:
            self.lib.nft_ctx_buffer_output(ctx)
            self.lib.nft_ctx_buffer_error(ctx)
            code = self.lib.nft_run_cmd_from_buffer(ctx, text.encode())
            output = (self.lib.nft_ctx_get_output_buffer(ctx) or b"").decode(errors="replace")
            if code != 0:
                error = (self.lib.nft_ctx_get_error_buffer(ctx) or b"").decode(errors="replace")
                raise NftError(error.strip() or "nft refused the ruleset")
            return output
        finally:
            self.lib.nft_ctx_free(ctx)


_library: _Libnftables | None = None
_library_lock = threading.Lock()


def _lib() -> _Libnftables | None:
    global _library
    with _library_lock:
        if _library is None:
            try:
                _library = _Libnftables()
            except (OSError, AttributeError):
                return None
        return _library


def run(netns: str, text: str, use_library: bool = True) -> str:
    """Run one nft script inside ``netns`` (a transaction: all of it or nothing)."""
    lib = _lib() if use_library else None
    with linux.in_netns(linux.netns_path(netns)):
        if lib is not None:
            return lib.run(text)
        done = subprocess.run(["nft", "-f", "-"], input=text, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NftError(done.stderr.strip() or "nft refused the ruleset")
    return done.stdout


def run_many(jobs: Iterable[tuple[str, str]], progress: Callable[[int], None] | None = None,
             workers: int = WORKERS, use_library: bool = True) -> dict[str, str]:
    """Run ``(netns, script)`` jobs side by side; return netns -> error for the ones that failed."""
    failures: dict[str, str] = {}

    def one(job: tuple[str, str]) -> None:
        netns, text = job
        try:
            run(netns, text, use_library)
        except (NftError, OSError) as exc:
            failures[netns] = str(exc)
        if progress:
            progress(1)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, jobs))
    return failures
