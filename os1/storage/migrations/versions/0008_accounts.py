"""Accounts, passwords and API tokens for the multi-user service (issue 10)."""

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
