"""announcements

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('link_url', sa.String(length=500), nullable=True),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('target_group_ids', sa.JSON(), nullable=False),
    sa.Column('target_tag', sa.String(length=100), nullable=True),
    sa.Column('schedule_type', sa.String(length=16), nullable=False),
    sa.Column('run_at', sa.DateTime(), nullable=True),
    sa.Column('cron', sa.String(length=100), nullable=True),
    sa.Column('interval_value', sa.Integer(), nullable=True),
    sa.Column('interval_unit', sa.String(length=16), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('processed_until', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('announcement_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('outbound_message_id', sa.Integer(), nullable=True),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbound_message_id'], ['outbound_messages.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('announcement_id', 'scheduled_for', 'group_id')
    )
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=False, server_default='agent'))

    with op.batch_alter_table('community_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_announcements_per_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quiet_hours', sa.String(length=16), nullable=True))

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_attempts', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('max_attempts')

    with op.batch_alter_table('community_groups', schema=None) as batch_op:
        batch_op.drop_column('quiet_hours')
        batch_op.drop_column('max_announcements_per_day')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('role')

    op.drop_table('announcement_deliveries')
    op.drop_table('announcements')
