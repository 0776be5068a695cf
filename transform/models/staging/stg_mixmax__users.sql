with users as (
  {{ mixmax_source('users', [
      ['_id', 'user_id', 'string'],
      ['email', 'email', 'string'],
      ['name', 'name', 'string'],
      ['createdAt', 'created_at', 'timestamp'],
      ['timezone', 'timezone', 'string'],
  ]) }}
)

select
  {{ mixmax_key('account', ['user_id']) }} as user_key,
  account,
  user_id,
  email,
  name,
  created_at,
  timezone
from users
