-- One row per option of a poll (`options[]`), in the poll's order.
with polls as (
  {{ mixmax_source('polls', [
      ['_id', 'poll_id', 'string'],
      ['options', 'options', 'json'],
  ]) }}
)

select
  {{ mixmax_key('polls.account', ['polls.poll_id', 'poll_option.position']) }} as poll_option_key,
  {{ mixmax_key('polls.account', ['polls.poll_id']) }} as poll_key,
  polls.account,
  polls.poll_id,
  poll_option.position as option_position,
  poll_option.value ->> 'text' as option_text
from polls
{{ mixmax_unnest('polls.options', 'poll_option') }}
