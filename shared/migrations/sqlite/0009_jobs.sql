-- 0009_jobs: what the scheduled jobs keep (docs/jobs.md).

-- One row per Beijing-time day: loans started, of which online (from an
-- order line), returns, and loans per kind of point as a JSON object.
-- The roll-up replaces a day's row each time it recomputes it.
CREATE TABLE daily_stats (
    day TEXT PRIMARY KEY CONSTRAINT daily_stats_day_is_a_date
        CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    loans BIGINT NOT NULL,
    online_loans BIGINT NOT NULL,
    returns BIGINT NOT NULL,
    by_point_kind TEXT NOT NULL DEFAULT '{}'
        CONSTRAINT daily_stats_by_point_kind_is_json CHECK (json_valid(by_point_kind)),
    computed_at_ms BIGINT NOT NULL
);
