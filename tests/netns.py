"""A loopback-only network namespace for cluster tests.

Ray binds the machine's routable address; inside a new network namespace with only the loopback
interface up, a test cluster stays on 127.0.0.1 and is reachable from nowhere else. The calling
thread (the test's) enters the namespace; processes it starts afterwards (Ray's, the app's)
inherit it; leaving restores the original one. Without the privilege to create a namespace, the
cluster runs on the host's network.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000


@contextmanager
def loopback_only():
    """Yields True inside a new loopback-only namespace, False where one cannot be made."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        original = os.open("/proc/self/ns/net", os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        if libc.unshare(CLONE_NEWNET) != 0:
            yield False
            return
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True, timeout=10)
            yield True
        finally:
            if libc.setns(original, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "could not return to the original network namespace")
    finally:
        os.close(original)
