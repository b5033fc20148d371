"""Polling throughput: sandbox posts ingested per second into PostgreSQL.

Compares the full path (sandbox search -> parse -> de-duplicate -> store people
and posts -> advance the cursor, page by page) against a plain COPY of the same
people and posts into the same tables, in the same run.

    python bench/poll_throughput.py [--posts 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt

from common import copy_posts, setup_django, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    args = parser.parse_args()
    setup_django()

    from django.test.utils import override_settings
    from django.utils import timezone

    from monitoring import ingest
    from monitoring.models import Person, Post, SandboxPost, Source
    from monitoring.platforms import SearchQuery, get_platform

    start = timezone.now() - dt.timedelta(days=1)
    SandboxPost.objects.bulk_create(
        [
            SandboxPost(
                author_id_text=f"u-{i % 3000}",
                author_handle=f"person{i % 3000}",
                author_name=f"Person {i % 3000}",
                text=f"@telvana my broadband has dropped {i % 17} times today, post {i}",
                lang="en",
                published_at=start + dt.timedelta(seconds=i),
            )
            for i in range(args.posts)
        ],
        batch_size=5000,
    )
    source = Source.objects.create(name="bench", platform="sandbox", terms=["telvana"])

    def poll_all() -> int:
        with override_settings(NOJACKAL_MAX_PAGES_PER_POLL=10_000):
            return ingest.poll(source.pk)

    stored, poll_seconds = timed(poll_all)
    assert stored == args.posts, stored

    # The same rows, collected from the adapter, written with COPY.
    adapter = get_platform("sandbox")
    posts, cursor = [], ""
    while True:
        page = adapter.search(SearchQuery(terms=["telvana"]), cursor)
        posts.extend(page.posts)
        cursor = page.cursor
        if not page.has_more:
            break
    Post.objects.all().delete()
    Person.objects.all().delete()

    def copy_all() -> int:
        return copy_posts("sandbox", source.pk, posts)

    copied, copy_seconds = timed(copy_all)
    poll_rate = stored / poll_seconds
    copy_rate = copied / copy_seconds
    print(f"posts: {args.posts}, authors: {len({p.author.external_id for p in posts})}")
    print(
        f"poll path (search, parse, store, cursor): {poll_seconds:6.2f} s {poll_rate:8,.0f} posts/s"
    )
    print(
        f"plain COPY of the same rows:              {copy_seconds:6.2f} s {copy_rate:8,.0f} posts/s"
    )
    print(f"ratio poll/COPY: {poll_rate / copy_rate:.2f}")


if __name__ == "__main__":
    main()
