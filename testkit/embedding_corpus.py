"""Texts for the embedding quality gate: every chunk of the shared storage-format fixtures and of the sample site,
cut by the destination's own conversion and chunking (the texts a sync really embeds), plus the sample site's
questions and the page each one must rank first."""

from __future__ import annotations

from pathlib import Path

from testkit.storage_format import FIXTURES, file_bodies

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SITE = ROOT / "integration_tests" / "sample_site"
SAMPLE_QUESTIONS = {
    "How do I roll back a deploy?": "Rollback",
    "How do I connect to the VPN?": "VPN Setup",
    "How many vacation days do I get?": "Holidays and Time Off",
    "Who is on call?": "On-call",
    "How do I claim an expense?": "Expense Policy",
}


def _chunks(title: str, body: str, max_tokens: int = 256) -> list[str]:
    from destination_vectors.embedding.model import load_tokenizer
    from destination_vectors.text.chunks import chunk_sections
    from destination_vectors.text.documents import storage_to_sections

    return [c.text for c in chunk_sections(title, storage_to_sections(body), load_tokenizer(), max_tokens, 0)]


def fixture_chunks() -> list[str]:
    bodies = file_bodies()
    if not bodies:
        raise FileNotFoundError(
            f"no storage-format fixtures under {FIXTURES}: the shared fixtures must sit beside the clone"
        )
    return [text for name, body in bodies for text in _chunks(Path(name).stem, body)]


def sample_site_chunks() -> list[tuple[str, str]]:
    """(page title, chunk text) for every chunk of the sample site."""
    from testkit.confluence_stand_in import load_site

    return [(page.title, text) for page in load_site(SAMPLE_SITE).pages for text in _chunks(page.title, page.body)]


def gate_texts() -> list[str]:
    return fixture_chunks() + [text for _, text in sample_site_chunks()]
