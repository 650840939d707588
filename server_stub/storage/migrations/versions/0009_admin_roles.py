"""admins.role: "admin" changes things, "viewer" only reads; existing users stay admins

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admins") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=10), nullable=False, server_default="admin")
        )


def downgrade() -> None:
    with op.batch_alter_table("admins") as batch:
        batch.drop_column("role")
