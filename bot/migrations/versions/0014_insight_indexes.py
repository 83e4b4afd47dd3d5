"""insight indexes: the dashboards' range reads (tickets opened, link attempts, roll-ups
by metric) and the groups of the top unanswered texts; the roll-up's state row

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only the unanswered texts (normalized set, a tenth of the rows), covering what the
    # dashboards read of them; it serves lookups by normalized alone as well, so it replaces that index.
    op.drop_index('ix_message_records_normalized', table_name='message_records')
    op.create_index('ix_message_records_unanswered', 'message_records',
                    ['normalized', 'at', 'chat_type', 'platform', 'chat_id'], unique=False,
                    sqlite_where=sa.text('normalized IS NOT NULL'), postgresql_where=sa.text('normalized IS NOT NULL'))
    op.create_index('ix_insight_daily_metric_day', 'insight_daily', ['metric', 'day', 'dimension', 'value'],
                    unique=False)
    op.create_index('ix_tickets_created_at', 'tickets', ['created_at'], unique=False)
    op.create_index('ix_link_attempts_at', 'link_attempts', ['attempted_at'], unique=False)
    state = sa.table('insight_rollup_state', sa.column('name', sa.String))
    op.bulk_insert(state, [{'name': 'daily'}])


def downgrade() -> None:
    op.execute("DELETE FROM insight_rollup_state WHERE name = 'daily'")
    op.drop_index('ix_link_attempts_at', table_name='link_attempts')
    op.drop_index('ix_tickets_created_at', table_name='tickets')
    op.drop_index('ix_insight_daily_metric_day', table_name='insight_daily')
    op.drop_index('ix_message_records_unanswered', table_name='message_records')
    op.create_index('ix_message_records_normalized', 'message_records', ['normalized'], unique=False)
