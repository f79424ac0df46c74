"""The layers are a checked fact: database statements live only in the domains' repository modules.

A service owns the rules and asks its repository for rows; an edge (API, dialect, CLI, console) asks a
service. So `select(`, `.execute(`, `.scalar(s)(`, `session.get(`, `session.add(` and raw SQL appear
only in `*/repository.py`, in the store's own plumbing (`kit/db.py`, `kit/paging.py`) and in the
migrations. (The import rules between packages are import-linter's contracts in pyproject.toml.)
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "callbot"

# Where statements may be written: the repositories, the store's plumbing, the migrations.
ALLOWED = ("kit/db.py", "kit/paging.py")
# SQLAlchemy's statement builders called bare (`dict.update(` or `router.delete(` are methods, not these),
# and the session's and connection's ways of running them.
STATEMENT = re.compile(
    r"(?<![\w.])(select|insert|update|delete)\(|"
    r"\.(execute|exec_driver_sql|scalar|scalars)\(|session\.(get|add|connection)\("
)


def _allowed(path: Path) -> bool:
    relative = path.relative_to(SRC).as_posix()
    return path.name == "repository.py" or relative in ALLOWED or relative.startswith("migrations/")


def offences() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if _allowed(path):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if STATEMENT.search(code):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    return found


def test_statements_live_only_in_repositories() -> None:
    assert offences() == [], "database statements outside a repository module:\n" + "\n".join(offences())


def test_the_check_sees_a_statement() -> None:
    """The pattern catches the forms the code base uses (so the test above can fail)."""
    for line in (
        "rows = await tx.session.scalars(select(Task))",
        "await tx.session.execute(update(Customer), rows)",
        "task = await tx.session.get(Task, 1)",
        "await session.scalar(query)",
        "await conn.exec_driver_sql(sql)",
    ):
        assert STATEMENT.search(line), line
    for line in ("digest.update(body)", "params.update(extra)", '@router.delete("/{task_id}")'):
        assert not STATEMENT.search(line), line
