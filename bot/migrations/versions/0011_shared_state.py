"""state shared by several instances: models in the database, one training run at a time
across instances, and leases (one active scheduler)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('model_files',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('model_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
    # runs left "running" by an old server can never finish: close them before the index
    op.execute("UPDATE model_jobs SET status = 'failed' WHERE status = 'running'")
    op.create_index('uq_model_jobs_one_running', 'model_jobs', ['status'], unique=True,
                    sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))


def downgrade() -> None:
    op.drop_index('uq_model_jobs_one_running', table_name='model_jobs')
    with op.batch_alter_table('model_jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('owner')
    op.drop_table('leases')
    op.drop_table('model_files')
