-- Who each live-feed message went to: one row per address in `recipients[]` (to, cc
-- and bcc together, in Mixmax's order).
with livefeed as (
  {{ mixmax_source('livefeed', [
      ['_id', 'livefeed_id', 'string'],
      ['messageId', 'message_id', 'string'],
      ['recipients', 'recipients', 'json'],
  ]) }}
)

select
  {{ mixmax_key('livefeed.account', ['livefeed.livefeed_id', 'recipient.position']) }} as livefeed_recipient_key,
  {{ mixmax_key('livefeed.account', ['livefeed.livefeed_id']) }} as livefeed_key,
  {{ mixmax_key('livefeed.account', ['coalesce(livefeed.message_id, livefeed.livefeed_id)']) }} as message_key,
  livefeed.account,
  livefeed.livefeed_id,
  coalesce(livefeed.message_id, livefeed.livefeed_id) as message_id,
  recipient.position as recipient_position,
  recipient.value ->> 'email' as email,
  recipient.value ->> 'name' as name
from livefeed
{{ mixmax_unnest('livefeed.recipients', 'recipient') }}
