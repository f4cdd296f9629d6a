// The body of PATCH /api/runs/{id}: {"name"?, "notes"?, "tags"?}, checked field by field so a
// bad one is a 400 naming it, and nothing of the edit is applied.
#pragma once

#include <cstddef>
#include <string_view>

#include "store/run_meta.hpp"

namespace trainscope::agent {

inline constexpr std::size_t kMaxRunEditBody = 64 * 1024;
inline constexpr std::size_t kMaxRunNameBytes = 200;
inline constexpr std::size_t kMaxRunNotesBytes = 10'000;
inline constexpr std::size_t kMaxRunTags = 32;
inline constexpr std::size_t kMaxRunTagBytes = 40;

/// Parses and checks an edit; throws HttpError 400 naming the problem. A name is trimmed of
/// surrounding spaces ("" or null: the trainer's name again); a tag is 1-40 letters, digits
/// or - _ . : / +; repeated tags are kept once.
RunEdit parse_run_edit(std::string_view body);

}  // namespace trainscope::agent
