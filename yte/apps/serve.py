"""The collector's HTTP application composed with what the layers above give it: the
exporters' /metrics renderer, the agent's Windows 7 batch parsers and the web pages. The collector
(below) imports neither; this is where they meet."""

from __future__ import annotations

import time
from collections.abc import Callable

from yte_compliance.agent.windows_batch import batch_report
from yte_compliance.apps.web import Web
from yte_compliance.collector.app import FastPath, build_app
from yte_compliance.collector.config import CollectorConfig
from yte_compliance.collector.service import Collector, open_collector
from yte_compliance.exporters.prometheus import MetricsCache


def open_full_collector(cfg: CollectorConfig,
                        clock: Callable[[], float] = time.time) -> Collector:
    def exposition(fleet, counts):
        return MetricsCache(fleet, counts, per_host=cfg.per_host_series)

    return open_collector(cfg, clock, exposition=exposition, windows_batch=batch_report)


def collector_app(cfg: CollectorConfig, clock: Callable[[], float] = time.time) -> FastPath:
    """The API, /metrics and the web pages (/ui/) of the collector configured by ``cfg``."""
    collector = open_full_collector(cfg, clock)
    return build_app(collector, Web(collector).routes())
