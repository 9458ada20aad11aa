#!/usr/bin/env python3
"""scipy.signal.welch over a cf32_le recording, streamed in chunks.

Used by benches/compare.sh. The recording is opened as a numpy memmap and
read in chunks of whole segments (each chunk copied into memory, then given to
scipy.signal.welch(x, nperseg=N, noverlap=O, window='hann',
return_onesided=False, detrend=False)); chunk results are combined weighted
by their segment counts, so the result is the Welch average of the whole
recording with exactly the segments a single call would use.

Prints one line:
  scipy-welch nperseg=N noverlap=O samples=S best_s=T read_s=R msps=M msps_no_read=C
best_s is the best wall time of --repeat passes (read + compute), read_s the
part of that pass spent copying chunks out of the memmap (page cache), msps
counts the whole pass and msps_no_read the compute part only.
"""

import argparse
import time

import numpy as np
import scipy.signal as ss


def one_pass(mm, nperseg, noverlap, chunk_segments):
    hop = nperseg - noverlap
    n = len(mm)
    total = None
    segments = 0
    read_s = 0.0
    start = 0
    t0 = time.perf_counter()
    while start + nperseg <= n:
        k = min(chunk_segments, (n - start - nperseg) // hop + 1)
        end = start + (k - 1) * hop + nperseg
        tr = time.perf_counter()
        x = np.array(mm[start:end])
        read_s += time.perf_counter() - tr
        _, pxx = ss.welch(
            x,
            fs=1.0,
            window="hann",
            nperseg=nperseg,
            noverlap=noverlap,
            return_onesided=False,
            detrend=False,
        )
        total = pxx * k if total is None else total + pxx * k
        segments += k
        start += k * hop
    elapsed = time.perf_counter() - t0
    return elapsed, read_s, total / max(segments, 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, help="raw cf32_le samples (.sigmf-data)")
    p.add_argument("--nperseg", type=int, default=1024)
    p.add_argument("--noverlap", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--chunk-segments", type=int, default=1024)
    a = p.parse_args()
    mm = np.memmap(a.input, dtype=np.complex64, mode="r")
    best = None
    for _ in range(max(a.repeat, 1)):
        elapsed, read_s, _ = one_pass(mm, a.nperseg, a.noverlap, a.chunk_segments)
        if best is None or elapsed < best[0]:
            best = (elapsed, read_s)
    n = len(mm)
    elapsed, read_s = best
    print(
        f"scipy-welch nperseg={a.nperseg} noverlap={a.noverlap} samples={n} "
        f"best_s={elapsed:.3f} read_s={read_s:.3f} msps={n / elapsed / 1e6:.1f} "
        f"msps_no_read={n / (elapsed - read_s) / 1e6:.1f}"
    )


if __name__ == "__main__":
    main()
