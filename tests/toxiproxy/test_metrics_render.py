"""/metrics text as Go's registry writes it: series order, number format, no _created series."""

from __future__ import annotations

from stormproof.chaos.toxiproxy._metrics import Metrics


def test_series_are_ordered_by_label_value_in_label_name_order():
    metrics = Metrics(proxy=True)
    assert metrics.proxy is not None
    # Go sorts by direction, listener, proxy, upstream: listener decides before the proxy name.
    metrics.proxy.add_sent(("downstream", "a", "127.0.0.1:2000", "u:1"), 2)
    metrics.proxy.add_sent(("downstream", "b", "127.0.0.1:1000", "u:1"), 1234567)
    metrics.proxy.add_sent(("downstream", "b", "127.0.0.1:1000", "u:1"), 1)
    lines = [line for line in metrics.render().decode().splitlines() if "sent" in line]
    assert lines == [
        "# HELP toxiproxy_proxy_sent_bytes_total ",
        "# TYPE toxiproxy_proxy_sent_bytes_total counter",
        'toxiproxy_proxy_sent_bytes_total{direction="downstream",listener="127.0.0.1:1000",'
        'proxy="b",upstream="u:1"} 1.234568e+06',
        'toxiproxy_proxy_sent_bytes_total{direction="downstream",listener="127.0.0.1:2000",'
        'proxy="a",upstream="u:1"} 2',
    ]


def test_no_metrics_means_no_route_and_nothing_rendered():
    metrics = Metrics()
    assert not metrics.enabled
    assert metrics.render() == b""
