"""Each user's time zone (issue 10): one process serves people in Tokyo and New York alike.

A user with no row here uses the installation's zone (OS1_TZ, settings.json, else the machine's).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "user_zones",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("zone", sa.String(64), nullable=False),  # an IANA name, checked with zoneinfo when set
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_zones")
