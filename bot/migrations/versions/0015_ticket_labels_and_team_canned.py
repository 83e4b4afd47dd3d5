"""ticket labels (free text, for reporting) and canned replies per team

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['added_by'], ['agents.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'label', name='uq_ticket_labels_ticket_label')
    )
    # the list filter and the report read by label
    op.create_index('ix_ticket_labels_label', 'ticket_labels', ['label'], unique=False)
    # NULL team = the reply is offered on every team's tickets; deleting a team in use is refused
    with op.batch_alter_table('canned_replies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_canned_replies_team_id_teams', 'teams', ['team_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('canned_replies', schema=None) as batch_op:
        batch_op.drop_constraint('fk_canned_replies_team_id_teams', type_='foreignkey')
        batch_op.drop_column('team_id')
    op.drop_index('ix_ticket_labels_label', table_name='ticket_labels')
    op.drop_table('ticket_labels')
