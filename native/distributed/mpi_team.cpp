// The ranks of an MPI job as a team (team.h): the protocol in point-to-point messages on
// MPI_COMM_WORLD. Only the main thread calls MPI (MPI_THREAD_FUNNELED): OpenMP threads run
// the forward passes inside each rank and never communicate. Rank 0 polls (MPI_Iprobe)
// between its own forward calls and while it waits, so a failure elsewhere reaches it within
// one forward call; payloads travel in chunks below MPI's int count limit.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "team.h"

namespace strata::distributed {

namespace {

enum Tag : int {
  kProgress = 1,  // → 0: three int64 (TeamProgress)
  kDone = 2,      // → 0: the part's header: sweep bytes, rows bytes, seconds (as int64 bits)
  kPayload = 3,   // → 0: the part's bytes, in chunks, right after kDone
  kFailed = 4,    // → 0: a message ("" when stopped by rank 0)
  kVerdict = 5,   // 0 →: one int, 0 written, 1 stop
};
constexpr int64_t kChunk = int64_t(1) << 30;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI: ") + what + " failed");
}

void send_bytes(const std::string& bytes, int to) {
  for (int64_t off = 0; off < int64_t(bytes.size()); off += kChunk) {
    const int n = int(std::min<int64_t>(kChunk, int64_t(bytes.size()) - off));
    check(MPI_Send(bytes.data() + off, n, MPI_BYTE, to, kPayload, MPI_COMM_WORLD), "sending a part");
  }
}

std::string recv_bytes(int64_t size, int from) {
  std::string bytes(size_t(size), '\0');
  for (int64_t off = 0; off < size; off += kChunk) {
    const int n = int(std::min<int64_t>(kChunk, size - off));
    check(MPI_Recv(bytes.data() + off, n, MPI_BYTE, from, kPayload, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "receiving a part");
  }
  return bytes;
}

class MpiTeam final : public Team {
 public:
  MpiTeam() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    latest_.resize(size_t(size_));
    parts_.resize(size_t(size_));
    ended_.assign(size_t(size_), false);
  }
  ~MpiTeam() override {
    if (progress_request_ != MPI_REQUEST_NULL) MPI_Wait(&progress_request_, MPI_STATUS_IGNORE);
    MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void agree(const std::string& error) override {
    // The lowest failing rank, then its message from it to all.
    int mine = error.empty() ? size_ : rank_, first = size_;
    check(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "agreeing on the checks");
    if (first == size_) return;
    std::string message = error;
    int64_t length = int64_t(message.size());
    MPI_Bcast(&length, 1, MPI_INT64_T, first, MPI_COMM_WORLD);
    message.resize(size_t(length));
    MPI_Bcast(message.data(), int(length), MPI_CHAR, first, MPI_COMM_WORLD);
    throw Error(first == 0 ? message : "rank " + std::to_string(first) + ": " + message);
  }

  TeamProgress progress(const TeamProgress& mine) override {
    if (rank_ != 0) {
      if (verdict_arrived()) {
        stopped_ = true;
        throw StoppedByTeam();
      }
      int sent = 1;
      if (progress_request_ != MPI_REQUEST_NULL) MPI_Test(&progress_request_, &sent, MPI_STATUS_IGNORE);
      if (sent) {  // else the last counters are still on their way: skip this update
        outgoing_[0] = mine.spent, outgoing_[1] = mine.own, outgoing_[2] = mine.done;
        MPI_Isend(outgoing_, 3, MPI_INT64_T, 0, kProgress, MPI_COMM_WORLD, &progress_request_);
      }
      return mine;
    }
    latest_[0] = mine;
    poll();
    return total();
  }

  std::vector<TeamPart> gather(TeamPart mine, const std::function<void(const TeamProgress&)>& tick) override {
    if (rank_ != 0) {
      if (progress_request_ != MPI_REQUEST_NULL) MPI_Wait(&progress_request_, MPI_STATUS_IGNORE);
      int64_t header[3] = {int64_t(mine.sweep.size()), int64_t(mine.rows.size()), 0};
      static_assert(sizeof(double) == sizeof(int64_t));
      std::memcpy(&header[2], &mine.seconds, sizeof(double));
      check(MPI_Send(header, 3, MPI_INT64_T, 0, kDone, MPI_COMM_WORLD), "sending a part");
      send_bytes(mine.sweep, 0);
      send_bytes(mine.rows, 0);
      terminal_sent_ = true;
      if (wait_verdict() != 0) throw StoppedByTeam();
      return {};
    }
    parts_[0] = std::move(mine);
    ended_[0] = true;
    while (std::count(ended_.begin(), ended_.end(), false) > 0) {
      if (!poll()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (tick) tick(total());
    }
    return std::move(parts_);
  }

  void finish() override {
    if (rank_ == 0) send_verdicts(0);
  }

  void fail(const std::string& message) override {
    if (rank_ != 0) {
      if (terminal_sent_) return;  // its part is with rank 0 already; the verdict said stop
      if (progress_request_ != MPI_REQUEST_NULL) MPI_Wait(&progress_request_, MPI_STATUS_IGNORE);
      const std::string text = stopped_ ? std::string() : message;
      MPI_Send(text.data(), int(std::min<size_t>(text.size(), 4096)), MPI_CHAR, 0, kFailed, MPI_COMM_WORLD);
      terminal_sent_ = true;
      if (!stopped_) wait_verdict();
      return;
    }
    // Rank 0: stop everyone, then take every rank's terminal message (parts are dropped).
    send_verdicts(1);
    ended_[0] = true;
    while (std::count(ended_.begin(), ended_.end(), false) > 0) {
      try {
        if (!poll()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      } catch (const Error&) {  // further failures: the first one is the one reported
      }
    }
  }

 private:
  bool verdict_arrived() {
    int flag = 0;
    MPI_Iprobe(0, kVerdict, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    if (flag) wait_verdict();
    return flag != 0;
  }
  int wait_verdict() {
    int verdict = 1;
    MPI_Recv(&verdict, 1, MPI_INT, 0, kVerdict, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return verdict;
  }
  void send_verdicts(int verdict) {
    if (verdicts_sent_) return;
    verdicts_sent_ = true;
    for (int r = 1; r < size_; ++r) MPI_Send(&verdict, 1, MPI_INT, r, kVerdict, MPI_COMM_WORLD);
  }

  // Rank 0: handles every message waiting (parts into parts_); a failure throws, after its
  // rank is marked ended. Returns whether anything arrived.
  bool poll() {
    bool any = false;
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
      if (!flag) return any;
      any = true;
      const int from = st.MPI_SOURCE;
      if (st.MPI_TAG == kProgress) {
        int64_t v[3];
        MPI_Recv(v, 3, MPI_INT64_T, from, kProgress, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        latest_[size_t(from)] = {v[0], v[1], v[2]};
      } else if (st.MPI_TAG == kDone) {
        int64_t header[3];
        MPI_Recv(header, 3, MPI_INT64_T, from, kDone, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        TeamPart part;
        part.sweep = recv_bytes(header[0], from);
        part.rows = recv_bytes(header[1], from);
        std::memcpy(&part.seconds, &header[2], sizeof(double));
        ended_[size_t(from)] = true;
        parts_[size_t(from)] = std::move(part);
      } else if (st.MPI_TAG == kFailed) {
        int n = 0;
        MPI_Get_count(&st, MPI_CHAR, &n);
        std::string message(size_t(n), '\0');
        MPI_Recv(message.data(), n, MPI_CHAR, from, kFailed, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        ended_[size_t(from)] = true;
        if (!message.empty()) throw Error("rank " + std::to_string(from) + ": " + message);
      } else {
        throw Error("MPI: an unexpected message (tag " + std::to_string(st.MPI_TAG) + ") from rank " +
                    std::to_string(from));
      }
    }
  }
  TeamProgress total() const {
    TeamProgress t;
    for (const TeamProgress& p : latest_) t.add(p);
    return t;
  }

  int rank_ = 0, size_ = 1;
  std::vector<TeamProgress> latest_;  // rank 0: the latest counters of every rank
  std::vector<bool> ended_;           // rank 0: terminal message received
  std::vector<TeamPart> parts_;
  MPI_Request progress_request_ = MPI_REQUEST_NULL;
  int64_t outgoing_[3] = {0, 0, 0};
  bool stopped_ = false, terminal_sent_ = false, verdicts_sent_ = false;
};

}  // namespace

std::unique_ptr<Team> join_mpi_team() { return std::make_unique<MpiTeam>(); }

}  // namespace strata::distributed
