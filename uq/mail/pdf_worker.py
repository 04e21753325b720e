"""PDF text extraction in a child process that a hostile packet cannot take down with it.

pypdf runs in pure Python on untrusted bytes: a small PDF can keep it busy for minutes
(a content stream of repeated tokens) or make it allocate a gigabyte (one huge string).
Neither can be stopped from inside the process that runs it, so extraction runs in a
worker process with an address-space limit (`resource.RLIMIT_AS`), and the parent kills
it when its time is up. The worker streams the text page by page, so whatever was read
before the limit is kept; the caller learns why the text is incomplete.

Wire format (both ways): a 1-byte tag, a 4-byte big-endian length, the payload.
Request  b"R": 4+4+4 bytes (pages, chars, 0) then the PDF bytes in the same frame.
Replies  b"P": one page's text (UTF-8, lone surrogates passed through and scrubbed by the
caller); b"E": end, payload "" or the reason it stopped early ("pages", "characters",
"memory", "unreadable").
"""

from __future__ import annotations

import os
import selectors
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_HEAD = struct.Struct(">cI")
_START_SECONDS = 30.0
_REQ = struct.Struct(">III")


@dataclass(frozen=True, slots=True)
class PdfLimits:
    pages: int = 30
    chars: int = 500_000
    seconds: float = 2.0
    memory_mb: int = 512


@dataclass(frozen=True, slots=True)
class PdfResult:
    text: str  # what was read, "" for none
    cut: str = ""  # why it is incomplete: "", "pages", "characters", "time", "memory", "unreadable"


# ---------------------------------------------------------------- the child
def _send(out: IO[bytes], tag: bytes, payload: bytes = b"") -> None:
    out.write(_HEAD.pack(tag, len(payload)) + payload)
    out.flush()


def _read_exact(inp: IO[bytes], n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = inp.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _extract(data: bytes, pages: int, chars: int, out: IO[bytes]) -> str:
    import io
    import logging

    from pypdf import PdfReader

    logging.disable(logging.CRITICAL)  # pypdf warnings may quote the document
    reader = PdfReader(io.BytesIO(data))
    total = 0
    for i, page in enumerate(reader.pages):
        if i >= pages:
            return "pages"
        text = page.extract_text() or ""
        if total + len(text) >= chars:
            _send(out, b"P", text[: chars - total].encode("utf-8", "surrogatepass"))
            return "characters"
        total += len(text)
        _send(out, b"P", text.encode("utf-8", "surrogatepass"))
    return ""


def child_main(memory_mb: int) -> None:
    import pypdf  # noqa: F401  (imported before "ready": its import time is no PDF's)

    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # no such limit on this platform: the parent's time limit still holds
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    _send(out, b"E", b"ready")
    while True:
        head = _read_exact(inp, _HEAD.size)
        if head is None:
            return
        _tag, size = _HEAD.unpack(head)
        body = _read_exact(inp, size)
        if body is None:
            return
        pages, chars, _ = _REQ.unpack_from(body)
        try:
            why = _extract(body[_REQ.size:], pages, chars, out)
        except MemoryError:
            why = "memory"
        except RecursionError:
            why = "unreadable"
        except Exception:
            why = "unreadable"
        _send(out, b"E", why.encode())


# ---------------------------------------------------------------- the parent
class _Worker:
    def __init__(self, memory_mb: int) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.memory_mb = memory_mb
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uq.mail.pdf_worker", str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout.fileno(), selectors.EVENT_READ)
            ready = sel.select(_START_SECONDS) and os.read(self.proc.stdout.fileno(), _HEAD.size + 5)
        if ready != _HEAD.pack(b"E", 5) + b"ready":
            self.close()
            raise OSError("pdf worker did not start")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()

    def run(self, data: bytes, limits: PdfLimits) -> tuple[PdfResult, bool]:
        """The result, and whether the worker is still usable."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        deadline = time.monotonic() + limits.seconds
        request = _REQ.pack(limits.pages, limits.chars, 0) + data
        writer = threading.Thread(target=self._write, args=(_HEAD.pack(b"R", len(request)) + request,), daemon=True)
        writer.start()
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        pages: list[str] = []
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                while len(buf) >= _HEAD.size:
                    tag, size = _HEAD.unpack_from(buf)
                    if len(buf) < _HEAD.size + size:
                        break
                    payload = bytes(buf[_HEAD.size:_HEAD.size + size])
                    del buf[:_HEAD.size + size]
                    if tag == b"P":
                        pages.append(payload.decode("utf-8", "surrogatepass"))
                    else:
                        why = payload.decode()
                        return _joined(pages, limits, why), why != "memory"
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return _joined(pages, limits, "time"), False
                chunk = os.read(fd, 1 << 16)
                if not chunk:  # died: the memory limit hit outside Python's reach
                    return _joined(pages, limits, "memory"), False
                buf += chunk

    def _write(self, frame: bytes) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(frame)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the worker died or was killed: the reader sees it


def _joined(pages: list[str], limits: PdfLimits, why: str) -> PdfResult:
    text = "\n".join(pages)
    if len(text) > limits.chars:
        return PdfResult(text[: limits.chars], why or "characters")
    return PdfResult(text, why)


_lock = threading.Lock()
_worker: _Worker | None = None


def extract_text(data: bytes, limits: PdfLimits) -> PdfResult:
    """The text of a PDF within the limits; never raises (a failure is an "unreadable"
    result). One worker per process, started on first use, replaced after a kill."""
    global _worker
    if limits.seconds <= 0:
        return PdfResult("", "time")
    with _lock:
        try:
            if _worker is None or _worker.proc.poll() is not None or _worker.memory_mb != limits.memory_mb:
                if _worker is not None:
                    _worker.close()
                _worker = _Worker(limits.memory_mb)
            result, usable = _worker.run(data, limits)
        except OSError:
            result, usable = PdfResult("", "unreadable"), False
        if not usable and _worker is not None:
            _worker.close()
            _worker = None
        return result


if __name__ == "__main__":
    child_main(int(sys.argv[1]))
