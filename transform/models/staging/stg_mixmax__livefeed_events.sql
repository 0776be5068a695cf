with events as (
  {{ mixmax_source('livefeed_events', [
      ['_id', 'event_id', 'string'],
      ['messageId', 'message_id', 'string'],
      ['type', 'event_type', 'string'],
      ['timestamp', 'occurred_at', 'timestamp'],
      ['recipientEmail', 'recipient_email', 'string'],
      ['recipientName', 'recipient_name', 'string'],
      ['country', 'country', 'string'],
      ['region', 'region', 'string'],
      ['city', 'city', 'string'],
      ['os', 'os', 'string'],
      ['program', 'program', 'string'],
      ['isMobile', 'is_mobile', 'integer'],
      ['linkUrl', 'link_url', 'string'],
      ['linkText', 'link_text', 'string'],
      ['fileName', 'file_name', 'string'],
  ]) }}
)

select
  {{ mixmax_key('account', ['event_id']) }} as event_key,
  {{ mixmax_key('account', ['message_id']) }} as message_key,
  account,
  event_id,
  message_id,
  event_type,
  occurred_at,
  recipient_email,
  recipient_name,
  country,
  region,
  city,
  os,
  program,
  is_mobile = 1 as is_mobile,
  link_url,
  link_text,
  file_name
from events
