"""Settings name what is wrong; the signing key is written once, by init-db, not as a side effect."""
from __future__ import annotations

import pytest

from config import Settings, SettingsError
from service.cli import main


def test_a_bad_setting_is_a_settings_error_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("RECTIFLOW_DEADLINE_DAYS", "sixty")
    with pytest.raises(SettingsError, match="RECTIFLOW_DEADLINE_DAYS"):
        Settings(instance_dir=tmp_path, secret_key="k")
    monkeypatch.setenv("RECTIFLOW_DEADLINE_DAYS", "15")
    with pytest.raises(SettingsError, match="RECTIFLOW_GREEN_DAYS"):
        Settings(instance_dir=tmp_path, secret_key="k")
    monkeypatch.delenv("RECTIFLOW_DEADLINE_DAYS")
    monkeypatch.setenv("RECTIFLOW_TIMER_INTERVAL", "0")  # a sweep without pause would spin
    with pytest.raises(SettingsError, match="RECTIFLOW_TIMER_INTERVAL"):
        Settings(instance_dir=tmp_path, secret_key="k")
    monkeypatch.delenv("RECTIFLOW_TIMER_INTERVAL")
    monkeypatch.setenv("RECTIFLOW_APP_SWEEPS", "maybe")
    with pytest.raises(SettingsError, match="RECTIFLOW_APP_SWEEPS"):
        Settings(instance_dir=tmp_path, secret_key="k")


def test_init_db_writes_the_secret_key_once_and_other_commands_need_it(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("RECTIFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("RECTIFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    settings = Settings()
    assert settings.secret_key == "" and not (tmp_path / "instance" / "secret_key").exists()
    assert main(["fire-timers"]) == 2
    assert "rectiflow init-db" in capsys.readouterr().err

    assert main(["init-db"]) == 0
    key = (tmp_path / "instance" / "secret_key").read_text()
    assert len(key) >= 48 and (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    assert main(["init-db"]) == 0 and (tmp_path / "instance" / "secret_key").read_text() == key
    assert main(["fire-timers"]) == 0
