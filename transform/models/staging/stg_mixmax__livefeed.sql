-- The live feed: one row per sent message, with Mixmax's own activity counters
-- (`numOpens`, `numClicks`, `numDownloads`, as live rows name them) and its flags, which
-- Mixmax sends as 0/1 and the tap emits as booleans.
with livefeed as (
  {{ mixmax_source('livefeed', [
      ['_id', 'livefeed_id', 'string'],
      ['messageId', 'message_id', 'string'],
      ['userId', 'user_id', 'string'],
      ['fromEmail', 'from_email', 'string'],
      ['fromName', 'from_name', 'string'],
      ['subject', 'subject', 'string'],
      ['sent', 'sent_at', 'timestamp'],
      ['lastEventAt', 'last_event_at', 'timestamp'],
      ['lastEventType', 'last_event_type', 'string'],
      ['numOpens', 'num_opens', 'integer'],
      ['numClicks', 'num_clicks', 'integer'],
      ['numDownloads', 'num_downloads', 'integer'],
      ['wasReplied', 'was_replied', 'boolean'],
      ['wasBounced', 'was_bounced', 'boolean'],
      ['wasDeliveredWithTrackedOpens', 'was_delivered_with_tracked_opens', 'boolean'],
      ['wasSentViaMixmax', 'was_sent_via_mixmax', 'boolean'],
      ['trackingMuted', 'tracking_muted', 'boolean'],
      ['includeInTeamLiveFeed', 'include_in_team_live_feed', 'integer'],
  ]) }}
)

select
  {{ mixmax_key('account', ['livefeed_id']) }} as livefeed_key,
  -- The feed row's message: `messageId`, or the row's own id where Mixmax leaves it out
  -- (as the tap does when it asks for the row's events).
  {{ mixmax_key('account', ['coalesce(message_id, livefeed_id)']) }} as message_key,
  account,
  livefeed_id,
  coalesce(message_id, livefeed_id) as message_id,
  user_id,
  from_email,
  from_name,
  subject,
  sent_at,
  last_event_at,
  last_event_type,
  num_opens,
  num_clicks,
  num_downloads,
  was_replied,
  was_bounced,
  was_delivered_with_tracked_opens,
  was_sent_via_mixmax,
  tracking_muted,
  include_in_team_live_feed = 1 as include_in_team_live_feed
from livefeed
