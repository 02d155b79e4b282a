-- AutoTTS warehouse, schema version 2: the programs database of discovery runs.

CREATE TABLE candidates (
    run_id        VARCHAR NOT NULL,
    round         INTEGER NOT NULL,
    controller_id VARCHAR NOT NULL,     -- also a row of controllers once evaluated
    island        INTEGER NOT NULL,
    parents       JSON,                 -- controller_ids this one was derived from
    explorer      VARCHAR NOT NULL,     -- offline | anthropic:<model>
    source        VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,     -- proposed | evaluated | failed
    score         DOUBLE,               -- ranking score on the search split (mean over groups)
    gain          DOUBLE,               -- mean accuracy gain over the best baseline at matched budgets
    error         VARCHAR,              -- why it failed (shown to the explorer)
    feedback      VARCHAR,              -- execution-trace diagnosis (shown to the explorer)
    proposed_at   TIMESTAMP NOT NULL,
    evaluated_at  TIMESTAMP,
    PRIMARY KEY (run_id, controller_id)
);

CREATE VIEW discovery_progress AS
SELECT r.run_id, r.round, r.explorer, r.candidates, r.failures, r.best_score,
       max(r.best_score) OVER (PARTITION BY r.run_id ORDER BY r.round) AS best_so_far,
       r.input_tokens, r.output_tokens, r.cost_usd, r.seconds, r.finished_at
FROM discovery_rounds r;
