"""Storage XHTML -> sectioned text, over every shared third-party fixture plus targeted edge cases."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytest
from bs4 import BeautifulSoup, CData

from destination_vectors.text.documents import ConversionError, Section, storage_to_sections, storage_to_text
from testkit.storage_format import FIXTURES, file_bodies, roundtrip_page_body

BODIES = [*file_bodies(), roundtrip_page_body()]
IDS = [name for name, _ in BODIES]
HOSTILE = [(name, body) for name, body in BODIES if "malicious" in name]
NORMAL = [(name, body) for name, body in BODIES if "malicious" not in name]


def _soup(body: str) -> BeautifulSoup:
    return BeautifulSoup(body, "html.parser")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_fixture_is_found() -> None:
    assert FIXTURES.is_dir(), f"shared fixtures missing at {FIXTURES}"
    assert len(BODIES) >= 35, f"expected all shared storage-format fixtures, found {len(BODIES)}"


@pytest.mark.parametrize(("name", "body"), NORMAL, ids=[n for n, _ in NORMAL])
def test_no_markup_left(name: str, body: str) -> None:
    text = storage_to_text(body)
    for marker in ("<ac:", "<ri:", "</ac:", "<![CDATA["):
        code_free = re.sub(r"(`{3,}).*?\n\1", "", text, flags=re.S)
        assert marker not in code_free, f"{name}: markup {marker!r} left in the text outside code blocks"
    assert text.strip() or name.endswith("00-home.xhtml"), f"{name}: converted to empty text"


@pytest.mark.parametrize(("name", "body"), NORMAL, ids=[n for n, _ in NORMAL])
def test_code_macro_content_verbatim(name: str, body: str) -> None:
    text = storage_to_text(body)
    for macro in _soup(body).find_all("ac:structured-macro"):
        plain = macro.find("ac:plain-text-body", recursive=False)
        if plain is None:
            continue
        code = "".join(str(s) for s in plain.strings if isinstance(s, CData))
        if not code.strip():
            continue
        if macro.find_parent("table") is not None:
            assert _flat(code) in _flat(text), f"{name}: code inside a table cell lost: {code[:60]!r}"
        else:
            assert code.rstrip("\n") in text, f"{name}: code macro content not verbatim: {code[:60]!r}"


@pytest.mark.parametrize(("name", "body"), NORMAL, ids=[n for n, _ in NORMAL])
def test_table_cells_present(name: str, body: str) -> None:
    flat = _flat(storage_to_text(body))
    for cell in _soup(body).find_all(["td", "th"]):
        if cell.find(["ac:structured-macro", "ac:image", "ac:link", "table"]) is not None:
            continue
        for value in filter(None, (_flat(text) for text in cell.strings)):
            escaped = value.replace("|", "\\|")  # a '|' in a cell is escaped so the row keeps its columns
            assert escaped in flat, f"{name}: table cell text {escaped!r} missing"


# The panel kinds whose colour and icon ask a reader to take care keep a kind label; the others show only the title.
LABELLED_PANELS = {"note": "Note:", "warning": "Warning:", "error": "Error:"}
UNLABELLED_PANELS = ("info", "tip", "panel", "success", "expand")


@pytest.mark.parametrize(("name", "body"), NORMAL, ids=[n for n, _ in NORMAL])
def test_panels_present_labelled_by_policy(name: str, body: str) -> None:
    text = storage_to_text(body)
    for macro in _soup(body).find_all("ac:structured-macro"):
        kind = str(macro.get("ac:name"))
        body_tag = macro.find("ac:rich-text-body", recursive=False)
        if kind not in (*LABELLED_PANELS, *UNLABELLED_PANELS) or body_tag is None or not _flat(body_tag.get_text()):
            continue
        first_text = next((_flat(s) for s in body_tag.strings if _flat(s)), "")
        assert first_text in _flat(text), f"{name}: {kind} panel text {first_text!r} missing"
        title = macro.find("ac:parameter", attrs={"ac:name": "title"}, recursive=False)
        title_text = _flat(title.get_text()) if title is not None else ""
        in_table = macro.find_parent("table") is not None
        if kind in LABELLED_PANELS:
            label = LABELLED_PANELS[kind]
            assert label in text, f"{name}: panel label {label!r} missing"
            if not in_table:
                assert re.search(re.escape(label) + r"[^\n]*\n", text), f"{name}: {label} is not a line of its own"
        elif title_text and not in_table:
            assert title_text in text.split("\n"), f"{name}: {kind} panel title {title_text!r} is not a line of its own"


@pytest.mark.parametrize("kind", [*LABELLED_PANELS, *UNLABELLED_PANELS])
def test_panel_kind_label_only_where_it_warns(kind: str) -> None:
    def panel(title: str, content: str) -> str:
        parameter = f'<ac:parameter ac:name="title">{title}</ac:parameter>' if title else ""
        return f'<ac:structured-macro ac:name="{kind}">{parameter}<ac:rich-text-body>{content}</ac:rich-text-body></ac:structured-macro>'

    label = LABELLED_PANELS.get(kind, "")
    with_title = storage_to_text(panel("Before you start", "<p>Back up first.</p><p>Then deploy.</p>"))
    heading = f"{label} Before you start" if label else "Before you start"
    assert with_title == f"{heading}\nBack up first.\n\nThen deploy.", f"{kind} with a title: {with_title!r}"
    without_title = storage_to_text(panel("", "<p>Back up first.</p>"))
    assert without_title == (f"{label}\nBack up first." if label else "Back up first."), (
        f"{kind} without a title: {without_title!r}"
    )
    empty = storage_to_text(panel("Before you start", ""))
    assert empty == heading, f"an empty {kind} panel must still show its title: {empty!r}"


def test_adf_panel_labelled_by_its_type() -> None:
    def adf(panel_type: str) -> str:
        return (
            '<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">'
            f"{panel_type}</ac:adf-attribute><ac:adf-content><p>Body text</p></ac:adf-content></ac:adf-node>"
            "<ac:adf-fallback><p>Fallback copy</p></ac:adf-fallback></ac:adf-extension>"
        )

    assert storage_to_text(adf("warning")) == "Warning:\nBody text", f"ADF warning: {storage_to_text(adf('warning'))!r}"
    for panel_type in ("info", "custom"):
        assert storage_to_text(adf(panel_type)) == "Body text", (
            f"ADF {panel_type}: {storage_to_text(adf(panel_type))!r}"
        )


@pytest.mark.parametrize(("name", "body"), NORMAL, ids=[n for n, _ in NORMAL])
def test_link_texts_present(name: str, body: str) -> None:
    flat = _flat(storage_to_text(body))
    soup = _soup(body)
    for link in soup.find_all("ac:link"):
        if link.find_parent("ac:parameter") is not None:
            continue
        link_body = link.find(["ac:link-body", "ac:plain-text-link-body"], recursive=False)
        page = link.find("ri:page", recursive=False)
        expected = (
            _flat(link_body.get_text()) if link_body is not None else (page.get("ri:content-title") if page else "")
        )
        if expected:
            assert expected in flat, f"{name}: ac:link text {expected!r} missing"
    for anchor in soup.find_all("a"):
        expected = _flat(anchor.get_text())
        if expected:
            assert expected in flat, f"{name}: <a> text {expected!r} missing"


@pytest.mark.parametrize(("name", "body"), HOSTILE, ids=[n for n, _ in HOSTILE])
def test_hostile_fixtures_are_safe(name: str, body: str) -> None:
    text = storage_to_text(body)
    assert len(text) < 100, f"{name}: output suspiciously large ({len(text)} chars): entities expanded?"
    assert "lollol" not in text, f"{name}: entity expansion (billion laughs)"
    assert "root:" not in text, f"{name}: external entity read /etc/passwd"
    assert "ENTITY" not in text and "DOCTYPE" not in text, f"{name}: declaration text leaked: {text!r}"


def test_inline_entity_declaration_keeps_following_content() -> None:
    body = (FIXTURES / "cfxmark" / "malicious-inline-entity-decl.xml").read_text(encoding="utf-8")
    assert storage_to_text(body) == "hello", "malicious-inline-entity-decl.xml: content after <!ENTITY> lost"


def test_nested_heading_paths() -> None:
    body = "<p>intro</p><h1>Deploys</h1><p>a</p><h2>Rollback</h2><p>b</p><h3>Data</h3><p>c</p><h2>Canary</h2><p>d</p><h1>Other</h1><p>e</p>"
    sections = storage_to_sections(body)
    assert sections == [
        Section((), "intro"),
        Section(("Deploys",), "a"),
        Section(("Deploys", "Rollback"), "b"),
        Section(("Deploys", "Rollback", "Data"), "c"),
        Section(("Deploys", "Canary"), "d"),
        Section(("Other",), "e"),
    ], f"heading paths wrong: {sections}"
    assert storage_to_text(body).startswith("intro\n\n# Deploys\n\na\n\n## Rollback"), "markdown heading lines wrong"


def test_headings_in_layout_cells_and_panels_split_sections() -> None:
    body = (
        "<ac:layout><ac:layout-section><ac:layout-cell><h2>Left</h2><p>x</p></ac:layout-cell></ac:layout-section></ac:layout>"
        '<ac:structured-macro ac:name="info"><ac:rich-text-body><h3>Inner</h3><p>y</p></ac:rich-text-body></ac:structured-macro>'
    )
    sections = storage_to_sections(body)
    assert sections == [Section(("Left",), "x"), Section(("Left", "Inner"), "y")], (
        f"layout and panel headings should each open a section, the panel's text continuing there: {sections}"
    )


def test_heading_inside_list_item_starts_a_section_and_the_list_goes_on() -> None:
    body = (
        "<p>Steps:</p><ol><li>Page the on-call</li><li><h2>Steps to roll back</h2><p>Revert the tag.</p></li>"
        "<li>Tell the channel</li></ol>"
    )
    sections = storage_to_sections(body)
    assert [s.heading_path for s in sections] == [(), ("Steps to roll back",)], f"no section at the heading: {sections}"
    assert sections[0].text == "Steps:\n\n1. Page the on-call", f"text before the heading: {sections[0].text!r}"
    assert "Revert the tag." in sections[1].text and "3. Tell the channel" in sections[1].text, (
        f"the item and the list must continue after the heading, numbering kept: {sections[1].text!r}"
    )


def test_heading_inside_panel_with_text_before_it() -> None:
    body = (
        '<ac:structured-macro ac:name="warning"><ac:parameter ac:name="title">Careful</ac:parameter><ac:rich-text-body>'
        "<p>Read first.</p><h2>Rollback</h2><p>Only on a red canary.</p></ac:rich-text-body></ac:structured-macro>"
    )
    assert storage_to_sections(body) == [
        Section((), "Warning: Careful\nRead first."),
        Section(("Rollback",), "Warning: Careful\nOnly on a red canary."),
    ], f"panel heading did not split the panel into two sections: {storage_to_sections(body)}"


def test_heading_inside_table_cell_stays_in_its_row() -> None:
    body = "<table><tr><th>a</th><th>b</th></tr><tr><td><h2>Cell head</h2><p>x</p></td><td>y</td></tr></table>"
    sections = storage_to_sections(body)
    assert sections == [Section((), "| a | b |\n|---|---|\n| Cell head x | y |")], f"table row split: {sections}"


def test_legacy_default_parameter_does_not_leak() -> None:
    body = (
        '<p>Ticket <ac:macro ac:name="jira"><ac:default-parameter>OPS-42</ac:default-parameter></ac:macro>.</p>'
        '<ac:macro ac:name="panel"><ac:default-parameter>bgColor=#fff</ac:default-parameter>'
        "<ac:rich-text-body><p>Panel body</p></ac:rich-text-body></ac:macro>"
        '<ac:macro ac:name="vendor-widget"><ac:default-parameter>widget-id-77</ac:default-parameter>'
        "<ac:rich-text-body><p>Widget body</p></ac:rich-text-body></ac:macro>"
    )
    text = storage_to_text(body)
    assert "bgColor" not in text and "widget-id-77" not in text, f"legacy default parameter leaked: {text!r}"
    assert "Ticket OPS-42 ." in text, f"legacy jira macro should give its issue key: {text!r}"
    assert "Panel body" in text and "Widget body" in text, f"macro bodies lost: {text!r}"


def test_pipe_in_table_cell_is_escaped_and_rows_keep_their_width() -> None:
    body = (
        "<table><tr><th>Command</th><th>Meaning</th></tr>"
        "<tr><td><code>grep a | wc -l</code></td><td>count</td></tr><tr><td>x||y</td><td>or</td></tr></table>"
    )
    rows = storage_to_text(body).split("\n")
    assert rows[2] == "| grep a \\| wc -l | count |" and rows[3] == "| x\\|\\|y | or |", f"pipes not escaped: {rows}"
    widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
    assert widths == {4}, f"ragged table: rows split into {widths} parts: {rows}"


@pytest.mark.parametrize("alt", ["", "diagram.png", "diagram", "Deploy flow diagram"])
def test_image_adds_no_words_and_keeps_its_caption_once(alt: str) -> None:
    """An image's pixels, file name and alt text are not words on the page (defect 4 printed an alt text that
    repeats the file name twice; now neither is printed). Its caption is visible text and is kept, once."""
    alt_attribute = f' ac:alt="{alt}"' if alt else ""
    body = (
        f'<p>Before the diagram <ac:image{alt_attribute}><ri:attachment ri:filename="diagram.png"/>'
        "<ac:caption><p>Rollout, step by step</p></ac:caption></ac:image> and after it.</p>"
    )
    text = storage_to_text(body)
    assert text == "Before the diagram\n\nRollout, step by step\n\nand after it.", f"alt {alt!r}: {text!r}"
    assert text.count("Rollout, step by step") == 1, f"caption not kept exactly once: {text!r}"


def test_url_and_html_images_add_no_words() -> None:
    body = (
        '<p>Logo <ac:image ac:alt="Company logo"><ri:url ri:value="https://cdn.example.com/img/logo.png?v=2&amp;x=1"/>'
        '</ac:image> here, <img src="https://x.example/a/spinner.gif" alt="spinner"/> done.</p>'
    )
    text = storage_to_text(body)
    assert text == "Logo here, done.", f"an image's URL, file name or alt reached the text: {text!r}"


def test_task_lists() -> None:
    body = (
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>done thing</ac:task-body></ac:task><ac:task><ac:task-status>incomplete</ac:task-status>"
        "<ac:task-body>open thing</ac:task-body></ac:task></ac:task-list>"
    )
    assert storage_to_text(body) == "- [x] done thing\n- [ ] open thing", "task list status or ids rendered wrong"


def test_ten_thousand_levels_of_nesting() -> None:
    for opening, closing in (
        ("<div>", "</div>"),
        ("<ul><li>", "</li></ul>"),
        ("<blockquote>", "</blockquote>"),
        ('<ac:structured-macro ac:name="x"><ac:rich-text-body>', "</ac:rich-text-body></ac:structured-macro>"),
    ):
        body = opening * 10_000 + "deep text" + closing * 10_000
        text = storage_to_text(body)
        assert "deep text" in text, f"10,000 x {opening}: text lost"


def test_unclosed_tags_and_broken_cdata_keep_text() -> None:
    text = storage_to_text("<p>one <strong>two <em>three<p>four<table><tr><td>cell")
    for word in ("one", "two", "three", "four", "cell"):
        assert word in text, f"unclosed tags: {word!r} lost in {text!r}"
    broken = storage_to_text(
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[x = 1 < 2</ac:plain-text-body></ac:structured-macro><p>after</p>'
    )
    assert "x = 1 < 2" in broken and "after" in broken, f"broken CDATA: text lost: {broken!r}"
    assert "</ac:" not in broken, f"broken CDATA swallowed a closing tag: {broken!r}"


def test_entities() -> None:
    assert storage_to_text("<p>a&nbsp;b &amp; &lt;c&gt; &#8212; caf&eacute;</p>") == "a\u00a0b & <c> \u2014 café", (
        "named/numeric entities"
    )
    assert "lol" not in storage_to_text("<p>x &lol3; y</p>").replace("&lol3", ""), "unknown entity expanded"


def test_non_str_body_raises() -> None:
    for bad in (None, b"<p>x</p>", 3):
        with pytest.raises(ConversionError):
            storage_to_sections(bad)  # type: ignore[arg-type]
    assert storage_to_sections("") == [] and storage_to_text("   ") == "", "empty bodies should give nothing"


def test_code_fence_longer_than_inner_backticks() -> None:
    code = "a\n````\nb\n"
    text = storage_to_text(
        f'<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">md</ac:parameter><ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body></ac:structured-macro>'
    )
    assert text == "`````md\na\n````\nb\n`````", f"fence must outgrow inner backticks: {text!r}"


def test_mentions_images_status_time_links() -> None:
    body = (
        '<p><ac:link><ri:user ri:account-id="abc123"/></ac:link> see <ac:link><ri:page ri:content-title="Runbook"/></ac:link>'
        ' <ac:image><ri:attachment ri:filename="arch.png"/></ac:image> <time datetime="2026-01-02"/>'
        ' <ac:structured-macro ac:name="status"><ac:parameter ac:name="title">DONE</ac:parameter></ac:structured-macro>'
        ' <ac:emoticon ac:name="smile" ac:emoji-fallback="🙂"/></p><ac:structured-macro ac:name="toc"/>'
    )
    assert storage_to_text(body) == "@Unknown user see Runbook 2026-01-02 DONE 🙂", (
        f"an account id without a known name must read as a placeholder: {storage_to_text(body)!r}"
    )


def _work(convert: Callable[[str], object], body: str) -> tuple[int, int]:
    """The work a conversion does, counted without a clock: Python function calls (any library's) and lines executed
    in our own package. Deterministic, so a ratio between two input sizes shows how the work grows."""
    counts = [0, 0]

    def lines(frame: FrameType, event: str, arg: object) -> Callable | None:
        if event == "line":
            counts[1] += 1
        return lines

    def calls(frame: FrameType, event: str, arg: object) -> Callable | None:
        counts[0] += 1
        return lines if frame.f_code.co_filename.startswith(_PACKAGE) else None

    previous = sys.gettrace()  # a coverage tracer, when there is one, is put back
    sys.settrace(calls)
    try:
        convert(body)
    finally:
        sys.settrace(previous)
    return counts[0], counts[1]


_PACKAGE = str(Path(storage_to_text.__code__.co_filename).parent.parent)


def test_large_page_and_long_word_take_linear_work() -> None:
    paragraph = "<p>Some <strong>bold</strong> text with a <a href='x'>link</a> and more words.</p>"
    part = (
        "<h2>Part</h2>"
        + paragraph * 200
        + "<table><tr><th>a</th><th>b</th></tr>"
        + "<tr><td>1</td><td>2</td></tr>" * 50
        + "</table>"
    )
    body = part * 60
    assert len(body) > 1_000_000
    sections = storage_to_sections(body)
    assert len(sections) == 60, f"1 MB+ page: {len(sections)} sections, not 60"
    small, large = _work(storage_to_sections, part * 2), _work(storage_to_sections, part * 8)
    ratios = (large[0] / small[0], large[1] / small[1])
    assert max(ratios) < 4.4, f"4x the page took {ratios[0]:.1f}x the calls and {ratios[1]:.1f}x the lines: not linear"
    word = "x" * 100_000
    assert storage_to_text(f"<p>{word}</p>") == word, "100,000-char word changed"
    short, long = _work(storage_to_text, f"<p>{'x' * 25_000}</p>"), _work(storage_to_text, f"<p>{word}</p>")
    assert long == short, f"a 4x longer word took more Python work ({short} -> {long} calls, lines): per-char work"
