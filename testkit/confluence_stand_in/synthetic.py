"""Generated sites: many varied pages for benchmarks, and arbitrary bodies for round-trip tests.

Everything derives from `random.Random(seed)`, so the same arguments always give the same site (benchmarks compare
runs; tests compare bodies).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from .site import Page, Site, Space

GLOBAL_SPACES = [
    ("ENG", "Engineering"),
    ("OPS", "Operations"),
    ("HR", "People and Culture"),
    ("SALES", "Sales"),
    ("FIN", "Finance"),
    ("LEGAL", "Legal"),
    ("MKT", "Marketing"),
    ("SUP", "Customer Support"),
]
TOPICS = [
    "deploy",
    "rollback",
    "database",
    "backup",
    "incident",
    "on-call",
    "vpn",
    "laptop",
    "expenses",
    "holiday",
    "onboarding",
    "release",
    "monitoring",
    "alerting",
    "kubernetes",
    "terraform",
    "billing",
    "invoice",
    "security",
    "access",
    "certificate",
    "dns",
    "cache",
    "queue",
    "search",
    "payments",
    "retention",
    "privacy",
    "travel",
    "budget",
]
NOUNS = ["guide", "runbook", "policy", "checklist", "overview", "FAQ", "how-to", "notes", "design", "postmortem"]
WORDS = (
    "the service team should check each request before it reaches production and record what changed in the log "
    "when a node fails the scheduler moves its work to a healthy host within two minutes most alerts clear on "
    "their own but a page that repeats three times needs a human owner ask in the channel if a step is unclear "
    "keep secrets out of tickets rotate keys every quarter and review access when someone changes teams"
).split()
CODE_SNIPPETS = {
    "bash": 'set -euo pipefail\nkubectl rollout status deploy/{topic} --timeout=120s\necho "done: $(date -u)"',
    "python": 'def {func}(items: list[str]) -> int:\n    """Count non-empty items."""\n    return sum(1 for i in items if i)',
    "yaml": "service: {topic}\nreplicas: 3\nresources:\n  limits:\n    memory: 512Mi",
    "sql": "SELECT id, status FROM {func}\nWHERE updated_at > now() - interval '1 day'\nORDER BY id;",
}
BASE_TIME = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)


def synthetic_site(n_pages: int, n_spaces: int = 4, seed: int = 0, body_paragraphs: int = 4) -> Site:
    """`n_pages` pages over `n_spaces` spaces (the last one personal, `~` key), nested up to 4 levels deep."""
    if n_spaces < 1:
        raise ValueError("need at least one space")
    rng = random.Random(seed)
    users = {f"5b10ac8d82e05b22cc7d{index:04d}": f"User {index}" for index in range(12)}
    user_ids = sorted(users)
    spaces = [_synthetic_space(index, n_spaces, user_ids[index % len(user_ids)]) for index in range(n_spaces)]
    pages: list[Page] = []
    depth_of: dict[str, int] = {}
    pages_by_space: dict[str, list[Page]] = {s.key: [] for s in spaces}
    for index in range(n_pages):
        space = spaces[index % n_spaces] if index < n_spaces else spaces[rng.randrange(n_spaces)]
        siblings = pages_by_space[space.key]
        candidates = [p for p in siblings[-30:] if depth_of[p.id] < 3]
        parent = rng.choice(candidates) if candidates and rng.random() < 0.8 else None
        page_id = str(200000 + index)
        created = BASE_TIME + timedelta(hours=index * 3 + rng.randrange(3))
        version = 1 + rng.randrange(6)
        topic = rng.choice(TOPICS)
        page = Page(
            id=page_id,
            space_key=space.key,
            title=f"{topic.capitalize()} {rng.choice(NOUNS)} {index}",
            parent_id=parent.id if parent else None,
            author_id=rng.choice(user_ids),
            created_at=_timestamp(created),
            updated_at=_timestamp(created + timedelta(days=version - 1, minutes=rng.randrange(600))),
            version=version,
            body=_synthetic_body(rng, topic, body_paragraphs),
        )
        depth_of[page_id] = 0 if parent is None else depth_of[parent.id] + 1
        siblings.append(page)
        pages.append(page)
    return Site(tuple(spaces), tuple(pages), users)


def site_from_bodies(bodies: dict[str, str], space_key: str = "FIX") -> Site:
    """One global space whose pages are titled by the dict keys and carry the given bodies untouched."""
    space = Space(id="90001", key=space_key, name="Fixtures", type="global")
    pages = tuple(
        Page(
            id=str(900001 + index),
            space_key=space_key,
            title=title,
            parent_id=None,
            author_id=space.author_id,
            created_at=_timestamp(BASE_TIME + timedelta(minutes=index)),
            updated_at=_timestamp(BASE_TIME + timedelta(minutes=index)),
            version=1,
            body=body,
        )
        for index, (title, body) in enumerate(bodies.items())
    )
    return Site((space,), pages)


def _synthetic_space(index: int, n_spaces: int, author_id: str) -> Space:
    space_id = str(65536 + index * 4096)
    if index == n_spaces - 1 and n_spaces > 1:
        return Space(
            id=space_id,
            key=f"~{author_id}",
            name=f"Personal space {index}",
            type="personal",
            description="Personal notes",
            author_id=author_id,
        )
    if index < len(GLOBAL_SPACES):
        key, name = GLOBAL_SPACES[index]
    else:
        key, name = f"S{index}", f"Space {index}"
    return Space(id=space_id, key=key, name=name, type="global", description=f"{name} space", author_id=author_id)


def _synthetic_body(rng: random.Random, topic: str, paragraphs: int) -> str:
    parts: list[str] = [f"<p>{_sentence(rng, topic)}</p>"]
    for section in range(paragraphs):
        parts.append(f"<h2>{topic.capitalize()} step {section + 1}</h2>")
        parts.append(f"<p>{_sentence(rng, topic)} {_sentence(rng, topic)}</p>")
        roll = rng.random()
        if roll < 0.25:
            language = rng.choice(sorted(CODE_SNIPPETS))
            code = CODE_SNIPPETS[language].format(
                topic=topic.replace("-", "_"), func=f"{topic.replace('-', '_')}_count"
            )
            parts.append(
                '<ac:structured-macro ac:name="code" ac:schema-version="1">'
                f'<ac:parameter ac:name="language">{language}</ac:parameter>'
                f"<ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body></ac:structured-macro>"
            )
        elif roll < 0.4:
            rows = "".join(f"<tr><td>{rng.choice(WORDS)}</td><td>{rng.randrange(1, 100)}</td></tr>" for _ in range(3))
            parts.append(f"<table><tbody><tr><th>Item</th><th>Value</th></tr>{rows}</tbody></table>")
        elif roll < 0.55:
            items = "".join(f"<li>{_sentence(rng, topic, 6)}</li>" for _ in range(3))
            parts.append(f"<ul>{items}</ul>")
        elif roll < 0.65:
            parts.append(
                '<ac:structured-macro ac:name="info"><ac:rich-text-body>'
                f"<p>{_sentence(rng, topic)}</p></ac:rich-text-body></ac:structured-macro>"
            )
    return "".join(parts)


def _sentence(rng: random.Random, topic: str, length: int = 14) -> str:
    words = [rng.choice(WORDS) for _ in range(length)]
    words.insert(rng.randrange(len(words)), topic)
    return " ".join(words).capitalize() + "."


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
