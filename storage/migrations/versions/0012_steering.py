"""feedback after a case, case criteria, steering forums and the annual activity plan

Revision ID: 0012_steering
Revises: 0006

Issue #16: the agencies' short survey and the family's view after a closed case, a forum's
case criteria (at most 8) and which a case met, links from a steering forum (styrgrupp,
2+2, nämnd) to the operational forums it follows, and the steering forum's annual activity
plan (strategies, goals, sub-goals; activities are actions linked to a goal).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_steering"
down_revision: str | None = "0011_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=75), nullable=False),
        sa.Column("help", sa.String(length=150), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_case_criteria_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_criteria")),
    )
    with op.batch_alter_table("case_criteria", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_criteria_forum_position", ["forum_id", "position"], unique=False
        )

    op.create_table(
        "forum_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("steering_forum_id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_forum_links_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["steering_forum_id"],
            ["forums.id"],
            name=op.f("fk_forum_links_steering_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_links")),
        sa.UniqueConstraint(
            "steering_forum_id", "forum_id", name=op.f("uq_forum_links_steering_forum_id_forum_id")
        ),
    )
    with op.batch_alter_table("forum_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forum_links_forum_id"), ["forum_id"], unique=False)

    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("result", sa.String(length=8), nullable=True),
        sa.Column("result_comment", sa.Text(), nullable=True),
        sa.Column("followed_up_by", sa.String(length=32), nullable=True),
        sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('strategy', 'goal')", name=op.f("ck_plan_items_kind_value")),
        sa.CheckConstraint(
            "result IS NULL OR result IN ('yes', 'partly', 'no')",
            name=op.f("ck_plan_items_result_value"),
        ),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_plan_items_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["plan_items.id"],
            name=op.f("fk_plan_items_parent_id_plan_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
    )
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_items_forum_year", ["forum_id", "year", "position"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plan_items_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "case_criteria_met",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_criteria_met_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["case_criteria.id"],
            name=op.f("fk_case_criteria_met_criterion_id_case_criteria"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "criterion_id", name=op.f("pk_case_criteria_met")),
    )
    with op.batch_alter_table("case_criteria_met", schema=None) as batch_op:
        batch_op.create_index("ix_case_criteria_met_criterion_id", ["criterion_id"], unique=False)

    op.create_table(
        "family_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heard", sa.String(length=8), nullable=False),
        sa.Column("helped", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "heard IN ('yes', 'partly', 'no')", name=op.f("ck_family_views_heard_value")
        ),
        sa.CheckConstraint(
            "helped IN ('yes', 'partly', 'no')", name=op.f("ck_family_views_helped_value")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_family_views_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_family_views_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_views")),
        sa.UniqueConstraint("case_id", name=op.f("uq_family_views_case_id")),
    )
    with op.batch_alter_table("family_views", schema=None) as batch_op:
        batch_op.create_index(
            "ix_family_views_forum_recorded", ["forum_id", "recorded_at"], unique=False
        )

    op.create_table(
        "feedback_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("helped", sa.SmallInteger(), nullable=True),
        sa.Column("right_agencies", sa.SmallInteger(), nullable=True),
        sa.Column("worth_raising", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "helped BETWEEN 1 AND 5", name=op.f("ck_feedback_surveys_helped_1_to_5")
        ),
        sa.CheckConstraint(
            "right_agencies BETWEEN 1 AND 5", name=op.f("ck_feedback_surveys_right_agencies_1_to_5")
        ),
        sa.CheckConstraint(
            "worth_raising BETWEEN 1 AND 5", name=op.f("ck_feedback_surveys_worth_raising_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_feedback_surveys_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_feedback_surveys_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_feedback_surveys_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_surveys")),
        sa.UniqueConstraint(
            "case_id", "agency_id", name=op.f("uq_feedback_surveys_case_id_agency_id")
        ),
    )
    with op.batch_alter_table("feedback_surveys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_surveys_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            "ix_feedback_surveys_forum_answered", ["forum_id", "answered_at"], unique=False
        )
        batch_op.create_index("ix_feedback_surveys_due_at", ["due_at"], unique=False)

    op.create_table(
        "plan_activities",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("plan_item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_plan_activities_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_item_id"],
            ["plan_items.id"],
            name=op.f("fk_plan_activities_plan_item_id_plan_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_plan_activities")),
    )
    with op.batch_alter_table("plan_activities", schema=None) as batch_op:
        batch_op.create_index("ix_plan_activities_plan_item_id", ["plan_item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_activities_plan_item_id")

    op.drop_table("plan_activities")
    with op.batch_alter_table("feedback_surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_surveys_due_at")
        batch_op.drop_index("ix_feedback_surveys_forum_answered")
        batch_op.drop_index(batch_op.f("ix_feedback_surveys_agency_id"))

    op.drop_table("feedback_surveys")
    with op.batch_alter_table("family_views", schema=None) as batch_op:
        batch_op.drop_index("ix_family_views_forum_recorded")

    op.drop_table("family_views")
    with op.batch_alter_table("case_criteria_met", schema=None) as batch_op:
        batch_op.drop_index("ix_case_criteria_met_criterion_id")

    op.drop_table("case_criteria_met")
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_items_parent_id"))
        batch_op.drop_index("ix_plan_items_forum_year")

    op.drop_table("plan_items")
    with op.batch_alter_table("forum_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forum_links_forum_id"))

    op.drop_table("forum_links")
    with op.batch_alter_table("case_criteria", schema=None) as batch_op:
        batch_op.drop_index("ix_case_criteria_forum_position")

    op.drop_table("case_criteria")
