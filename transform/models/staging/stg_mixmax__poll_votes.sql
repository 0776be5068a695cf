-- One row per vote: each respondent listed under a poll option.
with polls as (
  {{ mixmax_source('polls', [
      ['_id', 'poll_id', 'string'],
      ['options', 'options', 'json'],
  ]) }}
),

votes as (
  select
    polls.account,
    polls.poll_id,
    poll_option.position as option_position,
    respondent.position as respondent_position,
    respondent.value as respondent
  from polls
  {{ mixmax_unnest('polls.options', 'poll_option') }}
  {{ mixmax_unnest("poll_option.value -> 'respondents'", 'respondent') }}
)

select
  {{ mixmax_key('account', ['poll_id', 'option_position', 'respondent_position']) }} as poll_vote_key,
  {{ mixmax_key('account', ['poll_id', 'option_position']) }} as poll_option_key,
  {{ mixmax_key('account', ['poll_id']) }} as poll_key,
  account,
  poll_id,
  option_position,
  respondent_position,
  -- A respondent is an object; a bare string is taken as the address.
  coalesce(respondent ->> 'email', {{ mixmax_json_string('respondent') }}) as respondent_email,
  respondent ->> 'name' as respondent_name,
  {{ mixmax_json_timestamp("respondent ->> 'respondedAt'") }} as responded_at
from votes
