// Shared by the ring tests: a namespace of the test's own for its Runs, and a consumer that
// drains a segment the way the agent's collector does (copy published records from every
// lane, then release each lane).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <trainscope/trainscope.hpp>

#include "ingest/segment_reader.hpp"
#include "support/shm_names.hpp"

namespace trainscope::test {

class RingTest : public ::testing::Test {
protected:
    RingTest();

    /// Options for a Run in this test's namespace.
    RunOptions options(std::uint32_t capacity,
                       OverflowPolicy overflow = OverflowPolicy::drop,
                       std::uint32_t lanes = RunOptions{}.lanes) const;
    /// The agent's reader on the namespace's one segment (null, with a test failure, if none).
    std::unique_ptr<agent::SegmentReader> open_reader() const;

    ShmNamespace ns_;
};

/// Drains one segment: reads published records from its cursors on and hands the slots back.
class RingConsumer {
public:
    explicit RingConsumer(agent::SegmentReader& reader)
        : reader_(reader), cursors_(reader.read_positions()) {}

    /// Appends up to `max` published records to `out` and releases their slots.
    std::size_t drain(std::vector<agent::Record>& out,
                      std::size_t max = std::numeric_limits<std::size_t>::max());
    const agent::LaneCursors& cursors() const { return cursors_; }

    /// Drains until `producers_left` reads 0 and nothing more is published; returns every
    /// record. Keeps draining whatever it finds, so a blocked producer always finishes.
    std::vector<agent::Record> drain_until_done(const std::atomic<int>& producers_left);

private:
    agent::SegmentReader& reader_;
    agent::LaneCursors cursors_;
};

/// The records of one lane, in drain order.
std::vector<agent::Record> of_lane(const std::vector<agent::Record>& all, std::uint32_t lane);

/// The lane a thread's records went to, checked to be the same for all of them; -1 if the
/// records are spread over several lanes (or there are none).
int only_lane(const std::vector<agent::Record>& records);

}  // namespace trainscope::test
