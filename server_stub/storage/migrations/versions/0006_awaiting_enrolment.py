"""devices registered but never enrolled are awaiting_enrolment, not unknown; names sorted
case-insensitively through an index on lower(name); rule_states indexed by status and rule

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    devices = sa.table(
        "devices",
        sa.column("state", sa.String()),
        sa.column("enrolled_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        devices.update()
        .where(devices.c.enrolled_at.is_(None), devices.c.state == "unknown")
        .values(state="awaiting_enrolment")
    )
    op.create_index("ix_devices_name_lower", "devices", [sa.text("lower(name)")])
    op.create_index("ix_rule_states_status_rule", "rule_states", ["status", "rule_id", "device_id"])


def downgrade() -> None:
    op.drop_index("ix_rule_states_status_rule", table_name="rule_states")
    op.drop_index("ix_devices_name_lower", table_name="devices")
    devices = sa.table("devices", sa.column("state", sa.String()))
    op.execute(
        devices.update().where(devices.c.state == "awaiting_enrolment").values(state="unknown")
    )
