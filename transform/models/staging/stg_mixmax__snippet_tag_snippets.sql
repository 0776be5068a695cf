with tagged as (
  {{ mixmax_source('snippet_tag_snippets', [
      ['snippetTagId', 'snippet_tag_id', 'string'],
      ['_id', 'snippet_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['name', 'name', 'string'],
      ['title', 'title', 'string'],
      ['isInline', 'is_inline', 'boolean'],
      ['createdAt', 'created_at', 'timestamp'],
      ['savedAt', 'saved_at', 'timestamp'],
      ['savedBy', 'saved_by', 'string'],
  ]) }}
)

select
  {{ mixmax_key('account', ['snippet_tag_id', 'snippet_id']) }} as snippet_tag_snippet_key,
  account,
  snippet_tag_id,
  snippet_id,
  user_id,
  name,
  title,
  is_inline,
  created_at,
  saved_at,
  saved_by
from tagged
