"""The local officer directory of `make up` and the tests (deploy/config/officers.yaml), argon2 hashes only.

Production signs officers in through OIDC instead (services/console/oidc.py); this file is for development."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Spent on unknown user names too, so the answer time does not tell which names exist.
_DUMMY = _hasher.hash("no such officer")


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    roles: tuple[str, ...]
    agency: str
    password_hash: str


MAX_FAILURES = 5  # wrong passwords for one user name within FAILURE_WINDOW, then it waits until they age out
FAILURE_WINDOW = 900.0


class Directory:
    def __init__(self, accounts: list[Account], now: Callable[[], float] = time.monotonic) -> None:
        self._by_name = {a.username: a for a in accounts}
        self._failures: dict[str, list[float]] = {}
        self.now = now

    @classmethod
    def load(cls, path: Path) -> Directory:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls([Account(username=a["username"], name=a["name"], roles=tuple(a["roles"]), agency=a["agency"],
                            password_hash=a["password_hash"]) for a in raw.get("officers", [])])

    def accounts(self) -> list[Account]:
        return list(self._by_name.values())

    def locked(self, username: str) -> bool:
        """Too many wrong passwords for this name lately: guessing is slowed to 5 tries per 15 minutes."""
        recent = [t for t in self._failures.get(username.strip(), []) if self.now() - t < FAILURE_WINDOW]
        self._failures[username.strip()] = recent
        return len(recent) >= MAX_FAILURES

    def check(self, username: str, password: str) -> Account | None:
        """The account when the password matches it (and the name is not locked), else None."""
        name = username.strip()
        if self.locked(name):
            return None
        account = self._by_name.get(name)
        try:
            _hasher.verify(account.password_hash if account else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            self._failures.setdefault(name, []).append(self.now())
            return None
        return account


def hash_password(password: str) -> str:
    return _hasher.hash(password)


if __name__ == "__main__":  # `python -m services.console.directory PASSWORD` prints a hash for officers.yaml
    print(hash_password(sys.argv[1]))
