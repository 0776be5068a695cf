with yesno as (
  {{ mixmax_source('yesno', [
      ['_id', 'yesno_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['created', 'created_at', 'timestamp'],
      ['text', 'question', 'string'],
  ]) }}
)

select
  {{ mixmax_key('account', ['yesno_id']) }} as yesno_key,
  account,
  yesno_id,
  user_id,
  created_at,
  question
from yesno
