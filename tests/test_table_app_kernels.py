"""The table app's culler: it passes over a kernel that is still starting,
and ends a kernel whose page is gone even while its table sends it lines.

Jupyter Server sets a kernel's ``last_activity`` once its process has
started; its own culler, run in that window, raises (and logs a traceback
in the instructor's terminal). Kernel managers without a kernel's process:
nothing is launched here, and a kernel the culler ends is only recorded.
(tests/test_browser_table_app.py culls a real one, in a real browser.)
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import pytest
from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from traitlets import TraitError

from labkit.apps.kernels import AppKernelManager

pytestmark = pytest.mark.timeout(30)


def with_a_starting_kernel(manager_class):
    manager = manager_class()
    manager._kernels["starting"] = ServerKernelManager()  # no last_activity yet
    return manager


def test_jupyter_servers_own_culler_raises_on_a_starting_kernel():
    manager = with_a_starting_kernel(AsyncMappingKernelManager)
    with pytest.raises(TraitError):
        asyncio.run(manager.cull_kernel_if_idle("starting"))


def test_the_apps_culler_passes_over_it_and_judges_it_once_started():
    manager = with_a_starting_kernel(AppKernelManager)
    asyncio.run(manager.cull_kernel_if_idle("starting"))  # no error
    assert not manager._started("starting")
    manager.get_kernel("starting").last_activity = datetime.now(timezone.utc)
    assert manager._started("starting")


class Recorded:
    """A kernel manager that records the kernels it would end."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.ended: list[str] = []

    async def shutdown_kernel(self, kernel_id, now=False, restart=False) -> None:
        self.ended.append(kernel_id)


class RecordedJupyter(Recorded, AsyncMappingKernelManager):
    pass


class RecordedApp(Recorded, AppKernelManager):
    pass


def with_a_page_gone(manager_class, cull_after: int = 1):
    """A started kernel whose page connected, then went away."""
    manager = manager_class(cull_idle_timeout=cull_after)
    kernel = ServerKernelManager()
    kernel.last_activity = datetime.now(timezone.utc)
    kernel.execution_state = "idle"
    manager._kernels["page"] = kernel
    manager._kernel_connections["page"] = 0  # as start_kernel leaves it
    manager.notify_connect("page")
    asyncio.run(manager.cull_kernel_if_idle("page"))
    assert manager.ended == [], "a kernel with its page open was culled"
    manager.notify_disconnect("page")
    return manager


def cull_while_its_table_sends_lines(manager) -> None:
    manager.get_kernel("page").last_activity = datetime.now(timezone.utc)
    asyncio.run(manager.cull_kernel_if_idle("page"))


def test_jupyter_servers_own_culler_keeps_a_kernel_whose_table_sends_lines():
    manager = with_a_page_gone(RecordedJupyter)
    time.sleep(1.1)  # past --cull-after without its page
    cull_while_its_table_sends_lines(manager)
    assert manager.ended == []


def test_the_apps_culler_ends_it_once_its_page_is_gone_for_cull_after():
    manager = with_a_page_gone(RecordedApp)
    cull_while_its_table_sends_lines(manager)
    assert manager.ended == [], "culled before --cull-after had passed"
    time.sleep(1.1)
    cull_while_its_table_sends_lines(manager)
    assert manager.ended == ["page"]


def test_a_page_that_comes_back_in_time_keeps_its_kernel():
    manager = with_a_page_gone(RecordedApp)
    manager.notify_connect("page")  # the laptop is back on the network
    time.sleep(1.1)
    cull_while_its_table_sends_lines(manager)
    assert manager.ended == []
