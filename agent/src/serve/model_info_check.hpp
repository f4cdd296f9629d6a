// Checking and normalising the model info a trainer set with run.set_model_info(): a JSON
// object {"config": {...}, "tree": node}, node = {name, type, input_shape, output_shape,
// params, children: [node...]} (see docs in README "Interfaces").
#pragma once

#include <string>

namespace trainscope::agent {

struct ModelInfoResult {
    bool ok = false;
    std::string error;  ///< what was wrong, naming the place (e.g. "tree.children[2].params ...")
    std::string json;   ///< the normalised reply body when ok (without session_id)
};

/// Validates text and fills in what can be derived: a node's params defaults to the sum of
/// its children's; the reply carries total_params and node_count.
ModelInfoResult normalise_model_info(const std::string& text);

}  // namespace trainscope::agent
