"""What a long-running process holds, month by month: for `bench_year.py`.

Resident memory (`/proc/self/status`), optionally after giving the C allocator's free pages
back (`malloc_trim(0)`, glibc): if RSS grows while the trimmed figure and the live objects stay
flat, the growth is free memory the allocator keeps (fragmentation), not something the program
holds. It also counts the objects the cyclic GC tracks, by type, and with `trace` frames keeps
`tracemalloc` snapshots: the growth between the second sample and the last is printed by type
and by allocating traceback, the two places real growth shows.
"""

import ctypes
import ctypes.util
import gc
import linecache
import tracemalloc
from collections import Counter
from pathlib import Path

TOP = 12  # rows of each growth table


def rss_mb() -> float:
    """This process's resident set size now, in MB (Linux `/proc`)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status: this benchmark needs Linux")


def malloc_trim() -> bool:
    """Give the C allocator's free memory back to the system (glibc); False if unavailable."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True


def types_held() -> Counter[str]:
    """GC-tracked objects by type name (records in tuples the GC untracks are not counted)."""
    return Counter(type(item).__qualname__ for item in gc.get_objects())


class MemoryWatch:
    """Samples RSS (and RSS after a trim) and remembers what to compare at the end."""

    def __init__(self, trim: bool, trace_frames: int) -> None:
        self.trim, self.trace_frames = trim, trace_frames
        self.types: list[Counter[str]] = []  # after the second sample, and the latest
        self.traces: list[tracemalloc.Snapshot] = []
        if trace_frames:
            tracemalloc.start(trace_frames)

    def sample(self, month: int) -> tuple[float, float]:
        """RSS now, and after `malloc_trim` (the same if not trimming), in MB."""
        gc.collect()
        held = types_held()
        if month >= 2:
            self.types = [self.types[0] if self.types else held, held]
        if self.trace_frames and month >= 2:
            snapshot = tracemalloc.take_snapshot()
            self.traces = [self.traces[0] if self.traces else snapshot, snapshot]
        rss = rss_mb()
        trimmed = rss_mb() if self.trim and malloc_trim() else rss
        return rss, trimmed

    def report(self) -> None:
        """Print what grew between the second sample and the last: types, then tracebacks."""
        if len(self.types) == 2:
            first, last = self.types
            growth = Counter({name: last[name] - first[name] for name in last | first})
            print(f"GC-tracked objects, growth since month 2 (of {sum(last.values()):,}):")
            for name, grown in growth.most_common(TOP):
                print(f"  {grown:>+10,} {name} ({last[name]:,})")
        if len(self.traces) == 2:
            first_trace, last_trace = self.traces
            stats = last_trace.compare_to(first_trace, "traceback")
            print("tracemalloc, growth since month 2 by traceback:")
            for stat in stats[:TOP]:
                print(f"  {stat.size_diff / 1e6:>+8.1f} MB {stat.count_diff:>+9,} blocks")
                for frame in stat.traceback.format(most_recent_first=True)[: 2 * 4]:
                    print(f"      {frame.strip()}")
            linecache.clearcache()
