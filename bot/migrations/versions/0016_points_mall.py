"""points mall: the rewards catalog (texts per language), the confirmations members are
asked, redemptions linked to their ledger entries, expiring-points reminders (one per lot),
a member's reminder opt-out and the column whose update locks a member's points

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

import bot.db.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('valid_from', bot.db.types.UTCDateTime(), nullable=True),
    sa.Column('valid_to', bot.db.types.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('points_cost > 0', name='ck_rewards_cost_positive'),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name='ck_rewards_stock_not_negative'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('reward_quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.Column('reward_version', sa.Integer(), nullable=False),
    sa.Column('delivery_address', sa.Text(), nullable=True),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('reward_quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_quotes_member_id'), ['member_id'], unique=False)

    op.create_table('reward_texts',
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reward_id', 'language')
    )
    op.create_table('redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delivery_address', sa.Text(), nullable=True),
    sa.Column('lots', sa.JSON(), nullable=False),
    sa.Column('member_tier', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', bot.db.types.UTCDateTime(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['agents.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quote_id'], ['reward_quotes.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('quote_id')
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_created', ['created_at'], unique=False)
        batch_op.create_index('ix_redemptions_member', ['member_id', 'created_at'], unique=False)

    op.create_table('points_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('expires_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('sent_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transaction_id'], ['points_transactions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transaction_id', name='uq_points_reminders_lot')
    )
    with op.batch_alter_table('points_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_reminders_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_opt_out', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('points_changed_at', bot.db.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('points_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redemption_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_points_transactions_redemption', 'redemptions', ['redemption_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('points_transactions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_points_transactions_redemption', type_='foreignkey')
        batch_op.drop_column('redemption_id')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('points_changed_at')
        batch_op.drop_column('reminders_opt_out')

    with op.batch_alter_table('points_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_reminders_member_id'))

    op.drop_table('points_reminders')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_member')
        batch_op.drop_index('ix_redemptions_created')

    op.drop_table('redemptions')
    op.drop_table('reward_texts')
    with op.batch_alter_table('reward_quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_quotes_member_id'))

    op.drop_table('reward_quotes')
    op.drop_table('rewards')
