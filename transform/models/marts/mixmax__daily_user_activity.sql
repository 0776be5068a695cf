-- One row per Mixmax user and UTC day with any activity: what they sent and how
-- recipients answered. Incremental (macros/mixmax_incremental.sql): a run rebuilds the
-- recent days and the user-days not here yet.
{{ config(
    materialized='incremental',
    unique_key='user_day_id',
    incremental_strategy='delete+insert',
) }}


with livefeed as (
  {{ mixmax_one_copy(ref('stg_mixmax__livefeed'), ['message_id']) }}
),

events as (
  select
    livefeed.user_id,
    events.message_id,
    events.event_type,
    cast(events.occurred_at as date) as activity_date
  from ({{ mixmax_one_copy(ref('stg_mixmax__livefeed_events'), ['event_id']) }}) as events
  inner join livefeed on livefeed.message_id = events.message_id
  {{ mixmax_incremental_where('cast(events.occurred_at as date)', 'activity_date',
      mixmax_day_key('livefeed.user_id', 'cast(events.occurred_at as date)'), 'user_day_id') }}
),

-- An unsubscribe without a user (Mixmax's userId is optional) counts for no user.
unsubscribes as (
  select * from ({{ mixmax_one_copy(ref('stg_mixmax__unsubscribes'), ['unsubscribe_id']) }}) as copies
  where user_id is not null
),

sent as (
  select user_id, cast(sent_at as date) as activity_date, count(*) as messages_sent
  from livefeed
  {{ mixmax_incremental_where('cast(sent_at as date)', 'activity_date',
      mixmax_day_key('user_id', 'cast(sent_at as date)'), 'user_day_id') }}
  group by user_id, cast(sent_at as date)
),

engagement as (
  select
    user_id,
    activity_date,
    count(distinct case when event_type = 'opened' then message_id end) as messages_opened,
    sum(case when event_type = 'opened' then 1 else 0 end) as opens,
    count(distinct case when event_type = 'replied' then message_id end) as messages_replied
  from events
  group by user_id, activity_date
),

unsubscribed as (
  select user_id, cast(created_at as date) as activity_date, count(*) as unsubscribes
  from unsubscribes
  {{ mixmax_incremental_where('cast(created_at as date)', 'activity_date',
      mixmax_day_key('user_id', 'cast(created_at as date)'), 'user_day_id') }}
  group by user_id, cast(created_at as date)
),

user_days as (
  select user_id, activity_date from sent
  union
  select user_id, activity_date from engagement
  union
  select user_id, activity_date from unsubscribed
)

select
  {{ mixmax_day_key('user_days.user_id', 'user_days.activity_date') }} as user_day_id,
  user_days.user_id,
  user_days.activity_date,
  cast(coalesce(sent.messages_sent, 0) as {{ mixmax_type('integer') }}) as messages_sent,
  cast(coalesce(engagement.messages_opened, 0) as {{ mixmax_type('integer') }}) as messages_opened,
  cast(coalesce(engagement.opens, 0) as {{ mixmax_type('integer') }}) as opens,
  cast(coalesce(engagement.messages_replied, 0) as {{ mixmax_type('integer') }}) as messages_replied,
  cast(coalesce(unsubscribed.unsubscribes, 0) as {{ mixmax_type('integer') }}) as unsubscribes
from user_days
left join sent
  on sent.user_id = user_days.user_id and sent.activity_date = user_days.activity_date
left join engagement
  on engagement.user_id = user_days.user_id and engagement.activity_date = user_days.activity_date
left join unsubscribed
  on unsubscribed.user_id = user_days.user_id and unsubscribed.activity_date = user_days.activity_date
