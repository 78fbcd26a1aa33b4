"""A newsroom script's first lines against newsdesk, fully typed by the client that
generate.py makes from the OpenAPI document (checked by `mypy --strict`):

1. reads the newest stories anonymously, as a public site does;
2. pages through every story of a tag by cursor;
3. with an API token (NEWSDESK_TOKEN), creates a tag and a draft that uses it, and
   edits the draft with a JSON merge patch that clears its summary.

Usage: NEWSDESK_URL=http://127.0.0.1:8080 NEWSDESK_TOKEN=nd_... python3 example.py
"""

import os
import time
from datetime import datetime

from newsdesk_client import AuthenticatedClient, Client
from newsdesk_client.api.articles import create_article, list_articles, update_article
from newsdesk_client.api.tags import create_tag, list_tags
from newsdesk_client.models import (
    Article,
    ArticleCreate,
    ArticleListItem,
    ArticlePage,
    ArticlePatch,
    ListArticlesSort,
    Problem,
    Tag,
    TagCreate,
    TagPage,
)
from newsdesk_client.types import UNSET, Unset


def headline(item: ArticleListItem) -> str:
    if isinstance(item.published_at, datetime):
        return f"{item.published_at:%Y-%m-%d %H:%M}  {item.title}"
    return f"(unpublished)  {item.title}"


def page_of_articles(
    client: Client, tag: str | Unset = UNSET, cursor: str | Unset = UNSET, per_page: int = 5
) -> ArticlePage:
    page = list_articles.sync(
        client=client, tag=tag, cursor=cursor, per_page=per_page, sort=ListArticlesSort.PUBLISHED_AT_DESC
    )
    if not isinstance(page, ArticlePage):
        raise SystemExit(f"listing failed: {page}")
    return page


def main() -> None:
    base_url = os.environ.get("NEWSDESK_URL", "http://127.0.0.1:8080")

    # 1. Anonymous reads: a plain Client, no token anywhere.
    reader = Client(base_url=base_url, raise_on_unexpected_status=True)
    newest = page_of_articles(reader)
    print(f"newest {len(newest.data)} stories:")
    for item in newest.data:
        print(f"  {headline(item)}")

    # 2. Every story of one tag, page after page, by cursor.
    tags = list_tags.sync(client=reader, per_page=1)
    if isinstance(tags, TagPage) and tags.data:
        slug = tags.data[0].slug
        cursor: str | Unset = UNSET
        seen = pages = 0
        while True:
            page = page_of_articles(reader, tag=slug, cursor=cursor, per_page=2)
            seen += len(page.data)
            pages += 1
            if not isinstance(page.meta.next_cursor, str):
                break
            cursor = page.meta.next_cursor
        print(f"tag {slug}: {seen} stories in {pages} pages")

    # 3. Writes with an API token.
    token = os.environ.get("NEWSDESK_TOKEN")
    if not token:
        print("NEWSDESK_TOKEN not set: skipping the writes")
        return
    editor = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    suffix = format(int(time.time() * 1000), "x")
    tag = create_tag.sync(client=editor, body=TagCreate(name=f"Typed client {suffix}"))
    if not isinstance(tag, Tag):
        raise SystemExit(f"tag refused: {tag.code if isinstance(tag, Problem) else tag}")
    draft = create_article.sync(
        client=editor,
        body=ArticleCreate(
            title=f"Written from Python {suffix}",
            body="Typed all the way down.",
            summary="A summary to clear",
            tags=[tag.slug],
        ),
    )
    if not isinstance(draft, Article):
        raise SystemExit(f"draft refused: {draft.code if isinstance(draft, Problem) else draft}")
    edited = update_article.sync(
        str(draft.id), client=editor, body=ArticlePatch(summary=None, featured=True)
    )
    if not isinstance(edited, Article):
        raise SystemExit(f"edit refused: {edited.code if isinstance(edited, Problem) else edited}")
    if isinstance(edited.summary, str) or not edited.featured:
        raise SystemExit("the merge patch did not apply")
    print(f"created draft {edited.slug} ({edited.status}) tagged {tag.slug}")


if __name__ == "__main__":
    main()
