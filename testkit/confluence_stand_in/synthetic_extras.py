"""Blog posts, comments (with replies and resolved inline ones), labels and attachments added to a generated site.

Deterministic from `seed`, like `synthetic_site`; for the benchmarks and tests at scale.
"""

from __future__ import annotations

import random
from dataclasses import replace

from .content import Attachment, BlogPost, Comment
from .site import Site

_LABELS = ("runbook", "policy", "how-to", "draft", "faq", "archive-me", "security", "onboarding")
_PLAIN = ("text/plain", "text/csv", "text/markdown", "application/json")


def with_synthetic_extras(
    site: Site,
    *,
    seed: int = 0,
    blog_posts_per_space: int = 5,
    comments_per_page: float = 1.0,
    attachments_per_page: float = 0.3,
    labels_per_page: float = 1.0,
) -> Site:
    """`site` plus content beside its pages. Each page gets on average the given numbers of comments (a quarter of
    them inline, a fifth of those resolved, a third of footer comments replied to) and attachments (text, CSV, MD,
    JSON and PDF files of 1-8 KB)."""
    from testkit import attachment_files as files

    rng = random.Random(seed)
    next_id = int(site.next_page_id()) + 1000
    pages = [replace(p, labels=tuple(rng.sample(_LABELS, _count(rng, labels_per_page)))) for p in site.pages]
    posts: list[BlogPost] = []
    for space in site.spaces:
        for index in range(blog_posts_per_space):
            posts.append(
                BlogPost(
                    id=str(next_id),
                    space_key=space.key,
                    title=f"{space.name} news {index + 1}",
                    author_id=space.author_id,
                    created_at=space.created_at,
                    updated_at=space.created_at,
                    version=1,
                    body=f"<p>News number {index + 1} from {space.name}: {_words(rng, 40)}.</p>",
                    labels=("announcement",),
                )
            )
            next_id += 1
    comments: list[Comment] = []
    attachments: list[Attachment] = []
    for page in [*pages, *posts]:
        for _ in range(_count(rng, comments_per_page)):
            inline = rng.random() < 0.25
            comment = Comment(
                id=str(next_id),
                container_id=page.id,
                kind="inline" if inline else "footer",
                body=f"<p>{_words(rng, 25)}</p>",
                author_id=page.author_id,
                created_at=page.updated_at,
                updated_at=page.updated_at,
                resolved=inline and rng.random() < 0.2,
                selection=_words(rng, 3) if inline else "",
            )
            comments.append(comment)
            next_id += 1
            if not inline and rng.random() < 0.33:
                comments.append(
                    replace(comment, id=str(next_id), parent_id=comment.id, body=f"<p>{_words(rng, 12)}</p>")
                )
                next_id += 1
        for _ in range(_count(rng, attachments_per_page)):
            kind = rng.choice([*_PLAIN, "application/pdf"])
            text = _words(rng, rng.randrange(150, 1200))
            if kind == "application/pdf":
                data = files.pdf_bytes([text[i : i + 80] for i in range(0, min(len(text), 4000), 80)])
            else:
                data = text.encode()
            suffix = {"text/plain": "txt", "text/csv": "csv", "text/markdown": "md", "application/json": "json"}
            name = f"file-{next_id}.{suffix.get(kind, 'pdf')}"
            if kind == "application/json":
                data = ('{"notes": "' + text + '"}').encode()
            attachments.append(
                Attachment(
                    id=str(next_id),
                    container_id=page.id,
                    title=name,
                    media_type=kind,
                    data=data,
                    author_id=page.author_id,
                    created_at=page.updated_at,
                    updated_at=page.updated_at,
                )
            )
            next_id += 1
    return replace(
        site, pages=tuple(pages), blog_posts=tuple(posts), comments=tuple(comments), attachments=tuple(attachments)
    )


def _count(rng: random.Random, mean: float) -> int:
    """A small whole number with the given mean (the integer part, plus one with the fraction's probability)."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def _words(rng: random.Random, n: int) -> str:
    from .synthetic import WORDS

    return " ".join(rng.choice(WORDS) for _ in range(n))
