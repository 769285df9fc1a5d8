"""Pytest fixture `fake_discord`: a started FakeDiscord with discord.py pointed at it.

Use it from tests/conftest.py with
``from tests.fakediscord.fixtures import fake_discord  # noqa: F401``
(``fakediscord.fixtures`` instead if tests/ is not a package).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import FakeDiscord


@pytest_asyncio.fixture(loop_scope="function")
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord (heartbeat 0.25 s, Discord's rate limits enforced: see
    ratelimits.py) with Route/gateway/CDN URLs patched, then restored.

    Runs in the test's own event loop (the project default for fixtures is the session loop,
    which would not be able to talk to a bot started inside the test).
    """
    fake = FakeDiscord(heartbeat_interval=0.25)
    await fake.start()
    try:
        with fake.patch():
            yield fake
    finally:
        await fake.close()
