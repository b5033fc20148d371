"""Engagement end to end on Mastodon, Bluesky, X and Reddit.

Each test stores an Account as the admin does (credentials encrypted, options
pointing at a local pytest-httpserver), walks a case through the real moves up
to our first reply being sent from that account, serves the platform's recorded
notifications (shared/data/platform_payloads, read in place; adjusted copies
where a kind has no recording) and reads them with ``engagement.read_notifications``,
so the real adapter parses them and the real workflow records them.

Every kind each adapter maps is covered. None of the four platforms reports a
block or a mute to the blocked account, so opting out on them is covered by a
"stop" answer only (block and mute are covered on the sandbox, test_engagement.py).
X's API delivers mentions and replies only: no favourites, reposts or follows.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from pytest_httpserver import HTTPServer

from monitoring.models import Account, Person
from monitoring.platforms import bluesky
from outreach import engagement, workflow
from outreach.models import (
    Case,
    DoNotContact,
    EngagementEvent,
    OutboundAction,
    Stage,
    normalise_handle,
)
from tests.monitoring.platforms import recorded
from tests.monitoring.platforms.test_bluesky import fake_jwt
from tests.monitoring.platforms.test_x import attributed, envelope
from tests.outreach.factories import COMPLAINT, PersonFactory, PostFactory

pytestmark = pytest.mark.django_db

ENGAGED = Stage.ENGAGED
WAITING = Stage.AWAITING_ENGAGEMENT


# --- Shared helpers ---------------------------------------------------------------------------


def server_url(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/").rstrip("/")


def make_account(
    platform: str,
    handle: str,
    *,
    credentials: dict[str, str],
    options: dict[str, Any],
    cursor: str,
) -> Account:
    """Our account as the admin stores it: options in clear, credentials encrypted."""
    account = Account(
        platform=platform,
        handle=handle,
        options=options,
        max_sends_per_hour=30,
        notifications_cursor=cursor,
    )
    account.set_credentials(credentials)
    account.save()
    stored = Account.objects.get(pk=account.pk).credentials_encrypted
    assert stored and all(secret not in stored for secret in credentials.values())
    return account


@dataclass(frozen=True)
class Them:
    """The person we replied to, as the platform's adapter names them."""

    external_id: str
    handle: str


def replied_case(advance: Any, account: Account, them: Them, *, our_reply: str) -> Case:
    """A case whose first reply ``our_reply`` went out from ``account`` to ``them``."""
    person = Person.objects.filter(
        platform=account.platform, external_id=them.external_id
    ).first() or PersonFactory(
        platform=account.platform, external_id=them.external_id, handle=them.handle
    )
    post = PostFactory(
        platform=account.platform,
        author=person,
        text=COMPLAINT,
        posted_at=timezone.now() - dt.timedelta(hours=1),
    )
    case = advance(Stage.APPROVED, post=post)
    action = OutboundAction.objects.get(case=case, kind="reply")
    # The reply is queued on the only enabled account of the post's platform.
    assert action.account_id == account.pk
    # What the dispatcher records once the platform accepted our reply.
    workflow.mark_reply_sent(action.pk, external_id=our_reply, url="")
    case.refresh_from_db()
    assert case.stage == WAITING
    return case


def read(account: Account) -> engagement.ReadResult:
    return engagement.read_notifications(account.pk)


def kinds(case: Case) -> list[str]:
    return sorted(EngagementEvent.objects.filter(case=case).values_list("kind", flat=True))


def subjects(case: Case) -> list[str]:
    return sorted(e.payload["subject_id"] for e in EngagementEvent.objects.filter(case=case))


def stage(case: Case) -> str:
    return Case.objects.get(pk=case.pk).stage


def cursor(account: Account) -> str:
    return Account.objects.get(pk=account.pk).notifications_cursor


def opted_out(case: Case) -> bool:
    person = case.person
    return DoNotContact.objects.filter(
        platform=case.platform,
        person_external_id=person.external_id,
        handle=normalise_handle(person.handle),  # stored lower case, without "@"
    ).exists()


# --- Mastodon ---------------------------------------------------------------------------------

MASTODON_TOKEN = "mastodon-token-never-logged"
# The recorded notifications are for @mastodonpy_test, from @admin.
ADMIN = Them(external_id="115045157726281124", handle="admin@localhost")
# A status of @mastodonpy_test (ours) from the recordings: our reply.
OUR_STATUS = recorded.body("mastodon", "status_favourite")


def mastodon_stranger() -> dict[str, Any]:
    """@mastodonpy_test_2, whom we never replied to."""
    return recorded.body("mastodon", "status_post")["account"]


def mastodon_note(label: str, nid: str, account: dict[str, Any]) -> dict[str, Any]:
    """A v1 notification of ``label`` from ``account``, made from the recorded mention/follow."""
    mention, follow = recorded.body("mastodon", "notifications_mention_follow")
    if label.startswith("mention"):
        note = mention
        status = note["status"]
        status.update(id=f"11504557764609{nid}", account=account)
        if label == "mention_in_reply":  # a reply mentions the account it answers
            status.update(
                in_reply_to_id=OUR_STATUS["id"],
                in_reply_to_account_id=OUR_STATUS["account"]["id"],
            )
        elif label == "mention_direct":
            status["visibility"] = "direct"
    else:
        note = follow
        if label in ("favourite", "reblog"):
            note.update(type=label, status=copy.deepcopy(OUR_STATUS))
    note.update(id=nid, account=account)
    return note


@pytest.fixture
def mastodon_account(httpserver: HTTPServer, secrets_key: str) -> Account:
    # The tone guard reads the instance's length limit while the case is drafted and approved.
    httpserver.expect_request("/api/v2/instance/").respond_with_json(
        recorded.body("mastodon", "instance_v2")
    )
    return make_account(
        "mastodon",
        "mastodonpy_test",
        credentials={"access_token": MASTODON_TOKEN},
        options={"api_base_url": server_url(httpserver), "timeout": 2},
        cursor="18",
    )


def serve_mastodon(httpserver: HTTPServer, notes: list[dict[str, Any]]) -> None:
    headers = recorded.headers("mastodon", "notifications_mention_follow")
    headers.pop("link")  # it points at the recording host
    httpserver.expect_request(
        "/api/v1/notifications", headers={"Authorization": f"Bearer {MASTODON_TOKEN}"}
    ).respond_with_json(notes, headers=headers)


def last_mastodon_request(httpserver: HTTPServer) -> Any:
    return next(r for r, _ in reversed(httpserver.log) if r.path == "/api/v1/notifications")


@pytest.mark.parametrize(
    ("label", "kind", "expected", "subject"),
    [
        pytest.param("mention", "mention", ENGAGED, "", id="mention"),
        pytest.param("mention_in_reply", "reply", ENGAGED, OUR_STATUS["id"], id="reply"),
        pytest.param("mention_direct", "private_message", ENGAGED, "", id="direct-message"),
        pytest.param("follow", "follow", ENGAGED, "", id="follow"),
        pytest.param("favourite", "favourite", WAITING, OUR_STATUS["id"], id="favourite"),
        pytest.param("reblog", "boost", WAITING, OUR_STATUS["id"], id="boost"),
    ],
)
def test_mastodon_notification_kind_moves_our_case_and_ignores_a_stranger(
    advance: Any,
    httpserver: HTTPServer,
    mastodon_account: Account,
    label: str,
    kind: str,
    expected: str,
    subject: str,
) -> None:
    case = replied_case(advance, mastodon_account, ADMIN, our_reply=OUR_STATUS["id"])
    admin = recorded.body("mastodon", "notifications_mention_follow")[0]["account"]
    serve_mastodon(
        httpserver,
        [
            mastodon_note(label, "31", mastodon_stranger()),
            mastodon_note(label, "30", admin),
        ],
    )
    result = read(mastodon_account)
    assert (result.pages, result.recorded, result.ignored, result.error) == (1, 1, 1, "")
    assert kinds(case) == [kind]
    assert subjects(case) == [subject]
    assert stage(case) == expected
    assert not DoNotContact.objects.exists()
    assert EngagementEvent.objects.count() == 1
    # read from the stored cursor, and moved past both
    assert last_mastodon_request(httpserver).args["min_id"] == "18"
    assert cursor(mastodon_account) == "31"


def test_mastodon_recorded_mention_and_follow_engage_the_case(
    advance: Any, httpserver: HTTPServer, mastodon_account: Account
) -> None:
    case = replied_case(advance, mastodon_account, ADMIN, our_reply=OUR_STATUS["id"])
    serve_mastodon(httpserver, recorded.body("mastodon", "notifications_mention_follow"))
    result = read(mastodon_account)
    assert (result.recorded, result.ignored) == (2, 0)
    assert kinds(case) == ["follow", "mention"]
    mention = EngagementEvent.objects.get(case=case, kind="mention")
    assert mention.text == "@mastodonpy_test hello!"
    assert mention.external_id == f"{mastodon_account.pk}:22"
    assert stage(case) == ENGAGED
    assert cursor(mastodon_account) == "22"


def test_mastodon_favourite_of_an_earlier_reply_goes_to_that_case_not_the_latest(
    advance: Any, httpserver: HTTPServer, mastodon_account: Account
) -> None:
    # given a first case that closed in silence, and a later case with the same person
    first = replied_case(advance, mastodon_account, ADMIN, our_reply=OUR_STATUS["id"])
    later_status = {**OUR_STATUS, "id": "117020579695739999"}
    with time_machine.travel(timezone.now() + dt.timedelta(days=8), tick=True):
        workflow.mark_no_response(first)
    with time_machine.travel(timezone.now() + dt.timedelta(days=40), tick=True):
        later = replied_case(advance, mastodon_account, ADMIN, our_reply=later_status["id"])
        admin = recorded.body("mastodon", "notifications_mention_follow")[0]["account"]
        on_first = mastodon_note("favourite", "40", admin)
        on_later = mastodon_note("favourite", "41", admin)
        on_later["status"] = later_status
        mention = mastodon_note("mention", "42", admin)  # about no status of ours
        serve_mastodon(httpserver, [on_first, on_later, mention])
        result = read(mastodon_account)
    # then each favourite lands on the case of the reply it is about; the mention on the latest
    assert (result.recorded, result.ignored) == (3, 0)
    assert kinds(first) == ["favourite"]
    assert subjects(first) == [OUR_STATUS["id"]]
    assert kinds(later) == ["favourite", "mention"]
    assert subjects(later) == ["", later_status["id"]]
    assert stage(first) == Stage.NO_RESPONSE
    assert stage(later) == ENGAGED


def test_mastodon_person_found_through_another_instance_is_matched_by_handle(
    advance: Any, httpserver: HTTPServer, mastodon_account: Account
) -> None:
    # Mastodon account ids are per instance: the source's instance gave @admin another id.
    found_elsewhere = Them(external_id="109999999999999999", handle=ADMIN.handle)
    case = replied_case(advance, mastodon_account, found_elsewhere, our_reply=OUR_STATUS["id"])
    serve_mastodon(httpserver, recorded.body("mastodon", "notifications_mention_follow"))
    result = read(mastodon_account)
    assert (result.recorded, result.ignored) == (2, 0)
    assert kinds(case) == ["follow", "mention"]
    event = EngagementEvent.objects.get(case=case, kind="follow")
    assert event.payload["person"] == {"id": ADMIN.external_id, "handle": ADMIN.handle}
    assert stage(case) == ENGAGED


def test_mastodon_stop_reply_opts_the_person_out(
    advance: Any, httpserver: HTTPServer, mastodon_account: Account
) -> None:
    case = replied_case(advance, mastodon_account, ADMIN, our_reply=OUR_STATUS["id"])
    admin = recorded.body("mastodon", "notifications_mention_follow")[0]["account"]
    stop = mastodon_note("mention_in_reply", "30", admin)
    stop["status"]["content"] = "<p>@mastodonpy_test stop replying to me</p>"
    serve_mastodon(httpserver, [stop])
    assert read(mastodon_account).recorded == 1
    assert kinds(case) == ["reply"]
    assert stage(case) == Stage.OPTED_OUT
    assert opted_out(case)
    assert cursor(mastodon_account) == "30"


def test_mastodon_notifications_from_people_we_never_replied_to_are_ignored(
    advance: Any, httpserver: HTTPServer, mastodon_account: Account
) -> None:
    stranger = mastodon_stranger()
    case = replied_case(
        advance,
        mastodon_account,
        Them(external_id=stranger["id"], handle="mastodonpy_test_2@localhost"),
        our_reply=OUR_STATUS["id"],
    )
    # the recorded mention and follow come from @admin, whom we never replied to
    serve_mastodon(httpserver, recorded.body("mastodon", "notifications_mention_follow"))
    result = read(mastodon_account)
    assert (result.recorded, result.ignored) == (0, 2)
    assert not EngagementEvent.objects.exists()
    assert stage(case) == WAITING
    assert cursor(mastodon_account) == "22"


# --- Bluesky ----------------------------------------------------------------------------------

BLUESKY_PASSWORD = "bluesky-app-password-never-logged"
OWN_DID = "did:plc:5c2r73erhng4bszmxlfdtscf"  # bskyr.bsky.social, whose notifications these are
OUR_POST = f"at://{OWN_DID}/app.bsky.feed.post/3lpdf2hyvhd2m"  # liked and reposted
QUOTED_POST = f"at://{OWN_DID}/app.bsky.feed.post/3lktj6pstuy2n"
# The newest recorded notification: wijama's like.
NEWEST_INDEXED = "2025-05-17T08:44:44.416000Z"
WIJAMA_LIKE = "at://did:plc:qy6jyj4tpbqb33a44wx4gsl5/app.bsky.feed.like/3lpe5oldeev2w"


@pytest.fixture
def bluesky_account(httpserver: HTTPServer, secrets_key: str) -> Iterator[Account]:
    """A local PDS answering createSession with the recorded session (see test_bluesky)."""
    bluesky._SESSIONS.clear()
    session = recorded.body("bluesky", "create_session")
    session["accessJwt"], session["refreshJwt"] = fake_jwt(3600), fake_jwt(86400)
    session["didDoc"]["service"][0]["serviceEndpoint"] = server_url(httpserver)
    httpserver.expect_request(
        "/xrpc/com.atproto.server.createSession", method="POST"
    ).respond_with_json(session, headers=recorded.headers("bluesky", "create_session"))
    yield make_account(
        "bluesky",
        "bskyr.bsky.social",
        credentials={"identifier": "bskyr.bsky.social", "password": BLUESKY_PASSWORD},
        options={"base_url": server_url(httpserver), "timeout": 2},
        cursor=json.dumps({"since": "2025-01-01T00:00:00.000000Z", "seen": []}),
    )
    bluesky._SESSIONS.clear()


def bluesky_page() -> dict[str, Any]:
    doc = recorded.body("bluesky", "list_notifications")
    del doc["cursor"]  # older pages are not walked from a stored cursor
    return doc


def bluesky_item(doc: dict[str, Any], reason: str, handle: str) -> dict[str, Any]:
    return next(
        n for n in doc["notifications"] if n["reason"] == reason and n["author"]["handle"] == handle
    )


def as_reply_to_our_post(note: dict[str, Any]) -> None:
    """Turn a recorded mention into a reply to our post (no reply was recorded)."""
    strong_ref = {
        "uri": OUR_POST,
        "cid": "bafyreia7fptlcy32gmdmtxlqnd3cwjcq7bxae4sdunq5c5i6yr7y72cqmu",
    }
    note["reason"] = "reply"
    note["record"]["reply"] = {"root": strong_ref, "parent": strong_ref}


def them_on_bluesky(note: dict[str, Any]) -> Them:
    return Them(external_id=note["author"]["did"], handle=note["author"]["handle"])


def serve_bluesky(httpserver: HTTPServer, doc: dict[str, Any]) -> None:
    httpserver.expect_request("/xrpc/app.bsky.notification.listNotifications").respond_with_json(
        doc, headers=recorded.headers("bluesky", "list_notifications")
    )


@pytest.mark.parametrize(
    ("reason", "author", "kind", "expected", "subject"),
    [
        pytest.param("like", "wijama.bsky.social", "favourite", WAITING, OUR_POST, id="like"),
        pytest.param(
            "repost", "adam-birdstats.bsky.social", "boost", WAITING, OUR_POST, id="repost"
        ),
        pytest.param("follow", "gabspalomo.bsky.social", "follow", ENGAGED, "", id="follow"),
        pytest.param("mention", "josephjefe.bsky.social", "mention", ENGAGED, "", id="mention"),
        pytest.param("reply", "josephjefe.bsky.social", "reply", ENGAGED, OUR_POST, id="reply"),
        pytest.param(
            "quote", "chriskenny.bsky.social", "mention", ENGAGED, QUOTED_POST, id="quote"
        ),
    ],
)
def test_bluesky_notification_kind_moves_our_case_and_ignores_the_others(
    advance: Any,
    httpserver: HTTPServer,
    bluesky_account: Account,
    reason: str,
    author: str,
    kind: str,
    expected: str,
    subject: str,
) -> None:
    doc = bluesky_page()
    if reason == "reply":
        ours = bluesky_item(doc, "mention", author)
        as_reply_to_our_post(ours)
    else:
        ours = bluesky_item(doc, reason, author)
    case = replied_case(
        advance, bluesky_account, them_on_bluesky(ours), our_reply=subject or OUR_POST
    )
    serve_bluesky(httpserver, doc)
    result = read(bluesky_account)
    # ours, and nine recorded notifications from people we never replied to
    assert (result.pages, result.recorded, result.ignored, result.error) == (1, 1, 9, "")
    assert kinds(case) == [kind]
    assert subjects(case) == [subject]
    event = EngagementEvent.objects.get(case=case)
    assert event.external_id == f"{bluesky_account.pk}:{ours['uri']}"
    assert stage(case) == expected
    assert not DoNotContact.objects.exists()
    assert json.loads(cursor(bluesky_account)) == {"since": NEWEST_INDEXED, "seen": [WIJAMA_LIKE]}


def test_bluesky_recorded_mention_and_quote_from_one_person_are_both_recorded(
    advance: Any, httpserver: HTTPServer, bluesky_account: Account
) -> None:
    doc = bluesky_page()
    quote = bluesky_item(doc, "quote", "organizers.science")
    case = replied_case(
        advance, bluesky_account, them_on_bluesky(quote), our_reply=quote["reasonSubject"]
    )
    serve_bluesky(httpserver, doc)
    result = read(bluesky_account)
    assert (result.recorded, result.ignored) == (2, 8)
    assert kinds(case) == ["mention", "mention"]
    assert subjects(case) == ["", quote["reasonSubject"]]
    assert stage(case) == ENGAGED


def test_bluesky_stop_reply_opts_the_person_out(
    advance: Any, httpserver: HTTPServer, bluesky_account: Account
) -> None:
    doc = bluesky_page()
    ours = bluesky_item(doc, "mention", "josephjefe.bsky.social")
    as_reply_to_our_post(ours)
    ours["record"]["text"] = "please stop replying to me"
    del ours["record"]["facets"]
    case = replied_case(advance, bluesky_account, them_on_bluesky(ours), our_reply=OUR_POST)
    serve_bluesky(httpserver, doc)
    assert read(bluesky_account).recorded == 1
    assert kinds(case) == ["reply"]
    assert EngagementEvent.objects.get(case=case).text == "please stop replying to me"
    assert stage(case) == Stage.OPTED_OUT
    assert opted_out(case)


def test_bluesky_notifications_from_people_we_never_replied_to_are_ignored(
    advance: Any, httpserver: HTTPServer, bluesky_account: Account
) -> None:
    doc = bluesky_page()
    # someone from the recorded search, absent from the recorded notifications
    author = recorded.body("bluesky", "search_posts")["posts"][0]["author"]
    assert all(n["author"]["did"] != author["did"] for n in doc["notifications"])
    case = replied_case(
        advance, bluesky_account, Them(author["did"], author["handle"]), our_reply=OUR_POST
    )
    serve_bluesky(httpserver, doc)
    result = read(bluesky_account)
    assert (result.recorded, result.ignored) == (0, 10)
    assert not EngagementEvent.objects.exists()
    assert stage(case) == WAITING
    assert json.loads(cursor(bluesky_account))["since"] == NEWEST_INDEXED


# --- X ----------------------------------------------------------------------------------------

X_USER_ID = "783214"  # @Twitter, whose mentions were recorded
X_SECRETS = {
    "bearer_token": "x-bearer-never-logged",
    "consumer_key": "x-consumer-key",
    "consumer_secret": "x-consumer-secret-never-logged",
    "access_token": f"{X_USER_ID}-x-access-token",
    "access_token_secret": "x-access-token-secret-never-logged",
}
OUR_TWEET = recorded.body("x", "create_tweet")["data"]["id"]
STORED_SINCE = "1578516000000000000"
NEWEST_MENTION = "1578516295611748353"


@pytest.fixture
def x_account(httpserver: HTTPServer, secrets_key: str) -> Account:
    return make_account(
        "x",
        "Twitter",
        credentials=X_SECRETS,
        options={"api_base_url": server_url(httpserver), "timeout": 2, "user_id": X_USER_ID},
        cursor=STORED_SINCE,
    )


def x_mentions() -> list[dict[str, Any]]:
    """The recorded mentions with the author_id our request asks for (see test_x)."""
    return attributed(recorded.body("x", "users_mentions")["data"])


def x_author(tweet: dict[str, Any]) -> Them:
    user = next(
        u for u in recorded.body("x", "liking_users")["data"] if u["id"] == tweet["author_id"]
    )
    return Them(external_id=user["id"], handle=user["username"])


def serve_x(httpserver: HTTPServer, tweets: list[dict[str, Any]]) -> None:
    meta = {**recorded.body("x", "users_mentions")["meta"], "next_token": None}
    httpserver.expect_request(f"/2/users/{X_USER_ID}/mentions").respond_with_json(
        envelope(tweets, meta), headers=recorded.headers("x", "users_mentions")
    )


def last_x_request(httpserver: HTTPServer) -> Any:
    return next(r for r, _ in reversed(httpserver.log) if r.path.endswith("/mentions"))


@pytest.mark.parametrize(
    ("in_reply", "kind", "subject"),
    [
        pytest.param(False, "mention", "", id="mention"),
        pytest.param(True, "reply", OUR_TWEET, id="reply"),
    ],
)
def test_x_mention_or_reply_engages_our_case_and_ignores_the_others(
    advance: Any,
    httpserver: HTTPServer,
    x_account: Account,
    in_reply: bool,
    kind: str,
    subject: str,
) -> None:
    tweets = x_mentions()
    ours = tweets[0]
    if in_reply:
        ours["referenced_tweets"] = [{"type": "replied_to", "id": OUR_TWEET}]
    case = replied_case(advance, x_account, x_author(ours), our_reply=OUR_TWEET)
    serve_x(httpserver, tweets)
    result = read(x_account)
    # ours, and nine recorded mentions by other people
    assert (result.pages, result.recorded, result.ignored, result.error) == (1, 1, 9, "")
    assert kinds(case) == [kind]
    assert subjects(case) == [subject]
    event = EngagementEvent.objects.get(case=case)
    assert event.text == ours["text"]
    assert event.external_id == f"{x_account.pk}:{ours['id']}"
    assert stage(case) == ENGAGED
    assert last_x_request(httpserver).args["since_id"] == STORED_SINCE
    assert json.loads(cursor(x_account)) == {"since_id": NEWEST_MENTION}


def test_x_stop_reply_opts_the_person_out(
    advance: Any, httpserver: HTTPServer, x_account: Account
) -> None:
    tweets = x_mentions()
    ours = tweets[3]
    ours.update(
        text="@Twitter stop replying to me, this is spam",
        referenced_tweets=[{"type": "replied_to", "id": OUR_TWEET}],
    )
    case = replied_case(advance, x_account, x_author(ours), our_reply=OUR_TWEET)
    serve_x(httpserver, tweets)
    assert read(x_account).recorded == 1
    assert kinds(case) == ["reply"]
    assert stage(case) == Stage.OPTED_OUT
    assert opted_out(case)


def test_x_mentions_from_people_we_never_replied_to_are_ignored(
    advance: Any, httpserver: HTTPServer, x_account: Account
) -> None:
    tweets = x_mentions()
    # a recorded user who wrote none of the ten mentions
    user = recorded.body("x", "liking_users")["data"][20]
    assert all(t["author_id"] != user["id"] for t in tweets)
    case = replied_case(advance, x_account, Them(user["id"], user["username"]), our_reply=OUR_TWEET)
    serve_x(httpserver, tweets)
    result = read(x_account)
    assert (result.recorded, result.ignored) == (0, 10)
    assert not EngagementEvent.objects.exists()
    assert stage(case) == WAITING
    assert json.loads(cursor(x_account)) == {"since_id": NEWEST_MENTION}


# --- Reddit -----------------------------------------------------------------------------------

REDDIT_CREDENTIALS = {
    "client_id": "reddit-client",
    "client_secret": "reddit-secret-never-logged",
    "username": "<USERNAME>",  # as in the recorded mentions ("Hello /u/<USERNAME>")
    "password": "reddit-password-never-logged",
    "user_agent": "nojackal tests",
}
OUR_COMMENT = "t1_myngt77"  # the comment the recorded comment replies answer
STORED_REDDIT_CURSOR = {"before": "t1_ekft7y4", "ts": 1554774235.0, "seen": ["t1_ekft7y4"]}
# The newest item of every page served below: a recorded reply to our comment.
NEWEST_INBOX = {"before": "t1_mynqwvd", "ts": 1750351619.0, "seen": ["t1_mynqwvd"]}


@pytest.fixture
def reddit_account(httpserver: HTTPServer, secrets_key: str) -> Account:
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_json(
        recorded.body("reddit", "oauth_access_token")
    )
    return make_account(
        "reddit",
        "<USERNAME>",
        credentials=REDDIT_CREDENTIALS,
        options={
            "base_url": server_url(httpserver),
            "auth_url": server_url(httpserver),
            "timeout": 2,
        },
        cursor=json.dumps(STORED_REDDIT_CURSOR),
    )


def reddit_thing(filename: str, name: str) -> dict[str, Any]:
    children = recorded.body("reddit", filename)["data"]["children"]
    return next(t for t in children if t["data"]["name"] == name)


def reddit_pool() -> list[dict[str, Any]]:
    """Recorded inbox items of seven kinds and six people."""
    return [
        *recorded.body("reddit", "inbox_unread")["data"]["children"],
        reddit_thing("inbox_comment_replies", "t1_mynqwvd"),
        reddit_thing("inbox_mentions", "t1_ekftbox"),
    ]


def them_on_reddit(thing: dict[str, Any]) -> Them:
    return Them(external_id=thing["data"]["author_fullname"], handle=thing["data"]["author"])


def serve_reddit(httpserver: HTTPServer, children: list[dict[str, Any]]) -> None:
    """/message/inbox/ as Reddit lists it: newest first, in the recorded envelope."""
    doc = recorded.body("reddit", "inbox_unread")
    newest_first = sorted(children, key=lambda t: t["data"]["created_utc"], reverse=True)
    doc["data"].update(children=newest_first, before=None, after=None)
    httpserver.expect_request("/message/inbox/").respond_with_json(
        doc, headers=recorded.headers("reddit", "inbox_mentions")
    )


def last_reddit_request(httpserver: HTTPServer) -> Any:
    return next(r for r, _ in reversed(httpserver.log) if r.path == "/message/inbox/")


@pytest.mark.parametrize(
    ("filename", "name", "kind", "subject", "strangers"),
    [
        pytest.param(
            "inbox_comment_replies", "t1_mynqwvd", "reply", OUR_COMMENT, 6, id="comment_reply"
        ),
        pytest.param("inbox_unread", "t1_m30xcs6", "reply", "t3_1hirfbl", 6, id="post_reply"),
        pytest.param("inbox_mentions", "t1_ekftbox", "mention", "", 6, id="username_mention"),
        # Lil_SpazTest's own comment reply is left out: only their message is served
        pytest.param("inbox_unread", "t4_2r17c8r", "private_message", "", 5, id="message"),
    ],
)
def test_reddit_inbox_kind_engages_our_case_and_ignores_the_others(
    advance: Any,
    httpserver: HTTPServer,
    reddit_account: Account,
    filename: str,
    name: str,
    kind: str,
    subject: str,
    strangers: int,
) -> None:
    ours = reddit_thing(filename, name)
    if name == "t1_m30xcs6":
        # AutoModerator's recorded post reply ends "*I am a bot...*", which reads as an
        # opt-out (rule 9); a person's plain answer instead.
        ours["data"].update(body="Thanks, it works again today.", body_html="")
    them = them_on_reddit(ours)
    others = [t for t in reddit_pool() if t["data"]["author"] != them.handle]
    assert len(others) == strangers
    case = replied_case(advance, reddit_account, them, our_reply=OUR_COMMENT)
    serve_reddit(httpserver, [ours, *others])
    result = read(reddit_account)
    assert (result.pages, result.recorded, result.ignored, result.error) == (1, 1, strangers, "")
    assert kinds(case) == [kind]
    assert subjects(case) == [subject]
    event = EngagementEvent.objects.get(case=case)
    assert event.external_id == f"{reddit_account.pk}:{name}"
    assert stage(case) == ENGAGED
    assert not DoNotContact.objects.exists()
    assert last_reddit_request(httpserver).args["before"] == "t1_ekft7y4"
    assert json.loads(cursor(reddit_account)) == NEWEST_INBOX


def test_reddit_recorded_comment_replies_engage_the_case(
    advance: Any, httpserver: HTTPServer, reddit_account: Account
) -> None:
    replies = recorded.body("reddit", "inbox_comment_replies")["data"]["children"]
    case = replied_case(advance, reddit_account, them_on_reddit(replies[0]), our_reply=OUR_COMMENT)
    serve_reddit(httpserver, replies)
    result = read(reddit_account)
    assert (result.recorded, result.ignored) == (4, 0)
    assert kinds(case) == ["reply"] * 4
    assert subjects(case) == [OUR_COMMENT] * 4
    assert stage(case) == ENGAGED
    assert json.loads(cursor(reddit_account)) == NEWEST_INBOX


def test_reddit_stop_reply_opts_the_person_out(
    advance: Any, httpserver: HTTPServer, reddit_account: Account
) -> None:
    ours = reddit_thing("inbox_comment_replies", "t1_mynqwvd")
    ours["data"].update(body="stop replying to me", body_html="")
    case = replied_case(advance, reddit_account, them_on_reddit(ours), our_reply=OUR_COMMENT)
    serve_reddit(httpserver, [ours])
    assert read(reddit_account).recorded == 1
    assert kinds(case) == ["reply"]
    assert stage(case) == Stage.OPTED_OUT
    assert opted_out(case)


def test_reddit_inbox_from_people_we_never_replied_to_is_ignored(
    advance: Any, httpserver: HTTPServer, reddit_account: Account
) -> None:
    # 2Botter2Loop's mentions are not in the recorded unread inbox
    case = replied_case(
        advance,
        reddit_account,
        them_on_reddit(reddit_thing("inbox_mentions", "t1_ekftbox")),
        our_reply=OUR_COMMENT,
    )
    serve_reddit(httpserver, recorded.body("reddit", "inbox_unread")["data"]["children"])
    result = read(reddit_account)
    assert (result.recorded, result.ignored) == (0, 5)
    assert not EngagementEvent.objects.exists()
    assert stage(case) == WAITING
    assert json.loads(cursor(reddit_account)) == {
        "before": "t1_myngt77",
        "ts": 1750348671.0,
        "seen": ["t1_myngt77"],
    }
