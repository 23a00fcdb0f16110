"""Alembic environment: runs migrations against the URL the caller configured."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from intake.models import Base

config = context.config

connectable = engine_from_config(
    config.get_section(config.config_ini_section, {}),
    prefix="sqlalchemy.",
    poolclass=pool.NullPool,
)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
