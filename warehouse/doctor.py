"""`autotts doctor`: integrity checks of a warehouse file, read-only."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autotts.warehouse.db import SCHEMA_VERSION, connect, schema_version

CHECKS: list[tuple[str, str, str]] = [
    # (severity, what, SQL counting offending rows)
    ("error", "questions without their bank",
     "SELECT count(*) FROM questions q ANTI JOIN banks b USING (bank_id)"),
    ("error", "trajectories without their question",
     "SELECT count(*) FROM trajectories t ANTI JOIN questions q USING (bank_id, benchmark, model, question_id)"),
    ("error", "trajectories whose probe rows do not match n_chunks",
     "SELECT count(*) FROM trajectories t LEFT JOIN (SELECT bank_id, benchmark, model, question_id, traj_id, "
     "count(*) AS n FROM probes GROUP BY ALL) p USING (bank_id, benchmark, model, question_id, traj_id) "
     "WHERE coalesce(p.n, 0) <> t.n_chunks"),
    ("error", "banks whose trajectory count does not match",
     "SELECT count(*) FROM banks b LEFT JOIN (SELECT bank_id, count(*) AS n FROM trajectories GROUP BY ALL) t "
     "USING (bank_id) WHERE coalesce(t.n, 0) <> b.n_trajectories"),
    ("error", "answer classes referenced but missing",
     "SELECT count(*) FROM trajectories t WHERE t.final_class >= 0 AND NOT EXISTS (SELECT 1 FROM answer_classes c "
     "WHERE c.bank_id = t.bank_id AND c.benchmark = t.benchmark AND c.model = t.model "
     "AND c.question_id = t.question_id AND c.class_id = t.final_class)"),
    ("error", "evaluations of unknown controllers or runs",
     "SELECT count(*) FROM evaluations e WHERE NOT EXISTS (SELECT 1 FROM controllers c WHERE c.controller_id = e.controller_id) "
     "OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = e.run_id)"),
    ("error", "evaluations with neither metrics nor an error",
     "SELECT count(*) FROM evaluations WHERE error IS NULL AND (accuracy IS NULL OR tokens IS NULL)"),
    ("error", "evaluations with impossible metrics",
     "SELECT count(*) FROM evaluations WHERE accuracy < 0 OR accuracy > 1 OR tokens < 0 "
     "OR accuracy_low > accuracy + 1e-9 OR accuracy_high < accuracy - 1e-9"),
    ("error", "evaluated candidates without a score, or failed ones without a reason",
     "SELECT count(*) FROM candidates WHERE (status = 'evaluated' AND score IS NULL) OR (status = 'failed' AND error IS NULL)"),
    ("error", "candidates of completed rounds still only proposed",
     "SELECT count(*) FROM candidates c JOIN discovery_rounds r USING (run_id, round) WHERE c.status = 'proposed'"),
    ("error", "discovery rounds of unknown runs",
     "SELECT count(*) FROM discovery_rounds d ANTI JOIN runs r USING (run_id)"),
    ("warning", "runs marked running: in progress now, or killed before they could say so "
     "(a discovery run can be resumed with --resume RUN_ID)",
     "SELECT count(*) FROM runs WHERE status = 'running'"),
    ("warning", "runs that failed (a discovery run can be resumed with --resume RUN_ID)",
     "SELECT count(*) FROM runs WHERE status = 'failed'"),
]


@dataclass(frozen=True)
class Finding:
    severity: str
    what: str
    count: int


def check(warehouse: str | Path) -> list[Finding]:
    """Every check that finds something, as (severity, what, how many rows)."""
    findings = []
    with connect(warehouse, read_only=True) as con:
        version = schema_version(con)
        if version != SCHEMA_VERSION:
            findings.append(Finding("error" if version > SCHEMA_VERSION else "warning",
                                    f"schema version {version}, this code expects {SCHEMA_VERSION} "
                                    "(a write will migrate it)", 1))
            if version < 2:
                return findings
        for severity, what, sql in CHECKS:
            count = con.execute(sql).fetchone()[0]
            if count:
                findings.append(Finding(severity, what, int(count)))
    return findings
