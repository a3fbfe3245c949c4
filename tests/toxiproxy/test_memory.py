"""Memory per connection stays bounded under every toxic (a real server process, real sockets).

``benchmarks/bench_proxy_memory.py`` measures 8 MiB per toxic against a goal of 8x the bytes in
flight; this guard sends 2 MiB and allows half that ratio. Before the fix, a slicer with 1-byte
slices a second apart grew the server by 47 MiB per MiB held.
"""

from __future__ import annotations

import time

import pytest

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient, _link
from tests.toxiproxy._memory import CASES, measure
from tests.toxiproxy._net import connect, serving, sink
from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only

PAYLOAD = 2 * 1024 * 1024
RATIO = 4.0


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_resident_memory_grows_at_most_four_times_the_bytes_in_flight(case):
    result = measure(case, PAYLOAD)
    assert result.sent == PAYLOAD or case.type is None  # with no toxic the proxy pushes back
    assert result.ratio <= RATIO, (
        f"{case.label}: RSS grew {result.growth / 2**20:.1f} MiB for "
        f"{result.in_flight / 2**20:.1f} MiB in flight"
    )


def test_backpressure_counts_each_held_chunk_not_only_its_bytes(monkeypatch):
    # 60 one-byte reads hold 60 bytes of payload but 60 chunk objects: with a chain limit of
    # 500 bytes the proxy must stop reading after 3 of them (reading all 60 bytes before the
    # pause would take the 60 sends, 3 ms apart, arriving in 2 reads).
    monkeypatch.setattr(_link, "CHAIN_HIGH", 500)
    monkeypatch.setattr(_link, "CHAIN_LOW", 250)
    received: list[bytes] = []
    with (
        EmbeddedToxiproxy() as server,
        ToxiproxyClient(server.url) as api,
        serving(sink(received)) as upstream,
    ):
        proxy = api.create_proxy("bp", "127.0.0.1:0", upstream.addr)
        api.add_toxic("bp", "latency", stream="upstream", attributes={"latency": 60_000})
        with connect(proxy.listen) as sock:
            for _ in range(60):
                sock.sendall(b"x")
                time.sleep(0.003)
            time.sleep(0.3)
            taken = api.toxic_stats("bp", "latency_upstream").bytes
    assert 1 <= taken < 60
