"""The kernel manager of the table app's Voilà: culling that waits for a
start and ends a page's kernel once its page is gone, and a stop that ends
kernels at once.

Jupyter Server's culler (``--cull-after``) reads each kernel's
``last_activity``, which is set only once the kernel's process has started.
A page's kernel takes seconds to start on a busy classroom machine, and a
culler pass in that window logs a traceback in the instructor's terminal
(jupyter/notebook#5345 describes the same race). A kernel still starting
has nothing to judge yet: this culler passes over it.

Jupyter Server culls a kernel with no connection only once it has also had
no activity for the same time, and a page's kernel at a table has activity
as long as its table sends it lines (each one redraws the widget). A
browser gone without closing its page (a crash, a laptop that left the
network) would keep its kernel, and its seat, until the table unseated it.
A page's kernel serves its page and nothing else: once its page has been
gone for ``--cull-after`` seconds, its kernel ends, whatever its table sends
it, and the table gets a player who disconnected. A kernel that never had
its page connected (a page still loading) is judged by Jupyter Server's
rule.

When the app stops, Jupyter Server asks each kernel to shut down politely.
A page's kernel has nothing to save, and one that ``--preheat`` keeps waiting
in the middle of its page's cells answers the request with a traceback in
the instructor's terminal, its messages' sockets closed under it. So once
the app stops, every kernel is ended at once (``now=True``: SIGKILL), its
sockets closed by the system as for any process that ends.
"""

from __future__ import annotations

import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import TraitError


class AppKernelManager(AsyncMappingKernelManager):
    stopping = False  # the app is stopping: end kernels at once

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._page_gone_at: dict[str, float] = {}  # kernel id: monotonic time

    def notify_connect(self, kernel_id: str) -> None:
        super().notify_connect(kernel_id)
        self._page_gone_at.pop(kernel_id, None)

    def notify_disconnect(self, kernel_id: str) -> None:
        super().notify_disconnect(kernel_id)
        if self._kernel_connections.get(kernel_id) == 0:
            self._page_gone_at[kernel_id] = time.monotonic()

    def remove_kernel(self, kernel_id: str):
        self._page_gone_at.pop(kernel_id, None)
        return super().remove_kernel(kernel_id)

    async def shutdown_all(self, now: bool = False) -> None:
        self.stopping = True
        await super().shutdown_all(now=True)

    async def shutdown_kernel(self, kernel_id, now=False, restart=False) -> None:
        # Voilà ends its pool's kernels through here after shutdown_all.
        now = now or self.stopping
        await super().shutdown_kernel(kernel_id, now=now, restart=restart)

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if not self._started(kernel_id):
            return
        gone_at = self._page_gone_at.get(kernel_id)
        if gone_at is not None:
            gone_for = time.monotonic() - gone_at
            if gone_for >= self.cull_idle_timeout:
                self.log.warning(
                    "Culling kernel %s: its page has been gone for %d s",
                    kernel_id,
                    gone_for,
                )
                await self.shutdown_kernel(kernel_id)
                return
        await super().cull_kernel_if_idle(kernel_id)

    def _started(self, kernel_id: str) -> bool:
        try:
            return self.get_kernel(kernel_id).last_activity is not None
        except TraitError:  # set only once the kernel has started
            return False
