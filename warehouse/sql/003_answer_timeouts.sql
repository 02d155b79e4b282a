-- AutoTTS warehouse, schema version 3: answer readings and comparisons stopped at the time bound.
-- Every symbolic (math-verify) call of answer grading runs in a worker process with a deadline
-- (docs/data-format.md); one row per call that was stopped. The answer then counts as text only,
-- the pair as "not shown equal".

CREATE TABLE answer_timeouts (
    bank_id     VARCHAR NOT NULL,
    benchmark   VARCHAR NOT NULL,
    model       VARCHAR NOT NULL,
    question_id VARCHAR NOT NULL,
    answer      VARCHAR NOT NULL,   -- the answer being read, or the first of the pair compared
    other       VARCHAR             -- the second answer of a comparison; NULL when reading one answer
);
