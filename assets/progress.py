"""What a render reports while it runs: the seam between the renderers and whoever records progress.

The renderers (local `render`, the daemon's inbox job, queue workers) sit below the store in
the layers, so they do not write progress themselves: the caller hands them a listener
(`scheduler.store.renders.StoreRenderListener` records it in the store the console reads).
"""

from __future__ import annotations

from typing import Protocol, Sequence

from assets.needs import RenderJob

QUEUED, RENDERING, DONE, REFUSED = "queued", "rendering", "done", "refused"
RENDER_STATES = (QUEUED, RENDERING, DONE, REFUSED)


class RenderListener(Protocol):
    """Told about each output file as it moves from queued to rendering (percent) to done or refused."""

    def queued(self, jobs: Sequence[RenderJob]) -> None: ...

    def rendering(self, job: RenderJob, percent: int) -> None: ...

    def done(self, job: RenderJob) -> None: ...

    def refused(self, job: RenderJob, reason: str) -> None: ...
