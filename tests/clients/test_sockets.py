"""Real sockets on 127.0.0.1: the deadline holds, refused connects, 16 threads share a client."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from stormproof.clients import (
    BreakerState,
    DeadlineExceededError,
    ResiliencePolicy,
    ResponseTruncatedError,
    ResponseValidationError,
    RetryPolicy,
    ServiceUnavailableError,
    UserServiceClient,
)
from stormproof.clients.testing import instant_runtime

from ._server import LocalServer, drip, free_port, json_answer
from .conftest import USER

DEADLINE = 1.0
SLACK = 0.1  # the bound: a call fails within deadline + 100 ms
DRIP_POLICY = ResiliencePolicy(
    connect_timeout_s=2.0,
    read_timeout_s=5.0,  # longer than the deadline: only the watchdog can stop the call in time
    deadline_s=DEADLINE,
    retry=RetryPolicy(max_attempts=3),
)
USER_BODY = json.dumps(USER).encode()


def slow_body(request, sock):
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(USER_BODY)}\r\n\r\n"
    )
    sock.sendall(head.encode())
    drip(sock, USER_BODY, 0.05)  # 1 byte per 50 ms: each read is quick, the whole is not
    return False


def slow_status_line(request, sock):
    drip(sock, json_answer(200, USER), 0.05)
    return False


def silent(request, sock):
    time.sleep(3)
    return False


@pytest.mark.parametrize("handler", [slow_body, slow_status_line, silent])
def test_deadline_holds_under_slow_responses(handler):
    with (
        LocalServer(handler) as server,
        UserServiceClient(server.url, policy=DRIP_POLICY) as client,
    ):
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            client.get_user("u1")
        took = time.monotonic() - started
    assert DEADLINE - 0.2 <= took <= DEADLINE + SLACK, took
    assert caught.value.attempts == 1
    assert caught.value.elapsed_s <= DEADLINE + SLACK


def test_deadline_spans_retries_on_real_sockets():
    calls = []

    def unavailable_then_slow(request, sock):
        calls.append(request)
        if len(calls) == 1:
            sock.sendall(json_answer(503, {"error": {"type": "unavailable", "message": "x"}}))
            return True
        return slow_body(request, sock)

    with (
        LocalServer(unavailable_then_slow) as server,
        UserServiceClient(server.url, policy=DRIP_POLICY) as client,
    ):
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            client.get_user("u1")
        took = time.monotonic() - started
    assert took <= DEADLINE + SLACK
    assert caught.value.attempts == 2


def test_connection_refused_is_retried_then_reported():
    port = free_port()
    policy = ResiliencePolicy(retry=RetryPolicy(max_attempts=3))
    with (
        UserServiceClient(
            f"http://127.0.0.1:{port}", policy=policy, runtime=instant_runtime(0)
        ) as client,
        pytest.raises(ServiceUnavailableError) as caught,
    ):
        client.get_user("u1")
    assert "connection refused" in str(caught.value)
    assert caught.value.attempts == 3


def test_truncated_body_is_retried_for_reads_then_a_truncation_error():
    def truncated(request, sock):
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
        sock.sendall(head.encode() + USER_BODY[:20])
        return False

    with (
        LocalServer(truncated) as server,
        UserServiceClient(server.url, policy=DRIP_POLICY, runtime=instant_runtime(0)) as client,
    ):
        with pytest.raises(ResponseTruncatedError, match="truncated") as caught:
            client.get_user("u1")
        assert len(server.stats.requests) == 3
        assert caught.value.attempts == 3
        assert not isinstance(caught.value, ResponseValidationError)
        assert "not retried" not in str(caught.value)  # the hint matches what happened


def test_a_truncated_answer_to_a_create_without_a_key_is_not_retried():
    def truncated(request, sock):
        head = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Content-Length: 500\r\n\r\n" + USER_BODY[:20])
        return False

    with (
        LocalServer(truncated) as server,
        UserServiceClient(server.url, policy=DRIP_POLICY, runtime=instant_runtime(0)) as client,
    ):
        with pytest.raises(ResponseTruncatedError, match="truncated") as caught:
            client.create_user(email="ada@example.com", name="Ada")
        # The provider may have created the user: repeating the create could make a second one.
        assert len(server.stats.requests) == 1
        assert caught.value.attempts == 1


def test_a_header_block_cut_by_the_connection_is_truncation_not_a_content_type_problem():
    def cut_headers(request, sock):
        sock.sendall(b"HTTP/1.1 200 OK\r\ndate: Sun, 29 Nov 2026 08:00:00 GMT\r\nserv")
        return False

    with (
        LocalServer(cut_headers) as server,
        UserServiceClient(server.url, policy=DRIP_POLICY, runtime=instant_runtime(0)) as client,
    ):
        with pytest.raises(ResponseTruncatedError, match="cut short") as caught:
            client.get_user("u1")
        assert len(server.stats.requests) == 3
        assert caught.value.attempts == 3


def test_reset_mid_response_is_retried_for_reads():
    def reset_once(request, sock):
        if len(server.stats.requests) == 1:
            sock.sendall(b"HTTP/1.1 20")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        sock.sendall(json_answer(200, USER))
        return True

    server = LocalServer(reset_once)
    with (
        server,
        UserServiceClient(server.url, policy=DRIP_POLICY, runtime=instant_runtime(0)) as client,
    ):
        assert client.get_user("u1").id == "u1"
        assert len(server.stats.requests) == 2


def test_sixteen_threads_share_one_client_without_being_serialised():
    def slow_ok(request, sock):
        time.sleep(0.2)
        sock.sendall(json_answer(200, USER))
        return True

    policy = replace(ResiliencePolicy(), deadline_s=30.0, read_timeout_s=20.0)
    with LocalServer(slow_ok) as server, UserServiceClient(server.url, policy=policy) as client:
        barrier = threading.Barrier(16)

        def work(_):
            barrier.wait(timeout=10)
            return [client.get_user("u1").id for _ in range(2)]

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(work, range(16)))
        assert results == [["u1", "u1"]] * 16
        assert len(server.stats.requests) == 32
        # A breaker holding a lock across requests would keep this at 1.
        assert server.stats.max_in_flight >= 12
        assert client.breaker_state is BreakerState.CLOSED


def test_sequential_calls_reuse_one_keep_alive_connection():
    def ok(request, sock):
        sock.sendall(json_answer(200, USER))
        return True

    with LocalServer(ok) as server, UserServiceClient(server.url, policy=DRIP_POLICY) as client:
        for _ in range(20):
            assert client.get_user("u1").id == "u1"
        assert len(server.stats.requests) == 20
        assert server.stats.connections == 1
        request = server.stats.requests[0]
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"].startswith("stormproof/")
        assert "x-request-id" in request.headers
