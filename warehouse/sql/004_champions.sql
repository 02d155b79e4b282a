-- AutoTTS warehouse, schema version 4: discovery that compounds across runs, and who led it.

-- A program carried over from an earlier run (to be re-evaluated on this run's data) names that run.
ALTER TABLE candidates ADD COLUMN IF NOT EXISTS carried_from VARCHAR;

-- One row per discovery run: its champion (the best evaluated candidate by score, the area under
-- accuracy at matched budgets over the baselines' budget range), how far ahead of the run's
-- runner-up it was, its mean accuracy gain over the best baseline at matched budgets, and since
-- when it has led runs of the same search split.
CREATE VIEW champion_history AS
WITH ranked AS (
    SELECT r.run_id, r.started_at, r.status AS run_status,
           coalesce(json_extract(r.parameters, '$.search_benchmarks')::VARCHAR, 'null') AS search_benchmarks,
           coalesce(json_extract(r.parameters, '$.search_models')::VARCHAR, 'null') AS search_models,
           c.controller_id, c.round, c.carried_from, c.score, c.gain,
           row_number() OVER places AS place,
           lead(c.score) OVER places AS runner_up_score
    FROM runs r JOIN candidates c USING (run_id)
    WHERE r.kind = 'discover' AND c.status = 'evaluated'
    WINDOW places AS (PARTITION BY r.run_id ORDER BY c.score DESC, c.round, c.controller_id)  -- as ProgramsDatabase.best
), champions AS (
    SELECT *, lag(controller_id) OVER split_order AS previous_champion,
           controller_id IS DISTINCT FROM lag(controller_id) OVER split_order AS new_champion
    FROM ranked
    WHERE place = 1
    WINDOW split_order AS (PARTITION BY search_benchmarks, search_models ORDER BY started_at, run_id)
), reigns AS (
    SELECT *, sum(new_champion::INTEGER) OVER (PARTITION BY search_benchmarks, search_models
                                              ORDER BY started_at, run_id) AS reign
    FROM champions
)
SELECT run_id, started_at, run_status, search_benchmarks, search_models, controller_id, round, carried_from,
       score, gain AS gain_over_best_baseline, score - runner_up_score AS lead_over_runner_up,
       new_champion, previous_champion,
       min(started_at) OVER (PARTITION BY search_benchmarks, search_models, reign) AS leading_since
FROM reigns;
