// Editing runs (name, notes, tags) on the collector thread: the database has one writer, so
// PATCH /api/runs/{id} queues its edit here and waits on the future, as a deletion does.
#include <Poco/Logger.h>

#include "ingest/collector.hpp"

namespace trainscope::agent {

std::future<EditOutcome> Collector::edit_run(const std::string& session_id, RunEdit edit) {
    EditRequest request{session_id, std::move(edit), {}};
    std::future<EditOutcome> result = request.done.get_future();
    std::lock_guard<std::mutex> lock(edit_mutex_);
    edits_.push_back(std::move(request));
    edits_waiting_ = true;
    return result;
}

void Collector::serve_edits() {
    // Every pass comes here: an atomic read, no lock, while nobody asked for an edit.
    if (!edits_waiting_.exchange(false)) return;
    std::vector<EditRequest> requests;
    {
        std::lock_guard<std::mutex> lock(edit_mutex_);
        requests.swap(edits_);
    }
    for (EditRequest& r : requests) {
        EditOutcome outcome = EditOutcome::updated;
        try {
            if (!store_.edit_run(r.session_id, r.edit)) outcome = EditOutcome::unknown;
        } catch (const std::exception& e) {
            log_.error("editing run %s failed: %s", r.session_id, std::string(e.what()));
            outcome = EditOutcome::store_failed;
        }
        r.done.set_value(outcome);
        // Open pages show the new name at once (the hub sends the run as it now is).
        if (outcome == EditOutcome::updated) notify_run("run_updated", r.session_id);
    }
}

void Collector::fail_pending_edits() {
    std::lock_guard<std::mutex> lock(edit_mutex_);
    for (EditRequest& r : edits_) r.done.set_value(EditOutcome::store_failed);
    edits_.clear();
}

}  // namespace trainscope::agent
