"""Process settings, encryption of stored secrets, and platform settings in the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from chasqui import crypto
from chasqui.config import Settings, get_settings
from chasqui.db import platform_settings as ps
from chasqui.db.models import PlatformSetting
from chasqui.db.session import session_scope


@pytest.fixture
def bare_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No CHASQUI_* variables, and the working directory is an empty folder (no .env)."""
    for name in ("CHASQUI_DATA_DIR", "CHASQUI_SECRET_KEY", "CHASQUI_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_defaults_match_the_documented_configuration(bare_env: Path) -> None:
    settings = Settings()
    assert settings.database_url == "sqlite:///./data/chasqui.db"
    assert settings.redis_url is None
    assert settings.graph_api_url == "https://graph.facebook.com"
    assert settings.graph_api_version == "v21.0"
    assert settings.llm_model == "gpt-4o-mini"
    assert settings.llm_base_url is None and settings.llm_api_key is None


def test_secret_key_is_generated_once_private_and_reused(bare_env: Path) -> None:
    first = Settings()
    key_file = bare_env / "data" / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret()) >= 32
    assert Settings().secret() == first.secret()  # a restart reads the same key


def test_environment_and_dotenv_are_read_and_secrets_hidden(bare_env: Path, monkeypatch) -> None:
    (bare_env / ".env").write_text(
        "CHASQUI_LLM_API_KEY=sk-from-dotenv\nCHASQUI_LLM_MODEL=from-dotenv\nCHASQUI_SECRET_KEY=s3cr3t-value\n"
    )
    monkeypatch.setenv("CHASQUI_LLM_MODEL", "llama3.1:8b")  # the environment beats .env
    settings = Settings()
    assert settings.llm_model == "llama3.1:8b"
    assert settings.llm_api_key is not None and settings.llm_api_key.get_secret_value() == "sk-from-dotenv"
    assert settings.secret() == "s3cr3t-value"
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "sk-from-dotenv" not in shown and "s3cr3t-value" not in shown
    assert not (bare_env / "data" / "secret_key").exists()  # a given key is not written anywhere


def test_get_settings_is_built_once() -> None:
    assert get_settings() is get_settings()


def test_encrypt_decrypt_round_trip_without_plaintext() -> None:
    token = crypto.encrypt("EAAdemo-token ñ 😊", "key-1")
    assert "EAAdemo" not in token
    assert token != crypto.encrypt("EAAdemo-token ñ 😊", "key-1")  # randomized
    assert crypto.decrypt(token, "key-1") == "EAAdemo-token ñ 😊"
    assert crypto.decrypt(crypto.encrypt("x")) == "x"  # default: the settings' secret key


def test_decrypting_with_another_key_says_so() -> None:
    token = crypto.encrypt("secret", "key-1")
    with pytest.raises(crypto.DecryptionError, match="another secret key"):
        crypto.decrypt(token, "key-2")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("not-a-token", "key-1")


def test_platform_settings_validate_and_encrypt_the_api_key(engine: Engine) -> None:
    with session_scope(engine) as session:
        ps.set_setting(session, "llm_api_key", "sk-live-123")
        ps.set_setting(session, "llm_max_tokens", " 500 ")
    with Session(engine) as session:
        stored = session.scalar(select(PlatformSetting.value).where(PlatformSetting.key == "llm_api_key"))
        assert "sk-live-123" not in stored
        assert ps.get_setting(session, "llm_api_key") == "sk-live-123"
        assert ps.get_typed(session, "llm_max_tokens") == 500
        assert ps.get_typed(session, "ml_confidence_threshold") == 0.8
        shown = ps.all_settings(session)
        assert shown["llm_api_key"] == ps.MASK
        assert ps.all_settings(session, reveal=True)["llm_api_key"] == "sk-live-123"

        with pytest.raises(ps.SettingError, match="^llm_temperature: must be between 0 and 2$"):
            ps.set_setting(session, "llm_temperature", "7")
        with pytest.raises(ps.SettingError, match="^ml_retrain_every: 'many' is not a whole number$"):
            ps.set_setting(session, "ml_retrain_every", "many")
        with pytest.raises(ps.SettingError, match="unknown setting 'llm_modle'"):
            ps.set_setting(session, "llm_modle", "x")
