//! SHA-512 on a thread of its own: SigMF's `core:sha512`, computed as a
//! recording is written and verified as one is read, without holding up
//! the thread that writes or reads.

use sha2::{Digest, Sha512};

/// SHA-512 of a data file, computed on a thread of its own while the
/// caller goes on writing or reading: hashing costs about as much as
/// writing, and as much as decoding and transforming samples when reading.
/// Chunks travel by value and come back for reuse; at most
/// [`BackgroundHasher::IN_FLIGHT`] wait, so memory stays bounded (a few
/// blocks per open snippet; the evidence recorder bounds open snippets).
pub struct BackgroundHasher {
    chunks: crossbeam_channel::Sender<Vec<u8>>,
    spare: crossbeam_channel::Receiver<Vec<u8>>,
    thread: std::thread::JoinHandle<String>,
}

impl BackgroundHasher {
    /// Chunks waiting to be hashed, at most.
    pub const IN_FLIGHT: usize = 4;

    pub fn start() -> std::io::Result<Self> {
        let (chunks, todo) = crossbeam_channel::bounded::<Vec<u8>>(Self::IN_FLIGHT);
        let (give_back, spare) = crossbeam_channel::bounded(Self::IN_FLIGHT + 2);
        let thread = std::thread::Builder::new()
            .name("rfsentry-sha512".into())
            .spawn(move || {
                let mut hasher = Sha512::new();
                for chunk in todo {
                    hasher.update(&chunk);
                    let _ = give_back.try_send(chunk);
                }
                hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })?;
        Ok(BackgroundHasher {
            chunks,
            spare,
            thread,
        })
    }

    /// An empty buffer for the next chunk (a returned one when there is one).
    pub fn buffer(&self) -> Vec<u8> {
        let mut buf = self.spare.try_recv().unwrap_or_default();
        buf.clear();
        buf
    }

    /// Hash `chunk` next (waits while [`Self::IN_FLIGHT`] chunks are pending).
    pub fn update(&self, chunk: Vec<u8>) {
        // The thread only ends when `chunks` is dropped, so this cannot fail.
        let _ = self.chunks.send(chunk);
    }

    /// The digest of everything hashed, as hex.
    pub fn finish(self) -> String {
        drop(self.chunks);
        self.thread
            .join()
            .expect("the SHA-512 thread does not panic")
    }
}
