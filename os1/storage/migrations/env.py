"""Alembic environment: the engine comes from os1.storage.migrate, never from a config file."""

from alembic import context

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
