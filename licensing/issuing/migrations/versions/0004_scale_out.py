"""What several servers sharing one database need: idempotent answers and a kept seat count.

``answered_requests`` remembers what each request was answered with (the digest of the request,
the device, the exact answer), so a client that retries after losing an answer gets the same one
back; ``licenses.active_devices`` keeps the number of active devices, filled in from the devices
table here; ``devices`` gets an index on (license, hardware) for the lookup every activation
makes.

Revision ID: 0004_scale_out
Revises: 0003_security
"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = '0004_scale_out'
down_revision: Union[str, Sequence[str], None] = '0003_security'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('answered_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('device_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=True))
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active_devices', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE licenses SET active_devices = (SELECT count(*) FROM devices "
               "WHERE devices.license_id = licenses.id AND devices.active)")
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index('ix_devices_license_hardware', ['license_id', 'hardware_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('ix_devices_license_hardware')
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_column('active_devices')
    with op.batch_alter_table('answered_requests', schema=None) as batch_op:
        batch_op.drop_column('answer')
        batch_op.drop_column('device_id')
        batch_op.drop_column('request_digest')
