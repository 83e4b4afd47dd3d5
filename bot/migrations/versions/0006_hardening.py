"""hardening: message claims that expire, login throttling, retention, link limits per code

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_events') as batch:
        batch.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('redacted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index('ix_inbound_received', ['received_at'])
    with op.batch_alter_table('outbound_messages') as batch:
        batch.add_column(sa.Column('redacted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index('ix_outbound_delivered', ['delivered_at'])
    op.create_index('ix_link_attempts_code', 'link_attempts', ['member_code', 'attempted_at'])
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_login_failures_user', 'login_failures', ['username', 'at'])
    op.create_index('ix_login_failures_address', 'login_failures', ['client_address', 'at'])


def downgrade() -> None:
    op.drop_index('ix_login_failures_address', table_name='login_failures')
    op.drop_index('ix_login_failures_user', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_index('ix_link_attempts_code', table_name='link_attempts')
    with op.batch_alter_table('outbound_messages') as batch:
        batch.drop_index('ix_outbound_delivered')
        batch.drop_column('redacted')
    with op.batch_alter_table('inbound_events') as batch:
        batch.drop_index('ix_inbound_received')
        batch.drop_column('redacted')
        batch.drop_column('claimed_at')
