with messages as (
  {{ mixmax_source('messages', [
      ['_id', 'message_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['created', 'created_at', 'timestamp'],
      ['updatedAt', 'updated_at', 'timestamp'],
      ['sent', 'sent_at', 'timestamp'],
      ['scheduled', 'scheduled_at', 'timestamp'],
      ['from', 'sender', 'json'],
      ['subject', 'subject', 'string'],
      ['trackingEnabled', 'tracking_enabled', 'boolean'],
      ['sequence', 'sequence', 'json'],
      ['sendingError', 'sending_error', 'string'],
  ]) }}
)

select
  {{ mixmax_key('account', ['message_id']) }} as message_key,
  account,
  message_id,
  user_id,
  -- Mixmax lists drafts, scheduled, sent and failed messages together; which one a
  -- message is shows only in which fields it has.
  case
    when sent_at is not null then 'sent'
    when sending_error is not null then 'failed'
    when scheduled_at is not null then 'scheduled'
    else 'draft'
  end as status,
  created_at,
  updated_at,
  sent_at,
  scheduled_at,
  sender ->> 'email' as from_email,
  sender ->> 'name' as from_name,
  subject,
  tracking_enabled,
  sequence ->> 'id' as sequence_id,
  sequence ->> 'stageId' as sequence_stage_id,
  sequence ->> 'recipientId' as sequence_recipient_id,
  sending_error
from messages
