//! Reading the alert log as a spool: whole lines from a byte position on,
//! each with its sequence number, as the monitor appends them (a line still
//! being written is left until its newline arrives).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A line longer than this is not an alert event (it is skipped, numbered).
const MAX_LINE: usize = 1 << 20;

/// One whole line of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct SpoolLine {
    /// Byte offsets of the line's start and of the byte after its newline.
    pub start: u64,
    pub end: u64,
    pub seq: u64,
    /// The line without its newline (empty for an over-long line).
    pub bytes: Vec<u8>,
}

/// Reads a growing log line by line.
pub struct LogTail {
    path: PathBuf,
    file: Option<File>,
    /// Offset of the next line to hand out.
    pos: u64,
    next_seq: u64,
    /// Bytes read from `pos` on, not yet handed out.
    buf: Vec<u8>,
    /// Skipping the rest of an over-long line.
    skipping: bool,
}

impl LogTail {
    /// Read `path` from byte `pos`, whose line has sequence number `next_seq`.
    pub fn new(path: &Path, pos: u64, next_seq: u64) -> Self {
        LogTail {
            path: path.to_path_buf(),
            file: None,
            pos,
            next_seq,
            buf: Vec::new(),
            skipping: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sequence number of the next line.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Continue from byte `pos` with sequence number `next_seq`.
    pub fn seek(&mut self, pos: u64, next_seq: u64) {
        self.pos = pos;
        self.next_seq = next_seq;
        self.buf.clear();
        self.skipping = false;
    }

    /// The log's length now (0 when it does not exist).
    pub fn log_len(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// The next whole line, or `None` when none is complete yet.
    pub fn next_line(&mut self) -> std::io::Result<Option<SpoolLine>> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let rest = self.buf.split_off(nl + 1);
                let mut line = std::mem::replace(&mut self.buf, rest);
                line.pop();
                let start = self.pos;
                self.pos += line.len() as u64 + 1;
                let over_long = std::mem::take(&mut self.skipping);
                let (start, bytes) = if over_long {
                    (start, Vec::new())
                } else {
                    (start, line)
                };
                let seq = self.next_seq;
                self.next_seq += 1;
                return Ok(Some(SpoolLine {
                    start,
                    end: self.pos,
                    seq,
                    bytes,
                }));
            }
            if self.buf.len() > MAX_LINE {
                // Keep counting bytes but not keeping them.
                self.pos += self.buf.len() as u64;
                self.buf.clear();
                self.skipping = true;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Read what follows the buffered bytes; false when nothing new.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        let f = self.file.as_mut().expect("opened above");
        f.seek(SeekFrom::Start(self.pos + self.buf.len() as u64))?;
        let mut chunk = vec![0u8; 64 * 1024];
        let n = f.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// The byte offset of line number `index` (from 0) of the log, scanning
    /// from its start; `None` when the log has fewer whole lines.
    pub fn offset_of_line(&self, index: u64) -> std::io::Result<Option<u64>> {
        if index == 0 {
            return Ok(Some(0));
        }
        let mut f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut chunk = vec![0u8; 256 * 1024];
        let (mut pos, mut lines) = (0u64, 0u64);
        loop {
            let n = f.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            for (i, &b) in chunk[..n].iter().enumerate() {
                if b == b'\n' {
                    lines += 1;
                    if lines == index {
                        return Ok(Some(pos + i as u64 + 1));
                    }
                }
            }
            pos += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn whole_lines_only_numbered_in_order_as_the_log_grows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("alerts.jsonl");
        let mut tail = LogTail::new(&p, 0, 5);
        assert_eq!(tail.next_line().unwrap(), None);
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(b"{\"a\":1}\n{\"b\"").unwrap();
        let l = tail.next_line().unwrap().unwrap();
        assert_eq!(
            (l.start, l.end, l.seq, l.bytes.as_slice()),
            (0, 8, 5, &b"{\"a\":1}"[..])
        );
        assert_eq!(tail.next_line().unwrap(), None);
        f.write_all(b":2}\n").unwrap();
        let l = tail.next_line().unwrap().unwrap();
        assert_eq!(
            (l.start, l.end, l.seq, l.bytes.as_slice()),
            (8, 16, 6, &b"{\"b\":2}"[..])
        );
        assert_eq!(tail.offset_of_line(1).unwrap(), Some(8));
        assert_eq!(tail.offset_of_line(2).unwrap(), Some(16));
        assert_eq!(tail.offset_of_line(3).unwrap(), None);
        tail.seek(8, 6);
        assert_eq!(tail.next_line().unwrap().unwrap().seq, 6);
    }

    #[test]
    fn an_over_long_line_is_numbered_but_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("alerts.jsonl");
        let mut big = vec![b'x'; MAX_LINE * 2 + 10];
        big.push(b'\n');
        big.extend_from_slice(b"{}\n");
        std::fs::write(&p, &big).unwrap();
        let mut tail = LogTail::new(&p, 0, 1);
        let l = tail.next_line().unwrap().unwrap();
        assert_eq!(
            (l.seq, l.end, l.bytes.len()),
            (1, MAX_LINE as u64 * 2 + 11, 0)
        );
        let l = tail.next_line().unwrap().unwrap();
        assert_eq!((l.seq, l.bytes.as_slice()), (2, &b"{}"[..]));
    }
}
