"""The audit log's keys: anchors signed and checked by ``samverkan audit verify``, keys that
rotate, the key settings the CLI names, and a workspace's export that verifies alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from domain import audit
from domain.clock import AdjustableClock
from tests.support.audit_log import (
    OTHER_SECRET,
    SECRET,
    TEAM,
    Sessions,
    cli,
    event_rows,
    real_keys,
    seal,
    without_triggers,
    write,
)


@pytest.fixture(autouse=True)
def keys() -> Iterator[audit.AuditKeys]:
    yield from real_keys()


# --- anchors --------------------------------------------------------------------------------


def test_an_anchor_is_signed_and_verify_checks_it(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(sessions, clock, 3)
    write(sessions, clock, 2, team="T0002")
    code, out = cli(["audit", "anchor"], database_url, monkeypatch, tmp_path, capsys)
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("sva1:")]
    assert [line.split(":")[1:3] for line in lines] == [[TEAM, "3"], ["T0002", "2"]]
    mine = lines[0]
    write(sessions, clock, 2)  # the chain goes on after the anchor
    code, out = cli(
        ["audit", "verify", "--anchor", mine], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 0, out
    # An edited line, a line from another key, and a rewritten event are all refused.
    parts = mine.split(":")
    edited = ":".join([*parts[:2], "2", *parts[3:]])
    code, out = cli(
        ["audit", "verify", "--anchor", edited], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 1 and "signature does not match" in out
    code, out = cli(
        ["audit", "verify", "--anchor", mine],
        database_url,
        monkeypatch,
        tmp_path,
        capsys,
        audit_keys=OTHER_SECRET,
    )
    assert code == 1 and "SAMVERKAN_AUDIT_KEYS lacks" in out
    without_triggers(
        sessions, "UPDATE audit_events SET hash = :h WHERE chain = 'T0001' AND seq = 3", h="f" * 64
    )
    code, out = cli(
        ["audit", "verify", "--anchor", mine], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 1 and "seq 3 is not the anchored event" in out
    code, out = cli(
        ["audit", "verify", "--anchor", "sva1:nonsense"],
        database_url,
        monkeypatch,
        tmp_path,
        capsys,
    )
    assert code == 2 and out.strip().startswith("samverkan: --anchor: not an anchor line")


# --- keys -----------------------------------------------------------------------------------


def test_audit_keys_rotate_old_events_verify_until_their_key_is_removed(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = audit.AuditKeys.parse(SECRET)
    write(sessions, clock, 2)
    seal(sessions)
    rotated = audit.AuditKeys.parse(f"{OTHER_SECRET},{SECRET}")
    write(sessions, clock, 1)
    audit.seal_pending(sessions, keys=rotated)
    kids = [r["key_id"] for r in event_rows(sessions)]
    assert kids == [old.signing_id, old.signing_id, rotated.signing_id]
    both = f"{OTHER_SECRET},{SECRET}"
    code, out = cli(
        ["audit", "verify"], database_url, monkeypatch, tmp_path, capsys, audit_keys=both
    )
    assert code == 0, out
    code, out = cli(
        ["audit", "verify"], database_url, monkeypatch, tmp_path, capsys, audit_keys=OTHER_SECRET
    )
    assert code == 1 and f"2 event(s) signed with key id {old.signing_id}" in out


def test_the_development_key_is_named_in_verify(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(sessions, clock, 1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.delenv("SAMVERKAN_AUDIT_KEYS", raising=False)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr()
    assert "using the public development key" in out.err
    assert "1 event(s) are signed with the public development key" in out.err


@pytest.mark.parametrize("value", ["short", "x" * 40 + ",tiny"])
def test_a_bad_audit_key_setting_is_one_line_naming_the_key_not_its_value(
    value: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = cli(
        ["audit", "verify"], database_url, monkeypatch, tmp_path, capsys, audit_keys=value
    )
    assert code == 2
    assert out.strip().startswith("samverkan: SAMVERKAN_AUDIT_KEYS: key #")
    assert "tiny" not in out and "short" not in out.replace("shorter", "")


def test_new_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "new-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert audit.AuditKeys.parse(key).signing_id != audit.DEV_KEY_ID


# --- export ---------------------------------------------------------------------------------


def test_a_workspace_exports_its_own_chain_and_the_file_verifies_alone(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(sessions, clock, 3)
    write(sessions, clock, 2, team="T0002", actor="U9")
    code, out = cli(
        ["audit", "export", "--team", TEAM, "--out", str(tmp_path)],
        database_url,
        monkeypatch,
        tmp_path,
        capsys,
    )
    assert code == 0 and f"3 events of chain {TEAM}" in out
    (path,) = tmp_path.glob("samverkan-audit-T0001-*.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and "U9" not in path.read_text(encoding="utf-8")
    code, out = cli(
        ["audit", "verify", "--file", str(path)], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 0 and "OK: 3 events" in out
    tampered = json.loads(lines[2])
    tampered["actor"] = "U666"
    path.write_text("\n".join([*lines[:2], json.dumps(tampered), lines[3]]), encoding="utf-8")
    code, out = cli(
        ["audit", "verify", "--file", str(path)], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 1 and "seq 2: content" in out
