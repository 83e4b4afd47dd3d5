"""inbound events keyed by chat too: message ids are unique per chat on some platforms

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The unnamed unique constraint of 0002: PostgreSQL named it itself; on SQLite batch mode
# needs a naming convention to find it.
_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}


def _old_unique_name() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "inbound_events_platform_message_id_key"
    return "uq_inbound_events_platform_message_id"


def upgrade() -> None:
    with op.batch_alter_table('inbound_events', naming_convention=_CONVENTION) as batch:
        batch.add_column(sa.Column('chat_id', sa.String(length=128), nullable=False, server_default=''))
        batch.alter_column('message_id', type_=sa.String(length=160), existing_nullable=False)
        batch.drop_constraint(_old_unique_name(), type_='unique')
        batch.create_unique_constraint('uq_inbound_events_message', ['platform', 'chat_id', 'message_id'])


def downgrade() -> None:
    with op.batch_alter_table('inbound_events', naming_convention=_CONVENTION) as batch:
        batch.drop_constraint('uq_inbound_events_message', type_='unique')
        batch.create_unique_constraint(_old_unique_name(), ['platform', 'message_id'])
        batch.alter_column('message_id', type_=sa.String(length=128), existing_nullable=False)
        batch.drop_column('chat_id')
