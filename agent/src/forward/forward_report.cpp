#include "forward/forward_report.hpp"

#include "forward/shipper.hpp"

namespace trainscope::agent {

void write_forward_health(JsonOut& w, const Shipper& shipper) {
    StorageOutage::Snapshot s = shipper.snapshot();
    w.Key("forwarding");
    w.StartObject();
    write_outage_fields(w, s);
    w.Key("behind_points");
    w.Uint64(s.waiting_points);
    w.Key("shipped_points");
    w.Uint64(shipper.shipped_points());
    w.EndObject();
}

void write_forward_metrics(std::ostream& out, const Shipper& shipper) {
    StorageOutage::Snapshot s = shipper.snapshot();
    out << "# HELP trainscope_forward_ok 1 while shipping to PostgreSQL goes through.\n"
           "# TYPE trainscope_forward_ok gauge\n"
        << "trainscope_forward_ok " << (s.ok ? 1 : 0) << "\n"
        << "# HELP trainscope_forward_behind_points Points stored locally and not yet in PostgreSQL.\n"
           "# TYPE trainscope_forward_behind_points gauge\n"
        << "trainscope_forward_behind_points " << s.waiting_points << "\n"
        << "# HELP trainscope_forward_shipped_points_total Points this agent shipped to PostgreSQL.\n"
           "# TYPE trainscope_forward_shipped_points_total counter\n"
        << "trainscope_forward_shipped_points_total " << shipper.shipped_points() << "\n"
        << "# HELP trainscope_forward_batches_total Batches (PostgreSQL transactions) shipped.\n"
           "# TYPE trainscope_forward_batches_total counter\n"
        << "trainscope_forward_batches_total " << shipper.shipped_batches() << "\n";
}

}  // namespace trainscope::agent
