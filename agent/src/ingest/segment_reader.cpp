#include "ingest/segment_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "ingest/sigbus_guard.hpp"
#include "ingest/utf8.hpp"

namespace trainscope::agent {

using layout::Header;

namespace {

/// Text of a fixed-size field: up to its NUL, made valid UTF-8 (a hostile or old trainer may
/// have cut it mid-character).
std::string bounded_string(const char* p, std::size_t n) {
    return valid_utf8(std::string_view(p, strnlen(p, n)));
}

template <std::size_t N>
bool read_blob(const layout::Blob<N>& blob, std::uint32_t* generation, std::string* out) {
    std::uint32_t g1 = blob.generation.load(std::memory_order_acquire);
    if (g1 == *generation || (g1 & 1)) return false;
    std::uint32_t len = blob.length;
    if (len > N) return false;  // mid-write or corrupt: try again later
    std::string copy(blob.bytes, len);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (blob.generation.load(std::memory_order_relaxed) != g1) return false;
    *generation = g1;
    *out = valid_utf8(copy);
    return true;
}

}  // namespace

std::string validate_segment(const void* base, std::size_t size, bool* not_ready) {
    *not_ready = false;
    if (size < sizeof(layout::Identity))
        return "truncated: " + std::to_string(size) + " bytes, smaller than its header";
    const auto& id = static_cast<const Header*>(base)->id;
    // Version first: a creator sizes the segment before it writes the magic, so all zeros
    // means "not filled in yet", not "bad". The caller gives it a grace period.
    std::uint32_t version = id.version.load(std::memory_order_acquire);
    if (version == 0) {
        *not_ready = true;
        return "not ready (layout version 0)";
    }
    if (id.magic != layout::kMagic) return "wrong magic (not a trainscope segment)";
    if (version != layout::kLayoutVersion)
        return "layout version " + std::to_string(version) + ", expected " +
               std::to_string(layout::kLayoutVersion);
    if (id.header_size != layout::kHeaderSize || id.slot_size != sizeof(layout::Slot))
        return "header/slot size " + std::to_string(id.header_size) + "/" +
               std::to_string(id.slot_size) + ", expected " + std::to_string(layout::kHeaderSize) +
               "/" + std::to_string(sizeof(layout::Slot));
    std::uint32_t n = id.slot_count;
    if (n < layout::kMinSlots || n > layout::kMaxSlots || (n & (n - 1)) != 0)
        return "slot count " + std::to_string(n) + " is not a power of two in range";
    std::uint32_t lanes = id.lane_count;
    if (lanes < 1 || lanes > layout::kMaxLanes)
        return "lane count " + std::to_string(lanes) + " is not in 1.." +
               std::to_string(layout::kMaxLanes);
    if (size < layout::segment_size(lanes, n))
        return "truncated: " + std::to_string(size) + " bytes, expected " +
               std::to_string(layout::segment_size(lanes, n)) + " (" + std::to_string(lanes) +
               " lanes of " + std::to_string(n) + " slots)";
    return "";
}

namespace {

std::string open_failure(int error) {
    switch (error) {
        case ELOOP:
            return "a symbolic link (not followed)";
        case EISDIR:
            return "a directory, not a regular file";
        default:
            return std::string("cannot open: ") + std::strerror(error);
    }
}

std::string file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

/// Who may have written it and what it is: "" if it is ours to read.
std::string check_file(const struct stat& st, bool* not_ready) {
    if (!S_ISREG(st.st_mode)) return file_kind(st.st_mode) + ", not a regular file";
    if (st.st_uid != ::geteuid())
        return "owned by uid " + std::to_string(st.st_uid) + ", not by the agent's user (uid " +
               std::to_string(::geteuid()) + ")";
    if (st.st_size == 0) {
        *not_ready = true;  // the creator has not sized it (nor, maybe, set its mode) yet
        return "empty segment";
    }
    if ((st.st_mode & 07777) != 0600) {
        char mode[16];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return std::string("mode ") + mode + ", expected 0600 (others could read or write it)";
    }
    return "";
}

}  // namespace

std::unique_ptr<SegmentReader> SegmentReader::open(const std::string& name, std::string* why,
                                                   bool* not_ready) {
    return open("/dev/shm", name, why, not_ready);
}

std::unique_ptr<SegmentReader> SegmentReader::open(const std::string& dir, const std::string& name,
                                                   std::string* why, bool* not_ready) {
    *not_ready = false;
    std::unique_ptr<SegmentReader> r(new SegmentReader());
    r->name_ = name;
    r->path_ = dir + "/" + name;
    // O_NOFOLLOW: a planted symlink is refused, not followed. O_NONBLOCK: a FIFO does not
    // block the open. Every check below is fstat on this descriptor and the mapping is made
    // from it: what was checked is what is read, whatever happens to the name meanwhile.
    // Read-write: the agent hands slots back by writing read positions.
    r->fd_ = ::open(r->path_.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (r->fd_ < 0) {
        *why = open_failure(errno);
        return nullptr;
    }
    struct stat st;
    if (::fstat(r->fd_, &st) != 0) {
        *why = std::string("cannot stat: ") + std::strerror(errno);
        return nullptr;
    }
    *why = check_file(st, not_ready);
    if (!why->empty()) return nullptr;
    r->map_size_ = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, r->map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd_, 0);
    if (map == MAP_FAILED) {
        *why = std::string("cannot map: ") + std::strerror(errno);
        return nullptr;
    }
    r->map_ = map;
    r->guard_ = sigbus_guard::watch(map, r->map_size_);  // before the first read of it
    *why = validate_segment(map, r->map_size_, not_ready);
    if (!why->empty()) return nullptr;
    r->header_ = static_cast<Header*>(map);
    // Copied once: the identity is immutable after publication, and a private copy cannot
    // be changed under us by a misbehaving producer after validation.
    r->lane_count_ = r->header_->id.lane_count;
    r->slot_count_ = r->header_->id.slot_count;
    r->mask_ = r->slot_count_ - 1;
    r->expected_size_ = layout::segment_size(r->lane_count_, r->slot_count_);
    *why = r->damage();  // truncated while being validated: the checks above read zeros
    if (!why->empty()) return nullptr;
    return r;
}

bool SegmentReader::faulted() const {
    return sigbus_guard::faulted(guard_);
}

SegmentReader::~SegmentReader() {
    sigbus_guard::unwatch(guard_);
    if (map_) ::munmap(map_, map_size_);
    if (fd_ >= 0) ::close(fd_);
}

std::string SegmentReader::damage() const {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return std::string("cannot be checked: ") + std::strerror(errno);
    if (static_cast<std::uint64_t>(st.st_size) < expected_size_)
        return "was truncated to " + std::to_string(st.st_size) + " bytes while attached (" +
               std::to_string(expected_size_) + " expected)";
    if (sigbus_guard::faulted(guard_))
        return "was truncated while attached (a read beyond its end faulted)";
    return "";
}

std::string SegmentReader::session_id() const {
    return bounded_string(header_->id.session_id, sizeof header_->id.session_id);
}
std::string SegmentReader::run_name() const {
    return bounded_string(header_->id.run_name, sizeof header_->id.run_name);
}

std::size_t SegmentReader::drain(LaneCursors& cursors, std::size_t max, bool producer_dead,
                                 std::vector<Record>& out, std::uint64_t* lost) {
    cursors.resize(lane_count_, 0);
    // Snapshot every lane's end first: it bounds how much this call can return, so the output
    // is sized once and written through a pointer (no per-record push_back).
    std::uint64_t ends[layout::kMaxLanes];
    std::size_t available = 0;
    for (std::uint32_t k = 0; k < lane_count_; ++k) {
        std::uint64_t end = write_pos(k);
        // A write_pos behind the cursor or more than a lap ahead is corrupt: read nothing, or
        // at most a lap.
        if (end < cursors[k]) end = cursors[k];
        if (end - cursors[k] > mask_ + 1) end = cursors[k] + mask_ + 1;
        ends[k] = end;
        available += static_cast<std::size_t>(end - cursors[k]);
    }
    std::size_t budget = std::min(max, available);
    if (budget == 0) return 0;
    std::size_t base = out.size();
    out.resize(base + budget);
    Record* p = out.data() + base;
    Record* const limit = p + budget;
    std::uint32_t first = first_lane_;
    first_lane_ = (first_lane_ + 1) % lane_count_;
    for (std::uint32_t i = 0; i < lane_count_ && p < limit; ++i) {
        std::uint32_t k = (first + i) % lane_count_;
        std::uint64_t end = std::min<std::uint64_t>(ends[k], cursors[k] + (limit - p));
        p += drain_lane(k, cursors[k], end, producer_dead, p, lost);
    }
    std::size_t n = static_cast<std::size_t>(p - (out.data() + base));
    out.resize(base + n);
    return n;
}

std::size_t SegmentReader::drain_lane(std::uint32_t lane, std::uint64_t& cursor,
                                      std::uint64_t end, bool producer_dead, Record* out,
                                      std::uint64_t* lost) const {
    const layout::Slot* slots = layout::lane_slots(header_, lane, slot_count_);
    Record* p = out;
    for (; cursor < end; ++cursor) {
        const layout::Slot& s = slots[cursor & mask_];
        if (s.publish.load(std::memory_order_acquire) != static_cast<std::uint32_t>(cursor + 1)) {
            // Unpublished below write_pos: only on the shared lane, claimed by a producer that
            // has not written it yet, or never will because it died.
            if (producer_dead) {
                ++*lost;
                continue;
            }
            break;
        }
        p->position = cursor;
        p->lane = lane;
        p->metric_id = s.metric_id;
        p->step = s.step;
        p->value = s.value;
        p->unix_ns = s.unix_ns;
        ++p;
    }
    return static_cast<std::size_t>(p - out);
}

void SegmentReader::release(std::uint32_t lane, std::uint64_t position) {
    header_->lanes[lane].read_pos.store(position, std::memory_order_release);
}
std::uint64_t SegmentReader::read_pos(std::uint32_t lane) const {
    return header_->lanes[lane].read_pos.load(std::memory_order_acquire);
}
std::uint64_t SegmentReader::write_pos(std::uint32_t lane) const {
    return header_->lanes[lane].write_pos.load(std::memory_order_acquire);
}
LaneCursors SegmentReader::read_positions() const {
    LaneCursors out(lane_count_);
    for (std::uint32_t k = 0; k < lane_count_; ++k) out[k] = read_pos(k);
    return out;
}
std::uint64_t SegmentReader::written() const {
    std::uint64_t sum = 0;
    for (std::uint32_t k = 0; k < lane_count_; ++k) sum += write_pos(k);
    return sum;
}
bool SegmentReader::drained(const LaneCursors& cursors) const {
    for (std::uint32_t k = 0; k < lane_count_; ++k)
        if ((k < cursors.size() ? cursors[k] : 0) != write_pos(k)) return false;
    return true;
}
std::uint64_t SegmentReader::dropped() const {
    return header_->dropped.load(std::memory_order_relaxed);
}
bool SegmentReader::finished() const {
    std::uint32_t state = header_->finished.load(std::memory_order_acquire);
    return state == layout::kFinished || state == layout::kFailed;
}
bool SegmentReader::failed() const {
    return header_->finished.load(std::memory_order_acquire) == layout::kFailed;
}

std::uint32_t SegmentReader::metric_count() const {
    std::uint32_t n = header_->metric_count.load(std::memory_order_acquire);
    return n > layout::kMaxMetrics ? static_cast<std::uint32_t>(layout::kMaxMetrics) : n;
}
std::string SegmentReader::metric_name(std::uint32_t id) const {
    return bounded_string(header_->metric_names[id], layout::kMetricNameSize);
}

bool SegmentReader::read_config(std::uint32_t* generation, std::string* out) const {
    return read_blob(header_->config, generation, out);
}
bool SegmentReader::read_model_info(std::uint32_t* generation, std::string* out) const {
    return read_blob(header_->model_info, generation, out);
}

void SegmentReader::beat() {
    // CLOCK_MONOTONIC ns: it moves between any two passes. Trainers only compare it for change.
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    header_->agent_beat.store(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()),
        std::memory_order_relaxed);
}
std::uint64_t SegmentReader::agent_beat() const {
    return header_->agent_beat.load(std::memory_order_relaxed);
}

void SegmentReader::read_events(std::uint64_t& cursor, std::vector<EventRecord>& out) const {
    std::uint64_t pos = cursor;
    std::uint64_t end = header_->event_write.load(std::memory_order_acquire);
    // Corrupt counters. A read cursor ahead of the write cursor must not be stored back as
    // it is: the producer would see its event ring full forever and drop every event.
    if (end < pos) pos = end;
    else if (end - pos > layout::kEventSlots) pos = end - layout::kEventSlots;
    for (; pos < end; ++pos) {
        const layout::EventSlot& e = header_->events[pos % layout::kEventSlots];
        if (e.publish.load(std::memory_order_acquire) != static_cast<std::uint32_t>(pos + 1)) break;
        out.push_back(EventRecord{e.unix_ns, bounded_string(e.kind, sizeof e.kind),
                                  bounded_string(e.text, sizeof e.text)});
    }
    cursor = pos;
}

void SegmentReader::release_events(std::uint64_t position) {
    header_->event_read.store(position, std::memory_order_release);
}

std::uint64_t SegmentReader::event_read_pos() const {
    return header_->event_read.load(std::memory_order_relaxed);
}

void SegmentReader::remove() {
    // Only if the name still refers to the file we hold: not a newer one of the same name.
    struct stat held, named;
    if (::fstat(fd_, &held) != 0 || ::lstat(path_.c_str(), &named) != 0) return;
    if (held.st_dev == named.st_dev && held.st_ino == named.st_ino) ::unlink(path_.c_str());
}

}  // namespace trainscope::agent
