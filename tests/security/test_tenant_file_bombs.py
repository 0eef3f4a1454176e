"""``chasqui tenant import`` refuses hostile tenant files with one clear error line and a non-zero
exit, never a traceback, a hang or a memory blow-up (issue 18, "a deep-nested tenant file"):
YAML and JSON nested thousands of levels, a "billion laughs" YAML alias bomb, a file over 5 MB."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _import(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHASQUI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHASQUI_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "chasqui", "tenant", "import", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def _billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(ord("b"), ord("j")):
        previous = chr(level - 1)
        lines.append(f"{chr(level)}: &{chr(level)} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append("slug: bomba\nbusiness: *i")
    return "\n".join(lines) + "\n"


CASES = {
    "deep.yaml": ("slug: x\nbusiness: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    "deep.json": ('{"slug": "x", "business": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    "laughs.yaml": (_billion_laughs(), "too many values"),
    "huge.yaml": ("slug: x\n" + "# relleno\n" * 600_000, "file too large"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_tenant_files_get_one_clear_error_line(name: str, tmp_path: Path) -> None:
    content, expected = CASES[name]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = _import(path, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert expected in result.stderr and name in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # one message (rich may wrap it)
