"""Floating licenses: seats, lease length and longest borrow on the licenses table.

Revision ID: 0002_floating
Revises: 0001
"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002_floating'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lease_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_borrow_seconds', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_column('max_borrow_seconds')
        batch_op.drop_column('lease_seconds')
        batch_op.drop_column('seats')
