"""Sample reports for docs/reports/: the half-year review, the steering group's annual report
and the municipality's lägesbild och åtgärdsplan, built from made-up data on a temporary
SQLite database, with their first pages as PNG (pdftoppm, from poppler-utils).

    .venv/bin/python -m tools.report_samples [--out docs/reports]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.half_year_review import NOW, PERIOD, seed_forum
from domain import forums as fs
from domain import review, steering, yearly_picture
from domain.actions import ActionDraft
from domain.clock import AdjustableClock
from domain.documents import to_docx, to_pdf
from domain.i18n import Translator
from handlers.deps import Deps
from storage.db import create_db_engine, migrate, session_factory, transaction
from storage.models import Forum
from tests.support.forums import forum_draft


def build(out: Path) -> list[Path]:
    t = Translator("sv")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/samples.db"
        migrate(url)
        engine = create_db_engine(url)
        deps = Deps(sessions=session_factory(engine), clock=AdjustableClock(NOW, frozen=True))
        osf = seed_forum(deps, "COSF", "OSF", cases=140, actions=260, rounds=10)
        with transaction(deps.sessions) as s:
            forum = s.get(Forum, osf)
            assert forum is not None
            forum.name = "OSF Centrum"
            forum.settings = {**forum.settings, "situation_picture": "every"}
            figures = review.build(s, deps.clock, forum=forum, period=PERIOD, actor="U1")
            created = fs.create_forum(
                s,
                deps.clock,
                team_id="T1",
                channel_id="CSTY",
                actor="U1",
                draft=forum_draft(
                    name="Styrgrupp barns bästa",
                    code="STY",
                    agencies=["Socialtjänst/IFO", "Grundskola"],
                    own_agency="Grundskola",
                ),
            )
            access = fs.require_member(s, forum=created, slack_user_id="U1")
            steering.configure(s, deps.clock, access=access, level="styrgrupp", forum_ids=[osf])
            strategy = steering.add_item(
                s,
                deps.clock,
                access=access,
                year=2026,
                kind="strategy",
                title="Utökat förebyggande och främjande arbete",
                parent_id=None,
                follow_up_on=None,
            )
            goal = steering.add_item(
                s,
                deps.clock,
                access=access,
                year=2026,
                kind="goal",
                title="Färre elever med hög frånvaro",
                parent_id=strategy.id,
                follow_up_on=dt.date(2026, 6, 1),
            )
            steering.add_activity(
                s,
                deps.clock,
                access=access,
                goal_id=goal.id,
                draft=ActionDraft(
                    description="Gemensam rutin för frånvaroanmälan mellan skola och socialtjänst",
                    agency_id=access.member.agency_id,
                    owner="U1",
                    due_on=dt.date(2026, 9, 30),
                ),
            )
            steering.follow_up_goal(
                s,
                deps.clock,
                access=access,
                goal_id=goal.id,
                result="partly",
                comment="Frånvaron minskade på två av tre skolor",
            )
            plan, linked = steering.annual_report(s, deps.clock, access=access, year=2026, t=t)
            pictures = yearly_picture.collect(s, deps.clock, access=access, year=2026)
        engine.dispose()
    documents = {
        "halvarsuppfoljning": review.document(t, figures),
        "verksamhetsberattelse": steering.annual_report_document(
            t,
            forum_name="Styrgrupp barns bästa",
            level="styrgrupp",
            year=2026,
            plan_=plan,
            figures=linked,
            names=lambda user: "Anna Lindqvist",
        ),
        "lagesbild-atgardsplan": yearly_picture.document(
            t,
            steering_name="Styrgrupp barns bästa",
            year=2026,
            pictures=pictures,
            names=lambda user: "Per Andersson",
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, doc in documents.items():
        pdf = out / f"{stem}.pdf"
        pdf.write_bytes(to_pdf(doc))
        (out / f"{stem}.docx").write_bytes(to_docx(doc))
        written.append(pdf)
        if shutil.which("pdftoppm"):
            subprocess.run(
                ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(out / stem)],
                check=True,
            )
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/reports")
    for path in build(Path(parser.parse_args().out)):
        print(path)


if __name__ == "__main__":
    main()
