from __future__ import annotations

import pytest

from tests.integration.field.harness import field_app
from tests.integration.field.seed import seeder, uid

__all__ = ["seeder"]  # the fixture, shared with the e2e page tests


@pytest.fixture
def workers():
    return uid("w-anna"), uid("w-bjorn")


@pytest.fixture
def field(bootstrap_servers, database_url, new_topic, workers):
    with field_app(bootstrap_servers, database_url, new_topic(partitions=3), list(workers)) as field:
        yield field
