"""Alembic's environment: the migrations always run on the connection the caller gives
(:func:`graph.migrations.upgrade`), inside the caller's transaction."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
