with unsubscribes as (
  {{ mixmax_source('unsubscribes', [
      ['_id', 'unsubscribe_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['email', 'email', 'string'],
      ['name', 'name', 'string'],
      ['teamId', 'team_id', 'string'],
      ['messageId', 'message_id', 'string'],
      ['createdAt', 'created_at', 'timestamp'],
  ]) }}
)

select
  {{ mixmax_key('account', ['unsubscribe_id']) }} as unsubscribe_key,
  account,
  unsubscribe_id,
  user_id,
  email,
  name,
  team_id,
  message_id,
  created_at
from unsubscribes
