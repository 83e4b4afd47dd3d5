"""a group's push webhook key (WeCom 消息推送) for announcements; reply URLs kept for later replies

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('community_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('push_key', sa.String(length=64), nullable=True))
    op.create_table('reply_urls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('chat_key', sa.String(length=400), nullable=False),
    sa.Column('url_hash', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url_hash')
    )
    op.create_index('ix_reply_urls_chat', 'reply_urls', ['platform', 'chat_key', 'state'], unique=False)
    op.create_index('ix_continuations_user', 'continuations', ['platform', 'user_id'], unique=False)
    op.create_index(op.f('ix_reply_urls_received_at'), 'reply_urls', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reply_urls_received_at'), table_name='reply_urls')
    op.drop_index('ix_continuations_user', table_name='continuations')
    op.drop_index('ix_reply_urls_chat', table_name='reply_urls')
    op.drop_table('reply_urls')
    with op.batch_alter_table('community_groups', schema=None) as batch_op:
        batch_op.drop_column('push_key')
