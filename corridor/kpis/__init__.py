"""KPIs: pure functions from the twin's records to the `kpis.json` report (tallies, levels,
steps, reefer excursions), over the whole run or a rolling window.
"""
