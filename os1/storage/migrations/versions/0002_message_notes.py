"""Keep the notes OS1 saw with each user message, so later prompts repeat them word for word.

Repeating them keeps the prompt prefix identical from turn to turn, and llama.cpp only has to
evaluate the new message instead of the whole recent history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("notes")
