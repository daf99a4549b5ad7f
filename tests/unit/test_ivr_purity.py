"""`ivr` is pure: no telephony, web or database library anywhere, and no I/O outside the one
module that renders the prompts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2] / "ivr"
NEVER = {
    "aiohttp",
    "sqlalchemy",
    "asterisk",
    "twilio",
    "gateway",
    "asyncpg",
    "aiosqlite",
    "panoramisk",
}
IO = {
    "asyncio",
    "socket",
    "subprocess",
    "os",
    "shutil",
    "tempfile",
    "pathlib",
    "io",
    "requests",
    "urllib",
    "http",
    "sqlite3",
    "wave",
    "tomllib",
    "json",
    "time",
}
IO_MODULE = "prompt_audio.py"


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


MODULES = sorted(ROOT.rglob("*.py"))


def test_the_package_has_the_expected_modules() -> None:
    names = {path.name for path in MODULES}
    assert {"flow.py", "channel.py", "catalog.py", IO_MODULE} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_telephony_web_or_database_import(path: Path) -> None:
    assert not imported_roots(path) & NEVER


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != IO_MODULE], ids=lambda p: p.name)
def test_only_the_prompt_renderer_does_io(path: Path) -> None:
    assert not imported_roots(path) & IO
