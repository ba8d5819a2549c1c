"""What every cloud builder shares."""

from __future__ import annotations

from cost_model.placement import Placement
from cost_model.request import Workload


def workload_of(cfg, placement: Placement) -> Workload:
    return next(w for w in cfg.workloads if w.name == placement.workload)
