-- One row per recipient address (lower case) the live feed shows a message sent to:
-- what they received and how they answered. `opens_but_never_replies` picks out those
-- who read but never answer.
with livefeed_recipients as (
  {{ mixmax_one_copy(ref('stg_mixmax__livefeed_recipients'), ['message_id', 'recipient_position']) }}
),

events as (
  {{ mixmax_one_copy(ref('stg_mixmax__livefeed_events'), ['event_id']) }}
),

received as (
  select lower(email) as email, count(distinct message_id) as messages_received
  from livefeed_recipients
  where email is not null
  group by lower(email)
),

engagement as (
  select
    lower(recipient_email) as email,
    count(distinct case when event_type = 'opened' then message_id end) as messages_opened,
    sum(case when event_type = 'opened' then 1 else 0 end) as opens,
    count(distinct case when event_type = 'clicked' then message_id end) as messages_clicked,
    count(distinct case when event_type = 'replied' then message_id end) as messages_replied,
    max(case when event_type = 'opened' then occurred_at end) as last_opened_at,
    max(case when event_type = 'replied' then occurred_at end) as last_replied_at
  from events
  where recipient_email is not null
  group by lower(recipient_email)
)

select
  received.email,
  cast(received.messages_received as {{ mixmax_type('integer') }}) as messages_received,
  cast(coalesce(engagement.messages_opened, 0) as {{ mixmax_type('integer') }}) as messages_opened,
  cast(coalesce(engagement.opens, 0) as {{ mixmax_type('integer') }}) as opens,
  cast(coalesce(engagement.messages_clicked, 0) as {{ mixmax_type('integer') }}) as messages_clicked,
  cast(coalesce(engagement.messages_replied, 0) as {{ mixmax_type('integer') }}) as messages_replied,
  engagement.last_opened_at,
  engagement.last_replied_at,
  coalesce(engagement.messages_opened, 0) > 0
    and coalesce(engagement.messages_replied, 0) = 0 as opens_but_never_replies
from received
left join engagement on engagement.email = received.email
