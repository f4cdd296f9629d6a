#include "ring/ring_fixture.hpp"

#include <cstdlib>
#include <thread>

namespace trainscope::test {

RingTest::RingTest() {
    // These Runs are drained by the test itself: no agent may be started on their behalf.
    ::setenv("TRAINSCOPE_AUTOSTART", "0", 1);
}

RunOptions RingTest::options(std::uint32_t capacity, OverflowPolicy overflow,
                             std::uint32_t lanes) const {
    RunOptions o;
    o.capacity = capacity;
    o.overflow = overflow;
    o.lanes = lanes;
    o.name_space = ns_.name();
    return o;
}

std::unique_ptr<agent::SegmentReader> RingTest::open_reader() const {
    std::string why;
    bool not_ready = false;
    auto reader = agent::SegmentReader::open(ns_.only_segment(), &why, &not_ready);
    EXPECT_TRUE(reader) << "cannot open the segment: " << why;
    return reader;
}

std::size_t RingConsumer::drain(std::vector<agent::Record>& out, std::size_t max) {
    std::uint64_t lost = 0;
    std::size_t n = reader_.drain(cursors_, max, false, out, &lost);
    if (n > 0)
        for (std::uint32_t k = 0; k < cursors_.size(); ++k) reader_.release(k, cursors_[k]);
    return n;
}

std::vector<agent::Record> of_lane(const std::vector<agent::Record>& all, std::uint32_t lane) {
    std::vector<agent::Record> out;
    for (const agent::Record& r : all)
        if (r.lane == lane) out.push_back(r);
    return out;
}

int only_lane(const std::vector<agent::Record>& records) {
    if (records.empty()) return -1;
    for (const agent::Record& r : records)
        if (r.lane != records.front().lane) return -1;
    return static_cast<int>(records.front().lane);
}

}  // namespace trainscope::test

namespace trainscope::test {

std::vector<agent::Record> RingConsumer::drain_until_done(const std::atomic<int>& producers_left) {
    std::vector<agent::Record> all;
    for (;;) {
        bool done = producers_left.load(std::memory_order_acquire) == 0;  // before the drain
        if (drain(all) == 0) {
            if (done) return all;
            std::this_thread::yield();
        }
    }
}

}  // namespace trainscope::test
