#!/usr/bin/env bash
# End-to-end speed comparison: `rfsentry analyze` against scipy.signal.welch
# and against a bare rustfft loop (window + FFT + |X|², the practical limit),
# on the same large generated recording. Results: benches/README.md.
#
# Run from anywhere, on a fresh Debian/Ubuntu machine with a Rust toolchain:
#
#     pip install numpy scipy          # once
#     benches/compare.sh               # ~3–5 min after the builds
#
# What it does (FFT 1024, Hann, 50 ms frames, overlap 0 and 50 %):
#   1. builds `rfsentry` (release) and the `bare_kernel` bench program;
#   2. generates, with `rfsentry synth` from benches/data/*.toml, a wideband
#      site (16.8 MS/s) baseline (2^24 samples) and two recordings with a tone
#      jammer and a rogue transmitter: 2^26 samples (512 MiB as cf32_le, also
#      written as cu8) and 2^24 samples (for the length-scaling check); and
#      a quiet 2^26-sample recording of the same site with no incident;
#   3. learns one profile per overlap from the baseline;
#   4. times `rfsentry analyze --no-evidence` on each recording (and, in a table
#      of its own, the default run that also writes IQ evidence): one warm-up run (so the file
#      is in the page cache, as for the other two), then RUNS timed runs; MS/s
#      = samples / wall time of the whole process (best run), with its CPU
#      time (user + sys) and peak RSS (/usr/bin/time, `apt-get install time`);
#   5. times scipy.signal.welch(x, nperseg=1024, noverlap=0|512, window='hann',
#      return_onesided=False, detrend=False) over the same cf32 samples,
#      streamed from a numpy memmap in chunks of 1024 segments
#      (benches/welch_scipy.py): best of RUNS, with and without the time spent
#      copying chunks out of the page cache;
#   6. times the bare kernel on the same cf32 samples, loaded whole into
#      memory first (benches/bare_kernel.rs, one thread): best of RUNS;
#   7. times the default `rfsentry analyze` (evidence on: the overview
#      picture, the report, the IQ ring) and `--no-evidence` on the quiet
#      recording, which raises no alert, against the bare kernel on it: what
#      evidence costs when there is nothing to show, and that the overview is
#      still written;
#   8. prints Markdown tables with the ratios analyze/bare and analyze/scipy.
#
# Every analyze run here passes --no-verify (the synthetic SigMF recordings
# carry core:sha512, and the bare kernel and scipy hash nothing), except one
# row of step 7 that shows what the SHA-512 check costs.
# The bare kernel and scipy read cf32 only; cu8 rows are compared with the
# cf32 figures (the same signal, quantised to 8 bits).
#
# Environment: RUNS (default 3), WORK (default target/compare; needs ~0.9 GB),
# KEEP=1 to reuse recordings from an earlier run. Other load on the machine
# (builds…) lowers every figure: compare runs made on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
WORK=${WORK:-target/compare}
FFT=1024
mkdir -p "$WORK"

die() { echo "compare.sh: $*" >&2; exit 1; }
python3 -c 'import numpy, scipy' 2>/dev/null || die "needs numpy and scipy: pip install numpy scipy"
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    else
        die "needs /usr/bin/time: apt-get install time"
    fi
fi

echo "== building (release)" >&2
cargo build --release --quiet
cargo bench --bench bare_kernel --no-run --quiet 2>/dev/null || cargo bench --bench bare_kernel --no-run
BIN=${CARGO_TARGET_DIR:-target}/release/rfsentry

echo "== generating recordings in $WORK" >&2
synth() { # scenario output datatype
    if [ "${KEEP:-0}" = 1 ] && [ -f "$WORK/$2.sigmf-data" ]; then return; fi
    "$BIN" synth "benches/data/$1" -o "$WORK/$2.sigmf-meta" --datatype "$3" >&2
}
synth wideband-baseline.toml baseline cf32_le
synth wideband-2p26.toml rec26-cf32 cf32_le
synth wideband-2p26.toml rec26-cu8 cu8
synth wideband-2p24.toml rec24-cf32 cf32_le
synth wideband-2p26-quiet.toml quiet26-cf32 cf32_le
samples() { # recording: samples in its data file
    local bytes per
    bytes=$(stat -c %s "$WORK/$1.sigmf-data")
    case "$1" in *cu8) per=2 ;; *) per=8 ;; esac
    echo $((bytes / per))
}

echo "== learning profiles" >&2
for ov in 0 0.5; do
    "$BIN" learn --site "speed-ov$ov" --profile-dir "$WORK/profiles" --fft-size $FFT \
        --overlap "$ov" --replace "$WORK/baseline.sigmf-meta" >/dev/null
done

# analyze OVERLAP RECORDING [FLAG…] → "msps cpu_s rss_mb wall_s" of the best of RUNS
analyze() {
    local ov=$1 rec=$2 n best="" line
    shift 2
    n=$(samples "$rec")
    "$BIN" analyze --site "speed-ov$ov" --profile-dir "$WORK/profiles" --out "$WORK/alerts" \
        "$@" "$WORK/$rec.sigmf-meta" >/dev/null 2>&1 # warm-up: page cache
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(date +%s%N)
        /usr/bin/time -f "%U %S %M" -o "$WORK/time.txt" "$BIN" analyze --site "speed-ov$ov" \
            --profile-dir "$WORK/profiles" --out "$WORK/alerts" "$@" "$WORK/$rec.sigmf-meta" \
            >/dev/null 2>&1
        t1=$(date +%s%N)
        line=$(awk -v n="$n" -v ns=$((t1 - t0)) '{ w = ns / 1e9;
            printf "%.1f %.3f %.1f %.3f\n", n / w / 1e6, $1 + $2, $3 / 1024, w }' "$WORK/time.txt")
        if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN { split(a, x); split(b, y); exit !(x[1] > y[1]) }'; then
            best=$line
        fi
    done
    echo "$best"
}

bare() { # overlap [recording] → msps
    cargo bench --quiet --bench bare_kernel -- --input "$WORK/${2:-rec26-cf32}.sigmf-data" \
        --fft $FFT --overlap "$1" --repeat "$RUNS" | sed -n 's/.*msps=\([0-9.]*\).*/\1/p'
}

scipy_welch() { # noverlap → "msps msps_no_read"
    python3 benches/welch_scipy.py --input "$WORK/rec26-cf32.sigmf-data" --nperseg $FFT \
        --noverlap "$1" --repeat "$RUNS" |
        sed -n 's/.* msps=\([0-9.]*\) msps_no_read=\([0-9.]*\).*/\1 \2/p'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f %%", 100 * a / b }'; }
factor() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", a / b }'; }

declare -A A B S
for ov in 0 0.5; do
    echo "== overlap $ov: bare kernel" >&2
    B[$ov]=$(bare "$ov")
    echo "== overlap $ov: scipy.signal.welch" >&2
    S[$ov]=$(scipy_welch "$(awk -v o="$ov" -v n=$FFT 'BEGIN { print int(o * n) }')")
    for rec in rec26-cf32 rec26-cu8; do
        echo "== overlap $ov: rfsentry analyze --no-evidence $rec" >&2
        A[$ov,$rec]=$(analyze "$ov" "$rec" --no-evidence --no-verify)
    done
done
echo "== length scaling: rfsentry analyze --no-evidence rec24-cf32" >&2
A[0,rec24-cf32]=$(analyze 0 rec24-cf32 --no-evidence --no-verify)
declare -A E
for rec in rec26-cf32 rec26-cu8; do
    echo "== with evidence (the default): rfsentry analyze $rec" >&2
    rm -rf "$WORK/alerts"
    E[$rec]=$(analyze 0 "$rec" --no-verify)
    E[$rec,mb]=$(du -sm "$WORK/alerts/iq" | cut -f1)
done

echo "== quiet recording (no alert): bare kernel, analyze (evidence on, with and without the SHA-512 check), analyze --no-evidence" >&2
QB=$(bare 0 quiet26-cf32)
rm -rf "$WORK/alerts"
QE=$(analyze 0 quiet26-cf32 --no-verify)
[ -f "$WORK/alerts/overview-quiet26-cf32.png" ] || die "the default analyze wrote no overview picture"
QV=$(analyze 0 quiet26-cf32)
QN=$(analyze 0 quiet26-cf32 --no-evidence --no-verify)

n26=$(samples rec26-cf32)
n24=$(samples rec24-cf32)
echo
echo "rfsentry $(git describe --always --dirty 2>/dev/null || echo '?'), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), FFT $FFT Hann, $n26 samples, best of $RUNS, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "analyze runs with --no-evidence here: like the other two, it computes and judges spectra and writes"
echo "the alert log, not IQ snippets (see the evidence table below)."
echo
echo "| input | overlap | analyze MS/s | CPU s | peak RSS MB | bare kernel MS/s | scipy welch MS/s (w/o read) | analyze / bare | analyze / scipy |"
echo "|---|---|---|---|---|---|---|---|---|"
for ov in 0 0.5; do
    for rec in rec26-cf32 rec26-cu8; do
        read -r msps cpu rss _ <<<"${A[$ov,$rec]}"
        read -r smsps snoread <<<"${S[$ov]}"
        echo "| ${rec#rec26-} 2^26 | $(awk -v o="$ov" 'BEGIN { print o * 100 }') % | $msps | $cpu | $rss | ${B[$ov]} | $smsps ($snoread) | $(ratio "$msps" "${B[$ov]}") | $(factor "$msps" "$smsps") |"
    done
done
echo
echo "Length scaling (cf32, overlap 0): cost grows linearly and peak memory stays flat."
echo
echo "| samples | wall s | analyze MS/s | CPU s | peak RSS MB |"
echo "|---|---|---|---|---|"
for rec in rec24-cf32 rec26-cf32; do
    read -r msps cpu rss wall <<<"${A[0,$rec]}"
    n=$([ "$rec" = rec24-cf32 ] && echo "$n24 (2^24)" || echo "$n26 (2^26)")
    echo "| $n | $wall | $msps | $cpu | $rss |"
done
read -r _ _ _ w24 <<<"${A[0,rec24-cf32]}"
read -r _ _ _ w26 <<<"${A[0,rec26-cf32]}"
awk -v a="$n24" -v b="$n26" -v ta="$w24" -v tb="$w26" 'BEGIN {
    slope = (tb - ta) / (b - a)
    printf "\nMarginal rate from 2^24 to 2^26 samples: %.1f MS/s; fixed cost (intercept): %.1f ms.\n",
        1 / slope / 1e6, (ta - slope * a) * 1e3 }'
echo
echo "With evidence (the default: IQ snippets, pictures, report), overlap 0: the extra cost is per byte of"
echo "IQ evidence written (sha512 + write), not per sample analysed."
echo
echo "| input | analyze MS/s | CPU s | peak RSS MB | IQ evidence MB |"
echo "|---|---|---|---|---|"
for rec in rec26-cf32 rec26-cu8; do
    read -r msps cpu rss _ <<<"${E[$rec]}"
    echo "| ${rec#rec26-} 2^26 | $msps | $cpu | $rss | ${E[$rec,mb]} |"
done
echo
echo "The default analyze (evidence on: overview picture, report, IQ evidence ready) on a recording with no"
echo "alert (benches/data/wideband-2p26-quiet.toml, cf32, overlap 0), against the bare kernel on the same samples:"
echo
echo "| analyze | MS/s | CPU s | peak RSS MB | bare kernel MS/s | analyze / bare |"
echo "|---|---|---|---|---|---|"
for v in default verify no-evidence; do
    case $v in
    default) line=$QE name='`analyze --no-verify` (evidence on)' ;;
    verify) line=$QV name='`analyze` (evidence on, core:sha512 checked)' ;;
    no-evidence) line=$QN name='`analyze --no-evidence --no-verify`' ;;
    esac
    read -r msps cpu rss _ <<<"$line"
    echo "| $name | $msps | $cpu | $rss | $QB | $(ratio "$msps" "$QB") |"
done
