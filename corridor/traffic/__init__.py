"""Synthetic traffic: the generator of realistic or Poisson event logs for the corridor's yards."""
