"""The results store, metrics and AMS, leaderboards, reports and the published site."""
