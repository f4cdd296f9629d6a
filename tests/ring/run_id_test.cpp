// Proves: TRAINSCOPE_RUN_ID makes every rank of a job share one session id (RunOptions::run_id
// takes precedence), the id lands in the segment header, and values that could not travel
// safely in file names, URLs and SQL are replaced by a fresh id instead of being used.
// Under torchrun, TORCHELASTIC_RUN_ID is the fallback ("none" means no job), mapped to the
// same valid id on every rank when it is not one itself; the rank comes from RANK, else
// LOCAL_RANK.
#include <cstdlib>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

class RunIdTest : public RingTest {
protected:
    ~RunIdTest() override {
        for (const char* name : {"TRAINSCOPE_RUN_ID", "TORCHELASTIC_RUN_ID", "RANK", "LOCAL_RANK"})
            ::unsetenv(name);
    }

    /// The session id and rank of a Run made in the current environment.
    std::pair<std::string, int> identity_now() {
        std::pair<std::string, int> out;
        {
            trainscope::Run run("ids", options(64));
            auto reader = open_reader();
            EXPECT_TRUE(reader);
            if (reader) out = {reader->session_id(), reader->identity().rank};
            EXPECT_EQ(out.first, run.session_id());
        }
        remove_shm_files(ns_.name());
        return out;
    }

    /// The session id of a Run made with TRAINSCOPE_RUN_ID=value (and `option` as run_id),
    /// checked against the one in the segment header.
    std::string id_with_env(const std::string& value, const std::string& option = "") {
        ::setenv("TRAINSCOPE_RUN_ID", value.c_str(), 1);
        RunOptions o = options(64);
        o.run_id = option;
        std::string id;
        {
            trainscope::Run run("ids", o);
            auto reader = open_reader();
            id = run.session_id();
            EXPECT_TRUE(reader && reader->session_id() == id)
                << "header and Run disagree on " << id;
        }
        remove_shm_files(ns_.name());
        return id;
    }
};

bool is_generated(const std::string& id) {
    return id.size() == 26;
}

TEST_F(RunIdTest, EnvironmentOverridesTheGeneratedId) {
    EXPECT_EQ(id_with_env("job-42.rank_all"), "job-42.rank_all");
    EXPECT_EQ(id_with_env(std::string(31, 'x')), std::string(31, 'x'));
}

TEST_F(RunIdTest, ExplicitOptionBeatsTheEnvironment) {
    EXPECT_EQ(id_with_env("from-env", "from-option"), "from-option");
}

TEST_F(RunIdTest, EmptyEnvironmentMeansAFreshId) {
    EXPECT_TRUE(is_generated(id_with_env("")));
}

TEST_F(RunIdTest, InvalidValuesAreReplacedByAFreshId) {
    for (const std::string& bad :
         std::vector<std::string>{"has space", "a/b", "semi;colon", "quote'", "percent%2F",
                                  std::string(32, 'x'), std::string("caf\xc3\xa9")}) {
        std::string id = id_with_env(bad);
        EXPECT_TRUE(is_generated(id)) << "'" << bad << "' was used as '" << id << "'";
    }
}

TEST_F(RunIdTest, DotSegmentsAreRefusedLikeOtherPathTricks) {
    // "." and ".." pass the character check but are refused by the agent's URL router, so
    // such a run could never be opened from the dashboard or the API.
    for (const std::string& bad : std::vector<std::string>{".", ".."}) {
        std::string id = id_with_env(bad);
        EXPECT_TRUE(is_generated(id)) << "'" << bad << "' was used as the session id";
    }
}

TEST_F(RunIdTest, TorchrunsJobIdIsTheFallback) {
    ::setenv("TORCHELASTIC_RUN_ID", "ddp-job-7", 1);
    EXPECT_EQ(identity_now().first, "ddp-job-7");
    ::setenv("TRAINSCOPE_RUN_ID", "ours", 1);
    EXPECT_EQ(identity_now().first, "ours") << "TRAINSCOPE_RUN_ID comes first";
}

TEST_F(RunIdTest, TorchrunsUuidBecomesTheSameValidIdOnEveryRank) {
    // torchrun --standalone names its job with a 36-character UUID: too long to be an id.
    const std::string uuid = "3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a9b";
    ::setenv("TORCHELASTIC_RUN_ID", uuid.c_str(), 1);
    std::string first = identity_now().first;
    EXPECT_EQ(first.rfind("job-", 0), 0u) << first;
    EXPECT_EQ(first.size(), 20u);
    EXPECT_TRUE(detail::valid_session_id(first));
    EXPECT_EQ(identity_now().first, first) << "another rank derives the same id";
    ::setenv("TORCHELASTIC_RUN_ID", "3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a9c", 1);
    EXPECT_NE(identity_now().first, first) << "another job, another id";
}

TEST_F(RunIdTest, TorchrunsNoneMeansNoJob) {
    ::setenv("TORCHELASTIC_RUN_ID", "none", 1);
    EXPECT_TRUE(is_generated(identity_now().first));
}

TEST_F(RunIdTest, RankComesFromRankElseLocalRank) {
    EXPECT_EQ(identity_now().second, 0);
    ::setenv("LOCAL_RANK", "3", 1);
    EXPECT_EQ(identity_now().second, 3);
    ::setenv("RANK", "11", 1);
    EXPECT_EQ(identity_now().second, 11) << "the global rank wins";
}

}  // namespace
}  // namespace trainscope::test
