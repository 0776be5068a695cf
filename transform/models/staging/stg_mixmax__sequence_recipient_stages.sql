-- Each recipient's progress through each stage of their sequence (`stages[]` of a
-- sequence recipient), one row per recipient and stage.
with recipients as (
  {{ mixmax_source('sequence_recipients', [
      ['_id', 'recipient_id', 'string'],
      ['sequenceId', 'sequence_id', 'string'],
      ['stages', 'stages', 'json'],
  ]) }}
),

stages as (
  select
    recipients.account,
    recipients.recipient_id,
    recipients.sequence_id,
    coalesce({{ mixmax_json_integer("stage.value ->> 'ordinal'") }}, stage.position) as stage_ordinal,
    stage.value ->> 'stageId' as stage_id,
    stage.value ->> 'type' as stage_type,
    stage.value ->> 'state' as state,
    stage.value ->> 'messageId' as message_id,
    stage.value -> 'from' ->> 'email' as from_email,
    {{ mixmax_json_timestamp("stage.value ->> 'scheduledAt'") }} as scheduled_at,
    {{ mixmax_json_timestamp("stage.value ->> 'sentAt'") }} as sent_at,
    {{ mixmax_json_timestamp("stage.value ->> 'processedAt'") }} as processed_at,
    {{ mixmax_json_integer("stage.value ->> 'opens'") }} as opens,
    {{ mixmax_json_integer("stage.value ->> 'clicks'") }} as clicks,
    {{ mixmax_json_integer("stage.value ->> 'downloads'") }} as downloads,
    {{ mixmax_json_integer("stage.value ->> 'replied'") }} as replied,
    {{ mixmax_json_integer("stage.value ->> 'senderReplied'") }} as sender_replied,
    {{ mixmax_json_integer("stage.value ->> 'bounced'") }} as bounced,
    stage.value ->> 'failedError' as failed_error
  from recipients
  {{ mixmax_unnest('recipients.stages', 'stage') }}
)

select
  {{ mixmax_key('account', ['recipient_id', 'stage_ordinal']) }} as recipient_stage_key,
  {{ mixmax_key('account', ['recipient_id']) }} as recipient_key,
  {{ mixmax_key('account', ['sequence_id', 'stage_ordinal']) }} as sequence_stage_key,
  account,
  recipient_id,
  sequence_id,
  stage_id,
  stage_ordinal,
  stage_ordinal + 1 as stage_number,
  stage_type,
  state,
  message_id,
  from_email,
  scheduled_at,
  sent_at,
  processed_at,
  opens,
  clicks,
  downloads,
  replied,
  sender_replied,
  bounced,
  failed_error
from stages
