-- Fails on every attributed unsubscribe whose stage its own account never saw sent: one
-- account's unsubscribe must not count against another account's stage.
select attribution.unsubscribe_id, attribution.account, attribution.recipient_id
from {{ ref('int_mixmax__unsubscribe_attribution') }} as attribution
left join {{ ref('stg_mixmax__sequence_recipient_stages') }} as stages
  on stages.recipient_id = attribution.recipient_id
  and stages.stage_ordinal = attribution.stage_ordinal
  and {{ mixmax_same_account('stages', 'attribution') }}
  and stages.sent_at is not null
where stages.recipient_id is null
