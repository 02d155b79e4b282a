-- AutoTTS warehouse, schema version 4: discovery that compounds across runs, and who led it.

-- A program carried over from an earlier run (to be re-evaluated on this run's data) names that run.
ALTER TABLE candidates ADD COLUMN IF NOT EXISTS carried_from VARCHAR;

-- The champion a discovery run chose when it completed (by the flow's own selection rule, the one
-- that picks what is held out), and the candidate it ranked second.
CREATE TABLE IF NOT EXISTS run_champions (
    run_id        VARCHAR PRIMARY KEY,
    controller_id VARCHAR NOT NULL,
    runner_up     VARCHAR,
    decided_at    TIMESTAMP NOT NULL
);

-- One row per completed discovery run: its champion, by how much it led (its mean accuracy gain
-- over the best baseline at matched budgets, and its lead in score and gain over the runner-up),
-- whether it took over from the previous run of the same search split, and since when it leads.
CREATE VIEW champion_history AS
WITH champions AS (
    SELECT r.run_id, r.started_at,
           coalesce(json_extract(r.parameters, '$.search_benchmarks')::VARCHAR, 'null') AS search_benchmarks,
           coalesce(json_extract(r.parameters, '$.search_models')::VARCHAR, 'null') AS search_models,
           w.controller_id, c.round, c.carried_from, c.score, c.gain,
           c.score - u.score AS lead_in_score, c.gain - u.gain AS lead_in_gain
    FROM run_champions w
    JOIN runs r USING (run_id)
    JOIN candidates c ON c.run_id = w.run_id AND c.controller_id = w.controller_id
    LEFT JOIN candidates u ON u.run_id = w.run_id AND u.controller_id = w.runner_up
), changes AS (
    SELECT *, lag(controller_id) OVER split_order AS previous_champion,
           controller_id IS DISTINCT FROM lag(controller_id) OVER split_order AS new_champion
    FROM champions
    WINDOW split_order AS (PARTITION BY search_benchmarks, search_models ORDER BY started_at, run_id)
), reigns AS (
    SELECT *, sum(new_champion::INTEGER) OVER (PARTITION BY search_benchmarks, search_models
                                              ORDER BY started_at, run_id) AS reign
    FROM changes
)
SELECT run_id, started_at, search_benchmarks, search_models, controller_id, round, carried_from,
       score, gain AS gain_over_best_baseline, lead_in_score, lead_in_gain, new_champion, previous_champion,
       min(started_at) OVER (PARTITION BY search_benchmarks, search_models, reign) AS leading_since
FROM reigns;
