#include "forward/pg_rollups.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "forward/pg_connection.hpp"
#include "store/rollups.hpp"

namespace trainscope::agent {

namespace {

constexpr int kFinest = kRollupLevels.front();

/// PostgreSQL's text for a double ("NaN", "Infinity", "-Infinity" included).
double read_double(const PgResult& r, int row, int col) {
    if (r.is_null(row, col)) return std::numeric_limits<double>::quiet_NaN();
    return std::strtod(r.text(row, col).c_str(), nullptr);
}

StoredPoint read_point(const PgResult& r, int row, int col) {
    return StoredPoint{r.int64(row, col), r.int64(row, col + 1), static_cast<double>(r.int64(row, col + 2)) / 1000.0,
                       read_double(r, row, col + 3)};
}

void copy_point(BinaryCopy& copy, const StoredPoint* p) {
    if (!p) {
        for (int k = 0; k < 4; ++k) copy.null();
        return;
    }
    copy.int64(p->seq);
    copy.int64(p->step);
    // t_ms came from an integer t_us / 1000: rounding back is exact.
    copy.int64(static_cast<std::int64_t>(std::llround(p->t_ms * 1000.0)));
    copy.float8(p->value);
}

/// `prefix`_seq/_step/_t_us/_value = the new bucket's point where `cond` holds, else the stored one.
std::string take_point_if(const std::string& cond, const std::string& prefix) {
    std::string out;
    for (const char* column : {"_seq", "_step", "_t_us", "_value"}) {
        std::string c = prefix + column;
        out += ", " + c + " = CASE WHEN " + cond + " THEN excluded." + c + " ELSE r." + c + " END";
    }
    return out;
}

/// EnvelopeBucket::merge in SQL: the stored row r and the batch's bucket `excluded`. Every
/// SET expression reads r as it was, so the order of the assignments does not matter.
std::string merge_sql() {
    std::string sql = std::string("INSERT INTO trainscope.rollups AS r (series_id, level, bucket, ") +
                      kRollupBucketColumns + ") SELECT series_id, level, bucket, " + kRollupBucketColumns +
                      " FROM pg_temp.trainscope_rollup_delta ON CONFLICT (series_id, level, bucket) DO UPDATE SET "
                      "count = r.count + excluded.count, nonfinite = r.nonfinite + excluded.nonfinite, "
                      "sum = r.sum + excluded.sum, seq_lo = LEAST(r.seq_lo, excluded.seq_lo), "
                      "seq_hi = GREATEST(r.seq_hi, excluded.seq_hi)";
    sql += take_point_if("(excluded.first_step, excluded.first_seq) < (r.first_step, r.first_seq)", "first");
    sql += take_point_if("(r.last_step, r.last_seq) < (excluded.last_step, excluded.last_seq)", "last");
    // Finite values only (NULL: none); ties go to the lower seq.
    sql += take_point_if("excluded.min_seq IS NOT NULL AND (r.min_seq IS NULL OR excluded.min_value < r.min_value "
                         "OR (excluded.min_value = r.min_value AND excluded.min_seq < r.min_seq))",
                         "min");
    sql += take_point_if("excluded.max_seq IS NOT NULL AND (r.max_seq IS NULL OR excluded.max_value > r.max_value "
                         "OR (excluded.max_value = r.max_value AND excluded.max_seq < r.max_seq))",
                         "max");
    sql += take_point_if("excluded.nonfinite > 0 AND (r.nonfinite = 0 OR "
                         "(excluded.nf_step, excluded.nf_seq) < (r.nf_step, r.nf_seq))",
                         "nf");
    return sql;
}

// A temporary table per connection, emptied at every commit: the batch's buckets go in by
// binary COPY (no text parsing) and out by the one merge statement.
constexpr const char* kDeltaTable =
    "CREATE TEMP TABLE IF NOT EXISTS trainscope_rollup_delta (series_id bigint, level bigint, bucket bigint, "
    "count bigint, nonfinite bigint, sum float8, seq_lo bigint, seq_hi bigint, "
    "first_seq bigint, first_step bigint, first_t_us bigint, first_value float8, "
    "last_seq bigint, last_step bigint, last_t_us bigint, last_value float8, "
    "min_seq bigint, min_step bigint, min_t_us bigint, min_value float8, "
    "max_seq bigint, max_step bigint, max_t_us bigint, max_value float8, "
    "nf_seq bigint, nf_step bigint, nf_t_us bigint, nf_value float8) ON COMMIT DELETE ROWS";

}  // namespace

EnvelopeBucket read_pg_rollup_bucket(const PgResult& r, int row, int col) {
    EnvelopeBucket b;
    b.count = r.int64(row, col);
    b.nonfinite = r.int64(row, col + 1);
    b.sum = read_double(r, row, col + 2);
    b.seq_lo = r.int64(row, col + 3);
    b.seq_hi = r.int64(row, col + 4);
    b.first = read_point(r, row, col + 5);
    b.last = read_point(r, row, col + 9);
    if (b.has_finite()) {
        b.min = read_point(r, row, col + 13);
        b.max = read_point(r, row, col + 17);
    }
    if (b.nonfinite) b.non_finite = read_point(r, row, col + 21);
    return b;
}

void PgRollupDelta::add(std::int64_t series_id, const StoredPoint& p) {
    std::pair<std::int64_t, std::int64_t> key{series_id, p.step >> kFinest};
    // A batch holds runs of one series' points in seq order: mostly the same bucket again.
    if (!last_ || key != last_key_) {
        last_ = &finest_[key];
        last_key_ = key;
    }
    last_->add(p);
}

void PgRollupDelta::merge_into(PgConnection& pg) {
    if (finest_.empty()) return;
    std::map<std::tuple<std::int64_t, int, std::int64_t>, EnvelopeBucket> rows;
    for (const auto& [key, bucket] : finest_)
        for (int level : kRollupLevels) rows[{key.first, level, key.second >> (level - kFinest)}].merge(bucket);
    finest_.clear();
    last_ = nullptr;

    BinaryCopy copy;
    for (const auto& [key, b] : rows) {
        copy.row(28);
        copy.int64(std::get<0>(key));
        copy.int64(std::get<1>(key));
        copy.int64(std::get<2>(key));
        copy.int64(b.count);
        copy.int64(b.nonfinite);
        copy.float8(b.sum);
        copy.int64(b.seq_lo);
        copy.int64(b.seq_hi);
        copy_point(copy, &b.first);
        copy_point(copy, &b.last);
        copy_point(copy, b.has_finite() ? &b.min : nullptr);
        copy_point(copy, b.has_finite() ? &b.max : nullptr);
        copy_point(copy, b.nonfinite ? &b.non_finite : nullptr);
    }
    static const std::string merge = merge_sql() + "; DELETE FROM pg_temp.trainscope_rollup_delta";
    pg.exec(kDeltaTable);
    pg.copy_in_binary("pg_temp.trainscope_rollup_delta", copy.finish());
    pg.exec(merge);
}

std::int64_t build_pg_rollups(PgConnection& pg) {
    // In table order (no sort of the whole table): the summaries merge in any order. Merged
    // every ~1M points so memory stays bounded however large the table is.
    pg.exec("DECLARE trainscope_all_points NO SCROLL CURSOR FOR "
            "SELECT series_id, seq, step, t_us, value FROM trainscope.points");
    PgRollupDelta delta;
    std::int64_t read = 0, pending = 0;
    for (;;) {
        PgResult rows = pg.exec("FETCH 50000 FROM trainscope_all_points");
        for (int i = 0; i < rows.rows(); ++i)
            delta.add(rows.int64(i, 0), StoredPoint{rows.int64(i, 1), rows.int64(i, 2),
                                                    static_cast<double>(rows.int64(i, 3)) / 1000.0,
                                                    read_double(rows, i, 4)});
        read += rows.rows();
        pending += rows.rows();
        if (pending >= 1'000'000 || rows.rows() < 50000) {
            delta.merge_into(pg);
            pending = 0;
        }
        if (rows.rows() < 50000) break;
    }
    pg.exec("CLOSE trainscope_all_points");
    return read;
}

}  // namespace trainscope::agent
