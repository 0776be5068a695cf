-- One row per response: each respondent listed under a yes/no answer.
with yesno as (
  {{ mixmax_source('yesno', [
      ['_id', 'yesno_id', 'string'],
      ['answers', 'answers', 'json'],
  ]) }}
),

responses as (
  select
    yesno.account,
    yesno.yesno_id,
    answer.position as answer_position,
    respondent.position as respondent_position,
    respondent.value as respondent
  from yesno
  {{ mixmax_unnest('yesno.answers', 'answer') }}
  {{ mixmax_unnest("answer.value -> 'respondents'", 'respondent') }}
)

select
  {{ mixmax_key('account', ['yesno_id', 'answer_position', 'respondent_position']) }} as yesno_response_key,
  {{ mixmax_key('account', ['yesno_id', 'answer_position']) }} as yesno_answer_key,
  {{ mixmax_key('account', ['yesno_id']) }} as yesno_key,
  account,
  yesno_id,
  answer_position,
  respondent_position,
  -- A respondent is an object; a bare string is taken as the address.
  coalesce(respondent ->> 'email', {{ mixmax_json_string('respondent') }}) as respondent_email,
  respondent ->> 'name' as respondent_name,
  {{ mixmax_json_timestamp("respondent ->> 'respondedAt'") }} as responded_at
from responses
