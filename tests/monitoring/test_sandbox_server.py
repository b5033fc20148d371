"""The sandbox server's API: real HTTP semantics in-process, over the network only with DEBUG."""

from __future__ import annotations

import ast
import inspect

import pytest

from monitoring.models import SandboxPost
from monitoring.platforms import PermanentError, get_platform
from monitoring.platforms import sandbox as client_module
from tests.factories import SandboxPostFactory


@pytest.fixture
def network():
    return get_platform("sandbox", options={"handle": "northwind_care"})


def _api(network, method: str, path: str, **kwargs):
    return network.session.request(method, network.opts.base_url + path, **kwargs)


@pytest.mark.django_db
def test_the_in_process_transport_gives_real_statuses_headers_and_json(network):
    post = SandboxPostFactory()
    created, again = (
        _api(
            network,
            "POST",
            f"/posts/{post.pk}/replies/",
            json={"text": "hi"},
            headers={"Idempotency-Key": "k"},
        )
        for _ in range(2)
    )
    assert (created.status_code, again.status_code) == (201, 200)
    assert created.headers["Content-Type"] == "application/json"
    assert created.json()["id"] == again.json()["id"]
    assert created.json()["author"]["handle"] == "northwind_care"  # the bearer handle


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/posts/999999/thread/", {}, 404),
        ("POST", "/posts/1/replies/", {"json": {"text": " "}}, 422),
        ("GET", "/posts/", {"params": {"cursor": "not-a-cursor"}}, 400),
        ("DELETE", "/posts/", {}, 405),
        ("GET", "/no/such/endpoint/", {}, 404),
    ],
)
def test_a_refusal_is_a_4xx_with_a_json_error_body(network, method, path, kwargs, status):
    response = _api(network, method, path, **kwargs)
    assert response.status_code == status
    assert response.json()["error"]


@pytest.mark.django_db
def test_the_adapter_maps_a_refusal_like_any_platform(network):
    with pytest.raises(PermanentError, match="not found") as caught:
        network.thread("999999")
    assert caught.value.status == 404


@pytest.mark.django_db
def test_over_the_network_the_api_answers_only_with_debug_on(client, settings):
    settings.DEBUG = False
    assert client.get("/sandbox/api/limits/").status_code == 404
    settings.DEBUG = True
    assert client.get("/sandbox/api/limits/").json()["reply_max_length"] == 500


@pytest.mark.django_db(transaction=True)
def test_a_real_base_url_reaches_the_server_over_http(live_server, settings):
    settings.DEBUG = True
    post = SandboxPostFactory(text="telvana is down")
    remote = get_platform(
        "sandbox",
        options={"handle": "northwind_care", "base_url": f"{live_server.url}/sandbox/api"},
    )
    sent = remote.reply(in_reply_to=str(post.pk), text="Sorry", idempotency_key="k")
    assert SandboxPost.objects.get(pk=int(sent.external_id)).reply_to_id == post.pk
    assert [p.external_id for p in remote.thread(str(post.pk))] == [str(post.pk), sent.external_id]


def test_the_adapter_imports_no_orm():
    tree = ast.parse(inspect.getsource(client_module))
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {m for m in imported if m.startswith(("django.db", "monitoring.models"))}
