"""The table app's culler passes over a kernel that is still starting.

Jupyter Server sets a kernel's ``last_activity`` once its process has
started; its own culler, run in that window, raises (and logs a traceback
in the instructor's terminal). A kernel manager without a started kernel's
process: nothing is launched here.
"""

from __future__ import annotations

import asyncio
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
