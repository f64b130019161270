"""The one clock unit of the model, declared once.

Simulation time is measured in minutes since the scenario epoch (an aware datetime kept by the
engine). Datetimes exist only at the edges; inside the model everything is `Minutes`.
"""

from collections.abc import Generator
from typing import Any

import simpy

Minutes = float
"""Minutes since the scenario epoch."""

MINUTES_PER_HOUR = 60.0
MINUTES_PER_DAY = 1440.0

ProcessGenerator = Generator[simpy.Event, Any, Any]
"""What a SimPy process function returns."""
