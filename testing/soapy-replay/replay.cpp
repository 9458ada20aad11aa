// rfsentry_replay — a test-only SoapySDR device module (SoapySDR 0.8 ABI).
//
// It replays a file of raw samples — cf32_le by default, or ci16_le / ci8
// with format=CS16 / CS8, which are then its native stream format, as a real
// receiver's ADC words are — as a one-channel RX device, so rfsentry's SoapySDR source
// can be tested through the real SoapySDR runtime without radio hardware, and
// it injects the faults a real receiver shows: overflows, stalls (timeouts)
// and disconnects. Arguments are documented in README.md next to this file.
//
// Build: g++ -shared -fPIC -O2 -o librfsentry_replay.so replay.cpp $(pkg-config --cflags --libs SoapySDR)
// Load:  SOAPY_SDR_PLUGIN_PATH=<dir of the .so>
//
// Fault state (position in the file, faults already fired, absence window)
// is kept per argument set, outside the device object, so a device reopened
// after a "disconnect" streams on from where the old one stopped.

#include <SoapySDR/Device.hpp>
#include <SoapySDR/Errors.h>
#include <SoapySDR/Formats.h>
#include <SoapySDR/Logger.hpp>
#include <SoapySDR/Modules.hpp>
#include <SoapySDR/Registry.hpp>

#include <algorithm>
#include <chrono>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;
using Sample = std::complex<float>;
static const size_t MTU = 8192;

// What survives closing and reopening a device with the same arguments.
struct Shared {
    unsigned long long pos = 0;  // samples consumed from the (looped) file
    bool vanished = false, stalled = false;
    Clock::time_point absent_until, stall_until;
};

static std::mutex g_mutex;
static std::map<std::string, std::shared_ptr<Shared>> g_shared;

static std::string arg(const SoapySDR::Kwargs &a, const char *key, const char *dflt) {
    auto it = a.find(key);
    return it == a.end() ? dflt : it->second;
}

static unsigned long long count_arg(const SoapySDR::Kwargs &a, const char *key) {
    const std::string v = arg(a, key, "0");
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error(std::string("rfsentry_replay: ") + key + " must be a whole number, not " + v);
    return std::stoull(v);
}

static double seconds_arg(const SoapySDR::Kwargs &a, const char *key) {
    char *end = nullptr;
    const std::string v = arg(a, key, "1");
    const double s = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(s >= 0)) throw std::runtime_error(std::string("rfsentry_replay: bad ") + key + "=" + v);
    return s;
}

static double seconds_until(Clock::time_point t) {
    return std::chrono::duration<double>(t - Clock::now()).count();
}

static Clock::time_point after_s(double s) {
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

static void sleep_s(double s) {
    if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

class ReplayDevice : public SoapySDR::Device {
public:
    explicit ReplayDevice(const SoapySDR::Kwargs &args)
        : shared_(lookup(args)), loop_(arg(args, "loop", "0") == "1"),
          realtime_(arg(args, "pace", "fast") == "realtime"),
          overflow_every_(count_arg(args, "overflow_every")),
          overflow_skip_(args.count("overflow_skip") ? count_arg(args, "overflow_skip") : 1000),
          timeout_after_(count_arg(args, "timeout_after")), timeout_s_(seconds_arg(args, "timeout_s")),
          vanish_after_(count_arg(args, "vanish_after")), absent_s_(seconds_arg(args, "absent_s")),
          buffer_(count_arg(args, "buffer")), native_(arg(args, "format", SOAPY_SDR_CF32)) {
        const std::string pace = arg(args, "pace", "fast");
        if (pace != "fast" && pace != "realtime") throw std::runtime_error("rfsentry_replay: pace must be fast or realtime");
        // What real drivers say on opening (rtlsdr: "Found Rafael Micro R820T tuner"):
        // SoapySDR log chatter that rfsentry keeps behind its own messages.
        SoapySDR::logf(SOAPY_SDR_INFO, "rfsentry_replay: opening %s", arg(args, "file", "?").c_str());
        bool hang = false;
        {
            std::lock_guard<std::mutex> lock(g_mutex);
            hang = shared_->vanished && arg(args, "vanish_hang", "0") == "1";
            if (!hang && shared_->vanished && Clock::now() < shared_->absent_until)
                throw std::runtime_error("rfsentry_replay: device absent (vanish fault)");
        }
        while (hang) sleep_s(3600);  // a driver stuck in its open for ever (vanish_hang=1)
        if (native_ == SOAPY_SDR_CS16) {
            elem_ = 4;
            full_scale_ = 32768;
        } else if (native_ == SOAPY_SDR_CS8) {
            elem_ = 2;
            full_scale_ = 128;
        } else if (native_ != SOAPY_SDR_CF32) {
            throw std::runtime_error("rfsentry_replay: format must be CF32, CS16 or CS8");
        }
        if (args.count("full_scale")) full_scale_ = seconds_arg(args, "full_scale");  // what the device claims
        const std::string path = arg(args, "file", "");
        if (path.empty()) throw std::runtime_error("rfsentry_replay: missing file=PATH (raw samples)");
        std::ifstream in(path, std::ios::binary | std::ios::ate);
        if (!in) {
            // As real drivers do before failing (rtlsdr: "usb_claim_interface error -6").
            SoapySDR::logf(SOAPY_SDR_ERROR, "rfsentry_replay: open(%s) failed", path.c_str());
            throw std::runtime_error("rfsentry_replay: cannot open " + path);
        }
        const auto bytes = static_cast<size_t>(in.tellg());
        nsamples_ = bytes / elem_;
        data_.resize(nsamples_ * elem_);
        in.seekg(0);
        in.read(data_.data(), static_cast<std::streamsize>(data_.size()));
        if (nsamples_ == 0 || !in) throw std::runtime_error("rfsentry_replay: no " + native_ + " samples in " + path);
    }

    std::string getDriverKey() const override { return "rfsentry_replay"; }
    std::string getHardwareKey() const override { return "replay"; }
    size_t getNumChannels(const int dir) const override { return dir == SOAPY_SDR_RX ? 1 : 0; }

    // Streaming: one RX channel, in the native format or converted to CF32
    // (integer words divided by the full scale, as drivers do).
    std::vector<std::string> getStreamFormats(const int, const size_t) const override {
        if (native_ == SOAPY_SDR_CF32) return {SOAPY_SDR_CF32};
        return {native_, SOAPY_SDR_CF32};
    }
    std::string getNativeStreamFormat(const int, const size_t, double &full_scale) const override {
        full_scale = full_scale_;
        return native_;
    }
    SoapySDR::Stream *setupStream(const int dir, const std::string &format, const std::vector<size_t> &channels,
                                  const SoapySDR::Kwargs &) override {
        if (dir != SOAPY_SDR_RX || (format != SOAPY_SDR_CF32 && format != native_))
            throw std::runtime_error("rfsentry_replay: RX " + native_ + " or CF32 only");
        stream_format_ = format;
        if (channels.size() > 1 || (channels.size() == 1 && channels[0] != 0))
            throw std::runtime_error("rfsentry_replay: one channel (0) only");
        return reinterpret_cast<SoapySDR::Stream *>(this);
    }
    void closeStream(SoapySDR::Stream *) override { active_ = false; }
    size_t getStreamMTU(SoapySDR::Stream *) const override { return MTU; }
    int activateStream(SoapySDR::Stream *, const int, const long long, const size_t) override {
        active_ = true;
        reanchor();
        return 0;
    }
    int deactivateStream(SoapySDR::Stream *, const int, const long long) override {
        active_ = false;
        return 0;
    }

    int readStream(SoapySDR::Stream *, void *const *buffs, const size_t want, int &flags, long long &time_ns,
                   const long timeout_us) override {
        const double timeout = timeout_us / 1e6;
        if (!active_) {
            sleep_s(timeout);
            return SOAPY_SDR_TIMEOUT;
        }
        std::unique_lock<std::mutex> lock(g_mutex);
        Shared &s = *shared_;
        if (dead_) return SOAPY_SDR_STREAM_ERROR;
        if (vanish_after_ > 0 && !s.vanished && s.pos >= vanish_after_) {  // disconnect fault
            s.vanished = dead_ = true;
            s.absent_until = after_s(absent_s_);
            return SOAPY_SDR_STREAM_ERROR;
        }
        if (timeout_after_ > 0 && !s.stalled && s.pos >= timeout_after_) {  // stall fault
            if (s.stall_until == Clock::time_point()) s.stall_until = after_s(timeout_s_);
            const double left = seconds_until(s.stall_until);
            if (left > 0) {
                lock.unlock();
                sleep_s(std::min(left, timeout));
                return SOAPY_SDR_TIMEOUT;
            }
            s.stalled = true;
            reanchor();
        }
        if (!loop_ && s.pos >= nsamples_) return SOAPY_SDR_STREAM_ERROR;  // end of file
        if (overflow_every_ > 0 && ++reads_ % overflow_every_ == 0) {  // overflow fault
            s.pos += overflow_skip_;
            reanchor();
            return SOAPY_SDR_OVERFLOW;
        }
        // How many samples: the request, the MTU, the file end and the next fault position.
        unsigned long long n = std::min<unsigned long long>(want, MTU);
        if (!loop_) n = std::min<unsigned long long>(n, nsamples_ - s.pos);
        for (unsigned long long at : {vanish_after_, timeout_after_})
            if (at > s.pos) n = std::min(n, at - s.pos);
        if (realtime_) {  // only what the sample clock has produced by the deadline
            const double elapsed = std::chrono::duration<double>(Clock::now() - anchor_).count();
            const double backlog = elapsed * rate_ - delivered_;
            if (buffer_ > 0 && backlog > buffer_) {  // the reader fell behind: the device buffer overflowed
                unsigned long long lost = static_cast<unsigned long long>(backlog);
                if (!loop_) lost = std::min<unsigned long long>(lost, nsamples_ - s.pos);
                s.pos += lost;
                delivered_ += lost;  // the sample clock keeps running: no reanchor
                return SOAPY_SDR_OVERFLOW;
            }
            const double avail = (elapsed + timeout) * rate_ - delivered_;
            n = std::min<unsigned long long>(n, avail > 0 ? static_cast<unsigned long long>(avail) : 0);
            const double ready = (delivered_ + n) / rate_ - elapsed;
            lock.unlock();
            sleep_s(n == 0 ? timeout : ready);
            if (n == 0) return SOAPY_SDR_TIMEOUT;
            lock.lock();
        }
        for (unsigned long long done = 0; done < n;) {  // at most two runs: up to the file end, then from its start
            const size_t at = static_cast<size_t>((s.pos + done) % nsamples_);
            const size_t run = static_cast<size_t>(std::min<unsigned long long>(n - done, nsamples_ - at));
            copy_out(at, run, buffs[0], static_cast<size_t>(done));
            done += run;
        }
        time_ns = static_cast<long long>(s.pos / rate_ * 1e9);
        flags = SOAPY_SDR_HAS_TIME;
        s.pos += n;
        delivered_ += n;
        return static_cast<int>(n);
    }

    // Tuning: an RF element and a CORR (ppm) element; the overall frequency is RF.
    std::vector<std::string> listFrequencies(const int, const size_t) const override { return {"RF", "CORR"}; }
    void setFrequency(const int, const size_t, const double f, const SoapySDR::Kwargs &) override { set(freq_, f); }
    double getFrequency(const int, const size_t) const override { return get(freq_); }
    void setFrequency(const int, const size_t, const std::string &name, const double v, const SoapySDR::Kwargs &) override {
        set(name == "CORR" ? ppm_ : freq_, v);
    }
    double getFrequency(const int, const size_t, const std::string &name) const override {
        return get(name == "CORR" ? ppm_ : freq_);
    }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t) const override { return {SoapySDR::Range(1e6, 6e9)}; }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t, const std::string &name) const override {
        return {name == "CORR" ? SoapySDR::Range(-1000, 1000) : SoapySDR::Range(1e6, 6e9)};
    }

    void setSampleRate(const int, const size_t, const double rate) override {
        if (rate <= 0) throw std::runtime_error("rfsentry_replay: sample rate must be positive");
        std::lock_guard<std::mutex> lock(g_mutex);
        rate_ = rate;
        reanchor();
    }
    double getSampleRate(const int, const size_t) const override { return get(rate_); }
    std::vector<double> listSampleRates(const int, const size_t) const override { return {250e3, 1.024e6, 2.048e6, 2.4e6}; }
    void setBandwidth(const int, const size_t, const double bw) override { set(bandwidth_, bw); }
    double getBandwidth(const int, const size_t) const override { return get(bandwidth_); }
    SoapySDR::RangeList getBandwidthRange(const int, const size_t) const override { return {SoapySDR::Range(1e3, 10e6)}; }

    // Gain: one element "LNA", 0..49.6 dB, plus an AGC flag.
    std::vector<std::string> listGains(const int, const size_t) const override { return {"LNA"}; }
    bool hasGainMode(const int, const size_t) const override { return true; }
    void setGainMode(const int, const size_t, const bool agc) override { set(agc_, agc ? 1.0 : 0.0); }
    bool getGainMode(const int, const size_t) const override { return get(agc_) != 0.0; }
    void setGain(const int, const size_t, const double g) override { set(gain_, g); }
    void setGain(const int, const size_t, const std::string &, const double g) override { set(gain_, g); }
    double getGain(const int, const size_t) const override { return get(gain_); }
    double getGain(const int, const size_t, const std::string &) const override { return get(gain_); }
    SoapySDR::Range getGainRange(const int, const size_t) const override { return SoapySDR::Range(0, 49.6, 0.1); }
    SoapySDR::Range getGainRange(const int, const size_t, const std::string &) const override {
        return SoapySDR::Range(0, 49.6, 0.1);
    }

    std::vector<std::string> listAntennas(const int, const size_t) const override { return {"RX"}; }
    void setAntenna(const int, const size_t, const std::string &name) override {
        if (name != "RX") throw std::runtime_error("rfsentry_replay: no antenna " + name);
    }
    std::string getAntenna(const int, const size_t) const override { return "RX"; }

private:
    static std::shared_ptr<Shared> lookup(const SoapySDR::Kwargs &args) {
        std::lock_guard<std::mutex> lock(g_mutex);
        auto &slot = g_shared[SoapySDR::KwargsToString(args)];
        if (!slot) slot = std::make_shared<Shared>();
        return slot;
    }
    void set(double &field, double v) {
        std::lock_guard<std::mutex> lock(g_mutex);
        field = v;
    }
    double get(const double &field) const {
        std::lock_guard<std::mutex> lock(g_mutex);
        return field;
    }
    // Samples [at, at + run) of the file to the stream buffer from sample
    // `to`: as stored when the stream is native, else converted to CF32.
    void copy_out(size_t at, size_t run, void *buf, size_t to) const {
        const char *from = data_.data() + at * elem_;
        if (stream_format_ == native_) {
            std::copy_n(from, run * elem_, static_cast<char *>(buf) + to * elem_);
            return;
        }
        Sample *out = static_cast<Sample *>(buf) + to;
        for (size_t i = 0; i < run; ++i) {
            float re, im;
            if (elem_ == 4) {
                int16_t w[2];
                std::copy_n(from + 4 * i, 4, reinterpret_cast<char *>(w));
                re = w[0], im = w[1];
            } else {
                re = static_cast<int8_t>(from[2 * i]), im = static_cast<int8_t>(from[2 * i + 1]);
            }
            out[i] = Sample(re / static_cast<float>(full_scale_), im / static_cast<float>(full_scale_));
        }
    }
    void reanchor() {  // restart the real-time pacing clock
        anchor_ = Clock::now();
        delivered_ = 0;
    }

    std::shared_ptr<Shared> shared_;
    std::vector<char> data_;  // the file: nsamples_ samples of elem_ bytes in the native format
    size_t nsamples_ = 0, elem_ = sizeof(Sample);
    double full_scale_ = 1.0;
    std::string stream_format_ = SOAPY_SDR_CF32;
    const bool loop_, realtime_;
    const unsigned long long overflow_every_, overflow_skip_, timeout_after_;
    const double timeout_s_;
    const unsigned long long vanish_after_;
    const double absent_s_;
    const unsigned long long buffer_;  // realtime: samples the device holds before it overflows (0: unlimited)
    const std::string native_;        // the file's (and the device's native) format
    bool active_ = false, dead_ = false;
    unsigned long long reads_ = 0, delivered_ = 0;
    Clock::time_point anchor_ = Clock::now();
    double rate_ = 1e6, freq_ = 100e6, ppm_ = 0, bandwidth_ = 0, gain_ = 0, agc_ = 0;
};

// Enumeration: one device when asked for this driver (echoing the arguments,
// so they open it), or a labelled entry in an unfiltered listing.
static SoapySDR::KwargsList find_replay(const SoapySDR::Kwargs &args) {
    if (args.count("driver") == 0 && !args.empty()) return {};
    SoapySDR::Kwargs dev = args;
    dev["label"] = "rfsentry replay (test device)";
    if (dev.count("tag")) dev["serial"] = dev["tag"];
    return {dev};
}

static SoapySDR::Device *make_replay(const SoapySDR::Kwargs &args) { return new ReplayDevice(args); }

static SoapySDR::Registry register_replay("rfsentry_replay", &find_replay, &make_replay, SOAPY_SDR_ABI_VERSION);
static SoapySDR::ModuleVersion register_version("0.1.0");
