"""Tell every app server of each proactive delivery (issue 10): NOTIFY os1_inbox on PostgreSQL.

A trigger, not application code, so every way a delivery is written (a job, a message composed on
request, another version of OS1) notifies, and in the delivering transaction: PostgreSQL sends the
notification when that transaction commits, never for one rolled back. The payload is `ID:USER_ID`.
SQLite has no LISTEN/NOTIFY: one process serves it, and wakes its own push (os1/server/hub.py).
"""

from alembic import op

revision = "0010"
down_revision = "0009"

CHANNEL = "os1_inbox"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION os1_inbox_notify() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', NEW.id::text || ':' || NEW.user_id);
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql""")
    op.execute("DROP TRIGGER IF EXISTS os1_inbox_notify ON inbox")
    op.execute("CREATE TRIGGER os1_inbox_notify AFTER INSERT ON inbox FOR EACH ROW EXECUTE FUNCTION os1_inbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS os1_inbox_notify ON inbox")
    op.execute("DROP FUNCTION IF EXISTS os1_inbox_notify()")
