// This process alone as a team (team.h), and join_team: the MPI job when there is one.
#include "launcher.h"
#include "team.h"

namespace strata::distributed {

#ifdef STRATA_HAVE_MPI
std::unique_ptr<Team> join_mpi_team();  // mpi_team.cpp
#endif

namespace {

class LocalTeam final : public Team {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void agree(const std::string& error) override {
    if (!error.empty()) throw Error(error);
  }
  TeamProgress progress(const TeamProgress& mine) override { return mine; }
  std::vector<TeamPart> gather(TeamPart mine, const std::function<void(const TeamProgress&)>&) override {
    std::vector<TeamPart> parts;
    parts.push_back(std::move(mine));
    return parts;
  }
  void finish() override {}
  void fail(const std::string&) override {}
};

}  // namespace

std::unique_ptr<Team> join_team() {
#ifdef STRATA_HAVE_MPI
  if (launch_info().size > 1) return join_mpi_team();
#endif
  return std::make_unique<LocalTeam>();
}

}  // namespace strata::distributed
