//! SoapySDR device source (in progress).
