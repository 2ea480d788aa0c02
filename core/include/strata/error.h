// The one exception type strata throws for bad input: a truncated model file, malformed
// JSON, an out-of-range schedule budget. Front-ends catch it and print what() on one line.
#pragma once
#include <stdexcept>
#include <string>

namespace strata {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace strata
