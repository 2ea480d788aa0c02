// --bos auto|always|never, defined once for every command that runs a model (analyze, eval,
// infer, generate): the option, and the words the commands print for the policy it resolves to.
#include "commands.h"

namespace strata::cli {

CLI::Option* add_bos_option(CLI::App* cmd, std::string& mode) {
  return cmd
      ->add_option("--bos", mode,
                   "BOS before every context: auto (the model directory's tokenizer/config policy), always or never")
      ->capture_default_str();
}

std::string describe(const BosPolicy& bos) {
  if (!bos.add_bos) return "no BOS (" + bos.reason + ")";
  return "BOS " + std::to_string(bos.bos_id) + " before every context (" + bos.reason + ")";
}

}  // namespace strata::cli
