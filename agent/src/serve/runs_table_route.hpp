// The runs table's routes: GET /api/runs/table (rows with config and metric figures) and
// PATCH /api/runs/{id} (rename, notes, tags). Added by add_api_routes before /api/runs/{id}.
#pragma once

namespace trainscope::agent {

struct AgentContext;
class RouteTable;

void add_runs_table_routes(RouteTable& routes, const AgentContext& ctx);

}  // namespace trainscope::agent
