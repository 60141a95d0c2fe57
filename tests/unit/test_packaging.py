"""Every top-level package the distribution ships imports as a regular package with a public API."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [name.rstrip("*") for name in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_is_regular_and_lives_in_the_project(name):
    module = importlib.import_module(name)
    assert module.__file__ is not None, f"{name} imports as a namespace package: reinstall with `make install`"
    assert Path(module.__file__).parent == ROOT / name


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["veiviser"] == "veiviser.cli:main"
