-- Which sequence stage each unsubscribe counts against: the last stage sent to its
-- address at most `mixmax_unsubscribe_attribution_days` before it, among the stages the
-- account that saw the unsubscribe sees. One account's unsubscribe never counts against a
-- stage only another account sent. One row per unsubscribe that has such a stage.
with unsubscribes as (
  select account, unsubscribe_id, lower(email) as email, created_at
  from {{ ref('stg_mixmax__unsubscribes') }}
),

sent_stages as (
  select
    recipient_stages.account,
    recipient_stages.recipient_id,
    recipient_stages.sequence_id,
    recipient_stages.stage_ordinal,
    recipient_stages.sent_at,
    lower(recipients.email) as email
  from {{ ref('stg_mixmax__sequence_recipient_stages') }} as recipient_stages
  inner join {{ ref('stg_mixmax__sequence_recipients') }} as recipients
    on recipients.recipient_id = recipient_stages.recipient_id
    and {{ mixmax_same_account('recipients', 'recipient_stages') }}
  where recipient_stages.sent_at is not null
),

candidates as (
  select
    unsubscribes.unsubscribe_id,
    unsubscribes.account,
    sent_stages.recipient_id,
    sent_stages.sequence_id,
    sent_stages.stage_ordinal,
    row_number() over (
      partition by unsubscribes.unsubscribe_id
      order by sent_stages.sent_at desc, sent_stages.recipient_id desc,
        sent_stages.stage_ordinal desc, unsubscribes.account
    ) as recency
  from unsubscribes
  inner join sent_stages
    on {{ mixmax_same_account('sent_stages', 'unsubscribes') }}
    and sent_stages.email = unsubscribes.email
    and sent_stages.sent_at <= unsubscribes.created_at
    and sent_stages.sent_at > {{ dbt.dateadd('day', -var('mixmax_unsubscribe_attribution_days'), 'unsubscribes.created_at') }}
)

select unsubscribe_id, account, recipient_id, sequence_id, stage_ordinal
from candidates
where recency = 1
