-- One row per answer option of a poll or a yes/no question, with its votes.
with polls as (
  {{ mixmax_one_copy(ref('stg_mixmax__polls'), ['poll_id']) }}
),

poll_options as (
  {{ mixmax_one_copy(ref('stg_mixmax__poll_options'), ['poll_id', 'option_position']) }}
),

poll_votes as (
  {{ mixmax_one_copy(ref('stg_mixmax__poll_votes'), ['poll_id', 'option_position', 'respondent_position']) }}
),

yesno as (
  {{ mixmax_one_copy(ref('stg_mixmax__yesno'), ['yesno_id']) }}
),

yesno_answers as (
  {{ mixmax_one_copy(ref('stg_mixmax__yesno_answers'), ['yesno_id', 'answer_position']) }}
),

yesno_responses as (
  {{ mixmax_one_copy(ref('stg_mixmax__yesno_responses'), ['yesno_id', 'answer_position', 'respondent_position']) }}
),

options as (
  select
    'poll' as kind,
    polls.poll_id as question_id,
    polls.user_id,
    polls.question,
    polls.created_at,
    poll_options.option_position,
    poll_options.option_text
  from poll_options
  inner join polls on polls.poll_id = poll_options.poll_id
  union all
  select
    'yesno' as kind,
    yesno.yesno_id as question_id,
    yesno.user_id,
    yesno.question,
    yesno.created_at,
    yesno_answers.answer_position as option_position,
    yesno_answers.answer_text as option_text
  from yesno_answers
  inner join yesno on yesno.yesno_id = yesno_answers.yesno_id
),

votes as (
  select 'poll' as kind, poll_id as question_id, option_position, responded_at
  from poll_votes
  union all
  select 'yesno' as kind, yesno_id as question_id, answer_position as option_position, responded_at
  from yesno_responses
),

option_votes as (
  select kind, question_id, option_position, count(*) as votes, max(responded_at) as last_vote_at
  from votes
  group by kind, question_id, option_position
),

counted as (
  select
    options.*,
    coalesce(option_votes.votes, 0) as votes,
    option_votes.last_vote_at,
    sum(coalesce(option_votes.votes, 0)) over (partition by options.kind, options.question_id) as question_votes
  from options
  left join option_votes
    on option_votes.kind = options.kind
    and option_votes.question_id = options.question_id
    and option_votes.option_position = options.option_position
)

select
  kind || ':' || question_id || ':' || cast(option_position as {{ mixmax_type('string') }}) as option_id,
  kind,
  question_id,
  user_id,
  question,
  created_at,
  option_position + 1 as option_number,
  option_text,
  cast(votes as {{ mixmax_type('integer') }}) as votes,
  cast(question_votes as {{ mixmax_type('integer') }}) as question_votes,
  cast(votes as {{ mixmax_type('number') }}) / nullif(question_votes, 0) as vote_share,
  last_vote_at
from counted
