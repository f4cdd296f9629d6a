// Rollup levels: per series, fixed buckets of steps at a few power-of-two widths, each row
// an EnvelopeBucket (count, NaN/Inf count, sum, seq span, first, last, min, max, earliest
// NaN/Inf). A series request over millions of points reads a few thousand of these rows
// instead (rollup_query.hpp). Kept by the one writer (Store::commit) in the same transaction
// as the points; built for older databases when the Store opens. Schema: docs/store.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "store/envelope_bucket.hpp"
#include "store/sqlite.hpp"

namespace trainscope::agent {

/// log2 of each level's bucket width in steps, finest first.
inline constexpr std::array<int, 5> kRollupLevels = {6, 9, 12, 15, 18};

/// Reads one rollup row's bucket from columns [col, col + kRollupBucketColumns) of q.
EnvelopeBucket read_rollup_bucket(const Stmt& q, int col);
/// The bucket columns of a rollups row, in read_rollup_bucket's order.
extern const char* const kRollupBucketColumns;

/// Keeps the rollups of the points a Store commits. Not thread-safe: the writer's thread only.
class RollupWriter {
public:
    explicit RollupWriter(Db& db);
    ~RollupWriter();

    /// Creates the rollups table if missing.
    static void create_table(Db& db);

    /// A point just stored (in the open transaction).
    void add(std::int64_t series_id, const StoredPoint& p);
    /// Writes one row per bucket touched since the last flush, in the open transaction.
    void flush();
    /// After a rolled-back transaction: forgets what was added and every cached bucket.
    void discard();

    /// Rebuilds, from their points, the rollups of every series whose rollups do not add up
    /// to its point count (a database of an agent before rollups, or written by one since).
    /// One transaction; `progress` gets a line now and then. Returns the series rebuilt.
    std::int64_t rebuild_stale(const std::function<void(const std::string&)>& progress);

private:
    using Key = std::tuple<std::int64_t, int, std::int64_t>;  // series, level, bucket
    struct Cached {
        EnvelopeBucket bucket;
        bool dirty = false;
        std::uint64_t used = 0;  ///< the flush that last touched it
    };
    Cached& cached(const Key& key);
    Db& db_;
    std::unique_ptr<Stmt> load_, save_;
    /// Points added since the last flush, merged per finest-level bucket: the per-point cost
    /// is one merge, the levels are updated once per bucket at flush.
    std::map<std::pair<std::int64_t, std::int64_t>, EnvelopeBucket> pending_;
    EnvelopeBucket* last_pending_ = nullptr;
    std::pair<std::int64_t, std::int64_t> last_pending_key_{-1, 0};
    /// Buckets read or written: after a flush, only each (series, level)'s newest stays, and
    /// only while its series was touched in the last kKeepFlushes flushes (a finished run's
    /// series leave memory).
    std::map<Key, Cached> cache_;
    std::uint64_t flushes_ = 0;
    static constexpr std::uint64_t kKeepFlushes = 256;
};

}  // namespace trainscope::agent
