"""One router per concept: health, yards, KPIs, reefers, the stream, metrics, replays, dashboard."""
