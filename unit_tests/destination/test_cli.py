"""The human commands: search, history and attachments, their output formats and their errors."""

from __future__ import annotations

import json
import re

import pytest

from destination_vectors.cli import main
from destination_vectors.destination import DestinationVectors
from testkit.messages import catalog, page, record, state


def _index(config, tmp_path):
    pages = [
        page("1", "Rollback", "<h2>Steps</h2><p>Run the rollback script.</p>"),
        page("2", "Secret", "<p>rollback secret plans</p>", space="~bob"),
    ]
    list(DestinationVectors().write(config.model_dump(), catalog(), iter([record(p) for p in pages] + [state()])))
    path = tmp_path / "destination.json"
    path.write_text(config.model_dump_json())
    return path


def test_search_json_lines_and_public_default(config, tmp_path, capsys):
    path = _index(config, tmp_path)
    assert main(["search", "--config", str(path), "--json", "-k", "5", "rollback"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert hits and {h["page_id"] for h in hits} == {"1"}, "default visibility must be public"
    assert set(hits[0]) == {
        "rank",
        "score",
        "page_id",
        "chunk_id",
        "title",
        "heading_path",
        "text",
        "space_key",
        "visibility",
        "webui_url",
        "chunk_url",
        "ancestors",
        "author_name",
        "stream",
        "breadcrumb",
        "labels",
        "container_title",
        "container_url",
        "container_id",
        "container_stream",
    }


def test_search_stream_and_label_filters(config, tmp_path, capsys):
    path = _index(config, tmp_path)
    assert main(["search", "--config", str(path), "--json", "--stream", "pages", "rollback"]) == 0
    assert capsys.readouterr().out.strip(), "--stream pages found nothing although pages hold the word"
    assert main(["search", "--config", str(path), "--json", "--stream", "comments", "rollback"]) == 0
    assert not capsys.readouterr().out.strip(), "--stream comments returned rows of another stream"
    assert main(["search", "--config", str(path), "--json", "--label", "runbook", "rollback"]) == 0
    assert not capsys.readouterr().out.strip(), "--label returned unlabelled rows"


def test_search_as_user_and_group_from_the_command_line(config, tmp_path, capsys):
    pages = [
        page("1", "Rollback", "<p>rollback steps</p>", readers=["group:eng", "user:ann", "user:bo"]),
        page("2", "Salary", "<p>rollback salary plans</p>", restricted=True, readers=["user:ann"]),
        page("3", "Lobby", "<p>rollback of the lobby screen</p>", readers=["anonymous"]),
    ]
    list(DestinationVectors().write(config.model_dump(), catalog(), iter([record(p) for p in pages] + [state()])))
    path = tmp_path / "destination.json"
    path.write_text(config.model_dump_json())

    def found(*options: str) -> set[str]:
        assert main(["search", "--config", str(path), "--json", "-k", "5", *options, "rollback"]) == 0
        return {json.loads(line)["page_id"] for line in capsys.readouterr().out.splitlines()}

    assert found("--as-user", "ann") == {"1", "2", "3"}, "ann is named on every page"
    assert found("--as-user", "bo") == {"1", "3"}, "bo may not read the restricted page"
    assert found("--as-user", "stranger") == {"3"}, "an unknown person reads only what is open to anyone"
    assert found("--as-user", "stranger", "--group", "eng") == {"1", "3"}, "--group adds what the group may read"
    assert found() == {"1", "3"}, "without --as-user the public default applies (the restricted page is internal)"


def test_queries_file_answers_each_line(config, tmp_path, capsys):
    path = _index(config, tmp_path)
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "query": "rollback"}\n\n{"id": 7, "query": "secret"}\n')
    assert main(["search", "--config", str(path), "--visibility", "all", "--queries-file", str(queries)]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["id"] for a in answers] == ["a", 7] and all(a["results"] for a in answers)


def test_human_output_has_links(config, tmp_path, capsys):
    path = _index(config, tmp_path)
    assert main(["search", "--config", str(path), "rollback script"]) == 0
    out = capsys.readouterr().out
    assert "Q: rollback script" in out and "http://confluence.test/wiki/spaces/ENG/pages/1" in out


def test_history_table_and_pages(config, tmp_path, capsys):
    path = _index(config, tmp_path)
    assert main(["history", "--config", str(path)]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert main(["history", "--config", str(path), "--pages", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["page_id"] for r in rows} == {"1", "2"}


def test_history_shows_refused_and_allowed_mass_deletions(config, tmp_path, capsys):
    from destination_vectors.store.counts import SyncCounts
    from destination_vectors.store.ledger import Ledger, MassDeletion, SeenPages

    path = _index(config, tmp_path)
    ledger = Ledger(config.resolved_ledger_path)
    eng = MassDeletion(stream="pages", space_key="ENG", live_pages=400, deleted_pages=360)
    ledger.start_sync("aaaaaaaaaaaa", ["pages"], "model")
    ledger.refused("aaaaaaaaaaaa", [eng.decided("refused", None)], SyncCounts(), 1.0, "mass deletion refused, ...")
    ledger.start_sync("bbbbbbbbbbbb", ["pages"], "model")
    allowed = eng.decided("allowed", "allow_once aaaaaaaaaaaa")
    ledger.succeeded("bbbbbbbbbbbb", SeenPages(), [], SyncCounts(), 1.0, 3, [allowed])
    assert main(["history", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"refused\s", out), f"the refused sync must show its status: {out}"
    lines = [line for line in out.splitlines() if "360/400" in line]
    assert len(lines) == 2, f"both decisions must be listed below the syncs: {out}"
    assert "refused" in lines[1] and "allow_once aaaaaaaaaaaa" in lines[0] and "ENG" in lines[0], lines
    assert main(["history", "--config", str(path), "--deletions", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["run_id"], r["decision"], r["deleted_pages"]) for r in rows] == [
        ("bbbbbbbbbbbb", "allowed", 360),
        ("aaaaaaaaaaaa", "refused", 360),
    ], rows


def test_the_allow_flag_goes_with_write_and_a_run_id(tmp_path, capsys):
    assert main(["write", "--config", "c.json", "--catalog", "k.json", "--allow-mass-deletion", "yes"]) == 2
    assert "takes the run id a refusal names" in capsys.readouterr().err
    assert main(["check", "--config", "c.json", "--allow-mass-deletion", "aaaaaaaaaaaa"]) == 2
    assert "goes with write" in capsys.readouterr().err


def test_errors_are_one_line_with_exit_code_2(config, tmp_path, capsys):
    assert main(["search", "--config", str(tmp_path / "missing.json"), "q"]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"table_name": "../x"}')
    assert main(["history", "--config", str(bad)]) == 2
    assert "not a valid destination config" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(config.model_dump_json())
    assert main(["search", "--config", str(good), "q"]) == 2
    assert "run a sync first" in capsys.readouterr().err
    queries = tmp_path / "q.jsonl"
    queries.write_text("not json\n")
    _index(config, tmp_path)
    assert main(["search", "--config", str(good), "--queries-file", str(queries)]) == 2
    assert "q.jsonl:1" in capsys.readouterr().err


def test_readable_output_groups_by_page_and_json_keeps_chunks_unless_asked(config, tmp_path, capsys):
    body = "".join(f"<h2>Rollback part {i}</h2><p>rollback script part {i}</p>" for i in range(4))
    pages = [page("1", "Rollback", body), page("2", "Deploy", "<p>deploy then rollback script if needed</p>")]
    list(DestinationVectors().write(config.model_dump(), catalog(), iter([record(p) for p in pages] + [state()])))
    path = tmp_path / "destination.json"
    path.write_text(config.model_dump_json())
    assert main(["search", "--config", str(path), "-k", "2", "rollback script"]) == 0
    links = re.findall(r"^ +(http://confluence\.test/wiki/spaces/ENG/pages/1\S*)$", capsys.readouterr().out, re.M)
    assert len(links) == 1, f"readable output must show each page (and its link) once: {links}"
    assert re.fullmatch(r".*/pages/1#Rollback-part-[0-3]", links[0]), f"the link should open the section: {links[0]}"
    assert main(["search", "--config", str(path), "--json", "-k", "4", "rollback script"]) == 0
    chunks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(chunks) == 4 and len({c["page_id"] for c in chunks}) < 4, "--json must keep one line per chunk"
    assert main(["search", "--config", str(path), "--json", "--group-by", "page", "-k", "4", "rollback script"]) == 0
    grouped = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(g["page_id"] for g in grouped) == ["1", "2"], f"grouped JSON: {grouped}"
    assert all(len(g["snippets"]) <= 2 for g in grouped) and any(g["snippets"] for g in grouped), grouped


def _statuses(config, tmp_path):
    """The statuses a sync with a good PDF, a corrupt one and an image leaves beside its text cache."""
    from destination_vectors.store.attachment_statuses import AttachmentStatus, record_statuses
    from destination_vectors.store.text_cache import text_cache_path

    def status(att, title, media_type, status, at):
        return AttachmentStatus(att, 2, title, "1", "VPN Setup", media_type, 2048, status, run_id="run", synced_at=at)

    path = text_cache_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    record_statuses(path, [status("att1", "old.txt", "text/plain", "ok", "2026-11-26T09:00:00+00:00")], True)
    newer = [
        status("att2", "guide.pdf", "application/pdf", "ok", "2026-11-27T09:00:00+00:00"),
        status("att3", "broken.pdf", "application/pdf", "failed: unreadable PDF (EOF)", "2026-11-27T09:00:00+00:00"),
        status("att4", "diagram.png", "image/png", "unsupported_type", "2026-11-27T09:00:00+00:00"),
    ]
    record_statuses(path, newer, False)
    config_path = tmp_path / "destination.json"
    config_path.write_text(config.model_dump_json())
    return config_path


def test_attachments_lists_statuses_newest_first_and_filters(config, tmp_path, capsys):
    path = _statuses(config, tmp_path)
    assert main(["attachments", "--config", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["synced", "(UTC)", "status"], f"no header: {lines[0]}"
    ids = [next(word for word in line.split() if word.startswith("att")) for line in lines[1:-1]]
    assert ids == ["att3", "att4", "att2", "att1"], f"not newest sync first, then by title: {lines}"
    broken = next(line for line in lines if "att3" in line)
    assert broken.split()[2] == "failed", f"the status column of the failed attachment: {broken}"
    for part in ("broken.pdf (VPN Setup)  [unreadable PDF (EOF)]", " pdf ", "2.0 kB", "2026-11-27 09:00"):
        assert part in broken, f"{part!r} missing from the failed attachment's line: {broken}"
    assert lines[-1] == "4 attachments: 1 failed, 2 ok, 1 unsupported_type", f"summary line: {lines[-1]}"
    assert main(["attachments", "--config", str(path), "--status", "failed", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["status"]) for r in rows] == [("att3", "failed: unreadable PDF (EOF)")], rows
    assert set(rows[0]) == {"id", "version", "title", "container_id", "container_title", "media_type", "file_size",
                            "status", "detail", "note", "run_id", "synced_at"}, f"JSON fields: {set(rows[0])}"  # fmt: skip
    assert main(["attachments", "--config", str(path), "--status", "too_large"]) == 0
    assert capsys.readouterr().out.strip() == "no attachments with status too_large recorded", "empty filter"


def test_attachments_errors_say_what_is_missing(config, tmp_path, capsys):
    path = tmp_path / "destination.json"
    path.write_text(config.model_dump_json())
    assert main(["attachments", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no sync has written table 'confluence_chunks' of ") and "ledger" in err, err
    _index(config, tmp_path)  # a pages-only sync: a ledger, no attachments
    assert main(["attachments", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no attachment statuses recorded" in err and "read the attachments stream" in err, err
    no_index = tmp_path / "no_index.json"
    no_index.write_text("{}")
    assert main(["attachments", "--config", str(no_index)]) == 2
    err = capsys.readouterr().err
    assert "the config names no lancedb_uri" in err, f"an index-less config was not named as such: {err}"
    with pytest.raises(SystemExit) as stopped:  # argparse refuses it before any file is read
        main(["attachments", "--config", str(path), "--status", "broken"])
    assert stopped.value.code == 2, "an unknown --status was accepted"
    assert "invalid choice: 'broken'" in capsys.readouterr().err, "the refused --status was not named"


def test_readable_page_answers_say_where_each_passage_came_from():
    from destination_vectors.read.grouping import Origin, PageHit, Snippet
    from destination_vectors.search_report import format_hits
    from destination_vectors.store.row import COLUMNS, empty_value

    columns = {c.name: empty_value(c) for c in PageHit.columns}
    assert set(columns) <= {c.name for c in COLUMNS}
    comment = Origin("comment", "comment by Ann Lee", author="Ann Lee", url="http://w/pages/1?focusedCommentId=7")
    attachment = Origin("attachment", "attachment budget.xlsx", attachment="budget.xlsx", url="http://w/att9")
    hit = PageHit(
        rank=1,
        score=0.9,
        **{
            **columns,
            "stream": "pages",
            "page_id": "1",
            "title": "Plan",
            "webui_url": "http://w/pages/1",
            "chunk_url": "http://w/pages/1?focusedCommentId=7",
            "text": "Plan › comment\n\nIs the budget final?",
            "space_key": "ENG",
            "visibility": "public",
        },
        breadcrumb="Plan › comment",
        origin=comment,
        snippets=[
            Snippet("pages:1:0", "Costs", "Plan > Costs\n\nThe budget, line by line.", 0.8, "http://w/pages/1#Costs",
                    Origin("page", "page")),
            Snippet("attachments:att9:0", "", "Plan › budget.xlsx\n\nbudget 1200", 0.7, "http://w/att9", attachment),
        ],
    )  # fmt: skip
    lines = format_hits("budget", [hit]).splitlines()
    assert lines[1].endswith("Plan  (ENG, public)") and lines[2].strip() == "http://w/pages/1", lines[:3]
    assert "[comment by Ann Lee] Is the budget final?" in lines[3], lines
    assert lines[4].strip() == "http://w/pages/1?focusedCommentId=7", "the comment's own link follows it"
    assert "+ [page] Costs: The budget, line by line." in lines[5], lines
    assert "+ [attachment budget.xlsx] budget 1200" in lines[6] and lines[7].strip() == "http://w/att9", lines
