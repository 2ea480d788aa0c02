// The strata command itself (native/cli/main.cpp): one subcommand required, --threads
// checked, unknown options refused.
#include "cli_harness.h"

namespace strata::cli_test {
namespace {

const CliCase kCases[] = {
    good("one_thread", {"--threads", "1", "info", "--model", "{tiny}"}, "parameters: "),
    bad("no_subcommand", {}, "A subcommand is required", 106),
    bad("negative_threads", {"--threads", "-1", "info", "--model", "{tiny}"}, "--threads: Value -1 not in range", 105),
    bad("unknown_option", {"info", "--model", "{tiny}", "--frob"}, "The following argument was not expected: --frob",
        109),
};

INSTANTIATE_TEST_SUITE_P(Main, CliTest, testing::ValuesIn(kCases), case_name);

}  // namespace
}  // namespace strata::cli_test
