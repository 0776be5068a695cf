with recipients as (
  {{ mixmax_source('sequence_recipients', [
      ['_id', 'recipient_id', 'string'],
      ['sequenceId', 'sequence_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['email', 'email', 'string'],
      ['state', 'state', 'string'],
      ['completedReason', 'completed_reason', 'string'],
      ['lastStageSentOrdinal', 'last_stage_sent_ordinal', 'integer'],
      ['createdAt', 'created_at', 'timestamp'],
      ['updatedAt', 'updated_at', 'timestamp'],
      ['analytics', 'analytics', 'json'],
  ]) }}
)

select
  {{ mixmax_key('account', ['recipient_id']) }} as recipient_key,
  {{ mixmax_key('account', ['sequence_id']) }} as sequence_key,
  account,
  recipient_id,
  sequence_id,
  user_id,
  email,
  state,
  completed_reason,
  last_stage_sent_ordinal,
  created_at,
  updated_at,
  {{ mixmax_json_integer("analytics -> 'events' ->> 'opens'") }} as total_opens,
  {{ mixmax_json_integer("analytics -> 'events' ->> 'clicks'") }} as total_clicks,
  {{ mixmax_json_integer("analytics -> 'events' ->> 'downloads'") }} as total_downloads
from recipients
