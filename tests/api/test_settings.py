"""Every setting is documented in the README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.settings import Settings
from tests.conftest import REPO


def configuration_table() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^## Configuration\n(.*?)^## ", readme, flags=re.S | re.M)
    assert found, "the README has a Configuration section"
    return found.group(1)


def test_every_setting_is_in_the_readme_table() -> None:
    table = configuration_table()
    rows = [line for line in table.splitlines() if line.startswith("| `COCREATE_")]
    documented = {name for row in rows for name in re.findall(r"`(COCREATE_[A-Z_]+)`", row)}
    settings = {f"COCREATE_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set(), "settings missing from the README table"


def test_the_encoder_precision_is_auto_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCREATE_ENCODER_PRECISION", raising=False)  # (the tests' fp32)
    assert Settings().encoder_precision == "auto"
    for given, expected in ((" INT8", "int8"), ("fp32", "fp32"), ("Auto ", "auto"), ("", "auto")):
        monkeypatch.setenv("COCREATE_ENCODER_PRECISION", given)
        assert Settings().encoder_precision == expected
    monkeypatch.setenv("COCREATE_ENCODER_PRECISION", "int4")
    with pytest.raises(ValidationError) as caught:
        Settings()
    (error,) = caught.value.errors()
    assert error["loc"] == ("encoder_precision",)
    message = error["msg"]
    assert "COCREATE_ENCODER_PRECISION='int4'" in message and "auto, fp32 or int8" in message


def test_the_query_precision_is_auto_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCREATE_QUERY_PRECISION", raising=False)  # (the tests' fp32)
    assert Settings().query_precision == "auto"
    monkeypatch.setenv("COCREATE_QUERY_PRECISION", " ")
    assert Settings().query_precision == "auto"
    monkeypatch.setenv("COCREATE_QUERY_PRECISION", "Int8")
    assert Settings().query_precision == "int8"
    monkeypatch.setenv("COCREATE_QUERY_PRECISION", "FP32 ")
    assert Settings().query_precision == "fp32"
    monkeypatch.setenv("COCREATE_QUERY_PRECISION", "int4")
    with pytest.raises(ValidationError) as caught:
        Settings()
    (error,) = caught.value.errors()
    assert error["loc"] == ("query_precision",)
    message = error["msg"]
    assert "COCREATE_QUERY_PRECISION='int4'" in message and "auto, fp32 or int8" in message


def test_the_store_url_is_shown_without_its_password(tmp_path: Path) -> None:
    """`cocreate serve` prints the store it opens and the service logs it: a PostgreSQL
    URL's password must not go to the console or the log."""
    url = "postgresql+psycopg://cocreate:s3cret-pass@db.example.org:5432/cocreate"
    shown = Settings(database_url=url).shown_store_url
    assert "s3cret-pass" not in shown
    assert shown == "postgresql+psycopg://cocreate:***@db.example.org:5432/cocreate"
    sqlite = Settings(data_dir=tmp_path).shown_store_url
    assert sqlite == f"sqlite:///{tmp_path / 'cocreate.db'}"
