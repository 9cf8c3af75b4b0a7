"""The in-process rate limiter used by public endpoints."""

import logging

from libs.common.ratelimit import HideClientAddress, RateLimiter


def test_a_client_over_the_limit_is_refused_until_the_window_passes():
    now = [0.0]
    limiter = RateLimiter(limit=2, window=10, clock=lambda: now[0])

    assert [limiter.hit("192.0.2.1") for _ in range(3)] == [True, True, False]
    assert limiter.hit("192.0.2.2")
    now[0] = 10.0
    assert limiter.hit("192.0.2.1")


def test_the_limiter_keeps_no_address():
    limiter = RateLimiter(limit=1)
    limiter.hit("192.0.2.1")

    assert all(b"192.0.2.1" not in key for key in limiter._counts)


def test_access_log_lines_of_public_paths_lose_the_address():
    record = logging.LogRecord("uvicorn.access", 20, "", 0, '%s - "%s %s HTTP/%s" %d', None, None)
    record.args = ("192.0.2.1:5555", "POST", "/public/reports", "1.1", 201)

    HideClientAddress(["/public/"]).filter(record)

    assert "192.0.2.1" not in record.getMessage()
