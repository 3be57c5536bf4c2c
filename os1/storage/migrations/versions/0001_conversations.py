"""Users, their conversation (with full-text search), and the first-meeting profile."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("emotion", sa.JSON(), nullable=True),
        sa.Column("importance", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_index("ix_messages_user_id_id", "messages", ["user_id", "id"])
    op.create_index("ix_messages_user_created", "messages", ["user_id", "created_at"])
    op.create_table(
        "profiles",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_name", sa.String(200), nullable=True),
        sa.Column("companion_name", sa.String(200), nullable=True),
        sa.Column("stage", sa.String(32), nullable=False, server_default="new"),
        sa.Column("questions_asked", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # External-content FTS5 index kept in step by triggers; user_id is stored unindexed so a
        # search is scoped to one user inside the index.
        op.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5("
            "text, user_id UNINDEXED, content='messages', content_rowid='id', tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN "
            "INSERT INTO messages_fts(rowid, text, user_id) VALUES (new.id, new.text, new.user_id); END"
        )
        op.execute(
            "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, text, user_id) "
            "VALUES ('delete', old.id, old.text, old.user_id); END"
        )
        op.execute(
            "CREATE TRIGGER messages_au AFTER UPDATE ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, text, user_id) "
            "VALUES ('delete', old.id, old.text, old.user_id); "
            "INSERT INTO messages_fts(rowid, text, user_id) VALUES (new.id, new.text, new.user_id); END"
        )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE messages ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
        )
        op.execute("CREATE INDEX ix_messages_tsv ON messages USING gin (tsv)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trig in ("messages_ai", "messages_ad", "messages_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    op.drop_table("profiles")
    op.drop_table("messages")
    op.drop_table("users")
