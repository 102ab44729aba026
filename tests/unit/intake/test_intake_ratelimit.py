"""The look-up's token buckets (per client address, per dossier code) and whose address a request comes from."""

from __future__ import annotations

import ipaddress

import pytest

from services.intake.ratelimit import TokenBuckets, client_address, networks

PROXIES = networks("10.0.0.0/8, ::1")


def test_a_burst_then_the_refill_rate() -> None:
    buckets = TokenBuckets(capacity=3, per_second=0.5)
    assert [buckets.take("1.2.3.4", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("1.2.3.4", 0.0) == pytest.approx(2.0)  # next token in 2 s
    assert buckets.take("1.2.3.4", 1.0) == pytest.approx(1.0)
    assert buckets.take("1.2.3.4", 2.0) == 0.0
    assert buckets.take("5.6.7.8", 2.0) == 0.0, "another client has its own bucket"


def test_tokens_never_exceed_the_capacity() -> None:
    buckets = TokenBuckets(capacity=2, per_second=1)
    buckets.take("a", 0.0)
    assert [buckets.take("a", 1000.0) for _ in range(3)][-1] > 0


def test_memory_is_bounded() -> None:
    buckets = TokenBuckets(capacity=1, per_second=1, max_keys=2)
    for client in ("a", "b", "c"):
        buckets.take(client, 0.0)
    assert buckets.take("a", 0.0) == 0.0, "the oldest client was forgotten (a full bucket again)"
    with pytest.raises(ValueError):
        TokenBuckets(capacity=0, per_second=1)


def test_the_store_stays_bounded_under_a_flood_of_distinct_keys() -> None:
    buckets = TokenBuckets(capacity=10, per_second=1)  # the default bound: 100,000 keys
    for n in range(120_000):
        buckets.take(f"000.00.12.H55-260316-{n:06d}", 0.0)
    assert len(buckets) == 100_000
    small = TokenBuckets(capacity=10, per_second=1, max_keys=1_000)
    for n in range(100_000):
        small.take(str(ipaddress.IPv4Address(n)), 0.0)
    assert len(small) == 1_000


def test_a_token_given_back_restores_the_bucket_and_a_full_one_is_dropped() -> None:
    buckets = TokenBuckets(capacity=2, per_second=0.001)
    buckets.take("code", 0.0)
    buckets.give_back("code", 0.0)
    assert len(buckets) == 0, "a full bucket is not kept"
    buckets.take("code", 0.0)
    buckets.take("code", 0.0)
    buckets.give_back("code", 0.0)
    assert len(buckets) == 1 and buckets.take("code", 0.0) == 0.0 and buckets.take("code", 0.0) > 0


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    assert client_address("203.0.113.7", ["198.51.100.1"], ()) == "203.0.113.7"
    assert client_address("203.0.113.7", ["198.51.100.1"], PROXIES) == "203.0.113.7"
    assert client_address(None, [], PROXIES) == "unknown"


def test_behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() -> None:
    # The client sent "1.1.1.1" itself; the proxy appended the address it saw.
    assert client_address("10.0.0.2", ["1.1.1.1, 203.0.113.7"], PROXIES) == "203.0.113.7"
    assert client_address("10.0.0.2", ["1.1.1.1", "203.0.113.7, 10.0.0.9"], PROXIES) == "203.0.113.7"
    assert client_address("10.0.0.2", ["10.0.0.5"], PROXIES) == "10.0.0.5", "every hop trusted: the farthest"
    assert client_address("10.0.0.2", ["1.1.1.1, junk"], PROXIES) == "10.0.0.2", "junk: count the proxy"
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_ipv6_clients_count_per_slash_64() -> None:
    a = client_address("2001:db8:1:2::1", [], ())
    b = client_address("2001:db8:1:2:ffff::9", [], ())
    assert a == b == "2001:db8:1:2::/64"
    assert client_address("::ffff:203.0.113.7", [], ()) == "203.0.113.7"
    assert client_address("::1", ["2001:db8::5"], PROXIES) == "2001:db8::/64"


def test_a_bad_proxy_list_names_the_bad_entry() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        networks("10.0.0.1, nonsense")
    assert networks("") == ()
