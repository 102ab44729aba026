"""Prints the console's demo accounts for `make up`: deploy/config/officers.yaml holds only argon2 hashes, so the
demo passwords live here, and each is checked against its hash before it is printed."""

from __future__ import annotations

from services.console.directory import Directory
from services.console.settings import ConsoleSettings

# Development only: one password per demo agency prefix (ward.*, land.*, other.*).
DEMO_PASSWORDS = {"ward": "motcua-ward-2026", "land": "motcua-land-2026", "other": "motcua-other-2026"}


def main() -> int:
    settings = ConsoleSettings()
    directory = Directory.load(settings.directory_file)
    print(f"  console        http://{settings.host}:{settings.port}/   (officers)   "
          f"http://{settings.host}:{settings.port}/tra-cuu   (citizens)")
    print("  demo accounts (user / password / roles @ agency):")
    for account in directory.accounts():
        password = DEMO_PASSWORDS[account.username.split(".")[0]]
        ok = directory.check(account.username, password) is not None
        print(f"    {account.username:<16} {password if ok else '(changed)':<18} "
              f"{', '.join(account.roles)} @ {account.agency}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
