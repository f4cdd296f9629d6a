// Shared by the ring tests: a namespace of the test's own for its Runs, and a consumer that
// drains a segment the way the agent's collector does (copy published records, then release).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <trainscope/trainscope.hpp>

#include "segment_reader.hpp"
#include "support/shm_names.hpp"

namespace trainscope::test {

class RingTest : public ::testing::Test {
protected:
    RingTest();

    /// Options for a Run in this test's namespace.
    RunOptions options(std::uint32_t capacity,
                       OverflowPolicy overflow = OverflowPolicy::drop) const;
    /// The agent's reader on the namespace's one segment (null, with a test failure, if none).
    std::unique_ptr<agent::SegmentReader> open_reader() const;

    ShmNamespace ns_;
};

/// Drains one segment: reads published records from its cursor on and hands the slots back.
class RingConsumer {
public:
    explicit RingConsumer(agent::SegmentReader& reader)
        : reader_(reader), cursor_(reader.read_pos()) {}

    /// Appends up to `max` published records to `out` and releases their slots.
    std::size_t drain(std::vector<agent::Record>& out,
                      std::size_t max = std::numeric_limits<std::size_t>::max());
    std::uint64_t cursor() const { return cursor_; }

    /// Drains until `producers_left` reads 0 and nothing more is published; returns every
    /// record. Keeps draining whatever it finds, so a blocked producer always finishes.
    std::vector<agent::Record> drain_until_done(const std::atomic<int>& producers_left);

private:
    agent::SegmentReader& reader_;
    std::uint64_t cursor_;
};

}  // namespace trainscope::test
