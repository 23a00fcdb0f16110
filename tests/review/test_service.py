"""The reviewer's verbs as a Python API (``review.service``): the CLI's face and the desk's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from keys import age
from keys.signing import KeyKind, SigningKey
from review.service import Review as Service
from review.service.claims import Replaced
from review.workspace import Workspace, WorkspaceError
from tests.support.review import REVIEW_DIR, Reviewer, TipSpec, database_use, make_bundle

SOURCE_KEY = age.X25519Identity.generate()  # stands in for the key derived from a codename
MEMO = "The director signed the memo on the third of March, before the board ever met."
TIPS = [
    TipSpec(
        "a1", "srcA", MEMO.encode(), day="2025-03-01", reply_recipient=str(SOURCE_KEY.recipient)
    ),
    TipSpec("b1", "srcB", ("I heard it too. " + MEMO).encode(), day="2025-03-02"),
    TipSpec("c1", "srcC", b"%PDF-1.4 scan", kind="file", name="scan.pdf", day="2025-03-03"),
    TipSpec("c2", "srcC", b"The canteen closes in May.", day="2025-03-04"),
]


@contextlib.contextmanager
def service(root: Path, reviewer: Reviewer) -> Iterator[Service]:
    """The verbs on the workspace at ``root``; what they change is committed at the end."""
    with Workspace.open(root, reviewer.identity) as workspace:
        yield Service(workspace)


@pytest.fixture
def root(tmp_path: Path, offline_reviewer: Reviewer, server: SigningKey) -> Path:
    """A workspace that trusts ``server`` and holds ``TIPS``."""
    bundle = make_bundle(tmp_path / "b.tar", server, TIPS, [offline_reviewer.identity.recipient])
    root = tmp_path / "workspace"
    with service(root, offline_reviewer) as review:
        review.trust(str(server.verify_key))
        review.import_bundle(bundle)
    return root


def test_import_reports_progress_and_what_it_added(
    tmp_path: Path, offline_reviewer: Reviewer, server: SigningKey
) -> None:
    bundle = make_bundle(tmp_path / "b.tar", server, TIPS, [offline_reviewer.identity.recipient])
    seen: list[tuple[int, int]] = []
    with service(tmp_path / "ws", offline_reviewer) as review:
        review.trust(str(server.verify_key))
        result = review.import_bundle(bundle, lambda done, total: seen.append((done, total)))
        again = review.import_bundle(bundle)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted(result.added) == ["a1", "b1", "c1", "c2"]
    assert again.added == () and sorted(again.already) == ["a1", "b1", "c1", "c2"]


def test_i8_a_refused_import_says_nothing_was_imported(
    tmp_path: Path, offline_reviewer: Reviewer, server: SigningKey
) -> None:
    bundle = make_bundle(tmp_path / "b.tar", server, TIPS, [offline_reviewer.identity.recipient])
    with service(tmp_path / "ws", offline_reviewer) as review:
        with pytest.raises(WorkspaceError, match=r"no server key is pinned.*nothing was imported"):
            review.import_bundle(bundle)
        review.trust(str(SigningKey.generate().verify_key))
        with pytest.raises(WorkspaceError, match="nothing was imported"):
            review.import_bundle(bundle)
        assert review.tips() == []


def test_trust_pins_a_key_and_replaces_it_only_when_asked(
    tmp_path: Path, offline_reviewer: Reviewer, server: SigningKey
) -> None:
    other = str(SigningKey.generate(KeyKind.SERVER).verify_key)
    with service(tmp_path / "ws", offline_reviewer) as review:
        assert review.trust(str(server.verify_key)) == str(server.verify_key)
        with pytest.raises(WorkspaceError, match="already trusts"):
            review.trust(other)
        with pytest.raises(WorkspaceError, match="not the server's bundle key"):
            review.trust("cairnpub1nonsense")
        assert review.trust(other, replace=True) == other


def test_tips_are_listed_oldest_first_and_filtered(root: Path, offline_reviewer: Reviewer) -> None:
    with service(root, offline_reviewer) as review:
        rows = review.tips()
        assert [row.id for row in rows] == ["a1", "b1", "c1", "c2"]
        file_row = rows[2]
        assert (file_row.kind, file_row.name, file_row.length, file_row.notes) == (
            "file",
            "scan.pdf",
            len(b"%PDF-1.4 scan"),
            0,
        )
        assert rows[0].preview.startswith("The director signed")
        pseudonym = rows[2].source
        assert [row.id for row in review.tips(source=pseudonym)] == ["c1", "c2"]
        assert [row.id for row in review.tips(source="srcC")] == ["c1", "c2"]
        review.mark("b1", "flagged")
        assert [row.id for row in review.tips(("flagged",))] == ["b1"]
        with pytest.raises(WorkspaceError, match="no source 'nobody'"):
            review.tips(source="nobody")


def test_show_opens_a_tip_and_marks_it_read_for_good(
    root: Path, offline_reviewer: Reviewer
) -> None:
    with service(root, offline_reviewer) as review:
        shown = review.show("a")  # a unique prefix
        assert (shown.id, shown.text, shown.status) == ("a1", MEMO, "read")
        assert review.show("c1").text is None  # a file is described, never opened here
    with service(root, offline_reviewer) as review:
        assert {row.id: row.status for row in review.tips()}["a1"] == "read"


def test_mark_and_note_return_the_whole_tip_id(root: Path, offline_reviewer: Reviewer) -> None:
    with service(root, offline_reviewer) as review:
        assert review.mark("c2", "spam") == "c2"
        assert review.note("a", "Call the press office.") == "a1"
        review.note("a1", "Second thought.")
        with pytest.raises(WorkspaceError, match="'lost' is not a tip status"):
            review.mark("a1", "lost")
        with pytest.raises(WorkspaceError, match="more than one tip id starts with 'c'"):
            review.mark("c", "read")
    with service(root, offline_reviewer) as review:
        assert review.show("a1").notes == ("Call the press office.", "Second thought.")
        assert {row.id: row.notes for row in review.tips()}["a1"] == 2
        assert {row.id: row.status for row in review.tips()}["c2"] == "spam"


def test_export_decrypts_a_tip_outside_the_workspace(
    root: Path, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    with service(root, offline_reviewer) as review:
        exported = review.export("c1", tmp_path / "out")
        assert exported.path.read_bytes() == b"%PDF-1.4 scan"
        assert "PDF" in exported.warning
        with pytest.raises(WorkspaceError, match="inside the workspace"):
            review.export("a1", root / "here")


def test_claims_are_added_reworded_linked_and_removed(
    root: Path, offline_reviewer: Reviewer
) -> None:
    with service(root, offline_reviewer) as review:
        memo = review.add_claim("The director signed the memo")
        canteen = review.add_claim("The canteen closes")
        assert (memo, canteen) == (1, 2)
        first = review.link("a1", memo, "supports", "firsthand", quote="signed the memo")
        assert (first.tip, first.claim, first.weak) == ("a1", 1, False)
        assert review.link("b", memo, "supports").weak  # secondhand by default
        assert not review.link("c2", canteen, "context").weak
        review.reword_claim(memo, "The director signed the memo in March")
    with service(root, offline_reviewer) as review:
        listed = {claim.id: claim for claim in review.claims()}
        assert listed[1].text == "The director signed the memo in March"
        assert listed[1].status == "single-source"
        assert len(listed[1].weak_support) == 1
        assert {e.tip: e.quote for e in listed[1].evidence} == {"a1": "signed the memo", "b1": ""}
        assert listed[2].status == "unsupported"
        assert review.unlink("b", memo) == "b1"
        with pytest.raises(WorkspaceError, match="tip b1 is not linked to claim 1"):
            review.unlink("b1", memo)
        assert review.remove_claim(memo) == 1
        with pytest.raises(WorkspaceError, match="no claim 1"):
            review.reword_claim(memo, "gone")
        assert review.add_claim("A third") == 3  # ids are never reused
        assert review.show("a1").links == ()


def test_link_returns_what_it_replaced_and_keeps_the_quote(
    root: Path, offline_reviewer: Reviewer
) -> None:
    with service(root, offline_reviewer) as review:
        claim = review.add_claim("The memo")
        assert review.link("a1", claim, "supports", "firsthand", quote="signed").replaced is None
        again = review.link("a1", claim, "contradicts")
        assert again.replaced == Replaced("supports", "firsthand", had_quote=True)
        assert again.has_quote
        assert review.show("a1").links[0].quote == "signed"
        with pytest.raises(WorkspaceError, match="not both"):
            review.link("a1", claim, "context", quote="new", drop_quote=True)
        dropped = review.link("a1", claim, "context", drop_quote=True)
        assert not dropped.has_quote
        assert review.show("a1").links[0].quote == ""


def test_link_refuses_an_unknown_stance_basis_tip_or_claim(
    root: Path, offline_reviewer: Reviewer
) -> None:
    with service(root, offline_reviewer) as review:
        claim = review.add_claim("Something")
        with pytest.raises(WorkspaceError, match="'agrees' is not a stance"):
            review.link("a1", claim, "agrees")
        with pytest.raises(WorkspaceError, match="'rumour' is not a basis"):
            review.link("a1", claim, "supports", "rumour")
        with pytest.raises(WorkspaceError, match="no tip 'zz'"):
            review.link("zz", claim, "supports")
        with pytest.raises(WorkspaceError, match="no claim 9"):
            review.link("a1", 9, "supports")
        assert review.claims()[0].evidence == ()


def test_sources_are_related_and_unrelated(root: Path, offline_reviewer: Reviewer) -> None:
    with service(root, offline_reviewer) as review:
        names = {source.id: source.pseudonym for source in review.sources()}
        related = review.relate("srcB", "srcA", "same-person", note="Same phrasing.")
        assert {related.first, related.second} == {names["srcA"], names["srcB"]}
        assert related.kind == "same-person"
        with pytest.raises(WorkspaceError, match="'twins' is not a relation kind"):
            review.relate("srcA", "srcB", "twins")
        with pytest.raises(WorkspaceError, match="are the same source"):
            review.relate("srcA", names["srcA"], "same-person")
    with service(root, offline_reviewer) as review:
        by_id = {source.id: source for source in review.sources()}
        a = by_id["srcA"]
        assert a.group == tuple(sorted((names["srcA"], names["srcB"])))
        assert [(r.source, r.kind, r.note) for r in a.relations] == [
            (names["srcB"], "same-person", "Same phrasing.")
        ]
        assert (a.tips, a.can_reply, by_id["srcB"].can_reply) == (("a1",), True, False)
        assert by_id["srcC"].group == (names["srcC"],)
        assert set(review.unrelate("srcA", "srcB")) == {names["srcA"], names["srcB"]}
        with pytest.raises(WorkspaceError, match="are not related"):
            review.unrelate("srcA", "srcB")
        assert review.sources()[0].relations == ()


def test_suggestions_name_sources_and_how_to_accept(root: Path, offline_reviewer: Reviewer) -> None:
    with service(root, offline_reviewer) as review:
        names = {source.id: source.pseudonym for source in review.sources()}
        (found,) = review.suggestions()
        assert set(found.sources) == {names["srcA"], names["srcB"]}
        assert [(clue.kind, set(clue.tips)) for clue in found.evidence] == [
            ("near-duplicate text", {"a1", "b1"})
        ]
        assert (
            found.accept == f"review relate {found.sources[0]} {found.sources[1]} --shared-origin"
        )
        review.relate(*found.sources, "shared-origin")
        assert review.suggestions() == []


def test_replies_go_to_the_outbox_and_into_a_signed_bundle(
    root: Path, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    with service(root, offline_reviewer) as review:
        pseudonym = review.check_can_reply("srcA")
        with pytest.raises(WorkspaceError, match="gave no reply recipient"):
            review.check_can_reply("srcB")
        with pytest.raises(WorkspaceError, match="the outbox is empty"):
            review.write_reply_bundle(tmp_path / "replies.tar")
        sealed = review.reply("srcA", "Please send the memo.")
        assert sealed.source == pseudonym
        (waiting,) = review.outbox()
        assert (waiting.id, waiting.source, waiting.text) == (
            sealed.id,
            pseudonym,
            "Please send the memo.",
        )
        written = review.write_reply_bundle(tmp_path / "replies.tar")
        assert written.replies == (sealed.id,) and written.path.is_file()
        assert written.signed_by == str(review.workspace.signing_key.verify_key)
        assert len(review.outbox()) == 1  # replies stay until the courier confirms them


def test_report_is_written_outside_the_workspace_once_unless_forced(
    root: Path, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    with service(root, offline_reviewer) as review:
        review.link("a1", review.add_claim("The memo"), "supports", "firsthand")
        assert review.report(out, "html") == out
        assert "The memo" in out.read_text()
        with pytest.raises(WorkspaceError, match="already exists; give --force"):
            review.report(out, "html")
        review.report(out, "md", force=True, threshold=1)
        assert "corroborated" in out.read_text()
        with pytest.raises(WorkspaceError, match="inside the workspace"):
            review.report(root / "report.md")
        with pytest.raises(WorkspaceError, match="'pdf' is not a report format"):
            review.report(tmp_path / "report.pdf", "pdf")


def test_no_command_touches_the_workspace_database() -> None:
    commands = sorted(REVIEW_DIR.glob("*_cli.py"))
    assert len(commands) >= 8
    found = {path.name: database_use(path) for path in commands}
    assert {name: uses for name, uses in found.items() if uses} == {}


def test_the_database_check_sees_a_command_that_queries(tmp_path: Path) -> None:
    planted = tmp_path / "bad_cli.py"
    planted.write_text(
        "from sqlalchemy import select\nfrom .models import TIP_STATUSES, Tip\n"
        "def tips(workspace):\n    return workspace.session.scalars(select(Tip))\n"
    )
    assert database_use(planted) == [
        "imports sqlalchemy",
        "imports Tip",
        "uses .session on line 4",
        "calls select on line 4",
    ]


def test_tips_are_found_by_claim_and_by_words_in_their_text_or_notes(
    root: Path, offline_reviewer: Reviewer
) -> None:
    with service(root, offline_reviewer) as review:
        claim = review.add_claim("The memo was signed early.")
        review.link("b1", claim, "supports", "firsthand")
        review.note("c2", "Ask about the CANTEEN lease")
        assert [row.id for row in review.tips(claim=claim)] == ["b1"]
        assert [row.id for row in review.search("heard IT too").rows] == ["b1"]
        assert [row.id for row in review.search("canteen").rows] == ["c2"]  # text and note
        assert [row.id for row in review.search("scan.pdf").rows] == ["c1"]  # a file's name
        found = review.search("the director", ("new",), limit=1)
        assert (found.total, [row.id for row in found.rows]) == (2, ["a1"])
        with pytest.raises(WorkspaceError, match="no claim 99"):
            review.tips(claim=99)


def test_one_claim_opens_only_its_own_quotes(root: Path, offline_reviewer: Reviewer) -> None:
    with service(root, offline_reviewer) as review:
        first = review.add_claim("First.")
        second = review.add_claim("Second.")
        review.link("a1", first, "supports", "firsthand", quote="signed the memo")
        review.link("b1", second, "supports", "firsthand", quote="I heard it too.")
        view = review.claim(second)
        assert (view.id, view.text, view.status) == (second, "Second.", "single-source")
        assert [e.quote for e in view.evidence] == ["I heard it too."]
        with pytest.raises(WorkspaceError, match="no claim 99"):
            review.claim(99)


def test_a_dismissed_suggestion_is_not_suggested_again(
    root: Path, offline_reviewer: Reviewer
) -> None:
    with service(root, offline_reviewer) as review:
        (found,) = review.suggestions()
        assert review.dismiss(*found.sources) == found.sources
    with service(root, offline_reviewer) as review:
        assert review.suggestions() == []
        review.relate(*found.sources, "shared-origin")  # relating it stays possible


def test_what_if_says_how_a_relation_would_move_a_claim(
    root: Path, offline_reviewer: Reviewer
) -> None:
    with service(root, offline_reviewer) as review:
        claim = review.add_claim("The memo was signed early.")
        review.link("a1", claim, "supports", "firsthand")
        review.link("b1", claim, "supports", "document")
        assert review.claim(claim).status == "corroborated"
        names = {row.id: row.source for row in review.tips()}
        pair = tuple(sorted((names["a1"], names["b1"])))
        (merge,) = review.what_if(claim)
        assert (merge.first, merge.second, merge.change, merge.status) == (
            *pair,
            "accepted",
            "single-source",
        )
        review.relate(*pair, "same-person")
        assert review.claim(claim).status == "single-source"
        (split,) = review.what_if(claim)
        assert (split.first, split.second, split.change, split.status) == (
            *pair,
            "removed",
            "corroborated",
        )


def test_listings_come_a_page_at_a_time(root: Path, offline_reviewer: Reviewer) -> None:
    with service(root, offline_reviewer) as review:
        every = [row.id for row in review.tips()]
        assert review.tip_count() == len(every) == 4
        pages = [review.tips(offset=offset, limit=3) for offset in (0, 3)]
        assert [row.id for page in pages for row in page] == every
        assert review.tip_count(("new",), "srcC") == 2
        assert review.short_tip_ids(["b1", "c2"]) == {
            tip: short for tip, short in review.short_tip_ids().items() if tip in ("b1", "c2")
        }
        for text in ("One.", "Two.", "Three."):
            review.add_claim(text)
        assert review.claim_count() == 3
        assert [view.text for view in review.claims(offset=1, limit=1)] == ["Two."]
        names = review.source_names()
        assert [view.pseudonym for view in review.sources(1, 2)] == names[1:3]
        assert review.source_names(can_reply=True) == [
            view.pseudonym for view in review.sources() if view.can_reply
        ]


def test_the_newest_claims_come_newest_first(root: Path, offline_reviewer: Reviewer) -> None:
    with service(root, offline_reviewer) as review:
        for text in ("One.", "Two.", "Three."):
            review.add_claim(text)
        assert review.recent_claims(2) == [(3, "Three."), (2, "Two.")]
