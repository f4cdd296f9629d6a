// The hot path of log(): find the calling thread's lane of the Run, then write one record.
// See lane_cache.hpp (which lane) and lane_writer.hpp (the write itself).
#pragma once

#include <cstdint>

#include <trainscope/detail/lane_cache.hpp>
#include <trainscope/detail/lane_writer.hpp>
#include <trainscope/options.hpp>

namespace trainscope::detail {

/// What a Metric carries: which Run, by address and generation. Valid while the Run lives.
struct RingRef {
    LaneSet* lanes = nullptr;
    std::uint64_t generation = 0;
};

inline LogStatus push(const RingRef& ring, std::uint32_t metric_id, std::int64_t step,
                      double value) noexcept {
    return push_to_lane(lane_for(*ring.lanes, ring.generation), metric_id, step, value);
}

inline LogStatus push_at(const RingRef& ring, std::uint32_t metric_id, std::int64_t step,
                         double value, std::int64_t unix_ns) noexcept {
    return push_to_lane_at(lane_for(*ring.lanes, ring.generation), metric_id, step, value, unix_ns);
}

}  // namespace trainscope::detail
