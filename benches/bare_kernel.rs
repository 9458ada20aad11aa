//! The practical limit for a Welch PSD on one core: a bare rustfft loop doing
//! only window + FFT + |X|² accumulation over samples already in memory, no
//! averaging into frames, no dB, no max-hold, no clipping count, no I/O.
//! `benches/compare.sh` sets `analyze` against it.
//!
//! Not a criterion bench: a small program run through cargo's bench profile,
//!
//! ```sh
//! cargo bench --bench bare_kernel -- --input REC.sigmf-data [--fft 1024] [--overlap 0.5] [--repeat 3]
//! ```
//!
//! `--input` is raw cf32_le samples (a `.sigmf-data`, `.cf32` or `.cfile`),
//! loaded whole (so it needs as much memory as the file). Prints one line:
//! `bare-kernel fft=N overlap=F samples=S best_s=T msps=R`, the best of
//! `--repeat` passes, in samples of the recording per second.

use num_complex::Complex32;
use rustfft::FftPlanner;
use std::hint::black_box;
use std::io::Read;
use std::time::Instant;

struct Args {
    input: String,
    fft: usize,
    overlap: f64,
    repeat: usize,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        input: String::new(),
        fft: 1024,
        overlap: 0.0,
        repeat: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--input" => args.input = value("--input")?,
            "--fft" => args.fft = value("--fft")?.parse().map_err(|e| format!("--fft: {e}"))?,
            "--overlap" => {
                args.overlap = value("--overlap")?
                    .parse()
                    .map_err(|e| format!("--overlap: {e}"))?
            }
            "--repeat" => {
                args.repeat = value("--repeat")?
                    .parse()
                    .map_err(|e| format!("--repeat: {e}"))?
            }
            "--bench" => {} // added by `cargo bench`
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.input.is_empty() {
        return Err("--input FILE (raw cf32_le samples) is required".into());
    }
    Ok(args)
}

/// The whole file as samples.
fn load(path: &str) -> std::io::Result<Vec<Complex32>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len() as usize / 8;
    let mut x = vec![Complex32::default(); len];
    // SAFETY: Complex<f32> is #[repr(C)] {re, im}; any bytes are valid f32s
    // (this program assumes a little-endian host, as cf32_le files are).
    let bytes = unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<u8>(), 8 * len) };
    file.read_exact(bytes)?;
    Ok(x)
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bare_kernel: {e}");
            std::process::exit(2);
        }
    };
    let x = load(&args.input).unwrap_or_else(|e| {
        eprintln!("bare_kernel: {}: {e}", args.input);
        std::process::exit(1);
    });
    let n = args.fft;
    let hop = n - (args.overlap * n as f64).round() as usize;
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let window: Vec<f32> = (0..n)
        .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()) as f32)
        .collect();
    let mut buf = vec![Complex32::default(); n];
    let mut scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
    let mut acc = vec![0.0f32; n];
    let mut best = f64::INFINITY;
    for _ in 0..args.repeat.max(1) {
        let t = Instant::now();
        let mut seg = 0;
        while seg + n <= x.len() {
            for ((b, s), w) in buf.iter_mut().zip(&x[seg..seg + n]).zip(&window) {
                *b = s * w;
            }
            fft.process_with_scratch(&mut buf, &mut scratch);
            for (a, v) in acc.iter_mut().zip(&buf) {
                *a += v.norm_sqr();
            }
            seg += hop;
        }
        black_box(&mut acc);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "bare-kernel fft={n} overlap={} samples={} best_s={best:.4} msps={:.1}",
        args.overlap,
        x.len(),
        x.len() as f64 / best / 1e6
    );
}
