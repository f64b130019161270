"""Experiments: a run repeated as independent replications, summarised with 95 % intervals.

A planner's question ("is this lever's gain real or noise?") needs several replications of a
run, each drawing its random numbers from its own streams (`stations.random_streams`), and for
every KPI the mean over the replications with a Student-t 95 % confidence interval:

- `corridor.experiments.executors` runs the replication jobs (`corridor.jobs.run_replication`)
  on a process pool, or on a Dask cluster when one machine is not enough;
- `corridor.experiments.intervals` turns the replications' reports into the replicated
  `kpis.json` (`mean`, `ci95`, `n` for every numeric figure);
- `corridor.experiments.table` writes and reads `replications.parquet`, the per-replication
  values the intervals were computed from (what `corridor compare` reads).
"""
