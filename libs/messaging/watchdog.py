"""A consumer that stopped consuming is started again (issue 15 §4).

After a broker SIGKILL, aiokafka's consumer can fail a group-coordinator lookup (NodeNotReadyError) and never
rejoin its group: the process is alive and healthy-looking while its backlog grows. The chaos test saw it in
about one broker kill in seven (processing, aiokafka 0.14). The lag monitor sees the backlog each round; when
records wait on this consumer's partitions (on all of them, if it holds none) and no batch has reached it for
`stalled_after` seconds, the subscriber is stopped and started again: a fresh aiokafka consumer that finds its
coordinator and rejoins. Offsets are committed only after a batch's transaction (ADR 0004), so a restart reads
again at most what was not committed, and the inbox drops what was applied.

With more instances than partitions, an instance holds none while its group has lag elsewhere and would be
restarted in vain: docs/deploy.md bounds the instances of a service by the partitions of its topics."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class StallWatchdog:
    service: str
    last_batch_at: Callable[[], float]  # monotonic time of the consumer's last batch (or start)
    assigned: Callable[[], set[Any]]  # the partitions its aiokafka consumer holds now
    restart: Callable[[], Awaitable[None]]
    restarts: Any  # a prometheus Counter child
    stalled_after: float = 120.0
    clock: Callable[[], float] = field(default=time.monotonic)

    async def check(self, lags: Mapping[Any, int]) -> bool:
        """Called with each lag refresh (partition → records behind); True when it restarted the consumer."""
        idle = self.clock() - self.last_batch_at()
        if idle < self.stalled_after:
            return False
        held = self.assigned()
        waiting = sum(lag for tp, lag in lags.items() if not held or tp in held)
        if waiting <= 0:
            return False
        log.warning("%s consumer stalled: %d records wait, no batch for %.0f s; restarting it",
                    self.service, waiting, idle)
        self.restarts.inc()
        await self.restart()
        return True
