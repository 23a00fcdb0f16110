"""`review import`: everything is verified before anything is kept, and nothing is kept twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from keys import age
from keys.signing import KeyKind, SigningKey, VerifyKey
from tests.support.review import (
    Review,
    Reviewer,
    TipSpec,
    bundle_of,
    make_bundle,
    make_reviewer,
    seal_tips,
)

TIPS = [
    TipSpec("m1", "srcA", b"First message."),
    TipSpec("f1", "srcA", b"\x00binary\x01", kind="file", name="a.bin", media_type="x/y"),
    TipSpec("m2", "srcB", b"Second message."),
]


@pytest.fixture
def bundle(tmp_path: Path, server: SigningKey, offline_reviewer: Reviewer) -> Path:
    return make_bundle(tmp_path / "bundle.tar", server, TIPS, [offline_reviewer.identity.recipient])


def tip_ids(review: Review) -> list[str]:
    tips: Any = review.json("tips")
    return [tip["id"] for tip in tips]


def assert_nothing_imported(review: Review) -> None:
    assert tip_ids(review) == []
    tips_dir = review.workspace / "tips"
    assert list(tips_dir.iterdir()) == [], "no tip files and no staging left behind"
    assert list(review.workspace.parent.glob("*.ack.json")) == []


@pytest.fixture(params=["in memory", "staged on disk"])
def staging(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test both ways ciphertext can wait between verifying and storing."""
    if request.param == "staged on disk":
        monkeypatch.setattr("review.importer.MEMORY_BUDGET", 0)


@pytest.mark.usefixtures("staging")
def test_import_keeps_the_age_files_as_they_arrived_and_writes_the_ack(
    review: Review, bundle: Path
) -> None:
    result = review("import", str(bundle))
    assert (
        "Imported 3 new tips from bundle.tar (0 already here): 2 messages, 1 file" in result.stdout
    )
    ack_path = Path(result.stdout.strip().splitlines()[-1])
    assert ack_path == bundle.parent / "bundle.ack.json"  # beside the bundle, to carry back
    ack = json.loads(ack_path.read_text())
    assert ack["format"] == "cairn-ack" and ack["items"] == ["f1", "m1", "m2"]
    assert sorted(tip_ids(review)) == ["f1", "m1", "m2"]
    with tarfile.open(bundle) as tar:
        for tip in TIPS:
            member = tar.extractfile(f"items/{tip.id}.age")
            assert member is not None
            assert (review.workspace / "tips" / f"{tip.id}.age").read_bytes() == member.read()
    assert sorted(p.name for p in (review.workspace / "tips").iterdir()) == [
        "f1.age",
        "m1.age",
        "m2.age",
    ]


def test_importing_twice_adds_nothing(
    review: Review, tmp_path: Path, server: SigningKey, offline_reviewer: Reviewer
) -> None:
    more = [*TIPS, TipSpec("m3", "srcC", b"Third.")]
    sealed = seal_tips(more, [offline_reviewer.identity.recipient])
    first = bundle_of(tmp_path / "first.tar", server, TIPS, sealed)
    review("import", str(first))
    again = review("import", str(first))
    assert "Imported 0 new tips from first.tar (3 already here)" in again.stdout
    assert sorted(tip_ids(review)) == ["f1", "m1", "m2"]
    ack = json.loads((tmp_path / "first.ack.json").read_text())
    assert ack["items"] == ["f1", "m1", "m2"], "what is already here is verified and acked again"

    newer = bundle_of(tmp_path / "newer.tar", server, more[2:], sealed)
    result = review("import", str(newer))
    assert "Imported 1 new tip from newer.tar (1 already here)" in result.stdout
    sources: Any = review.json("sources")
    assert len(sources) == 3


def test_a_known_id_with_other_content_refuses_the_bundle(
    review: Review, bundle: Path, tmp_path: Path, server: SigningKey, offline_reviewer: Reviewer
) -> None:
    review("import", str(bundle))
    changed = [TipSpec("m1", "srcA", b"Not the first message."), TipSpec("m9", "srcA", b"New.")]
    recipients = [offline_reviewer.identity.recipient]
    other = make_bundle(tmp_path / "other.tar", server, changed, recipients)
    error = review.fails("import", str(other))
    assert "m1 is already in the workspace with other content" in error
    assert "nothing was imported" in error
    assert "m9" not in tip_ids(review)


def test_a_corrupt_item_is_refused(review: Review, bundle: Path) -> None:
    with tarfile.open(bundle) as tar:
        offset = tar.getmember("items/m2.age").offset_data
    data = bytearray(bundle.read_bytes())
    data[offset + 120] ^= 0x01
    bundle.write_bytes(bytes(data))
    error = review.fails("import", str(bundle))
    assert "m2 does not match the SHA-256 in the manifest; nothing was imported" in error
    assert_nothing_imported(review)


def test_a_truncated_bundle_is_refused(review: Review, bundle: Path) -> None:
    bundle.write_bytes(bundle.read_bytes()[:2000])
    assert "nothing was imported" in review.fails("import", str(bundle))
    assert_nothing_imported(review)


def test_an_unsigned_bundle_is_refused(review: Review, bundle: Path, tmp_path: Path) -> None:
    unsigned = tmp_path / "unsigned.tar"
    with tarfile.open(bundle) as src, tarfile.open(unsigned, "w") as dst:
        for member in src.getmembers():
            if member.name != "manifest.sig":
                dst.addfile(member, src.extractfile(member))
    error = review.fails("import", str(unsigned))
    assert "the bundle has no manifest.sig; nothing was imported" in error
    assert_nothing_imported(review)


def test_a_bundle_signed_by_another_server_is_refused(
    review: Review, tmp_path: Path, offline_reviewer: Reviewer
) -> None:
    impostor = SigningKey.generate()
    recipients = [offline_reviewer.identity.recipient]
    forged = make_bundle(tmp_path / "forged.tar", impostor, TIPS, recipients)
    error = review.fails("import", str(forged))
    assert "signature does not verify with the pinned server key" in error
    assert_nothing_imported(review)


def test_a_bundle_for_another_reviewer_is_refused(
    review: Review, tmp_path: Path, server: SigningKey
) -> None:
    someone_else = age.X25519Identity.generate().recipient
    theirs = make_bundle(tmp_path / "theirs.tar", server, TIPS, [someone_else])
    error = review.fails("import", str(theirs))
    assert "is not encrypted to your identity" in error and "nothing was imported" in error
    assert_nothing_imported(review)


@pytest.mark.usefixtures("staging")
def test_one_bad_item_keeps_out_the_good_ones_too(
    review: Review, tmp_path: Path, server: SigningKey, offline_reviewer: Reviewer
) -> None:
    """Items sealed to this reviewer, then one that is not: the first pass refuses them all."""
    stray = TipSpec("zz", "srcZ", b"x")
    sealed = {
        **seal_tips(TIPS, [offline_reviewer.identity.recipient]),
        **seal_tips([stray], [age.X25519Identity.generate().recipient]),
    }
    mixed = bundle_of(tmp_path / "mixed.tar", server, [*TIPS, stray], sealed)
    assert "zz is not encrypted to your identity" in review.fails("import", str(mixed))
    assert_nothing_imported(review)


@pytest.mark.parametrize("submission", ["", "../tips", "s" * 65, "with space"])
def test_i8_a_malformed_submission_id_refuses_the_whole_bundle(
    review: Review, tmp_path: Path, server: SigningKey, offline_reviewer: Reviewer, submission: str
) -> None:
    """Issue 19 item 4: the submission id is optional, but one that is there must be an id."""
    tips = [TipSpec("m0", "srcA", b"Sent well.", submission="sub1"), *TIPS[1:]]
    tips.append(TipSpec("m9", "srcA", b"Sent oddly.", submission=submission))
    odd = make_bundle(tmp_path / "odd.tar", server, tips, [offline_reviewer.identity.recipient])
    error = review.fails("import", str(odd))
    assert "item m9 has an invalid submission id; nothing was imported" in error
    assert_nothing_imported(review)


def test_import_needs_a_pinned_server_key(
    tmp_path: Path, offline_reviewer: Reviewer, bundle: Path
) -> None:
    review = Review(tmp_path / "fresh", offline_reviewer)
    assert "no server key is pinned" in review.fails("import", str(bundle))


def test_trust_refuses_to_replace_a_key_silently(review: Review, server: SigningKey) -> None:
    other = SigningKey.generate()
    assert "already trusts" in review.fails("trust", str(other.verify_key))
    review("trust", str(other.verify_key), "--replace")
    assert "not the server's bundle key" in review.fails("trust", "cairnpub1nonsense")


def test_issue19_item7_trust_refuses_a_key_of_another_kind_naming_both(review: Review) -> None:
    courier = SigningKey.generate(KeyKind.COURIER).verify_key
    error = review.fails("trust", str(courier), "--replace")
    assert error.endswith(
        "this is a courier key, not the server's bundle key: use the key printed by `intake init`"
    )
    workspace = SigningKey.generate(KeyKind.REVIEWER).verify_key
    assert "this is a review workspace's key, not the server's bundle key" in review.fails(
        "trust", str(workspace), "--replace"
    )


def test_issue19_item7_a_key_in_the_old_shared_form_is_still_trusted(review: Review) -> None:
    old = SigningKey.generate()  # written cairnpub1..., as every key was
    assert str(old.verify_key).startswith("cairnpub1")
    pinned = review("trust", str(old.verify_key), "--replace")
    new_form = VerifyKey(old.verify_key.raw, KeyKind.SERVER)
    assert str(new_form).startswith("cairnserver1")
    assert f"Pinned the server key {new_form};" in pinned.stdout


def test_a_wrong_passphrase_is_a_one_line_error(review: Review, bundle: Path) -> None:
    review.reviewer.passphrase_file.write_text("not the passphrase\n")
    error = review.fails("import", str(bundle))
    assert "wrong passphrase for the identity file" in error
    assert review.run("tips").exit_code == 1


def test_a_wrong_passphrase_in_a_real_process(review: Review, bundle: Path) -> None:
    """The installed `review` script, not the test runner, turns the failure into one line."""
    review.reviewer.passphrase_file.write_text("not the passphrase\n")
    script = Path(sys.executable).parent / "review"
    env = {**os.environ, **review.env}
    done = subprocess.run([script, "import", str(bundle)], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("Error: wrong passphrase for the identity file")
    assert done.stderr.count("\n") == 1


def test_another_identity_cannot_open_the_workspace(review: Review, tmp_path: Path) -> None:
    stranger = Review(review.workspace, make_reviewer(tmp_path / "stranger"))
    assert "belongs to another identity" in stranger.fails("tips")


def test_a_missing_identity_file_says_how_to_make_one(review: Review, tmp_path: Path) -> None:
    nobody = Review(review.workspace, make_reviewer(tmp_path / "nobody"))
    nobody.reviewer.identity_file.unlink()
    assert "make one with `review keys new`" in nobody.fails("tips")


def test_a_new_workspace_is_private(review: Review) -> None:
    assert review.workspace.stat().st_mode & 0o077 == 0
    for name in ("workspace-key.age", "workspace.db"):
        assert (review.workspace / name).stat().st_mode & 0o077 == 0


def test_the_ack_goes_where_asked_and_never_over_another_file(
    review: Review, bundle: Path, tmp_path: Path
) -> None:
    """Issue 19 item 5: the ack was written into a hidden folder of the workspace."""
    carried = tmp_path / "stick"
    carried.mkdir()
    result = review("import", str(bundle), "--ack-out", str(carried / "for-courier.json"))
    assert result.stdout.strip().splitlines()[-1] == str(carried / "for-courier.json")
    ack = json.loads((carried / "for-courier.json").read_text())
    assert ack["items"] == ["f1", "m1", "m2"]
    assert not (tmp_path / "bundle.ack.json").exists()
    review("import", str(bundle), "--ack-out", str(carried / "for-courier.json"))  # same ack
    review("import", str(bundle))
    assert (tmp_path / "bundle.ack.json").read_bytes() == (
        carried / "for-courier.json"
    ).read_bytes()
    mine = tmp_path / "notes.txt"
    mine.write_text("the reviewer's own file\n")
    error = review.fails("import", str(bundle), "--ack-out", str(mine))
    assert f"{mine} already exists and is not this bundle's ack" in error
    assert mine.read_text() == "the reviewer's own file\n"
    missing = tmp_path / "nowhere" / "x.ack.json"
    assert "does not exist" in review.fails("import", str(bundle), "--ack-out", str(missing))


def test_an_ack_path_taken_refuses_the_import_before_anything_is_kept(
    review: Review, bundle: Path, tmp_path: Path
) -> None:
    (tmp_path / "bundle.ack.json").write_text("something else\n")
    error = review.fails("import", str(bundle))
    assert "is not this bundle's ack" in error and "nothing was imported" in error
    assert tip_ids(review) == []
    assert (tmp_path / "bundle.ack.json").read_text() == "something else\n"
