"""Safety events and data-protection bookkeeping (issue 9)."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # Each time the risk screen found risk (or the reply check caught OS1's own reply): what was found,
    # which crisis lines were shown, and how OS1 answered. The user lists them with `os1 safety`.
    op.create_table(
        "safety_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),  # crisis | concern | honesty
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(16), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("response", sa.String(32), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_safety_events_user", "safety_events", ["user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_safety_events_user", "safety_events")
    op.drop_table("safety_events")
