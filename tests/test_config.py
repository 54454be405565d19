"""archiver.toml: typed schema, all errors at once, cross-field checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver.config import load_settings
from archiver.errors import ConfigError
from archiver.scaffold import config_text, create_archive


def test_defaults_without_file(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path)
    assert settings.content_path == (tmp_path / "content").resolve()
    assert settings.per_page == 20


def test_values_are_read(tmp_path: Path) -> None:
    (tmp_path / "archiver.toml").write_text(
        'title = "My Archive"\nper_page = 5\n[tags]\naliases = {"DPRK" = "North Korea"}\n'
    )
    settings = load_settings(cwd=tmp_path)
    assert settings.title == "My Archive"
    assert settings.per_page == 5
    assert settings.tags.aliases == {"DPRK": "North Korea"}


def test_all_errors_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "archiver.toml"
    path.write_text('titel = "x"\nper_page = "ten"\n[ingest]\nmax_tags = true\nbogus = 1\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = info.value.message
    assert str(path) in message
    for part in (
        "unknown key 'titel'",
        "'per_page' must be an integer",
        "'ingest.max_tags' must be an integer",
        "unknown key 'ingest.bogus'",
    ):
        assert part in message
    assert "\n" not in message


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "archiver.toml"
    path.write_text("title = [unclosed\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(path)


def test_output_containing_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archiver.toml"
    path.write_text('output_dir = "."\n')
    with pytest.raises(ConfigError, match="output_dir"):
        load_settings(path)


def test_init_creates_a_valid_documented_config(tmp_path: Path) -> None:
    target = tmp_path / "arch"
    create_archive(target)
    assert (target / "content").is_dir()
    text = (target / "archiver.toml").read_text()
    assert "# per_page = 20" in text
    setting = re.compile(r"^# [a-z_]+ = ")
    uncommented = "\n".join(
        line[2:] if setting.match(line) else line for line in config_text().splitlines()
    )
    (target / "archiver.toml").write_text(uncommented)
    assert load_settings(cwd=target).per_page == 20
    # never overwrites
    (target / "archiver.toml").write_text('title = "mine"\n')
    create_archive(target)
    assert (target / "archiver.toml").read_text() == 'title = "mine"\n'
