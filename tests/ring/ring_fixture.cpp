#include "ring/ring_fixture.hpp"

#include <cstdlib>
#include <thread>

namespace trainscope::test {

RingTest::RingTest() {
    // These Runs are drained by the test itself: no agent may be started on their behalf.
    ::setenv("TRAINSCOPE_AUTOSTART", "0", 1);
}

RunOptions RingTest::options(std::uint32_t capacity, OverflowPolicy overflow) const {
    RunOptions o;
    o.capacity = capacity;
    o.overflow = overflow;
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
    std::size_t n = reader_.drain(cursor_, max, false, out, &lost);
    if (n > 0) reader_.release(cursor_);
    return n;
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
