"""What every scenario of a run works with."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bench.config import BenchConfig
from bench.machine import Disturbance
from bench.profiling import Profiler
from bench.progress import Reporter
from testbed import Testbed


@dataclass
class Run:
    """The testbed, an engine on its database, the run's configuration, its reporter, profiler and
    disturbance monitor, and the bare insert actor's rate (a) once measured, which every scenario is
    compared with."""

    bed: Testbed
    engine: Engine
    config: BenchConfig
    reporter: Reporter
    profiler: Profiler
    disturbance: Disturbance
    raw_insert_rate: float | None = None
