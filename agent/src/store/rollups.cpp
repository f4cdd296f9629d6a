#include "store/rollups.hpp"

#include <cmath>
#include <limits>

#include "store/point_layout.hpp"

namespace trainscope::agent {

const char* const kRollupBucketColumns =
    "count, nonfinite, sum, seq_lo, seq_hi, "
    "first_seq, first_step, first_t_us, first_value, last_seq, last_step, last_t_us, last_value, "
    "min_seq, min_step, min_t_us, min_value, max_seq, max_step, max_t_us, max_value, "
    "nf_seq, nf_step, nf_t_us, nf_value";

namespace {

constexpr int kFinest = kRollupLevels.front();

StoredPoint read_point(const Stmt& q, int col) {
    return StoredPoint{q.int64(col), q.int64(col + 1), static_cast<double>(q.int64(col + 2)) / 1000.0,
                       q.is_null(col + 3) ? std::numeric_limits<double>::quiet_NaN() : q.real(col + 3)};
}

/// Binds a point to 4 parameters from i; NULLs when absent. NaN is stored as NULL (SQLite
/// has no NaN), as in the points table.
void bind_point(Stmt& s, int i, const StoredPoint* p) {
    if (!p) {
        for (int k = 0; k < 4; ++k) s.bind_null(i + k);
        return;
    }
    // t_ms came from an integer t_us / 1000: rounding back is exact (|t_us| < 2^53 / 1000 * 1000).
    s.bind(i, p->seq).bind(i + 1, p->step).bind(i + 2, static_cast<std::int64_t>(std::llround(p->t_ms * 1000.0)));
    if (std::isnan(p->value)) s.bind_null(i + 3);
    else s.bind(i + 3, p->value);
}

}  // namespace

EnvelopeBucket read_rollup_bucket(const Stmt& q, int col) {
    EnvelopeBucket b;
    b.count = q.int64(col);
    b.nonfinite = q.int64(col + 1);
    b.sum = q.real(col + 2);
    b.seq_lo = q.int64(col + 3);
    b.seq_hi = q.int64(col + 4);
    b.first = read_point(q, col + 5);
    b.last = read_point(q, col + 9);
    if (b.has_finite()) {
        b.min = read_point(q, col + 13);
        b.max = read_point(q, col + 17);
    }
    if (b.nonfinite) b.non_finite = read_point(q, col + 21);
    return b;
}

void RollupWriter::create_table(Db& db) {
    db.exec(R"sql(
CREATE TABLE IF NOT EXISTS rollups (  -- per series, buckets of 2^level steps: see docs/store.md
    series_id INTEGER NOT NULL,
    level     INTEGER NOT NULL,   -- log2 of the bucket width in steps: 6, 9, 12, 15, 18
    bucket    INTEGER NOT NULL,   -- step >> level
    count     INTEGER NOT NULL,   -- points, NaN and Inf included
    nonfinite INTEGER NOT NULL,   -- NaN and Inf points (out of min, max and sum)
    sum       REAL NOT NULL,      -- of the finite values
    seq_lo    INTEGER NOT NULL,   -- seq span of its points
    seq_hi    INTEGER NOT NULL,
    first_seq INTEGER NOT NULL, first_step INTEGER NOT NULL, first_t_us INTEGER NOT NULL, first_value REAL,
    last_seq  INTEGER NOT NULL, last_step  INTEGER NOT NULL, last_t_us  INTEGER NOT NULL, last_value  REAL,
    min_seq   INTEGER, min_step INTEGER, min_t_us INTEGER, min_value REAL,  -- NULL: no finite point
    max_seq   INTEGER, max_step INTEGER, max_t_us INTEGER, max_value REAL,
    nf_seq    INTEGER, nf_step  INTEGER, nf_t_us  INTEGER, nf_value  REAL,  -- earliest NaN/Inf
    PRIMARY KEY (series_id, level, bucket)
) WITHOUT ROWID;
)sql");
}

RollupWriter::RollupWriter(Db& db) : db_(db) {
    load_ = std::make_unique<Stmt>(
        db_, (std::string("SELECT ") + kRollupBucketColumns +
              " FROM rollups WHERE series_id=? AND level=? AND bucket=?").c_str());
    save_ = std::make_unique<Stmt>(
        db_, (std::string("INSERT OR REPLACE INTO rollups(series_id, level, bucket, ") +
              kRollupBucketColumns +
              ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)").c_str());
}

RollupWriter::~RollupWriter() = default;

void RollupWriter::add(std::int64_t series_id, const StoredPoint& p) {
    std::pair<std::int64_t, std::int64_t> key{series_id, p.step >> kFinest};
    // Steps mostly arrive in order: the same bucket as the point before, no map lookup.
    if (!last_pending_ || key != last_pending_key_) {
        last_pending_ = &pending_[key];
        last_pending_key_ = key;
    }
    last_pending_->add(p);
}

RollupWriter::Cached& RollupWriter::cached(const Key& key) {
    auto [it, fresh] = cache_.try_emplace(key);
    if (fresh) {
        load_->bind(1, std::get<0>(key)).bind(2, std::get<1>(key)).bind(3, std::get<2>(key));
        if (load_->step()) it->second.bucket = read_rollup_bucket(*load_, 0);
        load_->reset();
    }
    return it->second;
}

void RollupWriter::flush() {
    for (const auto& [key, delta] : pending_)
        for (int level : kRollupLevels) {
            Cached& c = cached(Key{key.first, level, key.second >> (level - kFinest)});
            c.bucket.merge(delta);
            c.dirty = true;
            c.used = flushes_;
        }
    pending_.clear();
    last_pending_ = nullptr;
    for (auto it = cache_.begin(); it != cache_.end();) {
        auto& [key, c] = *it;
        if (c.dirty) {
            const EnvelopeBucket& b = c.bucket;
            save_->bind(1, std::get<0>(key)).bind(2, std::get<1>(key)).bind(3, std::get<2>(key))
                .bind(4, b.count).bind(5, b.nonfinite).bind(6, b.sum).bind(7, b.seq_lo).bind(8, b.seq_hi);
            bind_point(*save_, 9, &b.first);
            bind_point(*save_, 13, &b.last);
            bind_point(*save_, 17, b.has_finite() ? &b.min : nullptr);
            bind_point(*save_, 21, b.has_finite() ? &b.max : nullptr);
            bind_point(*save_, 25, b.nonfinite ? &b.non_finite : nullptr);
            save_->run();
            c.dirty = false;
        }
        // Keep each (series, level)'s newest bucket only: the next points of an in-order
        // series land there; anything else is read back when touched.
        auto next = std::next(it);
        bool newest = next == cache_.end() || std::get<0>(next->first) != std::get<0>(key) ||
                      std::get<1>(next->first) != std::get<1>(key);
        bool recent = flushes_ - c.used < kKeepFlushes;
        it = newest && recent ? next : cache_.erase(it);
    }
    ++flushes_;
}

void RollupWriter::discard() {
    pending_.clear();
    last_pending_ = nullptr;
    cache_.clear();
}

std::int64_t RollupWriter::rebuild_stale(const std::function<void(const std::string&)>& progress) {
    discard();
    // A series' rollups are whole when its coarsest level counts its points: a seek per series.
    std::vector<std::pair<std::int64_t, std::int64_t>> stale;  // series, points
    std::int64_t stale_points = 0;
    {
        Stmt series(db_, "SELECT id, points FROM series ORDER BY id");
        Stmt counted(db_, "SELECT COALESCE(SUM(count), 0) FROM rollups WHERE series_id=? AND level=?");
        while (series.step()) {
            counted.bind(1, series.int64(0)).bind(2, kRollupLevels.back());
            counted.step();
            if (counted.int64(0) != series.int64(1)) {
                stale.emplace_back(series.int64(0), series.int64(1));
                stale_points += series.int64(1);
            }
            counted.reset();
        }
    }
    {
        Stmt version(db_, "PRAGMA user_version");
        // 1: this database has rollups (docs/store.md); an older agent leaves it at 0.
        if (version.step() && version.int64(0) < 1) db_.exec("PRAGMA user_version=1");
    }
    if (stale.empty()) return 0;
    progress("building rollups of " + std::to_string(stale.size()) + " series (" +
             std::to_string(stale_points) + " points)");
    Transaction tx(db_);
    struct Forget {  // a failed rebuild leaves no half-merged bucket cached
        RollupWriter& w;
        ~Forget() { w.discard(); }
    } forget{*this};
    Stmt drop(db_, "DELETE FROM rollups WHERE series_id=?");
    Stmt points(db_, ("SELECT p.seq, p.step, p.t_us, p.value FROM " +
                      series_point_rows("?1", kFirstSeq, kLastSeq) +
                      " ORDER BY c.first_seq, p.rowid").c_str());
    std::int64_t done = 0, reported = 0;
    for (const auto& [id, n] : stale) {
        drop.bind(1, id).run();
        points.bind(1, id);
        std::int64_t since_flush = 0;
        while (points.step()) {
            add(id, StoredPoint{points.int64(0), points.int64(1), static_cast<double>(points.int64(2)) / 1000.0,
                                points.is_null(3) ? std::numeric_limits<double>::quiet_NaN() : points.real(3)});
            // Bounded memory: the pending buckets of a 10M-point series would be 40 MB.
            if (++since_flush == 1 << 20) {
                flush();
                since_flush = 0;
            }
            if (++done - reported >= 10'000'000) {
                reported = done;
                progress("rollups: " + std::to_string(done) + " of " + std::to_string(stale_points) + " points");
            }
        }
        points.reset();
        flush();
    }
    tx.commit();
    progress("rollups built: " + std::to_string(stale.size()) + " series, " + std::to_string(done) + " points");
    return static_cast<std::int64_t>(stale.size());
}

}  // namespace trainscope::agent
