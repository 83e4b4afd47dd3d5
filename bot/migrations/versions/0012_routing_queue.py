"""a queue that routes: teams and skills, agent availability, ticket category, priority,
order, SLA and satisfaction survey

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The teams a new install starts with and where each ticket category goes; operators
# change both in the console.
DEFAULT_TEAMS = (("general", "General"), ("after_sales", "After-sales"), ("orders", "Orders"))
DEFAULT_ROUTES = {"complain": "after_sales", "return_refund": "after_sales", "change_order": "orders",
                  "payment_issue": "orders", "order_inquiry": "orders", "general": "general",
                  "account": "general"}


def upgrade() -> None:
    teams = op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('agent_teams',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'team_id')
    )
    routes = op.create_table('category_routes',
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category')
    )
    mutexes = op.create_table('db_mutexes',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('touched_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('availability', sa.String(length=8), nullable=False, server_default='offline'))
        batch_op.add_column(sa.Column('languages', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('last_assigned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=32), nullable=False, server_default='general'))
        batch_op.add_column(sa.Column('priority', sa.String(length=8), nullable=False, server_default='normal'))
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('order_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('order_verified', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('unassigned_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sla_due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_breached_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('csat_state', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('csat_asked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('csat_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('csat_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('csat_answered_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_tickets_team_id_teams', 'teams', ['team_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_tickets_unassigned_by_agents', 'agents', ['unassigned_by_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_tickets_queue', ['status', 'assignee_id', 'team_id'], unique=False)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    connection = op.get_bind()
    for key, name in DEFAULT_TEAMS:
        connection.execute(teams.insert().values(key=key, name=name, created_at=now))
    ids = dict(connection.execute(sa.select(teams.c.key, teams.c.id)).all())
    for category, team in DEFAULT_ROUTES.items():
        connection.execute(routes.insert().values(category=category, team_id=ids[team]))
    connection.execute(mutexes.insert().values(name="ticket_assignment"))
    op.execute(f"UPDATE tickets SET team_id = {int(ids['general'])}")


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_queue')
        batch_op.drop_constraint('fk_tickets_unassigned_by_agents', type_='foreignkey')
        batch_op.drop_constraint('fk_tickets_team_id_teams', type_='foreignkey')
        for column in ('csat_answered_at', 'csat_comment', 'csat_score', 'csat_asked_at', 'csat_state',
                       'sla_breached_at', 'sla_due_at', 'unassigned_by_id', 'assigned_at', 'order_verified', 'order_number',
                       'team_id', 'priority', 'category'):
            batch_op.drop_column(column)
    with op.batch_alter_table('agents', schema=None) as batch_op:
        for column in ('last_seen_at', 'last_assigned_at', 'languages', 'availability'):
            batch_op.drop_column(column)
    op.drop_table('db_mutexes')
    op.drop_table('category_routes')
    op.drop_table('agent_teams')
    op.drop_table('teams')
