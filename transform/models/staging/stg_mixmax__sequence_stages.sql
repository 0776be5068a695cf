-- One row per stage of a sequence, in the sequence's order (`sequences.stages`).
with sequences as (
  {{ mixmax_source('sequences', [
      ['_id', 'sequence_id', 'string'],
      ['stages', 'stages', 'json'],
  ]) }}
),

stages as (
  select
    sequences.account,
    sequences.sequence_id,
    {{ mixmax_json_string('stage.value') }} as stage_id,
    stage.position as stage_ordinal
  from sequences
  {{ mixmax_unnest('sequences.stages', 'stage') }}
)

select
  {{ mixmax_key('account', ['sequence_id', 'stage_ordinal']) }} as sequence_stage_key,
  {{ mixmax_key('account', ['sequence_id']) }} as sequence_key,
  account,
  sequence_id,
  stage_id,
  stage_ordinal,
  stage_ordinal + 1 as stage_number
from stages
