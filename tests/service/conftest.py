"""One real two-node Ray cluster per test session, with the service deployed on it."""

from __future__ import annotations

import os

# Ray reads this when it is first imported: with it, every node of the test cluster (and every
# worker) uses 127.0.0.1 instead of the machine's reachable address.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
import time

import aiohttp
import pytest
import pytest_asyncio

from tests.commands import shared_cache_dir
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (the bot-on-service tests)
from tests.service.cluster import (
    LOOPBACK,
    Service,
    free_port,
    own_haproxy_ports,
    processes_of,
    service_settings,
    still_running,
)


@pytest.fixture(scope="session")
def service(mirror_dir, tmp_path_factory):
    """Head and second node on 127.0.0.1 (one CPU each), HAProxy on loopback, the two
    applications (painters at /v1/stylize, the front at /), two painter replicas (one per
    node), at most 2 paintings waiting. Always torn down, and no Ray
    process of the session may outlive it."""
    os.environ.pop("RAY_ADDRESS", None)
    os.environ.update(own_haproxy_ports())  # the cluster's processes inherit them
    import ray
    from ray import serve
    from ray.cluster_utils import Cluster

    from bot.service.app import run_service, start_serve

    node = {"num_cpus": 1, "node_ip_address": LOOPBACK, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=node)
    session_dir = cluster.head_node.get_session_dir_path()
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        port = free_port()
        settings = service_settings(
            mirror_dir, shared_cache_dir(tmp_path_factory),
            replicas=2, num_cpus=1, max_queued_requests=2, retry_after=2.0,
        )
        start_serve(settings.service, port)
        run_service(settings)
        raylets = [p for p in processes_of(session_dir) if "raylet" in p.name()]
        assert len(raylets) == 2
        assert all(f"--node_ip_address={LOOPBACK}" in p.cmdline() for p in raylets)
        yield Service(f"http://{LOOPBACK}:{port}", settings, session_dir)
    finally:
        started = processes_of(session_dir)
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            cluster.shutdown()
    deadline = time.monotonic() + 30
    while (left := still_running(started) + processes_of(session_dir)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.5)
    assert not left, f"Ray processes outlived the test session: {[p.pid for p in left]}"


@pytest_asyncio.fixture(loop_scope="function")
async def http():
    """A fresh aiohttp session per test."""
    async with aiohttp.ClientSession() as session:
        yield session
