"""Loud, fixable errors for bad configuration and missing tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.errors import PrerequisiteError
from infra.kafka import check_java
from infra.migrations import discover
from infra.postgres import data_root
from veiviser.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def fake_java(tmp_path: Path, version_line: str) -> None:
    script = tmp_path / "java"
    script.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    script.chmod(0o755)


def test_bad_setting_names_the_variable_the_value_and_the_fix(monkeypatch):
    monkeypatch.setenv("VEIVISER_KAFKA_PORT", "ninety")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "VEIVISER_KAFKA_PORT='ninety'" in str(err.value) and "unset it for the default" in str(err.value)


def test_bad_bootstrap_servers_are_explained(monkeypatch):
    monkeypatch.setenv("VEIVISER_BOOTSTRAP_SERVERS", "localhost")
    with pytest.raises(SettingsError, match="VEIVISER_BOOTSTRAP_SERVERS.*not host:port"):
        load_settings()


def test_cli_reports_bad_configuration_without_a_traceback():
    env = {"VEIVISER_KAFKA_MODE": "triple", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "veiviser.cli", "status"], capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert "VEIVISER_KAFKA_MODE='triple'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("line", ['openjdk version "11.0.22" 2024-01-16', 'java version "1.8.0_392"'])
def test_old_java_is_refused_with_the_fix(tmp_path, monkeypatch, line):
    fake_java(tmp_path, line)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrerequisiteError, match=r"Kafka 4 needs Java 17 or newer"):
        check_java()


def test_java_17_is_accepted(tmp_path, monkeypatch):
    fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')
    monkeypatch.setenv("PATH", str(tmp_path))
    assert check_java() == 17


def test_missing_java_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrerequisiteError, match="apt-get install openjdk-17"):
        check_java()


def test_shipped_migrations_are_well_named_and_unique():
    migrations = discover()
    assert migrations[0].version == 1
    assert [m.version for m in migrations] == sorted({m.version for m in migrations})


def test_database_folder_is_in_the_run_dir_unless_the_postgres_user_cannot_enter_it(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    placed = data_root(private / ".run")
    if os.geteuid() == 0:  # the server runs as `postgres`, which cannot enter a 0700 folder of root's
        assert placed.parent.parent == Path("/var/lib/veiviser") and placed.name == "postgres"
        assert data_root(private / ".run") == placed  # the same checkout always gets the same folder
    else:
        assert placed == private / ".run" / "postgres"
