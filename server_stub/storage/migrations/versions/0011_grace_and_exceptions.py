"""rule_states: failing_since, due_by, excepted_by, excepted_until; rule_exceptions

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rule_states") as batch:
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("due_by", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("excepted_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("excepted_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_rule_states_due_by", "rule_states", ["due_by"])
    op.create_table(
        "rule_exceptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rule_id", sa.String(length=20), nullable=False),
        sa.Column("device_id", sa.String(length=36), sa.ForeignKey("devices.id"), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("mitigation", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(device_id IS NULL) <> (department IS NULL)", name="ck_rule_exceptions_one_target"
        ),
    )
    op.create_index("ix_rule_exceptions_device_id", "rule_exceptions", ["device_id"])
    op.create_index("ix_rule_exceptions_department", "rule_exceptions", ["department"])
    op.create_index("ix_rule_exceptions_open", "rule_exceptions", ["ended_at", "expires_at"])


def downgrade() -> None:
    op.drop_table("rule_exceptions")
    op.drop_index("ix_rule_states_due_by", table_name="rule_states")
    with op.batch_alter_table("rule_states") as batch:
        for column in ("excepted_until", "excepted_by", "due_by", "failing_since"):
            batch.drop_column(column)
