#!/usr/bin/env python3
"""Touches fresh memory and gives it back, so the next process's first touch is fast.

Usage:
    scripts/prime-memory.py [SIZE_GIB]     prime SIZE_GIB GiB (default 2), print the rate

On a virtual machine whose balloon driver reports free memory to the host (virtio-balloon
free page reporting), memory the guest freed some seconds ago is taken back by the host, and
the next process to touch it waits for the host to map it again, many times slower than
touching memory freed seconds before (docs/BENCHMARKING.md, "Mistakes to avoid", has the
measured rates). A query that builds gigabytes of state then measures the host, not the
engine, and which of the two a run gets depends on what ran in the seconds before it.

Run this right before each measured run that starts a process of its own (`weir run`, an A/B
of two binaries) with SIZE_GIB above the run's peak resident memory: it maps that much
private anonymous memory, asks for transparent huge pages (as weir's allocator does), writes
one byte per 4 KiB page and unmaps it, leaving the guest's free memory mapped by the host for
the run that follows. The rate it prints says which state the machine was in: far below 1
GB/s means the host had taken the memory back. On a physical machine it only costs the time
to clear the pages. `weir compare` is less exposed: weir, timely and differential run inside
its process, whose allocator keeps what the warm-up run touched (docs/BENCHMARKING.md).

Exit status: 0 when primed, 2 for a bad size, a size above the memory available, or memory
that cannot be mapped.
"""

import mmap
import sys
import time

PAGE = 4096


def available_bytes():
    """MemAvailable from /proc/meminfo, or None where there is none."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) > 2:
        print("prime-memory: one argument at most, the size in GiB (--help)", file=sys.stderr)
        return 2
    text = argv[1] if len(argv) == 2 else "2"
    try:
        gib = float(text)
    except ValueError:
        gib = -1.0
    size = int(gib * (1 << 30)) // PAGE * PAGE if 0 < gib <= 1024 else 0
    if size == 0:
        print(
            f"prime-memory: '{text}' is not a size in GiB: give a number of at least one 4 KiB "
            "page, such as 2 or 0.5, larger than the peak resident memory of the run to come",
            file=sys.stderr,
        )
        return 2
    available = available_bytes()
    if available is not None and size > available:
        print(
            f"prime-memory: {gib:g} GiB is more than the {available / (1 << 30):.1f} GiB "
            "available; give a smaller size",
            file=sys.stderr,
        )
        return 2
    start = time.perf_counter()
    try:
        memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except OSError as err:
        print(
            f"prime-memory: could not map {gib:g} GiB ({err}); give a size the machine has free",
            file=sys.stderr,
        )
        return 2
    if hasattr(mmap, "MADV_HUGEPAGE"):
        memory.madvise(mmap.MADV_HUGEPAGE)
    for offset in range(0, size, PAGE):
        memory[offset] = 1
    memory.close()
    seconds = time.perf_counter() - start
    print(
        f"primed {gib:g} GiB in {seconds:.2f} s ({size / seconds / 1e9:.2f} GB/s first touch)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
