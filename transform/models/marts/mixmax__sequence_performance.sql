-- One row per sequence stage: how many recipients it reached and what they did.
-- Every figure is defined once, in _mixmax__marts.yml.
with sequences as (
  {{ mixmax_one_copy(ref('stg_mixmax__sequences'), ['sequence_id']) }}
),

sequence_stages as (
  {{ mixmax_one_copy(ref('stg_mixmax__sequence_stages'), ['sequence_id', 'stage_ordinal']) }}
),

recipient_stages as (
  {{ mixmax_one_copy(ref('stg_mixmax__sequence_recipient_stages'), ['recipient_id', 'stage_ordinal']) }}
),

-- Each unsubscribe counts against one stage, seen by its own account
-- (int_mixmax__unsubscribe_attribution).
unsubscribed as (
  select distinct recipient_id, stage_ordinal
  from {{ ref('int_mixmax__unsubscribe_attribution') }}
),

per_stage as (
  select
    recipient_stages.sequence_id,
    recipient_stages.stage_ordinal,
    count(*) as recipients,
    sum(case when recipient_stages.sent_at is not null or recipient_stages.bounced > 0 then 1 else 0 end) as sent,
    sum(case when recipient_stages.opens > 0 then 1 else 0 end) as opened,
    sum(case when recipient_stages.clicks > 0 then 1 else 0 end) as clicked,
    sum(case when recipient_stages.replied > 0 then 1 else 0 end) as replied,
    sum(case when recipient_stages.bounced > 0 then 1 else 0 end) as bounced,
    sum(case when unsubscribed.recipient_id is not null then 1 else 0 end) as unsubscribed
  from recipient_stages
  left join unsubscribed
    on unsubscribed.recipient_id = recipient_stages.recipient_id
    and unsubscribed.stage_ordinal = recipient_stages.stage_ordinal
  group by recipient_stages.sequence_id, recipient_stages.stage_ordinal
),

figures as (
  select
    sequence_stages.sequence_id,
    sequence_stages.stage_ordinal,
    sequence_stages.stage_number,
    sequence_stages.stage_id,
    sequences.name as sequence_name,
    coalesce(per_stage.recipients, 0) as recipients,
    coalesce(per_stage.sent, 0) as sent,
    coalesce(per_stage.opened, 0) as opened,
    coalesce(per_stage.clicked, 0) as clicked,
    coalesce(per_stage.replied, 0) as replied,
    coalesce(per_stage.bounced, 0) as bounced,
    coalesce(per_stage.unsubscribed, 0) as unsubscribed
  from sequence_stages
  left join sequences on sequences.sequence_id = sequence_stages.sequence_id
  left join per_stage
    on per_stage.sequence_id = sequence_stages.sequence_id
    and per_stage.stage_ordinal = sequence_stages.stage_ordinal
)

select
  sequence_id || ':' || cast(stage_ordinal as {{ mixmax_type('string') }}) as sequence_stage_id,
  sequence_id,
  sequence_name,
  stage_number,
  stage_id,
  cast(recipients as {{ mixmax_type('integer') }}) as recipients,
  cast(sent as {{ mixmax_type('integer') }}) as sent,
  cast(opened as {{ mixmax_type('integer') }}) as opened,
  cast(clicked as {{ mixmax_type('integer') }}) as clicked,
  cast(replied as {{ mixmax_type('integer') }}) as replied,
  cast(bounced as {{ mixmax_type('integer') }}) as bounced,
  cast(unsubscribed as {{ mixmax_type('integer') }}) as unsubscribed,
  {%- set rates = {'opened': 'open_rate', 'clicked': 'click_rate', 'replied': 'reply_rate',
                   'bounced': 'bounce_rate', 'unsubscribed': 'unsubscribe_rate'} %}
  {%- for figure, rate in rates.items() %}
  cast({{ figure }} as {{ mixmax_type('number') }}) / nullif(sent, 0) as {{ rate }}{{ ',' if not loop.last }}
  {%- endfor %}
from figures
