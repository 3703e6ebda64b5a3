"""The kernel manager of the table app's Voilà: culling that waits for a start.

Jupyter Server's culler (``--cull-after``) reads each kernel's
``last_activity``, which is set only once the kernel's process has started.
A page's kernel takes seconds to start on a busy classroom machine, and a
culler pass in that window logs a traceback in the instructor's terminal
(jupyter/notebook#5345 describes the same race). A kernel still starting
has nothing to judge yet: this culler passes over it.
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import TraitError


class AppKernelManager(AsyncMappingKernelManager):
    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if self._started(kernel_id):
            await super().cull_kernel_if_idle(kernel_id)

    def _started(self, kernel_id: str) -> bool:
        try:
            return self.get_kernel(kernel_id).last_activity is not None
        except TraitError:  # set only once the kernel has started
            return False
