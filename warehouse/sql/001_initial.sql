-- AutoTTS warehouse, schema version 1.

CREATE TABLE banks (
    bank_id        VARCHAR PRIMARY KEY,      -- first 16 hex digits of the content hash
    content_hash   VARCHAR NOT NULL UNIQUE,  -- sha256 of the source file's bytes (+ answer mode)
    source         VARCHAR NOT NULL,         -- file path it was ingested from
    synthetic      BOOLEAN NOT NULL,
    answer_mode    VARCHAR NOT NULL,         -- math | exact
    n_questions    INTEGER NOT NULL,
    n_trajectories INTEGER NOT NULL,
    ingested_at    TIMESTAMP NOT NULL
);

CREATE TABLE questions (
    bank_id        VARCHAR NOT NULL,
    benchmark      VARCHAR NOT NULL,
    model          VARCHAR NOT NULL,
    question_id    VARCHAR NOT NULL,
    problem        VARCHAR,
    gold           VARCHAR NOT NULL,
    answer_type    VARCHAR NOT NULL,
    n_trajectories INTEGER NOT NULL,
    PRIMARY KEY (bank_id, benchmark, model, question_id)
);

CREATE TABLE answer_classes (
    bank_id     VARCHAR NOT NULL,
    benchmark   VARCHAR NOT NULL,
    model       VARCHAR NOT NULL,
    question_id VARCHAR NOT NULL,
    class_id    INTEGER NOT NULL,
    answer      VARCHAR NOT NULL,  -- the first-seen text of the class
    correct     BOOLEAN NOT NULL,
    PRIMARY KEY (bank_id, benchmark, model, question_id, class_id)
);

CREATE TABLE trajectories (
    bank_id      VARCHAR NOT NULL,
    benchmark    VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    question_id  VARCHAR NOT NULL,
    traj_id      INTEGER NOT NULL,
    n_chunks     INTEGER NOT NULL,
    total_tokens BIGINT NOT NULL,
    final_answer VARCHAR,
    final_class  INTEGER NOT NULL,   -- -1: no answer
    finished     BOOLEAN NOT NULL,
    PRIMARY KEY (bank_id, benchmark, model, question_id, traj_id)
);

CREATE TABLE probes (                -- one row per chunk of a trajectory and the probe after it
    bank_id      VARCHAR NOT NULL,
    benchmark    VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    question_id  VARCHAR NOT NULL,
    traj_id      INTEGER NOT NULL,
    chunk        INTEGER NOT NULL,   -- 1-based depth the probe was taken at
    chunk_tokens INTEGER NOT NULL,
    probe_answer VARCHAR,
    probe_class  INTEGER NOT NULL,   -- -1: no answer
    probe_tokens INTEGER NOT NULL,
    confidence   DOUBLE
);

CREATE TABLE controllers (
    controller_id VARCHAR PRIMARY KEY,  -- first 16 hex digits of sha256(name, source, knobs)
    name          VARCHAR NOT NULL,
    origin        VARCHAR NOT NULL,     -- baseline | explorer | user
    source        VARCHAR NOT NULL,     -- module source code (baselines: their module)
    knobs         JSON,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE runs (
    run_id      VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,       -- evaluate | discover
    parameters  JSON,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status      VARCHAR NOT NULL        -- running | completed | failed
);

CREATE TABLE evaluations (
    run_id        VARCHAR NOT NULL,
    controller_id VARCHAR NOT NULL,
    bank_id       VARCHAR NOT NULL,
    benchmark     VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,
    beta          DOUBLE NOT NULL,
    accuracy      DOUBLE,
    accuracy_low  DOUBLE,
    accuracy_high DOUBLE,
    tokens        DOUBLE,               -- mean tokens per question
    rounds        DOUBLE,
    seq_tokens    DOUBLE,
    questions     INTEGER,
    permutations  INTEGER,
    error         VARCHAR,              -- set when the controller failed; metrics are then NULL
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, controller_id, bank_id, benchmark, model, beta)
);

CREATE TABLE scores (
    run_id        VARCHAR NOT NULL,
    controller_id VARCHAR NOT NULL,
    benchmark     VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,      -- normalised area under accuracy vs log tokens
    budget_low    DOUBLE NOT NULL,
    budget_high   DOUBLE NOT NULL,
    gain_over_best_baseline DOUBLE,     -- mean accuracy gain at matched budgets
    PRIMARY KEY (run_id, controller_id, benchmark, model)
);

CREATE TABLE pareto_points (
    run_id        VARCHAR NOT NULL,
    benchmark     VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,
    controller_id VARCHAR NOT NULL,
    beta          DOUBLE NOT NULL,
    tokens        DOUBLE NOT NULL,
    accuracy      DOUBLE NOT NULL
);

CREATE TABLE discovery_rounds (
    run_id        VARCHAR NOT NULL,
    round         INTEGER NOT NULL,
    explorer      VARCHAR NOT NULL,
    candidates    INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    best_score    DOUBLE,
    input_tokens  BIGINT,
    output_tokens BIGINT,
    cost_usd      DOUBLE,
    seconds       DOUBLE,
    finished_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, round)
);

-- Views: the stable interface.

CREATE VIEW baseline_curves AS
SELECT c.name AS controller, e.benchmark, e.model, e.beta, e.accuracy, e.accuracy_low,
       e.accuracy_high, e.tokens, e.rounds, e.seq_tokens, e.run_id, e.created_at
FROM evaluations e JOIN controllers c USING (controller_id)
WHERE c.origin = 'baseline' AND e.error IS NULL;

CREATE VIEW leaderboard AS
SELECT s.benchmark, s.model, c.name AS controller, c.origin, s.score, s.gain_over_best_baseline,
       s.run_id, rank() OVER (PARTITION BY s.run_id, s.benchmark, s.model ORDER BY s.score DESC) AS rank
FROM scores s JOIN controllers c USING (controller_id);

CREATE VIEW pareto_frontier AS
SELECT p.run_id, p.benchmark, p.model, c.name AS controller, c.origin, p.beta, p.tokens, p.accuracy
FROM pareto_points p JOIN controllers c USING (controller_id);
