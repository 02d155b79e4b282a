"""Rebuild a replay `Bank` from the warehouse, using the answer classes stored at ingest."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from replay_core.bank import Bank
from autotts.warehouse.db import connect


class BankSelectionError(ValueError):
    """The requested questions are missing or ambiguous in the warehouse."""


def selection_sql(bank_ids, benchmarks, models, table: str = "") -> tuple[str, list]:
    """A WHERE condition (and its parameters) selecting banks, benchmarks and models; `table`
    qualifies the columns when a query joins several tables."""
    prefix = f"{table}." if table else ""
    clauses, params = [], []
    for column, values in (("bank_id", bank_ids), ("benchmark", benchmarks), ("model", models)):
        if values:
            clauses.append(f"{prefix}{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    return (" AND ".join(clauses) or "TRUE"), params


def load_bank(warehouse: str | Path, bank_ids: list[str] | None = None, benchmarks: list[str] | None = None,
              models: list[str] | None = None) -> Bank:
    """The selected questions as one bank. Each (benchmark, model) must come from one ingested bank."""
    where, params = selection_sql(bank_ids, benchmarks, models)
    with connect(warehouse, read_only=True) as con:
        q = con.sql(f"SELECT bank_id, benchmark, model, question_id, gold, n_trajectories FROM questions "
                    f"WHERE {where} ORDER BY benchmark, model, question_id, bank_id", params=params).fetchall()
        if not q:
            raise BankSelectionError(f"no questions in {warehouse} match bank={bank_ids} benchmark={benchmarks} model={models}")
        owners: dict[tuple[str, str], set[str]] = {}
        for bank_id, bench, model, *_ in q:
            owners.setdefault((bench, model), set()).add(bank_id)
        clash = {k: v for k, v in owners.items() if len(v) > 1}
        if clash:
            (bench, model), ids = next(iter(clash.items()))
            raise BankSelectionError(f"{bench}/{model} was ingested from several files ({', '.join(sorted(ids))}); "
                                     "choose one with --bank-id")
        traj = con.sql(f"SELECT benchmark, model, question_id, traj_id, n_chunks, total_tokens, final_class, finished "
                       f"FROM trajectories WHERE {where} ORDER BY benchmark, model, question_id, traj_id",
                       params=params).fetchnumpy()
        probes = con.sql(f"SELECT benchmark, model, question_id, traj_id, chunk, chunk_tokens, probe_class, probe_tokens, "
                         f"coalesce(confidence, 'NaN'::DOUBLE) AS confidence FROM probes WHERE {where} "
                         f"ORDER BY benchmark, model, question_id, traj_id, chunk", params=params).fetchnumpy()
        classes = con.sql(f"SELECT benchmark, model, question_id, class_id, answer, correct FROM answer_classes "
                          f"WHERE {where} ORDER BY benchmark, model, question_id, class_id", params=params).fetchall()
        sources = dict(con.sql("SELECT bank_id, synthetic FROM banks").fetchall())
    keys = [(b, m, qid) for _, b, m, qid, _, _ in q]
    index = {k: i for i, k in enumerate(keys)}
    Q, T = len(keys), max(r[5] for r in q)
    q_of_traj = np.array([index[k] for k in zip(traj["benchmark"], traj["model"], traj["question_id"])])
    t_of_traj = _rank_within(q_of_traj)
    row_of_traj = q_of_traj * T + t_of_traj
    L = int(traj["n_chunks"].max())
    # probes are sorted like trajectories, with exactly n_chunks rows each (ingest writes them so)
    probe_rows = np.repeat(row_of_traj, traj["n_chunks"])
    if len(probe_rows) != len(probes["chunk"]):
        raise BankSelectionError(f"{warehouse}: probes do not match trajectories; run `autotts doctor`")
    depth = probes["chunk"].astype(np.int64) - 1

    n_chunks = np.zeros(Q * T, np.int32)
    n_chunks[row_of_traj] = traj["n_chunks"]
    total = np.zeros(Q * T, np.int64)
    total[row_of_traj] = traj["total_tokens"]
    sizes = np.zeros((Q * T, L), np.int64)
    sizes[probe_rows, depth] = probes["chunk_tokens"]
    chunk_cum = np.zeros((Q * T, L + 1), np.int64)
    chunk_cum[:, 1:] = np.cumsum(sizes, axis=1)
    probe_class = np.full((Q * T, L), -1, np.int32)
    probe_class[probe_rows, depth] = probes["probe_class"]
    probe_cost = np.zeros((Q * T, L), np.int64)
    probe_cost[probe_rows, depth] = probes["probe_tokens"]
    chunk_conf = np.full((Q * T, L), np.nan)
    chunk_conf[probe_rows, depth] = probes["confidence"]
    conf_cum = np.zeros((Q * T, L + 1))
    conf_cum[:, 1:] = np.cumsum(np.nan_to_num(chunk_conf), axis=1)
    conf_cum[~np.isfinite(chunk_conf).any(axis=1)] = np.nan
    final_class = np.full(Q * T, -1, np.int32)
    final_class[row_of_traj] = traj["final_class"]
    natural_end = np.zeros(Q * T, bool)
    natural_end[row_of_traj] = traj["finished"]
    C = max(1, max((c[3] for c in classes), default=0) + 1)
    class_correct = np.zeros((Q, C), bool)
    texts: list[list[str]] = [[] for _ in range(Q)]
    for bench, model, qid, cid, answer, correct in classes:
        i = index[(bench, model, qid)]
        class_correct[i, cid] = correct
        texts[i].append(answer)
    bank_of = tuple(r[0] for r in q)
    return Bank(
        question_ids=tuple(k[2] for k in keys), benchmarks=tuple(k[0] for k in keys), models=tuple(k[1] for k in keys),
        golds=tuple(r[4] for r in q), class_texts=tuple(tuple(t) for t in texts), n_traj=np.array([r[5] for r in q], np.int32),
        n_chunks=n_chunks, chunk_cum=chunk_cum, total_tokens=total, probe_class=probe_class, probe_cost=probe_cost,
        conf_cum=conf_cum, chunk_conf=chunk_conf, final_class=final_class, natural_end=natural_end,
        class_correct=class_correct, synthetic=any(sources.get(b, False) for b in set(bank_of)),
        description=f"warehouse {warehouse}: banks {', '.join(sorted(set(bank_of)))}",
        meta={"bank_of_question": bank_of},
    )


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal, sorted group ids."""
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, lengths)
