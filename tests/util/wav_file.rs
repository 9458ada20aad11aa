//! WAV files built byte by byte for the reader tests: the RIFF/WAVE
//! container and its `fmt ` chunk.
//!
//! Use with `use crate::util::wav_file;`.

#![allow(dead_code)]

/// The body of a `fmt ` chunk: `format_tag` (1 is PCM, 3 IEEE float),
/// `channels` of `bits` each, `sample_rate` frames per second.
pub fn fmt_chunk(format_tag: u16, channels: u16, bits: u16, sample_rate: u32) -> Vec<u8> {
    let frame = u32::from(channels) * u32::from(bits) / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&format_tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&sample_rate.to_le_bytes());
    fmt.extend_from_slice(&(sample_rate * frame).to_le_bytes());
    fmt.extend_from_slice(&(frame as u16).to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    fmt
}

/// A RIFF/WAVE file holding `chunks` (id and body) in this order.
pub fn riff_wave(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, chunk) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        body.extend_from_slice(chunk);
    }
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    file
}
