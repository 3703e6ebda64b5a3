"""The kernel manager of the table app's Voilà: culling that waits for a
start, and a stop that ends kernels at once.

Jupyter Server's culler (``--cull-after``) reads each kernel's
``last_activity``, which is set only once the kernel's process has started.
A page's kernel takes seconds to start on a busy classroom machine, and a
culler pass in that window logs a traceback in the instructor's terminal
(jupyter/notebook#5345 describes the same race). A kernel still starting
has nothing to judge yet: this culler passes over it.

When the app stops, Jupyter Server asks each kernel to shut down politely.
A page's kernel has nothing to save, and one that ``--preheat`` keeps waiting
in the middle of its page's cells answers the request with a traceback in
the instructor's terminal, its messages' sockets closed under it. So once
the app stops, every kernel is ended at once (``now=True``: SIGKILL), its
sockets closed by the system as for any process that ends.
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import TraitError


class AppKernelManager(AsyncMappingKernelManager):
    stopping = False  # the app is stopping: end kernels at once

    async def shutdown_all(self, now: bool = False) -> None:
        self.stopping = True
        await super().shutdown_all(now=True)

    async def shutdown_kernel(self, kernel_id, now=False, restart=False) -> None:
        # Voilà ends its pool's kernels through here after shutdown_all.
        now = now or self.stopping
        await super().shutdown_kernel(kernel_id, now=now, restart=restart)

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if self._started(kernel_id):
            await super().cull_kernel_if_idle(kernel_id)

    def _started(self, kernel_id: str) -> bool:
        try:
            return self.get_kernel(kernel_id).last_activity is not None
        except TraitError:  # set only once the kernel has started
            return False
