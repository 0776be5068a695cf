-- One row per possible answer of a yes/no question (`answers[]`, usually Yes and No).
with yesno as (
  {{ mixmax_source('yesno', [
      ['_id', 'yesno_id', 'string'],
      ['answers', 'answers', 'json'],
  ]) }}
)

select
  {{ mixmax_key('yesno.account', ['yesno.yesno_id', 'answer.position']) }} as yesno_answer_key,
  {{ mixmax_key('yesno.account', ['yesno.yesno_id']) }} as yesno_key,
  yesno.account,
  yesno.yesno_id,
  answer.position as answer_position,
  answer.value ->> 'text' as answer_text
from yesno
{{ mixmax_unnest('yesno.answers', 'answer') }}
