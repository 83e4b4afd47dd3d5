"""insights: message records, group joins, daily roll-ups, unanswered-inbox decisions,
team leads (agents who may read the insights)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('chat_type', sa.String(length=8), nullable=False),
    sa.Column('chat_id', sa.String(length=128), nullable=True),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('addressed', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('response', sa.String(length=64), nullable=True),
    sa.Column('conversation_id', sa.String(length=400), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('normalized', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_message_records_at', 'message_records', ['at'], unique=False)
    op.create_index('ix_message_records_outcome_at', 'message_records', ['outcome', 'at'], unique=False)
    op.create_index('ix_message_records_normalized', 'message_records', ['normalized'], unique=False)
    op.create_table('group_joins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('chat_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_group_joins_at', 'group_joins', ['at'], unique=False)
    op.create_table('insight_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('metric', sa.String(length=48), nullable=False),
    sa.Column('dimension', sa.String(length=200), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'metric', 'dimension')
    )
    op.create_table('insight_rollup_state',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('rolled_through', sa.Date(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_lead', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('unanswered_reviews',
    sa.Column('normalized', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('example', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('normalized')
    )


def downgrade() -> None:
    op.drop_table('unanswered_reviews')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('team_lead')
    op.drop_table('insight_rollup_state')
    op.drop_table('insight_daily')
    op.drop_index('ix_group_joins_at', table_name='group_joins')
    op.drop_table('group_joins')
    op.drop_index('ix_message_records_normalized', table_name='message_records')
    op.drop_index('ix_message_records_outcome_at', table_name='message_records')
    op.drop_index('ix_message_records_at', table_name='message_records')
    op.drop_table('message_records')
