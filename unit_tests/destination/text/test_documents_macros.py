"""The macro policy table, mentions and includes: small cases written for this project."""

from __future__ import annotations

import re
from pathlib import Path

from destination_vectors.text.documents import (
    MACRO_POLICY,
    IncludeTarget,
    PageContext,
    Policy,
    include_targets,
    storage_to_sections,
    storage_to_text,
)
from destination_vectors.text.documents._macros import Action

CONTRACTS = Path(__file__).resolve().parents[3] / "docs" / "CONTRACTS.md"


def _documented_policy() -> dict[str, Policy]:
    text = CONTRACTS.read_text(encoding="utf-8")
    table = text.split("<!-- macro-policy:start -->")[1].split("<!-- macro-policy:end -->")[0]
    policy: dict[str, Policy] = {}
    for row in table.strip().splitlines()[2:]:
        name, action, argument = (cell.strip().strip("`") for cell in row.strip().strip("|").split("|"))
        policy[name] = Policy(Action(action), argument)
    return policy


def test_contracts_table_is_the_code_table() -> None:
    documented = _documented_policy()
    assert documented == MACRO_POLICY, (
        "docs/CONTRACTS.md macro policy and MACRO_POLICY differ: "
        f"only in docs {sorted(documented.keys() - MACRO_POLICY.keys())}, "
        f"only in code {sorted(MACRO_POLICY.keys() - documented.keys())}, "
        f"different {sorted(k for k in documented.keys() & MACRO_POLICY.keys() if documented[k] != MACRO_POLICY[k])}"
    )


def _macro(name: str, *parameters: tuple[str, str]) -> str:
    params = "".join(f'<ac:parameter ac:name="{key}">{value}</ac:parameter>' for key, value in parameters)
    return f'<ac:structured-macro ac:name="{name}">{params}</ac:structured-macro>'


def test_jira_status_time_become_key_title_date() -> None:
    body = (
        "<p>Fixed in "
        + _macro("jira", ("server", "System JIRA"), ("serverId", "a1b2-c3"), ("key", "OPS-1234"))
        + " now "
        + _macro("status", ("colour", "Green"), ("title", "ON TRACK"))
        + ' since <time datetime="2026-11-02" />.</p>'
    )
    text = storage_to_text(body)
    assert text == "Fixed in OPS-1234 now ON TRACK since 2026-11-02.", f"jira/status/time rendered wrong: {text!r}"
    assert "a1b2" not in text and "Green" not in text and "System" not in text, f"macro parameters leaked: {text!r}"


def test_jira_query_macro_without_key_writes_nothing() -> None:
    text = storage_to_text("<p>Open: " + _macro("jira", ("jqlQuery", "project = OPS")) + "</p>")
    assert text == "Open:", f"a Jira query macro has no single key; its JQL must not leak: {text!r}"


_INCLUDE = (
    '<ac:structured-macro ac:name="{kind}"><ac:parameter ac:name="">'
    '<ac:link><ri:page ri:content-title="{title}"{space}/></ac:link></ac:parameter></ac:structured-macro>'
)


def _include(kind: str, title: str, space: str = "") -> str:
    return _INCLUDE.format(kind=kind, title=title, space=f' ri:space-key="{space}"' if space else "")


def test_include_in_same_sync_gives_the_included_text() -> None:
    shared = "Pager: @Ada Lovelace\n\n| week | person |\n|---|---|\n| 48 | Ada |\n\n```sh\npage --now\n```"
    asked: list[IncludeTarget] = []

    def lookup(target: IncludeTarget) -> str | None:
        asked.append(target)
        return shared if target == IncludeTarget("ENG", "On-call rota") else None

    body = "<ul><li>Who:" + _include("include", "On-call rota") + "</li></ul>"
    text = storage_to_text(body, PageContext(space_key="ENG", included_text=lookup))
    assert asked == [IncludeTarget("ENG", "On-call rota")], f"include without space key must look in ENG: {asked}"
    assert "| 48 | Ada |" in text.split("\n") and "page --now" in text.split("\n"), (
        f"included table rows and code must stay at column 0: {text!r}"
    )
    assert "Pager: @Ada Lovelace" in text, f"included prose lost: {text!r}"


def test_include_outside_the_sync_names_the_page() -> None:
    body = _include("include", "On-call rota") + _include("excerpt-include", "Escalation", space="OPS")
    text = storage_to_text(body, PageContext(space_key="ENG", included_text=lambda target: None))
    assert text == "Included from page: On-call rota\n\nExcerpt included from page: Escalation (space OPS)", (
        f"unresolved includes should name their page: {text!r}"
    )
    assert storage_to_text(body) == text, "without any lookup the naming lines are written too"


def test_include_targets_lists_included_pages_only() -> None:
    body = _include("include", "A") + _include("excerpt-include", "B", space="OPS") + _macro("toc")
    assert include_targets(body, "ENG") == {IncludeTarget("ENG", "A"), IncludeTarget("OPS", "B")}, "targets wrong"
    assert include_targets("<p>nothing included</p>", "ENG") == set(), "a page without includes has no targets"


def test_mentions_become_display_names_never_raw_ids() -> None:
    body = (
        '<p><ac:link><ri:user ri:account-id="5d8a1b2c3e4f5a6b7c8d9e03"/></ac:link> is on call; backup '
        '<ri:user ri:account-id="70121:gone"/>; DC <ac:link><ri:user ri:userkey="8a7f80c2"/></ac:link> and '
        '<ac:link><ri:user ri:username="jdoe"/></ac:link></p>'
    )
    names = {"5d8a1b2c3e4f5a6b7c8d9e03": "Ada Lovelace", "8a7f80c2": "Grace Hopper"}
    text = storage_to_text(body, PageContext(user_names=names))
    assert text == "@Ada Lovelace is on call; backup @Unknown user; DC @Grace Hopper and @jdoe", (
        f"mentions not resolved to names: {text!r}"
    )
    assert not re.search(r"5d8a1b2c|70121|8a7f80c2", text), f"a raw user id reached the text: {text!r}"


def test_context_does_not_change_section_split() -> None:
    body = "<h2>Rota</h2><p><ri:user ri:account-id='x1'/> first</p>"
    sections = storage_to_sections(body, PageContext(user_names={"x1": "Ada"}))
    assert [(s.heading_path, s.text) for s in sections] == [(("Rota",), "@Ada first")], f"sections: {sections}"
