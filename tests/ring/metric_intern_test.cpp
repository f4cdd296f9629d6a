// Proves: metric names are interned once: the same name always maps to the same id (through
// metric() and log()), different names to different ids published in the header's table;
// a run holds at most 512 names, and names must be 1..63 bytes — beyond that logging the
// new name is refused while every name already interned keeps working.
#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using MetricInternTest = RingTest;

TEST_F(MetricInternTest, SameNameSameIdDifferentNameDifferentId) {
    trainscope::Run run("intern", options(64));
    Metric a1 = run.metric("train/loss");
    Metric a2 = run.metric("train/loss");
    Metric b = run.metric("val/loss");
    ASSERT_TRUE(a1.valid() && a2.valid() && b.valid());
    ASSERT_EQ(a1.log(0, 1.0), LogStatus::ok);
    ASSERT_EQ(a2.log(1, 2.0), LogStatus::ok);
    ASSERT_EQ(run.log("train/loss", 2, 3.0), LogStatus::ok);
    ASSERT_EQ(b.log(3, 4.0), LogStatus::ok);

    auto reader = open_reader();
    ASSERT_TRUE(reader);
    std::vector<agent::Record> got;
    RingConsumer(*reader).drain(got);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].metric_id, got[1].metric_id);
    EXPECT_EQ(got[0].metric_id, got[2].metric_id);
    EXPECT_NE(got[0].metric_id, got[3].metric_id);
    EXPECT_EQ(reader->metric_count(), 2u);
    EXPECT_EQ(reader->metric_name(got[0].metric_id), "train/loss");
    EXPECT_EQ(reader->metric_name(got[3].metric_id), "val/loss");
}

TEST_F(MetricInternTest, AtMost512NamesPerRun) {
    trainscope::Run run("intern", options(1024));
    std::vector<Metric> metrics;
    for (std::size_t i = 0; i < layout::kMaxMetrics; ++i) {
        metrics.push_back(run.metric("metric/" + std::to_string(i)));
        ASSERT_TRUE(metrics.back().valid()) << "name " << i;
    }
    EXPECT_FALSE(run.metric("one/too/many").valid());
    EXPECT_EQ(run.log("one/too/many", 0, 1.0), LogStatus::disabled);
    // The names already interned keep working, by handle and by name.
    EXPECT_EQ(metrics.back().log(0, 1.0), LogStatus::ok);
    EXPECT_EQ(run.log("metric/0", 0, 1.0), LogStatus::ok);

    auto reader = open_reader();
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->metric_count(), layout::kMaxMetrics);
    EXPECT_EQ(reader->metric_name(511), "metric/511");
}

TEST_F(MetricInternTest, NamesMustBeOneTo63Bytes) {
    trainscope::Run run("intern", options(64));
    EXPECT_FALSE(run.metric("").valid());
    EXPECT_FALSE(run.metric(std::string(64, 'n')).valid());
    Metric longest = run.metric(std::string(63, 'n'));
    ASSERT_TRUE(longest.valid());
    EXPECT_EQ(longest.log(0, 1.0), LogStatus::ok);
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->metric_count(), 1u);
    EXPECT_EQ(reader->metric_name(0), std::string(63, 'n'));
}

}  // namespace
}  // namespace trainscope::test
