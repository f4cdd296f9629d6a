#include "forward/shipper.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>

#include <algorithm>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "forward/plugin_output_filter.hpp"

namespace trainscope::agent {

namespace {

std::string md5_hex(const std::string& text) {
    Poco::MD5Engine md5;
    md5.update(text);
    return Poco::DigestEngine::digestToHex(md5.digest());
}

double number_or(const PgResult& r, int row, int col, double none) {
    return r.is_null(row, col) ? none : std::stod(r.text(row, col));
}

}  // namespace

Shipper::Shipper(ShipperOptions options, Poco::Logger& log)
    : options_(std::move(options)), log_(log) {}

Shipper::~Shipper() { stop(); }

void Shipper::start() {
    spool_ = std::make_unique<SpoolReader>(options_.db_path);
    thread_ = std::thread([this] { loop(); });
}

void Shipper::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Shipper::wait_interval() {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
}

void Shipper::loop() {
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;
        }
        bool more = false;
        if (outage_.may_try(StorageOutage::Clock::now())) {
            try {
                if (!pg_) connect();
                more = ship_once();
                if (outage_.succeeded())
                    log_.information("forwarding to PostgreSQL again; %s points behind",
                                     std::to_string(outage_.snapshot().waiting_points));
            } catch (const std::exception& e) {
                // Whatever failed, the connection's state is unknown: drop it; the next
                // connection reads the shipped positions back from PostgreSQL.
                pg_.reset();
                state_loaded_ = false;
                spool_->end();
                try { count_behind(); } catch (const std::exception&) {}
                if (outage_.failed(e.what(), StorageOutage::Clock::now()))
                    log_.error("forwarding to PostgreSQL failed: %s; points wait in the local store "
                               "(%s behind), retrying",
                               std::string(e.what()), std::to_string(outage_.snapshot().waiting_points));
            }
        } else {
            try { count_behind(); } catch (const std::exception&) {}
        }
        if (!more) wait_interval();
    }
    spool_->end();
}

void Shipper::connect() {
    pg_ = std::make_unique<PgConnection>(options_.conninfo);
    ensure_pg_schema(*pg_);
    pg_->exec("INSERT INTO trainscope.agents (agent_id, host) VALUES ($1, $2) ON CONFLICT (agent_id) "
              "DO UPDATE SET host = excluded.host, last_seen = now()",
              {options_.agent_id, options_.host});
    load_state();
}

void Shipper::load_state() {
    // PostgreSQL is the truth: the ledger's last batch, the events cursor and every run's
    // shipped position were committed together.
    std::unique_lock<std::mutex> lock(shipped_mutex_);
    shipped_.clear();
    lock.unlock();
    PgResult ledger = pg_->exec(
        "SELECT COALESCE(max(batch_seq), 0) FROM trainscope.ledger WHERE agent_id = $1", {options_.agent_id});
    next_batch_seq_ = ledger.int64(0, 0) + 1;
    PgResult agent = pg_->exec("SELECT events_rowid FROM trainscope.agents WHERE agent_id = $1",
                               {options_.agent_id});
    events_rowid_ = agent.rows() ? agent.int64(0, 0) : 0;
    PgResult runs = pg_->exec(
        "SELECT n.session_id, n.shipped_seq, n.status, n.ended_ms, n.last_ms, r.session_id IS NOT NULL, "
        "md5(r.config), md5(r.model_info) FROM trainscope.run_nodes n "
        "LEFT JOIN trainscope.runs r ON r.session_id = n.session_id WHERE n.agent_id = $1",
        {options_.agent_id});
    lock.lock();
    for (int i = 0; i < runs.rows(); ++i) {
        Shipped& s = shipped_[runs.text(i, 0)];
        s.seq = runs.int64(i, 1);
        s.status = runs.text(i, 2);
        s.ended_ms = number_or(runs, i, 3, -1);
        s.last_ms = number_or(runs, i, 4, -1);
        s.shared_row = runs.text(i, 5) == "t";
        s.config_md5 = runs.is_null(i, 6) ? "" : runs.text(i, 6);
        s.model_md5 = runs.is_null(i, 7) ? "" : runs.text(i, 7);
    }
    state_loaded_ = true;
}

bool Shipper::holds_ended_run(const std::string& session_id, std::int64_t last_seq) const {
    std::lock_guard<std::mutex> lock(shipped_mutex_);
    auto it = shipped_.find(session_id);
    return it != shipped_.end() && it->second.seq >= last_seq && !it->second.status.empty() &&
           it->second.status != "running";
}

std::uint64_t Shipper::behind(const std::vector<SpoolRun>& runs) const {
    std::uint64_t total = 0;
    for (const SpoolRun& r : runs) {
        auto it = shipped_.find(r.session_id);
        std::int64_t done = it == shipped_.end() ? 0 : it->second.seq;
        if (r.last_seq > done) total += static_cast<std::uint64_t>(r.last_seq - done);
    }
    return total;
}

void Shipper::count_behind() {
    spool_->begin();
    std::vector<SpoolRun> runs = spool_->runs();
    spool_->end();
    outage_.set_waiting(behind(runs));
}

std::int64_t Shipper::add_run(ShipBatch& batch, const SpoolRun& r, std::int64_t budget) {
    auto known = shipped_.find(r.session_id);
    Shipped none;
    const Shipped& s = known == shipped_.end() ? none : known->second;
    PgRunRow row;
    row.session_id = r.session_id;
    row.name = r.name;
    row.status = r.status;
    row.pid = r.pid;
    row.started_ms = r.started_ms;
    row.ended_ms = r.ended_ms;
    row.last_ms = r.last_ms;
    row.shipped_seq = s.seq;
    bool changed = known == shipped_.end() || s.status != r.status || s.ended_ms != r.ended_ms ||
                   s.last_ms != r.last_ms;
    // A trainer may set its config and model info while it runs; an ended run's are final,
    // so only running or newly seen runs are read and compared.
    if (!s.shared_row || r.status == "running") {
        auto [config, model] = spool_->run_blobs(r.session_id);
        std::string config_md5 = config.empty() ? "" : md5_hex(config);
        std::string model_md5 = model.empty() ? "" : md5_hex(model);
        if (!s.shared_row || config_md5 != s.config_md5 || model_md5 != s.model_md5) {
            row.shared_row = true;
            if (!config.empty()) row.config = std::move(config);
            if (!model.empty()) row.model_info = std::move(model);
            changed = true;
        }
    }
    std::int64_t added = 0;
    if (r.last_seq > s.seq && budget > 0) {
        std::int64_t upto = std::min(r.last_seq, s.seq + budget);
        scratch_.clear();
        spool_->points(r.session_id, s.seq, upto, scratch_);
        for (const SpoolPoint& p : scratch_)
            batch.points.push_back(PgPointRow{p.series_id, p.seq, p.step, p.t_us, p.value});
        added = static_cast<std::int64_t>(scratch_.size());
        row.shipped_seq = upto;
        changed = true;
    }
    if (changed) batch.runs.push_back(std::move(row));
    return added;
}

void Shipper::map_series(ShipBatch& batch) {
    std::int64_t last_local = -1, last_pg = -1;
    for (PgPointRow& p : batch.points) {
        if (p.series_id != last_local) {
            last_local = p.series_id;
            auto it = series_ids_.find(p.series_id);
            if (it == series_ids_.end()) {
                // Outside the batch's transaction: a series row is harmless if the batch then
                // fails, and the next attempt finds it.
                SpoolSeries meta = spool_->series(p.series_id);
                if (is_plugin_series(meta.name, local_plugins_)) {
                    last_pg = series_ids_[p.series_id] = -1;
                    p.series_id = -1;
                    continue;
                }
                PgResult id = pg_->exec(
                    "INSERT INTO trainscope.series (session_id, agent_id, host, rank, name) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, agent_id, rank, name) "
                    "DO UPDATE SET host = excluded.host RETURNING id",
                    {meta.session_id, options_.agent_id, options_.host, std::to_string(meta.rank), meta.name});
                it = series_ids_.emplace(p.series_id, id.int64(0, 0)).first;
            }
            last_pg = it->second;
        }
        p.series_id = last_pg;
    }
    // Points of series kept local leave the batch; their seqs stay unused in PostgreSQL.
    batch.points.erase(std::remove_if(batch.points.begin(), batch.points.end(),
                                      [](const PgPointRow& p) { return p.series_id < 0; }),
                       batch.points.end());
}

bool Shipper::ship_once() {
    if (!state_loaded_) load_state();
    ShipBatch batch;
    batch.agent_id = options_.agent_id;
    batch.host = options_.host;
    spool_->begin();
    std::vector<SpoolRun> runs = spool_->runs();
    std::sort(runs.begin(), runs.end(),
              [](const SpoolRun& a, const SpoolRun& b) { return a.session_id < b.session_id; });
    std::uint64_t waiting = behind(runs);
    std::int64_t budget = options_.max_batch_points;
    for (const SpoolRun& r : runs) budget -= add_run(batch, r, budget);
    std::vector<SpoolEvent> events = spool_->events_after(events_rowid_, 10'000);
    for (SpoolEvent& e : events) {
        if (is_plugin_alert(e.kind, e.text, local_plugins_)) continue;  // the hub raises its own
        batch.events.push_back(PgEventRow{e.rowid, std::move(e.session_id), e.rank, e.t_ms,
                                          std::move(e.kind), std::move(e.text)});
    }
    if (!events.empty()) batch.events_rowid = events.back().rowid;
    map_series(batch);
    spool_->end();
    if (batch.empty()) {
        outage_.set_waiting(waiting);
        return false;
    }
    batch.batch_seq = next_batch_seq_;
    batch.notify_payload = notify_payload(batch);
    if (!write_batch(*pg_, batch)) {
        // Already in PostgreSQL (another process with this agent id, or a commit we did not
        // hear back from): our view is stale; read it again, ship nothing twice.
        log_.warning("PostgreSQL already holds batch %s of agent %s; re-reading what was shipped",
                     std::to_string(batch.batch_seq), options_.agent_id);
        state_loaded_ = false;
        return true;
    }
    ++next_batch_seq_;
    std::unique_lock<std::mutex> lock(shipped_mutex_);
    for (const PgRunRow& r : batch.runs) {
        Shipped& s = shipped_[r.session_id];
        s.seq = r.shipped_seq;
        s.status = r.status;
        s.ended_ms = r.ended_ms;
        s.last_ms = r.last_ms;
        if (r.shared_row) {
            s.shared_row = true;
            if (r.config) s.config_md5 = md5_hex(*r.config);
            if (r.model_info) s.model_md5 = md5_hex(*r.model_info);
        }
    }
    lock.unlock();
    if (batch.events_rowid >= 0) events_rowid_ = batch.events_rowid;
    shipped_points_.fetch_add(batch.points.size(), std::memory_order_relaxed);
    shipped_batches_.fetch_add(1, std::memory_order_relaxed);
    outage_.set_waiting(waiting - std::min<std::uint64_t>(waiting, batch.points.size()));
    return budget <= 0 || events.size() == 10'000;
}

}  // namespace trainscope::agent
