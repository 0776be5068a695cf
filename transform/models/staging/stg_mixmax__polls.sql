with polls as (
  {{ mixmax_source('polls', [
      ['_id', 'poll_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['created', 'created_at', 'timestamp'],
      ['question', 'question', 'string'],
      ['title', 'title', 'string'],
      ['livePoll', 'is_live_poll', 'boolean'],
  ]) }}
)

select
  {{ mixmax_key('account', ['poll_id']) }} as poll_key,
  account,
  poll_id,
  user_id,
  created_at,
  question,
  title,
  is_live_poll
from polls
