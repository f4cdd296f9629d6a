// What a user says about a run, kept apart from what the trainer said: a display name, free
// notes and tags (table run_meta, one row per edited run). The trainer's own name stays in
// runs.name and is shown as the original name.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace trainscope::agent {

/// One edit of a run (PATCH /api/runs/{id}); a field left empty is unchanged.
struct RunEdit {
    std::optional<std::string> name;  ///< "" goes back to the trainer's name
    std::optional<std::string> notes;
    std::optional<std::vector<std::string>> tags;
};

/// Tags travel as one space-separated column: a tag never holds a space (see run_edit_json),
/// and a search for text in the run list then reads one column.
std::string join_tags(const std::vector<std::string>& tags);
std::vector<std::string> split_tags(const std::string& joined);

}  // namespace trainscope::agent
