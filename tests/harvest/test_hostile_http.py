"""A hostile or broken server on 127.0.0.1 against the real CLI: every case ends in a clear
error (exit 1, no traceback) or a recorded problem, within bounded time and memory (peak RSS
of the harvest process read from the kernel, VmHWM), and what was stored before stays.

Cases: a gzip bomb as a page and as a 503 error body, an endless body, a server trickling one
byte at a time in the body or in the status line and headers (the idle timeout never fires), a redirect loop, a URL that is not one, a
resumption token of 1 MB, a completeListSize above 2^63, and the Crossref connector fed a
gzip bomb."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

GIB = 1 << 30
RSS_CAP = 1 << 30  # what a bounded harvest must stay under (bytes)


def _bomb(inflated: int) -> bytes:
    """gzip of an OAI-PMH response that opens well and then holds ``inflated`` bytes of spaces
    (about 1000:1): the parser accepts every byte, so only the size cap stops it."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1 << 20)
    parts = [comp.compress(b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
                           b"<responseDate>2024-01-01T00:00:00Z</responseDate><ListRecords>")]
    parts += [comp.compress(block) for _ in range(inflated >> 20)]
    parts.append(comp.flush())
    return b"".join(parts)


BOMB = _bomb(2 * GIB)  # ~2 MB on the wire, 2 GiB inflated
ZEROS = zlib.compress(bytes(64 << 20), 9, wbits=16 + zlib.MAX_WBITS)  # not XML at all

IDENTIFY = (b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>'
            b"2024-01-01T00:00:00Z</responseDate><request>x</request><Identify><repositoryName>h</repositoryName>"
            b"<baseURL>http://x/oai</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>a@b.c</adminEmail>"
            b"<earliestDatestamp>2020-01-01</earliestDatestamp><deletedRecord>no</deletedRecord>"
            b"<granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>")


def _list(token: bytes, complete: bytes = b"") -> bytes:
    rec = (b"<record><header><identifier>oai:h:1</identifier><datestamp>2024-01-01</datestamp></header>"
           b'<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>t</dc:title></oai_dc:dc></metadata></record>')
    attrs = b' completeListSize="' + complete + b'"' if complete else b""
    return (b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>'
            b"2024-01-01T00:00:00Z</responseDate><request>x</request><ListRecords>" + rec
            + b"<resumptionToken" + attrs + b">" + token + b"</resumptionToken></ListRecords></OAI-PMH>")


class Hostile(BaseHTTPRequestHandler):
    mode = "bomb"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, *, gzip: bool = False, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        if gzip:
            self.send_header("Content-Encoding", "gzip")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        mode = self.server.mode  # type: ignore[attr-defined]
        if "verb=Identify" in self.path:
            return self._send(200, IDENTIFY)
        try:
            if mode == "bomb" or mode == "crossref_bomb":
                self._send(200, BOMB, gzip=True)
            elif mode == "zeros":
                self._send(200, ZEROS, gzip=True)
            elif mode == "bomb503":
                self._send(503, BOMB, gzip=True)
            elif mode == "endless":
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><x>')
                chunk = b"<y>" + b"z" * 65536 + b"</y>"
                while True:
                    self.wfile.write(chunk)
            elif mode == "trickle":
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            elif mode == "slowheaders":  # the status line and headers, one byte at a time
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nX-Padding: " + b"p" * 1000:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            elif mode == "redirect":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif mode == "token":
                self._send(200, _list(b"t" * (1 << 20)))
            elif mode == "complete":
                self._send(200, _list(b"", complete=b"99999999999999999999999"))
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def hostile(mode: str) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.mode = mode  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/oai"
    finally:
        server.shutdown()
        server.server_close()


def _hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run(args: list[str], timeout: float = 120) -> tuple[int, str, float, int]:
    """The CLI in a child; returns (exit code, stderr, seconds, peak RSS bytes of that child).

    The peak is the child's VmHWM, read while it runs (it is reset by exec, unlike wait4's
    ru_maxrss, which starts from the forking test process's own size)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "linkgraph", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    deadline = t0 + timeout
    peak = 0
    while True:
        peak = max(peak, _hwm(proc.pid))
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{args} did not end within {timeout} s")
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    return proc.returncode, b"".join(err).decode("utf-8", "replace"), time.monotonic() - t0, peak


def seed_db(db: Path) -> set[str]:
    """A store with records from another source, which no failure may touch."""
    from linkgraph.store import RawRecord, Store

    with Store(db) as store, store.transaction() as cur:
        Store.upsert_raw(cur, "earlier", None, [RawRecord(f"r{i}", None, False, "oai_dc", f"<x>{i}</x>")
                                                 for i in range(50)])
    return {f"r{i}" for i in range(50)}


def held(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT record_id FROM raw_records WHERE source = 'earlier'").fetchall()}
    finally:
        con.close()


CASES: dict[str, tuple[str, Callable[[str], list[str]], float]] = {
    # mode: (words in the error, extra CLI args, seconds it may take)
    "bomb": ("MiB once inflated", lambda url: [], 60),
    "bomb503": ("503", lambda url: ["--retries", "1"], 60),
    "endless": ("MiB once inflated", lambda url: [], 60),
    "trickle": ("deadline", lambda url: ["--timeout", "1", "--retries", "0"], 40),
    "slowheaders": ("deadline", lambda url: ["--timeout", "1", "--retries", "0"], 40),
    "redirect": ("redirect", lambda url: [], 30),
    "zeros": ("not an XML document", lambda url: [], 30),
    "token": ("resumption token of 1,048,576 characters", lambda url: [], 30),
}


@pytest.mark.parametrize("mode", sorted(CASES))
def test_oai_harvest_against_a_hostile_server_ends_clearly_and_bounded(mode: str, tmp_path: Path) -> None:
    words, extra, limit = CASES[mode]
    db = tmp_path / "h.duckdb"
    before = seed_db(db)
    with hostile(mode) as url:
        code, err, seconds, rss = run(["harvest", "oai", url, "--prefix", "oai_dc", "--db", str(db),
                                       "--retries", "0", *extra(url)])
    assert code == 1 and "Traceback" not in err, err[-2000:]
    assert words in err, err[-2000:]
    assert seconds < limit and 0 < rss < RSS_CAP, (seconds, rss >> 20)
    assert held(db) == before


def test_a_huge_complete_list_size_is_a_recorded_problem(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    with hostile("complete") as url:
        code, err, _, _ = run(["harvest", "oai", url, "--prefix", "oai_dc", "--db", str(db)])
    assert code in (0, 3) and "Traceback" not in err, err[-2000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        problems = [r[0] for r in con.execute("SELECT detail FROM harvest_problems").fetchall()]
        status = con.execute("SELECT status FROM harvest_runs").fetchall()
    finally:
        con.close()
    assert any("completeListSize" in p and "out of range" in p for p in problems), problems
    assert status and status[-1][0] != "running"


def test_an_invalid_url_fails_at_once(tmp_path: Path) -> None:
    code, err, seconds, _ = run(["harvest", "oai", "not-a-url", "--prefix", "oai_dc", "--db", str(tmp_path / "x.duckdb")])
    assert code == 2 and "not an http(s) URL" in err and "Traceback" not in err and seconds < 15, err


def test_the_crossref_connector_stops_a_gzip_bomb(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    before = seed_db(db)
    with hostile("crossref_bomb") as url:
        code, err, seconds, rss = run(["harvest", "crossref", "--prefix", "10.1234", "--base-url", url,
                                       "--retries", "0", "--db", str(db)])
    assert code == 1 and "Traceback" not in err, err[-2000:]
    assert "MiB once inflated" in err and seconds < 60 and 0 < rss < RSS_CAP, (err[-500:], rss >> 20)
    assert held(db) == before
