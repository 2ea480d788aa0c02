// A one-line progress bar on stderr: done/total, rate, ETA and a free-form status.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace strata::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, std::string unit)
      : label_(std::move(label)), unit_(std::move(unit)), total_(total),
        start_(std::chrono::steady_clock::now()) {}

  // rate_count: what the rate counts (e.g. tokens) when it differs from done.
  void update(int64_t done, const std::string& status = "", double rate_count = -1) {
    if (finished_) return;  // the last line is drawn once, however often the end is reported
    const double secs = seconds();
    if (done < total_ && secs - last_ < 0.25) return;  // redraw at most 4 times a second
    last_ = secs;
    const double frac = total_ > 0 ? double(done) / double(total_) : 1.0;
    const int width = 24, filled = int(frac * width);
    const double rate = (rate_count >= 0 ? rate_count : double(done - first_done_)) / std::max(secs, 1e-9);
    const double eta = done > first_done_ ? secs / double(done - first_done_) * double(total_ - done) : 0.0;
    std::fprintf(stderr, "\r%s [%s%s] %lld/%lld %s | %.0f %s/s | ETA %s %s\033[K", label_.c_str(),
                 std::string(size_t(filled), '#').c_str(), std::string(size_t(width - filled), '.').c_str(),
                 (long long)done, (long long)total_, status.c_str(), rate, unit_.c_str(),
                 format_time(eta).c_str(), "");
    if (done >= total_) {
      std::fprintf(stderr, "\n");
      finished_ = true;
    }
    std::fflush(stderr);
  }
  void set_start(int64_t done) { first_done_ = done; }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  static std::string format_time(double s) {
    char buf[32];
    const int t = int(s + 0.5);
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    return buf;
  }

 private:
  std::string label_, unit_;
  int64_t total_, first_done_ = 0;
  double last_ = -1;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace strata::cli
