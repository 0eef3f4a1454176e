"""Also-fix: the data folder is created 0700, the SQLite database and the generated secret key 0600
(other local users cannot read customers' conversations or forge sessions)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from chasqui.config import load_or_create_secret_key
from chasqui.db.session import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_database_and_secret_key_are_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # a usual umask: files 0644, folders 0755 unless asked otherwise
    try:
        data = tmp_path / "data"
        engine = make_engine(f"sqlite:///{data / 'chasqui.db'}")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.commit()
            wal = [p for p in data.iterdir() if p.name.endswith("-wal")]
            assert all(_mode(p) == 0o600 for p in wal)
        engine.dispose()
        load_or_create_secret_key(data)
    finally:
        os.umask(old_umask)
    assert _mode(data) == 0o700
    assert _mode(data / "chasqui.db") == 0o600
    assert _mode(data / "secret_key") == 0o600
