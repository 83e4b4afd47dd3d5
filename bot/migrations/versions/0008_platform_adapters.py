"""platform adapters: private chats, continuations, button payloads, delivery per ticket

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('private_chats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'user_id')
    )
    op.create_table('continuations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    op.create_table('button_payloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('pending_welcomes') as batch:
        batch.add_column(sa.Column('event_id', sa.String(length=160), nullable=True))
    with op.batch_alter_table('outbound_messages') as batch:
        batch.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_outbound_messages_ticket', 'tickets', ['ticket_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_outbound_ticket', ['ticket_id'])


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages') as batch:
        batch.drop_index('ix_outbound_ticket')
        batch.drop_constraint('fk_outbound_messages_ticket', type_='foreignkey')
        batch.drop_column('ticket_id')
    with op.batch_alter_table('pending_welcomes') as batch:
        batch.drop_column('event_id')
    op.drop_table('button_payloads')
    op.drop_table('continuations')
    op.drop_table('private_chats')
