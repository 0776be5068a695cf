with sequences as (
  {{ mixmax_source('sequences', [
      ['_id', 'sequence_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['name', 'name', 'string'],
      ['createdAt', 'created_at', 'timestamp'],
      ['updatedAt', 'recipient_added_at', 'timestamp'],
      ['timezone', 'timezone', 'string'],
      ['sendStagesAsReplies', 'send_stages_as_replies', 'boolean'],
      ['linkTrackingEnabled', 'link_tracking_enabled', 'boolean'],
      ['fileTrackingEnabled', 'file_tracking_enabled', 'boolean'],
      ['notificationsEnabled', 'notifications_enabled', 'boolean'],
  ]) }}
)

select
  {{ mixmax_key('account', ['sequence_id']) }} as sequence_key,
  account,
  sequence_id,
  user_id,
  name,
  created_at,
  recipient_added_at,
  timezone,
  send_stages_as_replies,
  link_tracking_enabled,
  file_tracking_enabled,
  notifications_enabled
from sequences
