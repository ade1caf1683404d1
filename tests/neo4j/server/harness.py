"""Build, start and stop a real Neo4j Community server for the tests (standard library only, so
``run.sh`` works with the machine's ``python3`` before any virtualenv exists).

* ``build()`` runs ``mvn package`` on the ``pom.xml`` beside this file once: Maven resolves
  Neo4j Community and its dependencies from Maven Central into ``.m2/`` here (ignored by git, so
  a rerun downloads nothing) and copies the jars to ``target/lib``.
* ``Home`` lays out a throwaway NEO4J_HOME (conf, data, logs, run, import) with Bolt on
  127.0.0.1 and a free port, HTTP off, and a random initial password set with ``neo4j-admin``;
  ``home.bin / 'neo4j-admin'`` is a wrapper, so a printed ``neo4j-admin ...`` command runs as is.
* ``start()`` launches ``org.neo4j.server.CommunityEntryPoint`` and waits until Bolt answers a
  protocol handshake; ``stop()`` ends it (SIGTERM, then SIGKILL).

Command line: ``harness.py start [--home DIR] [--heap 512m] [--pagecache 256m]`` prints the
``NEO4J_*`` lines; ``harness.py stop --home DIR``; ``harness.py build``.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LIB = HERE / "target" / "lib"
M2 = HERE / ".m2" / "repository"
STAMP = HERE / "target" / "lib.stamp"
USER = "neo4j"
BOLT_MAGIC = b"\x60\x60\xb0\x17"


class HarnessError(RuntimeError):
    """Java or Maven missing, the build failed, or the server did not come up."""


def java_command() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise HarnessError("no java on PATH and no JAVA_HOME: install OpenJDK 17 "
                           "(Debian: apt-get install openjdk-17-jdk-headless)")
    return found


def missing_tools() -> list[str]:
    """What is missing to build and run the server here: [] when Java and Maven are present."""
    missing = []
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing.append("Java 17 (apt-get install openjdk-17-jdk-headless)")
    if not shutil.which("mvn"):
        missing.append("Maven (apt-get install maven)")
    return missing


def build(*, quiet: bool = True) -> Path:
    """The folder of Neo4j jars, built with Maven when the pom changed or nothing is built."""
    pom = POM.read_bytes()
    if STAMP.exists() and STAMP.read_bytes() == pom and any(LIB.glob("neo4j-*.jar")):
        return LIB
    mvn = shutil.which("mvn")
    if not mvn:
        raise HarnessError("Maven is not installed (apt-get install maven)")
    cmd = [mvn, "-B", f"-Dmaven.repo.local={M2}", "-f", str(POM), "package"]
    if quiet:
        cmd.insert(2, "-q")
    if LIB.exists():
        shutil.rmtree(LIB)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
        raise HarnessError(f"mvn package failed (exit {done.returncode}):\n{tail}")
    STAMP.write_bytes(pom)
    return LIB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Home:
    """A NEO4J_HOME of its own: one DBMS with the ``system`` and ``neo4j`` databases."""

    path: Path
    port: int
    password: str

    @property
    def conf(self) -> Path:
        return self.path / "conf"

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.path / "run" / "neo4j.pid"

    def env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_HOME": str(self.path), "NEO4J_CONF": str(self.conf)}

    def lines(self, pid: int | None = None) -> list[str]:
        out = [f"NEO4J_URI={self.uri}", f"NEO4J_USER={USER}",
               f"NEO4J_PASSWORD={self.password}", f"NEO4J_HOME={self.path}"]
        if pid is not None:
            out.append(f"NEO4J_PID={pid}")
        return out


def make_home(path: Path | None = None, *, heap: str = "512m", pagecache: str = "256m",
              lib: Path = LIB) -> Home:
    """A fresh home with a random password (set before the first start, as Neo4j requires)."""
    path = Path(tempfile.mkdtemp(prefix="linkgraph-neo4j-")) if path is None else path
    for sub in ("conf", "data", "logs", "run", "import", "plugins", "bin"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    home = Home(path.resolve(), free_port(), secrets.token_hex(18))  # hex: a password never starts with "-", which neo4j-admin reads as an option
    d = home.path
    (home.conf / "neo4j.conf").write_text("\n".join([
        "server.default_listen_address=127.0.0.1",
        "server.default_advertised_address=127.0.0.1",
        f"server.bolt.listen_address=127.0.0.1:{home.port}",
        "server.http.enabled=false",
        "server.https.enabled=false",
        f"server.memory.heap.initial_size={heap}",
        f"server.memory.heap.max_size={heap}",
        f"server.memory.pagecache.size={pagecache}",
        "dbms.usage_report.enabled=false",
        f"server.directories.data={d / 'data'}",
        f"server.directories.logs={d / 'logs'}",
        f"server.directories.run={d / 'run'}",
        f"server.directories.import={d / 'import'}",
        f"server.directories.plugins={d / 'plugins'}",
        "",
    ]), encoding="utf-8")
    admin = home.bin / "neo4j-admin"
    admin.write_text(
        "#!/bin/sh\n# neo4j-admin of this test home (org.neo4j.cli.AdminTool, in process)\n"
        f"NEO4J_HOME='{d}' NEO4J_CONF='{home.conf}' exec '{java_command()}' -Xmx{heap} "
        f"-cp '{lib}/*' org.neo4j.cli.AdminTool \"$@\"\n", encoding="utf-8")
    admin.chmod(0o755)
    (home.path / "password").write_text(home.password, encoding="utf-8")
    (home.path / "port").write_text(str(home.port), encoding="utf-8")
    run_admin(home, "dbms", "set-initial-password", home.password)
    return home


def load_home(path: Path) -> Home:
    path = path.resolve()
    return Home(path, int((path / "port").read_text()), (path / "password").read_text())


def run_admin(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(home.bin / "neo4j-admin"), *args], capture_output=True,
                          text=True, env=home.env())
    if done.returncode != 0:
        raise HarnessError(f"neo4j-admin {' '.join(args)} exited {done.returncode}:\n"
                           f"{done.stdout}{done.stderr}")
    return done


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: the server ends with the test run


def bolt_answers(port: int, timeout: float = 2.0) -> bool:
    """True when a Bolt handshake on 127.0.0.1:port gets a version back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            # propose Bolt 5.0-5.4 (range form), 4.4, 4.3, 4.2
            s.sendall(BOLT_MAGIC + struct.pack(">IIII", 0x00040405, 0x00000404, 0x00000403,
                                               0x00000402))
            got = b""
            while len(got) < 4:
                chunk = s.recv(4 - len(got))
                if not chunk:
                    return False
                got += chunk
            return got != b"\x00\x00\x00\x00"
    except OSError:
        return False


def start(home: Home, *, wait: float = 180.0, die_with_parent: bool = False,
          lib: Path = LIB) -> int:
    """Start the server of ``home`` and return its pid once Bolt answers."""
    log = open(home.path / "logs" / "console.log", "ab")  # noqa: SIM115 - handed to the child
    cmd = [java_command(), "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
           "-cp", f"{lib}/*", "org.neo4j.server.CommunityEntryPoint",
           f"--home-dir={home.path}", f"--config-dir={home.conf}"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            env=home.env(), start_new_session=True,
                            preexec_fn=_die_with_parent if die_with_parent else None)
    log.close()
    home.pid_file.write_text(str(proc.pid), encoding="utf-8")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError(f"Neo4j exited {proc.returncode} while starting:\n"
                               f"{_tail(home)}")
        if bolt_answers(home.port):
            return proc.pid
        time.sleep(0.5)
    stop_pid(proc.pid)
    raise HarnessError(f"Bolt did not answer on {home.uri} within {wait:.0f} s:\n{_tail(home)}")


def _tail(home: Home) -> str:
    out = []
    for name in ("console.log", "neo4j.log", "debug.log"):
        f = home.path / "logs" / name
        if f.exists():
            out.append(f"--- {f}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-20:]))
    return "\n".join(out)


def stop_pid(pid: int, grace: float = 30.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:  # not our child: poll for it to go
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(home: Home) -> None:
    if home.pid_file.exists():
        stop_pid(int(home.pid_file.read_text()))
        home.pid_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="build when needed, start, print NEO4J_* lines")
    s.add_argument("--home", type=Path, help="NEO4J_HOME to create (default: a new temp dir)")
    s.add_argument("--heap", default="512m", help="JVM heap (server.memory.heap.max_size)")
    s.add_argument("--pagecache", default="256m", help="server.memory.pagecache.size")
    t = sub.add_parser("stop", help="stop the server of a home started with 'start'")
    t.add_argument("--home", type=Path, required=True)
    sub.add_parser("build", help="resolve Neo4j from Maven Central into target/lib")
    args = p.parse_args(argv)
    try:
        if args.cmd == "build":
            print(build())
        elif args.cmd == "start":
            missing = missing_tools()
            if missing:
                raise HarnessError("missing: " + ", ".join(missing))
            build()
            home = make_home(args.home, heap=args.heap, pagecache=args.pagecache)
            pid = start(home)
            print("\n".join(home.lines(pid)))
        else:
            stop(load_home(args.home))
    except HarnessError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
