"""Who may submit what, how often: login, rate limits, the authors' opt-out list, admins.

Rate limits count requests in the queue over a sliding window, per user (Hugging Face login) and
per client address, like the Open LLM Leaderboard's 5 per 7 days. Admins are exempt. Model ids on
the opt-out list (authors who refuse evaluation; ``org/*`` covers an organisation) are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from workqueue import Limit

from .validate import Rejected


def read_list(*paths: Path) -> set[str]:
    """Lines of the given files, lower-cased, without comments and blanks (missing files are empty)."""
    out: set[str] = set()
    for p in paths:
        if p and Path(p).is_file():
            for line in Path(p).read_text(encoding="utf-8").splitlines():
                line = line.split("#", 1)[0].strip().lower()
                if line:
                    out.add(line)
    return out


SECRET_FILE = "client_key.secret"


def deployment_secret(data_dir: str | Path) -> bytes:
    """The deployment's key for hashing client addresses: made once, on first use, in the data
    folder (``client_key.secret``, readable by the app's user only) and read from there after."""
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    for _ in range(50):  # another process may be writing it right now
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 32:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return bytes.fromhex(text)
        time.sleep(0.02)
    raise RuntimeError(f"{SECRET_FILE} in the data folder is not a key; remove it to make a new one")


def client_key(address: str | None, secret: bytes) -> str | None:
    """Client addresses are stored keyed-hashed: enough to rate-limit, not to identify, even by
    trying every address (that needs the deployment's secret)."""
    if not address:
        return None
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


def legacy_client_key(address: str | None) -> str | None:
    """How addresses were stored before keyed hashing; still counted by the rate limit while such
    requests are inside its window."""
    if not address:
        return None
    return hashlib.sha256(address.encode()).hexdigest()[:16]


@dataclass
class Policy:
    per_user: int = 5
    per_client: int = 20
    window_days: float = 7.0
    require_login: bool = False
    opt_out: set[str] = field(default_factory=set)
    admins: set[str] = field(default_factory=set)

    def is_opted_out(self, model_id: str) -> bool:
        mid = model_id.strip().lower()
        org = mid.split("/", 1)[0] + "/*" if "/" in mid else None
        return mid in self.opt_out or (org is not None and org in self.opt_out)

    def limits(self, user: str | None, client: str | None, legacy_client: str | None = None) -> list[Limit]:
        """The rate limits a submission must stay under (none for admins).

        ``Queue.add`` enforces them in the transaction that inserts the request, so concurrent
        submissions cannot all pass a count taken before any of them was queued."""
        if user and user.lower() in self.admins:
            return []
        since = time.time() - self.window_days * 86400
        out = []
        if user and self.per_user >= 0:
            out.append(Limit("submitter", user, self.per_user, since))
        if client and self.per_client >= 0:
            out.append(Limit("client", client, self.per_client, since, (legacy_client,) if legacy_client else ()))
        return out

    def limit_message(self, limit: Limit) -> str:
        days = f"{self.window_days:g} days"
        if limit.field == "submitter":
            return f"{limit.value} has reached the limit of {self.per_user} submissions per {days}; try again later."
        return f"This address has reached the limit of {self.per_client} submissions per {days}; try again later."

    def check(self, queue, model_id: str, user: str | None, client: str | None,
              legacy_client: str | None = None) -> list[Limit]:
        """Refuse early what is refused anyway (before any Hub call); returns the limits for ``Queue.add``."""
        if self.require_login and not user:
            raise Rejected("Log in with your Hugging Face account to submit a model.")
        if self.is_opted_out(model_id):
            raise Rejected(f"The authors of {model_id} asked not to have it evaluated here.")
        limits = self.limits(user, client, legacy_client)
        for limit in limits:
            if sum(queue.count_since(limit.since, **{limit.field: v}) for v in limit.values) >= limit.max_count:
                raise Rejected(self.limit_message(limit))
        return limits
