-- AutoTTS warehouse, schema version 6: multi-fidelity discovery and per-model folds.
-- A candidate is first scored on a few permutations and promoted to more if it is promising
-- (successive halving); `permutations` says how many its stored score used. `curve` holds its
-- search-split curve averaged over groups, one [beta, tokens, accuracy] per beta, which the
-- offline explorer reads to keep the rows on the candidate's own frontier. `fold_gains` holds the
-- gain over the best baseline per (benchmark, model) group: the selection rule ranks candidates by
-- their worst fold, so a controller that only wins on one model is not chosen.

ALTER TABLE candidates ADD COLUMN permutations INTEGER;
ALTER TABLE candidates ADD COLUMN curve JSON;
ALTER TABLE candidates ADD COLUMN fold_gains JSON;
ALTER TABLE candidates ADD COLUMN worst_gain DOUBLE;

-- The selection rule as a ranking: per run, candidates scored at the run's highest fidelity first,
-- then by worst-fold gain, score, round and id. selection_rank = 1 is the run's champion, the
-- candidate discovery holds out and ships (ProgramsDatabase.champions applies the same rule).
CREATE VIEW candidate_ranking AS
SELECT c.*, rank() OVER (PARTITION BY c.run_id ORDER BY (c.permutations = c.top_permutations) DESC NULLS LAST,
                         coalesce(c.worst_gain, c.gain) DESC NULLS LAST, c.score DESC NULLS LAST, c.round,
                         c.controller_id) AS selection_rank
FROM (SELECT *, max(permutations) OVER (PARTITION BY run_id) AS top_permutations
      FROM candidates WHERE status = 'evaluated') c;
