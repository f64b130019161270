"""Looking ahead from the live yard: the next-shift forecast and what-ifs forked from now
(`docs/forecast.md`)."""
