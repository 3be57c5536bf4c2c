"""Memory that grows: facts (with history), people, reflections, embeddings, and extraction bookkeeping."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        # When facts were extracted from this message (NULL: not yet; the background worker picks it up).
        batch.add_column(sa.Column("extracted_at", sa.DateTime(), nullable=True))
        # Where an imported message came from (e.g. 'jsonl:FILE#ID'), for idempotent re-import.
        batch.add_column(sa.Column("origin", sa.String(300), nullable=True))
    op.create_index("ix_messages_origin", "messages", ["user_id", "origin"], unique=True)

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("relation", sa.String(100), nullable=True),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("last_mentioned_at", sa.DateTime(), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "name_key", name="uq_people_user_name"),
    )
    op.create_table(
        "facts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("attribute", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("slot", sa.String(300), nullable=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("event_at", sa.DateTime(), nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("source_exchange_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=True),
        sa.Column("importance", sa.Float(), nullable=False, server_default="0.5"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_facts_user_slot", "facts", ["user_id", "slot"])
    op.create_index("ix_facts_source", "facts", ["source_exchange_id"])
    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "reflection_sources",
        sa.Column("reflection_id", sa.Integer(), sa.ForeignKey("reflections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("reflection_id", "item_kind", "item_id"),
    )
    op.create_index("ix_reflection_sources_item", "reflection_sources", ["item_kind", "item_id"])
    op.create_table(
        "embeddings",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("item_kind", "item_id", "model"),
    )
    op.create_index("ix_embeddings_user_model", "embeddings", ["user_id", "model"])

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in ("facts", "reflections"):
            op.execute(
                f"CREATE VIRTUAL TABLE {table}_fts USING fts5(text, user_id UNINDEXED, content='{table}', "
                "content_rowid='id', tokenize='porter unicode61')"
            )
            op.execute(
                f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN "
                f"INSERT INTO {table}_fts(rowid, text, user_id) VALUES (new.id, new.text, new.user_id); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
                f"INSERT INTO {table}_fts({table}_fts, rowid, text, user_id) VALUES ('delete', old.id, old.text, old.user_id); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_au AFTER UPDATE OF text ON {table} BEGIN "
                f"INSERT INTO {table}_fts({table}_fts, rowid, text, user_id) VALUES ('delete', old.id, old.text, old.user_id); "
                f"INSERT INTO {table}_fts(rowid, text, user_id) VALUES (new.id, new.text, new.user_id); END"
            )
        # Embeddings of deleted items go with them.
        for table, kind in (("messages", "exchange"), ("facts", "fact"), ("reflections", "reflection")):
            op.execute(
                f"CREATE TRIGGER {table}_embeddings_ad AFTER DELETE ON {table} BEGIN "
                f"DELETE FROM embeddings WHERE item_kind = '{kind}' AND item_id = old.id; "
                f"DELETE FROM reflection_sources WHERE item_kind = '{kind}' AND item_id = old.id; END"
            )
        # The messages FTS trigger fired on every update; only text changes matter (extracted_at is bookkeeping).
        op.execute("DROP TRIGGER messages_au")
        op.execute(
            "CREATE TRIGGER messages_au AFTER UPDATE OF text ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, text, user_id) VALUES ('delete', old.id, old.text, old.user_id); "
            "INSERT INTO messages_fts(rowid, text, user_id) VALUES (new.id, new.text, new.user_id); END"
        )
    elif bind.dialect.name == "postgresql":
        for table in ("facts", "reflections"):
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
            )
            op.execute(f"CREATE INDEX ix_{table}_tsv ON {table} USING gin (tsv)")
        op.execute(
            "CREATE FUNCTION os1_forget_derived() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "DELETE FROM embeddings WHERE item_kind = TG_ARGV[0] AND item_id = OLD.id; "
            "DELETE FROM reflection_sources WHERE item_kind = TG_ARGV[0] AND item_id = OLD.id; "
            "RETURN OLD; END $$"
        )
        for table, kind in (("messages", "exchange"), ("facts", "fact"), ("reflections", "reflection")):
            op.execute(
                f"CREATE TRIGGER {table}_embeddings_ad AFTER DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION os1_forget_derived('{kind}')"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in ("facts", "reflections"):
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        for table in ("messages", "facts", "reflections"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_embeddings_ad")
    elif bind.dialect.name == "postgresql":
        for table in ("messages", "facts", "reflections"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_embeddings_ad ON {table}")
        op.execute("DROP FUNCTION IF EXISTS os1_forget_derived()")
    op.drop_table("embeddings")
    op.drop_table("reflection_sources")
    op.drop_table("reflections")
    op.drop_table("facts")
    op.drop_table("people")
    op.drop_index("ix_messages_origin", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("origin")
        batch.drop_column("extracted_at")
