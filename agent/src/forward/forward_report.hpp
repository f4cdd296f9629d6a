// How forwarding to PostgreSQL is doing, in the agent's two reports: the "forwarding" object
// of /healthz and the trainscope_forward_* lines of /metrics. Kept apart from the reports'
// other fields so each report file only calls in.
#pragma once

#include <ostream>

#include "serve/json_out.hpp"

namespace trainscope::agent {

class Shipper;

/// "forwarding": {"ok", "behind_points", "shipped_points", and while failing "error", "outage_s"}.
void write_forward_health(JsonOut& w, const Shipper& shipper);
/// trainscope_forward_ok, trainscope_forward_behind_points, trainscope_forward_shipped_points_total,
/// trainscope_forward_batches_total.
void write_forward_metrics(std::ostream& out, const Shipper& shipper);

}  // namespace trainscope::agent
