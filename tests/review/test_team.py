"""A newsroom through the real ``review`` command (issue 21): two reporters, Ana and Ben, and
an editor, Eve, each offline with their own workspace, carrying exchange files between them.
Each test says what every reviewer sees at each step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.review import Review, TipSpec
from tests.support.team import Newsroom, make_newsroom

NAMES = ("Ana", "Ben", "Eve")
TIPS = [
    TipSpec(f"tip{n}", f"src{n}", f"What source {n} saw at the ministry.".encode())
    for n in range(4)
]
CLAIM = "The minister knew of the memo"


@pytest.fixture
def newsroom(tmp_path: Path) -> Newsroom:
    """Ana, Ben and Eve, each holding every tip and pinning the others."""
    return make_newsroom(tmp_path, NAMES, TIPS)


def claims(desk: Review) -> list[dict[str, Any]]:
    """Each claim as every workspace must agree on it: sources' pseudonyms are each
    workspace's own, so evidence is named by tip."""
    return sorted(
        (
            {
                "text": claim["text"],
                "status": claim["status"],
                "evidence": [
                    {key: item[key] for key in ("tip", "stance", "basis", "quote", "counted")}
                    for item in claim["evidence"]
                ],
            }
            for claim in desk.json("claims")
        ),
        key=lambda claim: claim["text"],
    )


def same_everywhere(newsroom: Newsroom, view: Callable[[Review], Any] = claims) -> Any:
    """What every reviewer sees, checked to be one and the same."""
    seen = {name: view(newsroom[name]) for name in NAMES}
    assert seen["Ben"] == seen["Ana"] and seen["Eve"] == seen["Ana"], seen
    return seen["Ana"]


def corroborated_claim(newsroom: Newsroom) -> None:
    """Ana records the claim, links two independent firsthand tips, and shares it."""
    ana = newsroom["Ana"]
    ana("claim", "add", CLAIM)
    ana("link", "tip0", "1", "--supports", "--basis", "firsthand", "--quote", "I saw the memo")
    ana("link", "tip3", "1", "--supports", "--basis", "firsthand")


def test_the_team_is_pinned_by_key_and_listed_by_name(newsroom: Newsroom) -> None:
    for name in NAMES:
        team = newsroom[name].json("team")
        assert [(m["name"], m["key"], m["you"]) for m in team] == [
            (member, newsroom.keys[member], member == name)
            for member in [name, *sorted(set(NAMES) - {name})]
        ]
        assert not any(member["removed"] for member in team)

    error = newsroom["Ana"].fails("team", "add", "cairnreviewer1notakey", "--name", "Dan")
    assert "not a workspace key" in error
    server_key = str(newsroom.server.verify_key)  # a key, but not a reviewer's
    assert "not a workspace key" in newsroom["Ana"].fails("team", "add", server_key, "--name", "X")
    taken = newsroom["Ana"].fails("team", "add", newsroom.keys["Eve"], "--name", "Ben")
    assert "already names another key" in taken
    assert len(newsroom["Ana"].json("team")) == len(NAMES)
    assert newsroom["Ana"].json("team", "list") == newsroom["Ana"].json("team")


def test_a_shared_claim_reaches_the_team_and_merging_twice_adds_nothing(
    newsroom: Newsroom,
) -> None:
    corroborated_claim(newsroom)
    assert newsroom["Ben"].json("claims") == [] and newsroom["Eve"].json("claims") == []

    file = newsroom.share("Ana")
    first = {name: newsroom.merge(name, file) for name in ("Ben", "Eve")}
    assert first["Ben"] == first["Eve"]
    assert first["Ben"]["sender"] == "Ana" and first["Ben"]["new"] == first["Ben"]["changes"] > 0
    assert first["Ben"]["conflicts"] == 0 and first["Ben"]["waiting"] == 0

    (claim,) = same_everywhere(newsroom)
    assert claim == {
        "text": CLAIM,
        "status": "corroborated",
        "evidence": [
            {
                "tip": "tip0",
                "stance": "supports",
                "basis": "firsthand",
                "quote": "I saw the memo",
                "counted": True,
            },
            {
                "tip": "tip3",
                "stance": "supports",
                "basis": "firsthand",
                "quote": "",
                "counted": True,
            },
        ],
    }

    again = newsroom.merge("Ben", file)
    assert again == {**first["Ben"], "new": 0}
    assert newsroom.merge("Ana", file)["new"] == 0  # her own changes, already hers
    same_everywhere(newsroom)
    assert "nothing has changed" in newsroom["Ana"].fails("share", "--out", str(file) + ".2")


def test_a_conflicting_edit_is_shown_to_both_until_one_settles_it(newsroom: Newsroom) -> None:
    corroborated_claim(newsroom)
    newsroom.send("Ana", "Ben", "Eve")

    newsroom["Ana"]("claim", "edit", "1", "The minister knew of the memo in May")
    newsroom["Ben"]("claim", "edit", "1", "The minister knew of the memo in April")
    from_ana, from_ben = newsroom.share("Ana"), newsroom.share("Ben")
    assert newsroom.merge("Ben", from_ana)["conflicts"] == 1
    assert newsroom.merge("Ana", from_ben)["conflicts"] == 1

    texts = {name: newsroom[name].json("claims")[0]["text"] for name in ("Ana", "Ben")}
    assert texts["Ana"] == texts["Ben"]
    winner = texts["Ana"]
    for name in ("Ana", "Ben"):
        (conflict,) = newsroom[name].json("conflicts")
        assert conflict["number"] == 1
        assert (conflict["record"], conflict["field"]) == ("claim 1", "text")
        assert conflict["alternatives"][0]["value"] == winner  # the value shown is first
        assert sorted((alt["value"], alt["author"]) for alt in conflict["alternatives"]) == [
            ("The minister knew of the memo in April", "Ben"),
            ("The minister knew of the memo in May", "Ana"),
        ]
    loser = newsroom["Ben"].json("conflicts")[0]["alternatives"][1]["value"]

    newsroom["Ben"]("conflicts", "settle", "1", "--keep", "2")
    assert newsroom["Ben"].json("conflicts") == []
    settled = newsroom.share("Ben")
    newsroom.merge("Ana", settled)
    newsroom.merge("Eve", from_ana)
    newsroom.merge("Eve", from_ben)
    newsroom.merge("Eve", settled)
    for name in NAMES:
        assert newsroom[name].json("conflicts") == [], name
    (claim,) = same_everywhere(newsroom)
    assert claim["text"] == loser


def test_an_edit_here_settles_a_conflict_and_its_number_is_not_reused(
    newsroom: Newsroom,
) -> None:
    """Writing the field again settles it; the listing's numbers stay those shown until the next
    sync, so `settle 1` never keeps a value of another conflict."""
    corroborated_claim(newsroom)
    newsroom.send("Ana", "Ben")
    newsroom["Ana"]("claim", "edit", "1", "In May")
    newsroom["Ben"]("claim", "edit", "1", "In April")
    newsroom.merge("Ana", newsroom.share("Ben"))
    assert len(newsroom["Ana"].json("conflicts")) == 1

    newsroom["Ana"]("claim", "edit", "1", "In the spring")
    refused = newsroom["Ana"].fails("conflicts", "settle", "1", "--keep", "2")
    assert "conflict 1 was settled by an edit made here since it was listed" in refused
    newsroom.share("Ana")  # a sync: the edit is Ana's change, seen after both
    assert newsroom["Ana"].json("conflicts") == []
    assert newsroom["Ana"].json("claims")[0]["text"] == "In the spring"


def test_files_from_outside_the_team_or_altered_on_the_way_are_refused_whole(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    """I8: each refusal is one line and merges nothing."""
    corroborated_claim(newsroom)
    newsroom.send("Ana", "Ben", "Eve")
    before = same_everywhere(newsroom)

    outside = make_newsroom(tmp_path / "outside", ("Dan",), TIPS)
    outsider = outside["Dan"]
    for name in NAMES:  # Dan seals his file to the team, but nobody pinned Dan
        outsider("team", "add", newsroom.keys[name], "--name", name)
    outsider("claim", "add", "The minister never knew")
    dans = tmp_path / "dan.cairn"
    outsider("share", "--out", str(dans))
    refused = newsroom["Ana"].fails("merge", str(dans))
    assert f"signed by {outside.keys['Dan']}, not a team member" in refused
    assert refused.endswith("nothing was merged")

    newsroom["Ben"]("claim", "add", "The memo was shredded")
    from_ben = newsroom.share("Ben")
    newsroom["Ana"]("team", "remove", "Ben")
    assert newsroom["Ana"].json("team")[1:] == [
        {"name": "Eve", "key": newsroom.keys["Eve"], "you": False, "removed": False},
        {"name": "Ben", "key": newsroom.keys["Ben"], "you": False, "removed": True},
    ]
    refused = newsroom["Ana"].fails("merge", str(from_ben))
    assert f"signed by {newsroom.keys['Ben']}, removed from the team" in refused
    assert refused.endswith("nothing was merged")

    data = bytearray(from_ben.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered = tmp_path / "tampered.cairn"
    tampered.write_bytes(bytes(data))
    refused = newsroom["Eve"].fails("merge", str(tampered))
    assert refused.endswith("was altered; nothing was merged")

    assert claims(newsroom["Ana"]) == before == claims(newsroom["Eve"])
    assert newsroom["Ana"].json("conflicts") == [] == newsroom["Eve"].json("conflicts")
    assert newsroom.merge("Eve", from_ben)["new"] > 0  # the same file, whole, still merges


def sign_offs(desk: Review) -> list[dict[str, Any]]:
    """Who signed off the one claim, and whether its evidence is still what they checked."""
    (claim,) = desk.json("claims")
    signed: list[dict[str, Any]] = claim["signed_off"]
    return signed


def test_only_a_reviewer_who_linked_no_evidence_signs_a_claim_off(newsroom: Newsroom) -> None:
    corroborated_claim(newsroom)
    newsroom.send("Ana", "Ben", "Eve")
    assert "Not signed off yet." in newsroom["Eve"].json("report")["report"]

    error = newsroom["Ana"].fails("sign-off", "1")
    assert "you linked evidence to claim 1" in error
    newsroom["Eve"]("sign-off", "1")
    newsroom.send("Eve", "Ana", "Ben")
    for name in NAMES:
        assert sign_offs(newsroom[name]) == [{"reviewer": "Eve", "current": True}], name
        assert "Signed off by Eve." in newsroom[name].json("report")["report"]

    newsroom["Ben"]("link", "tip3", "1", "--supports", "--basis", "document")
    newsroom.send("Ben", "Ana", "Eve")
    for name in NAMES:
        assert sign_offs(newsroom[name]) == [{"reviewer": "Eve", "current": False}], name


def test_a_link_to_a_tip_not_imported_here_yet_counts_once_it_arrives(tmp_path: Path) -> None:
    newsroom = make_newsroom(tmp_path, NAMES, TIPS[:2])
    for name in ("Ana", "Ben"):
        newsroom.bring(name, TIPS[2:])
    corroborated_claim(newsroom)  # tip3 has not reached Eve

    file = newsroom.share("Ana")
    assert newsroom.merge("Ben", file)["waiting"] == 0
    merged = newsroom["Eve"]("merge", str(file))
    assert "1 link waits for a tip not imported here yet" in merged.output
    assert newsroom.merge("Eve", file)["waiting"] == 1
    (claim,) = newsroom["Eve"].json("claims")
    assert claim["status"] == "single-source"
    assert [item["tip"] for item in claim["evidence"]] == ["tip0"]
    assert claim["waiting"] == [{"tip": "tip3", "stance": "supports", "basis": "firsthand"}]

    newsroom.bring("Eve", TIPS[2:])
    (claim,) = newsroom["Eve"].json("claims")
    assert claim["status"] == "corroborated" and claim["waiting"] == []
    same_everywhere(newsroom)
    assert newsroom.merge("Eve", file)["waiting"] == 0


def test_a_removed_link_is_gone_everywhere(newsroom: Newsroom) -> None:
    corroborated_claim(newsroom)
    newsroom.send("Ana", "Ben", "Eve")

    newsroom["Ben"]("unlink", "tip3", "1")
    newsroom.send("Ben", "Ana", "Eve")
    (claim,) = same_everywhere(newsroom)
    assert [item["tip"] for item in claim["evidence"]] == ["tip0"]
    assert claim["status"] == "single-source"


def test_an_edit_beside_a_removal_is_a_conflict_not_a_lost_edit(newsroom: Newsroom) -> None:
    corroborated_claim(newsroom)
    newsroom.send("Ana", "Ben", "Eve")

    newsroom["Ana"]("link", "tip0", "1", "--contradicts", "--basis", "firsthand")
    newsroom["Ben"]("unlink", "tip0", "1")
    from_ana, from_ben = newsroom.share("Ana"), newsroom.share("Ben")
    newsroom.merge("Ana", from_ben)
    newsroom.merge("Ben", from_ana)
    for name in ("Ana", "Ben"):  # Ana's new stance is not silently dropped under Ben's removal
        conflicts = newsroom[name].json("conflicts")
        assert [(c["record"], c["field"]) for c in conflicts] == [
            ("tip tip0 on claim 1", "removed")
        ]
        assert sorted((alt["value"], alt["author"]) for alt in conflicts[0]["alternatives"]) == [
            ("kept", "Ana"),
            ("removed", "Ben"),
        ]
    assert claims(newsroom["Ana"]) == claims(newsroom["Ben"])


def judgement(desk: Review) -> dict[str, Any]:
    """What a reviewer sees of sources, tips, claims and hypotheses, named the same in every
    workspace: sources by id, since pseudonyms are each workspace's own."""
    sources = desk.json("sources")
    pseudonyms = {source["pseudonym"]: source["id"] for source in sources}
    return {
        "sources": {
            source["id"]: {
                "reliability": source["reliability"],
                "group": sorted(pseudonyms[member] for member in source["group"]),
                "relations": [
                    {**relation, "source": pseudonyms[relation["source"]]}
                    for relation in source["relations"]
                ],
            }
            for source in sources
        },
        "flagged": [tip["id"] for tip in desk.json("tips", "--status", "flagged")],
        "claims": [
            {key: claim[key] for key in ("text", "grade", "credibility", "override_reason")}
            for claim in desk.json("claims")
        ],
        "ach": {key: desk.json("ach")[key] for key in ("hypotheses", "marks")},
    }


def test_every_kind_of_judgement_travels(newsroom: Newsroom) -> None:
    corroborated_claim(newsroom)
    newsroom.send("Ana", "Ben", "Eve")
    before = same_everywhere(newsroom, judgement)
    ben = newsroom["Ben"]
    pseudonym = {source["id"]: source["pseudonym"] for source in ben.json("sources")}
    ben("relate", pseudonym["src0"], pseudonym["src3"], "--shared-origin", "--note", "cousins")
    ben("mark", "tip2", "flagged")
    ben("sources", "grade", pseudonym["src3"], "B", "--note", "right twice before")
    ben("claim", "credibility", "1", "2", "--reason", "the memo is on file")
    ben("hypothesis", "add", "The memo was a forgery")
    ben("ach", "mark", "1", "1", "--inconsistent", "--reason", "the minister answered it")
    newsroom.send("Ben", "Ana", "Eve")

    after = same_everywhere(newsroom, judgement)
    assert after != before
    assert after["sources"]["src0"]["relations"] == [
        {"source": "src3", "kind": "shared-origin", "note": "cousins"}
    ]
    assert after["sources"]["src0"]["group"] == ["src0", "src3"]
    assert after["sources"]["src3"]["reliability"] == "B"
    assert after["flagged"] == ["tip2"]
    (claim,) = after["claims"]
    assert (claim["credibility"], claim["override_reason"]) == (2, "the memo is on file")
    assert claim["grade"] == "B2*"
    (hypothesis,) = after["ach"]["hypotheses"]
    assert hypothesis["text"] == "The memo was a forgery"
    assert after["ach"]["marks"] == [
        {"hypothesis": 1, "claim": 1, "mark": "inconsistent", "reason": "the minister answered it"}
    ]
    (status,) = same_everywhere(newsroom)
    assert status["status"] == "single-source"  # the two sources are now one group


def test_a_note_travels(newsroom: Newsroom) -> None:
    newsroom["Ben"]("note", "tip2", "Call the press office")
    newsroom.send("Ben", "Ana", "Eve")
    notes = {name: newsroom[name].json("show", "tip2")["notes"] for name in NAMES}
    assert notes["Ana"] == notes["Ben"] == notes["Eve"] == ["Call the press office"]
