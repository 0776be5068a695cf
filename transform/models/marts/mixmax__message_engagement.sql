-- One row per sent message (the live feed): who it reached and what they did.
-- Incremental (macros/mixmax_incremental.sql): a run rebuilds the messages with recent
-- activity (sent, or newest event) and those not here yet; activity only ever moves a
-- message's last activity forward, so the others cannot have changed.
{{ config(
    materialized='incremental',
    unique_key='message_id',
    incremental_strategy='delete+insert',
) }}

with livefeed as (
  {{ mixmax_one_copy(ref('stg_mixmax__livefeed'), ['message_id']) }}
),

changed as (
  select *, coalesce(last_event_at, sent_at) as last_activity_at
  from livefeed
  {{ mixmax_incremental_where('coalesce(last_event_at, sent_at)', 'last_activity_at', 'message_id', 'message_id') }}
),

recipients as (
  select livefeed_recipients.message_id, count(*) as recipients
  from ({{ mixmax_one_copy(ref('stg_mixmax__livefeed_recipients'), ['message_id', 'recipient_position']) }}) as livefeed_recipients
  inner join changed on changed.message_id = livefeed_recipients.message_id
  group by livefeed_recipients.message_id
),

events as (
  select events.message_id, events.event_type, events.occurred_at, lower(events.recipient_email) as recipient_email
  from ({{ mixmax_one_copy(ref('stg_mixmax__livefeed_events'), ['event_id']) }}) as events
  inner join changed on changed.message_id = events.message_id
),

opens as (
  select
    message_id,
    min(occurred_at) as first_opened_at,
    count(distinct recipient_email) as unique_openers,
    count(*) as opens_loaded
  from events
  where event_type = 'opened'
  group by message_id
)

select
  changed.message_id,
  changed.user_id,
  changed.from_email,
  changed.subject,
  changed.sent_at,
  cast(coalesce(recipients.recipients, 0) as {{ mixmax_type('integer') }}) as recipients,
  cast(coalesce(changed.num_opens, 0) as {{ mixmax_type('integer') }}) as opens,
  cast(coalesce(changed.num_clicks, 0) as {{ mixmax_type('integer') }}) as clicks,
  cast(coalesce(changed.num_downloads, 0) as {{ mixmax_type('integer') }}) as downloads,
  cast(coalesce(opens.unique_openers, 0) as {{ mixmax_type('integer') }}) as unique_openers,
  opens.first_opened_at,
  {{ mixmax_seconds_between('changed.sent_at', 'opens.first_opened_at') }} as seconds_to_first_open,
  coalesce(changed.was_replied, false) as replied,
  coalesce(changed.was_bounced, false) as bounced,
  coalesce(opens.opens_loaded, 0) >= coalesce(changed.num_opens, 0) as first_open_is_exact,
  changed.last_activity_at
from changed
left join recipients on recipients.message_id = changed.message_id
left join opens on opens.message_id = changed.message_id
