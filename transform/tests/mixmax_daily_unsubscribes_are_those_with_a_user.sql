-- Fails unless mixmax__daily_user_activity counts exactly the unsubscribes that name a
-- user: one without userId counts for no user (and adds no NULL-keyed row).
with counted as (
  select coalesce(sum(unsubscribes), 0) as unsubscribes
  from {{ ref('mixmax__daily_user_activity') }}
),

with_a_user as (
  select count(*) as unsubscribes
  from ({{ mixmax_one_copy(ref('stg_mixmax__unsubscribes'), ['unsubscribe_id']) }}) as copies
  where user_id is not null
)

select counted.unsubscribes as counted, with_a_user.unsubscribes as with_a_user
from counted cross join with_a_user
where counted.unsubscribes <> with_a_user.unsubscribes
