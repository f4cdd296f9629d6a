// Proves: session ids are 26 characters of Crockford base32 whose first ten characters
// encode the creation time in milliseconds, so they sort by time; 10,000 ids made in the
// same millisecond are all distinct; and a Run's own id follows the same format.
#include <chrono>
#include <set>

#include <trainscope/detail/session_id.hpp>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

::testing::AssertionResult is_ulid(const std::string& id) {
    if (id.size() != 26)
        return ::testing::AssertionFailure() << "'" << id << "' is not 26 characters";
    for (char c : id)
        if (kCrockford.find(c) == std::string_view::npos)
            return ::testing::AssertionFailure() << "'" << id << "' holds '" << c << "'";
    if (id[0] > '7') return ::testing::AssertionFailure() << "'" << id << "' exceeds 128 bits";
    return ::testing::AssertionSuccess();
}

/// The 48-bit millisecond time in the first ten characters.
std::int64_t time_of(const std::string& id) {
    std::int64_t ms = 0;
    for (std::size_t i = 0; i < 10; ++i)
        ms = ms * 32 + static_cast<std::int64_t>(kCrockford.find(id[i]));
    return ms;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

TEST(SessionIdTest, IsCrockfordBase32WithTheTimeUpFront) {
    const std::int64_t t = 1'767'225'600'123;  // 2026-01-01T00:00:00.123Z
    std::string id = detail::make_session_id(t);
    EXPECT_TRUE(is_ulid(id));
    EXPECT_EQ(time_of(id), t);
}

TEST(SessionIdTest, SortsByCreationTime) {
    const std::int64_t times[] = {0,
                                  1,
                                  31,
                                  32,
                                  1'000,
                                  1'767'225'600'000,
                                  1'767'225'600'001,
                                  1'767'225'601'000,
                                  2'000'000'000'000,
                                  (1LL << 48) - 1};
    std::vector<std::string> ids;
    for (std::int64_t t : times) ids.push_back(detail::make_session_id(t));
    for (std::size_t i = 1; i < ids.size(); ++i)
        EXPECT_LT(ids[i - 1], ids[i]) << "times " << times[i - 1] << " and " << times[i];
}

TEST(SessionIdTest, TenThousandIdsInOneMillisecondAreUnique) {
    std::set<std::string> ids;
    for (int i = 0; i < 10000; ++i) {
        std::string id = detail::make_session_id(1'767'225'600'000);
        ASSERT_TRUE(is_ulid(id));
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 10000u);
}

using RunSessionIdTest = RingTest;

TEST_F(RunSessionIdTest, ARunGetsAFreshTimeStampedId) {
    ::unsetenv("TRAINSCOPE_RUN_ID");
    std::int64_t before = now_ms();
    trainscope::Run run("ids", options(64));
    std::int64_t after = now_ms();
    std::string id = run.session_id();
    ASSERT_TRUE(is_ulid(id));
    EXPECT_GE(time_of(id), before);
    EXPECT_LE(time_of(id), after);
}

}  // namespace
}  // namespace trainscope::test
