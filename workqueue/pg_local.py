"""A throwaway PostgreSQL server on a temporary data folder and Unix socket, for tests and benchmarks.

    with LocalPostgres() as pg:      # initdb + pg_ctl start; stopped and deleted on exit
        queue = Queue(pg.url)

It uses the server binaries of the machine (Debian's ``postgresql`` package puts them in
``/usr/lib/postgresql/<version>/bin``). It listens on no TCP address, only on a socket in its own
folder. PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


class LocalPostgres:
    def __init__(self, bindir: Path | None = None, port: int = 5432, database: str = "polyglot"):
        self.bindir = bindir or find_binaries()
        if self.bindir is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) are not installed "
                                    "(Debian: apt-get install postgresql)")
        self.port, self.database = port, database
        self.root: Path | None = None
        self._as: pwd.struct_passwd | None = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.user = self._as.pw_name if self._as else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        """A new empty database on this server; returns its URL."""
        self._psql(f"CREATE DATABASE {name}")
        return self.url_for(name)

    def _psql(self, command: str) -> None:
        psql = self.bindir / "psql"
        self._run(str(psql) if psql.exists() else "psql", "-h", str(self.socket_dir), "-p", str(self.port),
                  "-U", self.user, "-d", "postgres", "-qc", command)

    def _run(self, *args: str, timeout: float = 60) -> None:
        kwargs = {}
        if self._as:
            uid, gid = self._as.pw_uid, self._as.pw_gid
            kwargs["preexec_fn"] = lambda: (os.setgid(gid), os.setuid(uid))
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=self.root,
                             env={**os.environ, "LC_ALL": "C.UTF-8"}, **kwargs)
        if out.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({out.returncode}): {out.stderr.strip() or out.stdout}")

    def start(self) -> "LocalPostgres":
        self.root = Path(tempfile.mkdtemp(prefix="polyglot-pg-"))
        self.socket_dir.mkdir()
        if self._as:
            for p in (self.root, self.socket_dir):
                os.chown(p, self._as.pw_uid, self._as.pw_gid)
        data = self.root / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", self.user, "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' -p {self.port} "
                   "-c fsync=off -c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")
        self._psql(f"CREATE DATABASE {self.database}")
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
