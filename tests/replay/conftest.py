"""Fixtures for the replay-server tests: real servers on 127.0.0.1, one per test module
when the test does not change the corpus or the fault plan."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from linkgraph.replay import Corpus, ReplayServer


@pytest.fixture(scope="module")
def demo_server() -> Iterator[ReplayServer]:
    with ReplayServer(Corpus.demo(), page_size=4) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c
