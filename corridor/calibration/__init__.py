"""Calibration: the twin's milestones against the observed ones, and the parameters they fit.

A log may carry observed milestones (truck gate-in and gate-out, train departures) beside the
dispatches and trains that drive the model; the twin records each observation beside its own
time (`stations.records.Observation`). This package turns those pairs into a table per yard
and stage (`milestones`), fits the process times the observations identify by replaying the
log under adjusted scenarios (`fitting`, `search`), writes the fit as a scenario file
(`scenario_file`) and reports before against after (`report_markdown`, `report_html`).
`docs/calibration.md` explains the method.
"""
