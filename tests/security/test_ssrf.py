"""Attack 5 (SSRF): feed and instance URLs must not reach our own network.

The team pointed RSS feeds and Mastodon/Bluesky base URLs at loopback (the
database and Redis ports, telling open from closed by the error text), at
private ranges, at 169.254.169.254, and at public hosts that redirect inward.
Here the allow-list the other tests use for their local server is emptied, so
a real server on 127.0.0.1 stands for the internal service the policy refuses.
"""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from django.urls import reverse
from pytest_httpserver import HTTPServer
from werkzeug import Response

from monitoring.platforms.base import PermanentError, SearchQuery, TransientError
from monitoring.platforms.bluesky import BlueskyPlatform
from monitoring.platforms.mastodon import MastodonPlatform
from monitoring.platforms.outbound import OutboundRefused, check_url, refusal_in
from monitoring.platforms.rss import RssPlatform
from monitoring.platforms.x import XPlatform
from tests.factories import SourceFactory

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><guid>1</guid><title>telvana</title></item></channel></rss>"
)
QUERY = SearchQuery(terms=["telvana"])


@pytest.fixture(autouse=True)
def no_allowed_hosts(settings: Any) -> None:
    """The policy as shipped: nothing exempt."""
    settings.NOJACKAL_OUTBOUND_ALLOWED_HOSTS = []


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens here once closed


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://127.1/",
        "http://localhost:6379/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.7/feed",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://0.0.0.0:8000/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://example.org/feed",
    ],
)
def test_ssrf_urls_outside_the_public_internet_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefused):
        check_url(url)


def test_ssrf_a_public_address_passes() -> None:
    check_url("https://93.184.215.14/feed.xml")


def test_ssrf_the_allow_list_exempts_a_listed_host_or_network(settings: Any) -> None:
    settings.NOJACKAL_OUTBOUND_ALLOWED_HOSTS = ["mastodon.lan", "10.0.0.0/8"]
    check_url("http://10.1.2.3/")
    with pytest.raises(OutboundRefused):
        check_url("http://192.168.1.1/")


def test_ssrf_rss_feed_on_loopback_is_refused_before_any_request(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED, content_type="application/rss+xml")
    rss = RssPlatform(options={"feed_url": httpserver.url_for("/feed")})
    with pytest.raises(PermanentError, match="not on the public internet"):
        rss.search(QUERY, "")
    assert httpserver.log == []


def test_ssrf_an_open_and_a_closed_internal_port_give_the_same_error(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/").respond_with_data("+PONG")
    said = []
    for port in (httpserver.port, closed_port()):
        rss = RssPlatform(options={"feed_url": f"http://127.0.0.1:{port}/"})
        with pytest.raises(PermanentError) as caught:
            rss.check()
        said.append(str(caught.value).replace(str(port), "PORT"))
    assert said[0] == said[1]


def test_ssrf_redirect_to_an_internal_address_is_refused(
    httpserver: HTTPServer, settings: Any
) -> None:
    # The local server stands for a public host here; its redirect points inward.
    settings.NOJACKAL_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    httpserver.expect_request("/feed").respond_with_response(
        Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    )
    rss = RssPlatform(options={"feed_url": f"http://127.0.0.1:{httpserver.port}/feed"})
    with pytest.raises(PermanentError, match=r"169\.254\.169\.254 is not on the public internet"):
        rss.search(QUERY, "")


def test_ssrf_redirects_are_followed_only_a_few_times(
    httpserver: HTTPServer, settings: Any
) -> None:
    settings.NOJACKAL_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.NOJACKAL_OUTBOUND_MAX_REDIRECTS = 3
    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    rss = RssPlatform(options={"feed_url": f"http://127.0.0.1:{httpserver.port}/loop"})
    with pytest.raises(TransientError, match="TooManyRedirects"):
        rss.search(QUERY, "")
    assert len(httpserver.log) == 4  # the request and three redirects


def test_ssrf_an_answer_over_the_size_cap_is_refused(httpserver: HTTPServer, settings: Any) -> None:
    settings.NOJACKAL_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.NOJACKAL_OUTBOUND_MAX_BYTES = 1000
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    rss = RssPlatform(options={"feed_url": f"http://127.0.0.1:{httpserver.port}/big"})
    with pytest.raises(PermanentError, match="more than 1000 bytes"):
        rss.search(QUERY, "")


def test_ssrf_mastodon_instance_on_loopback_is_refused(httpserver: HTTPServer) -> None:
    platform = MastodonPlatform(
        credentials={"access_token": "t"},
        options={"api_base_url": f"http://127.0.0.1:{httpserver.port}", "timeout": 2},
    )
    with pytest.raises(PermanentError, match="not on the public internet"):
        platform.search(QUERY, "")
    assert httpserver.log == []


def test_ssrf_bluesky_service_on_loopback_is_refused(httpserver: HTTPServer) -> None:
    platform = BlueskyPlatform(
        options={"base_url": f"http://127.0.0.1:{httpserver.port}", "timeout": 2}
    )
    with pytest.raises(PermanentError, match="not on the public internet"):
        platform.search(QUERY, "")
    assert httpserver.log == []


def test_ssrf_x_api_base_on_loopback_is_refused(httpserver: HTTPServer) -> None:
    platform = XPlatform(
        credentials={"bearer_token": "t"},
        options={"api_base_url": f"http://127.0.0.1:{httpserver.port}", "timeout": 2},
    )
    with pytest.raises(PermanentError, match="not on the public internet"):
        platform.search(QUERY, "")
    assert httpserver.log == []


@pytest.mark.django_db
def test_ssrf_test_connection_says_refused_without_touching_the_port(
    admin_client: Any, httpserver: HTTPServer
) -> None:
    source = SourceFactory(
        platform="rss", options={"feed_url": f"http://127.0.0.1:{httpserver.port}/"}
    )
    response = admin_client.post(
        reverse("admin:monitoring_source_changelist"),
        {"action": "test_connection", "_selected_action": [source.pk]},
        follow=True,
    )
    assert "not on the public internet" in response.content.decode()
    assert httpserver.log == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "data"),
    [
        (
            "source",
            {
                "name": "metadata",
                "platform": "rss",
                "terms": '["telvana"]',
                "exclusions": "[]",
                "options": '{"feed_url": "http://169.254.169.254/latest/meta-data/"}',
                "cadence_seconds": 300,
                "next_poll_at_0": "2026-01-01",
                "next_poll_at_1": "00:00:00",
            },
        ),
        (
            "account",
            {
                "platform": "mastodon",
                "handle": "ours",
                "options": '{"api_base_url": "http://127.0.0.1:6379"}',
                "max_sends_per_hour": 10,
            },
        ),
    ],
)
def test_ssrf_a_forbidden_url_option_is_a_form_error_at_save(
    admin_client: Any, model: str, data: dict[str, Any]
) -> None:
    from monitoring.models import Account, Source

    response = admin_client.post(reverse(f"admin:monitoring_{model}_add"), data)
    assert response.status_code == 200, "the form was accepted"
    assert "not on the public internet" in response.content.decode()
    assert not Source.objects.exists() and not Account.objects.filter(handle="ours").exists()


# --- DNS rebinding: the address checked is the address connected to -------------------------


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A resolver for ``*.rebind.test`` that answers a public address the first time and
    127.0.0.1 after (a name whose owner rebinds it between the check and the connection);
    ``always.test`` names answer 127.0.0.1 every time. Returns the names looked up."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.endswith((".rebind.test", ".always.test")):
            return real(host, port, *args, **kwargs)
        first = name.endswith(".rebind.test") and name not in asked
        asked.append(name)
        address = "93.184.215.14" if first else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def _get(client: str, url: str) -> tuple[int, bytes]:
    from monitoring.platforms.outbound import PolicyTransport, policy_session

    if client == "requests":
        answer = policy_session(timeout=2).get(url)
        return answer.status_code, answer.content
    with httpx.Client(transport=PolicyTransport(), timeout=2) as session:
        got = session.get(url)
        return got.status_code, got.content


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_ssrf_a_name_that_resolves_public_then_private_is_not_reached(
    httpserver: HTTPServer, rebinding: list[str], client: str
) -> None:
    httpserver.expect_request("/").respond_with_data(b"INTERNAL SECRET")
    url = f"http://{client}.rebind.test:{httpserver.port}/"
    with pytest.raises(Exception) as caught:  # the client library may wrap the refusal
        _get(client, url)
    assert refusal_in(caught.value) is not None, caught.value
    assert "not on the public internet" in str(refusal_in(caught.value))
    assert httpserver.log == []  # no connection reached the internal service


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_ssrf_an_allowed_network_is_reached_at_the_address_checked_under_its_own_name(
    httpserver: HTTPServer, rebinding: list[str], settings: Any, client: str
) -> None:
    # An instance on the operator's own network: allowed by address, and still asked for
    # under its name (the Host header, and on https the certificate's name).
    settings.NOJACKAL_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.0/8"]
    httpserver.expect_request("/").respond_with_data(b"hello")
    host = f"{client}.always.test:{httpserver.port}"
    assert _get(client, f"http://{host}/") == (200, b"hello")
    (request, _response), *_ = httpserver.log
    assert request.headers["Host"] == host
