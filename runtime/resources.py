"""Process memory, read the way `ps` does (Linux /proc; ru_maxrss elsewhere), for soak and benchmark reports."""

from __future__ import annotations

import resource
import sys


def rss_mb() -> float:
    """Current resident set size in MiB."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return round(pages * resource.getpagesize() / 2**20, 1)
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB: Linux's VmHWM (ru_maxrss survives exec, so a child of a
    big parent would report the parent's peak), else ru_maxrss."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 2**10, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)
