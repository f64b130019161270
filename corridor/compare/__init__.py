"""`corridor compare`: is a lever's difference real or noise, and how many hours does it save?

A comparison reads a base run and one or more scenario runs, each as several replications
(`corridor.compare.runs`: run directories written by `corridor simulate`/`replay`, or scenario
files run here), and gives per yard and KPI the difference scenario − base with its 95 %
confidence interval (`corridor.compare.stats`: paired t on common random numbers when both
runs used the same seeds, Welch's t otherwise), written as `comparison.csv` and
`comparison.md` (`corridor.compare.table`) and a self-contained `report.html` with charts
(`corridor.compare.charts`, `corridor.compare.page`). See `docs/compare.md`.
"""
