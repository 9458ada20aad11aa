//! Learning a baseline (in progress).
