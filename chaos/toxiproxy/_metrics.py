"""``/metrics``: Toxiproxy 2.12's Prometheus metrics (``-proxy-metrics``, ``-runtime-metrics``).

Proxy metrics have Toxiproxy's names and labels: ``toxiproxy_proxy_received_bytes_total`` and
``toxiproxy_proxy_sent_bytes_total``, labelled by direction, proxy, listener and upstream as
they were when the link started, and counted when a link ends, as Toxiproxy counts them.
Runtime metrics are this process's: ``process_*`` (the same names as Go's process collector)
and ``python_*`` where Toxiproxy has ``go_*``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

# What Toxiproxy's promhttp handler answers with (prometheus_client says version 1.0.0 for
# the same text, as long as names stay plain ASCII as these do).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# prometheus_client writes a whole value below 1e6 as Python does ("2.0"); Go writes "2".
_WHOLE = re.compile(rb"^([^#\n].*) (-?\d+)\.0$", re.MULTILINE)

Labels = tuple[str, str, str, str]
"""direction, proxy, listener, upstream."""

_LABEL_NAMES = ("direction", "proxy", "listener", "upstream")


class ProxyMetrics:
    """Bytes each link received from its source and sent to its destination."""

    def __init__(self) -> None:
        self.received: dict[Labels, float] = {}
        self.sent: dict[Labels, float] = {}

    def add_received(self, labels: Labels, size: int) -> None:
        """Count what a link read from its source, once the source has ended."""
        self.received[labels] = self.received.get(labels, 0.0) + size

    def add_sent(self, labels: Labels, size: int) -> None:
        """Count what a link wrote to its destination, once its output has ended."""
        self.sent[labels] = self.sent.get(labels, 0.0) + size


class _ProxyCollector(Collector):
    def __init__(self, metrics: ProxyMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        for name, values in (
            ("toxiproxy_proxy_received_bytes_total", self._metrics.received),
            ("toxiproxy_proxy_sent_bytes_total", self._metrics.sent),
        ):
            family = CounterMetricFamily(name, "", labels=_LABEL_NAMES)
            # Go orders series by label value, labels taken in name order.
            for labels in sorted(values, key=lambda v: (v[0], v[2], v[1], v[3])):
                family.add_metric(labels, values[labels])
            yield family


class _Sorted(Collector):
    """Every family of a registry, by name, as Go's registry gathers them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        return iter(sorted(self._registry.collect(), key=lambda family: family.name))


class Metrics:
    """The metrics a server exposes; nothing (and no ``/metrics`` route) when both are off.

    Args:
        proxy: Count bytes per link (``-proxy-metrics``).
        runtime: Include process and Python runtime metrics (``-runtime-metrics``).
    """

    def __init__(self, *, proxy: bool = False, runtime: bool = False) -> None:
        self.proxy = ProxyMetrics() if proxy else None
        self.enabled = proxy or runtime
        """Whether ``/metrics`` is served."""
        # A registry of its own: two servers in one process must not share counters, and
        # prometheus_client's global registry belongs to the application.
        self._registry = CollectorRegistry(auto_describe=False)
        if runtime:
            ProcessCollector(registry=self._registry)
            PlatformCollector(registry=self._registry)
            GCCollector(registry=self._registry)
        if self.proxy is not None:
            self._registry.register(_ProxyCollector(self.proxy))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return _WHOLE.sub(rb"\1 \2", generate_latest(_Sorted(self._registry)))
