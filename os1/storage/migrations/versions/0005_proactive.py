"""Jobs, reminders, follow-ups, check-ins and connection nudges (issue 7)."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def _user() -> "sa.Column[str]":
    return sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _user(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),  # idempotency: one job per (user, key)
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # pending|running|done|skipped|failed|cancelled
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="5"),
        sa.Column("locked_by", sa.String(120), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ux_jobs_key", "jobs", ["user_id", "key"], unique=True)
    op.create_index("ix_jobs_due", "jobs", ["status", "run_at"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _user(),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("said", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("rule", sa.String(300), nullable=True),
        sa.Column("zone", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),  # active|done|cancelled
        sa.Column("source_message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
        sa.Column("fired_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_fired_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_reminders_user", "reminders", ["user_id", "status", "due_at"])
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _user(),
        sa.Column("about", sa.String(300), nullable=False),
        sa.Column("topic_key", sa.String(200), nullable=False),
        sa.Column("said", sa.Text(), nullable=True),
        sa.Column("event_at", sa.DateTime(), nullable=False),
        sa.Column("timed", sa.Boolean(), nullable=False),  # False: only the day is known (stored at noon)
        sa.Column("ask_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # pending|asked|answered|cancelled
        sa.Column("source_message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=True),
        sa.Column("fact_id", sa.Integer(), sa.ForeignKey("facts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("said_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_followups_user", "followups", ["user_id", "status", "event_at"])
    op.create_table(
        "proactive_settings",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("checkins", sa.Boolean(), nullable=False),
        sa.Column("morning", sa.String(5), nullable=True),
        sa.Column("evening", sa.String(5), nullable=True),
        sa.Column("quiet_start", sa.String(5), nullable=False),
        sa.Column("quiet_end", sa.String(5), nullable=False),
        sa.Column("nudges", sa.Boolean(), nullable=False),
        sa.Column("snooze_until", sa.DateTime(), nullable=True),
        sa.Column("max_per_day", sa.Integer(), nullable=False),
        sa.Column("muted_people", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _user(),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_inbox_user", "inbox", ["user_id", "id"])
    # A second guard against a job delivering twice (the first is the lease check when it finishes).
    op.create_index("ux_inbox_job", "inbox", ["job_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_inbox_job", "inbox")
    op.drop_index("ix_inbox_user", "inbox")
    op.drop_table("inbox")
    op.drop_table("proactive_settings")
    op.drop_index("ix_followups_user", "followups")
    op.drop_table("followups")
    op.drop_index("ix_reminders_user", "reminders")
    op.drop_table("reminders")
    op.drop_index("ix_jobs_due", "jobs")
    op.drop_index("ux_jobs_key", "jobs")
    op.drop_table("jobs")
