#!/usr/bin/env python3
"""The machine's own flush, for the benchmarks' baselines.

  flush_probe.py latency DIR      median microseconds of a 200-byte append
                                  plus fdatasync of one file in DIR (300)
  flush_probe.py share DIR N...   for each N: N processes appending 200
                                  bytes plus fdatasync to one shared file
                                  for 2 s; prints the aggregate rate and
                                  its ratio to one process's: above 1 means
                                  concurrent fdatasyncs share a flush
                                  (group commit by the file system)
Prints figures only; asserts nothing.
"""
import os
import sys
import time


def latency(directory):
    path = os.path.join(directory, "flush-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(300):
            t = time.perf_counter()
            os.write(fd, b"x" * 200)
            os.fdatasync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    print("%.0f" % (times[len(times) // 2] * 1e6))


def share(directory, counts):
    path = os.path.join(directory, "flush-share")
    base = None
    for n in counts:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        reader, writer = os.pipe()
        start = time.monotonic() + 0.2
        pids = []
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                os.close(reader)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND)
                while time.monotonic() < start:
                    pass
                done = 0
                while time.monotonic() < start + 2.0:
                    os.write(fd, b"x" * 200)
                    os.fdatasync(fd)
                    done += 1
                os.write(writer, b"%d\n" % done)
                os._exit(0)
            pids.append(pid)
        os.close(writer)
        for pid in pids:
            os.waitpid(pid, 0)
        with os.fdopen(reader) as f:
            total = sum(int(line) for line in f if line.strip())
        rate = total / 2.0
        if base is None:
            base = rate
        print("%2d processes: %7.0f appends+fdatasync/s aggregate, %.2f x one"
              " process's" % (n, rate, rate / base if base else 0))
    os.unlink(path)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "latency":
        latency(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "share":
        share(sys.argv[2], [int(n) for n in sys.argv[3:]])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
