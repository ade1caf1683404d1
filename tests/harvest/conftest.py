"""Fixtures of the registry connector tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .registry_helpers import Registries, start_registries


@pytest.fixture
def registries() -> Iterator[Registries]:
    server = start_registries()
    try:
        yield Registries(server)
    finally:
        server.stop()
