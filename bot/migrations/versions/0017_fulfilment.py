"""points mall fulfilment kept on the redemption (when a gift was shipped or a code used, by
whom, carrier and tracking number) and when an operator last set a reward's stock

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

import bot.db.types

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fulfilled_at', bot.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('fulfilled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('carrier', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('tracking_number', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key('fk_redemptions_fulfilled_by', 'agents', ['fulfilled_by_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stock_set_at', bot.db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_column('stock_set_at')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_redemptions_fulfilled_by', type_='foreignkey')
        batch_op.drop_column('tracking_number')
        batch_op.drop_column('carrier')
        batch_op.drop_column('fulfilled_by_id')
        batch_op.drop_column('fulfilled_at')
