"""The residents' side: their reports (with photos, steps and challenges), the office's disclosure
of a round's rectification, residents' ratings and the petition counts entered per unit and month.

A database that create_all made with these tables before it was stamped holds them already; it is kept."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.schema import has_table

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_table(op.get_bind(), "resident_report"):
        return
    op.create_table('resident_challenge',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce')
    )
    with op.batch_alter_table('resident_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_challenge_expires_at'), ['expires_at'], unique=False)

    op.create_table('petition_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('entered_by', sa.Integer(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entered_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id', 'period')
    )
    with op.batch_alter_table('petition_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_count_unit_id'), ['unit_id'], unique=False)

    op.create_table('disclosure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('introduction', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['inspection_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id')
    )
    op.create_table('disclosure_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.Column('common_problem_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('shown', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['common_problem_id'], ['common_problem.id'], ),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('disclosure_id', 'common_problem_id', 'unit_id')
    )
    with op.batch_alter_table('disclosure_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_item_disclosure_id'), ['disclosure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_item_unit_id'), ['unit_id'], unique=False)

    op.create_table('resident_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_key', sa.String(length=32), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('forwarded_unit_id', sa.Integer(), nullable=True),
    sa.Column('forward_deadline', sa.Date(), nullable=True),
    sa.Column('process_instance_id', sa.Integer(), nullable=True),
    sa.Column('unit_reply', sa.Text(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['forwarded_unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['inspection_round.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tracking_code')
    )
    with op.batch_alter_table('resident_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_report_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_report_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_report_source_key'), ['source_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_report_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_report_unit_id'), ['unit_id'], unique=False)

    op.create_table('resident_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['resident_report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('resident_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_photo_report_id'), ['report_id'], unique=False)

    op.create_table('resident_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('device_key', sa.String(length=32), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['disclosure_item.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['resident_report.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['inspection_round.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'device_key'),
    sa.UniqueConstraint('report_id')
    )
    with op.batch_alter_table('resident_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_rating_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_rating_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_rating_unit_id'), ['unit_id'], unique=False)

    op.create_table('resident_report_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['resident_report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('resident_report_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_report_step_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('resident_report_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_report_step_report_id'))

    op.drop_table('resident_report_step')
    with op.batch_alter_table('resident_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_rating_unit_id'))
        batch_op.drop_index(batch_op.f('ix_resident_rating_round_id'))
        batch_op.drop_index(batch_op.f('ix_resident_rating_item_id'))

    op.drop_table('resident_rating')
    with op.batch_alter_table('resident_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_photo_report_id'))

    op.drop_table('resident_photo')
    with op.batch_alter_table('resident_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_report_unit_id'))
        batch_op.drop_index(batch_op.f('ix_resident_report_status'))
        batch_op.drop_index(batch_op.f('ix_resident_report_source_key'))
        batch_op.drop_index(batch_op.f('ix_resident_report_round_id'))
        batch_op.drop_index(batch_op.f('ix_resident_report_received_at'))

    op.drop_table('resident_report')
    with op.batch_alter_table('disclosure_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_item_unit_id'))
        batch_op.drop_index(batch_op.f('ix_disclosure_item_disclosure_id'))

    op.drop_table('disclosure_item')
    op.drop_table('disclosure')
    with op.batch_alter_table('petition_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_count_unit_id'))

    op.drop_table('petition_count')
    with op.batch_alter_table('resident_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_challenge_expires_at'))

    op.drop_table('resident_challenge')
