#include "handles_view.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "handle_table.h"
#include "handles_view_c.h"

namespace samba_ca {
namespace handles {

using persistent::DecodeRecord;
using persistent::Guid;
using persistent::HandleTable;
using persistent::OpenRecord;
using persistent::OpenState;
using persistent::Status;
using persistent::Store;

namespace {

std::string Hex64(uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

std::string GuidString(const Guid& g) {
  std::string s;
  char buf[3];
  for (size_t i = 0; i < g.size(); i++) {
    snprintf(buf, sizeof(buf), "%02x", g[i]);
    s += buf;
  }
  return s;
}

const char* StateName(OpenState s) {
  return s == OpenState::kConnected ? "connected" : "disconnected";
}

// Keys and paths are printed, never trusted: anything but printable ASCII
// becomes \xNN, so a hostile name cannot forge a line of output.
std::string Printable(const std::string& s) {
  std::string out;
  char buf[5];
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

Status HandlesView::Load(Store* store, const std::vector<uint32_t>& nodes) {
  opens_.clear();
  bad_.clear();
  bad_ids_.clear();
  problems_.clear();

  std::map<std::string, std::string> guid_index;
  Status s = store->Traverse([&](const std::string& key,
                                 const std::string& value) {
    uint64_t id = 0;
    if (HandleTable::ParseRecordKey(key, &id)) {
      OpenRecord r;
      Status d = DecodeRecord(reinterpret_cast<const uint8_t*>(value.data()),
                              value.size(), &r);
      if (!d.ok()) {
        bad_.push_back(BadRecord{key, d.ToString()});
        bad_ids_.insert(id);
      } else if (r.persistent_id != id) {
        bad_.push_back(BadRecord{
            key, "the record names open " + Hex64(r.persistent_id)});
        bad_ids_.insert(id);
      } else {
        opens_.emplace(id, std::move(r));
      }
    } else if (key.compare(0, 8, "PH/guid/") == 0) {
      guid_index.emplace(key, value);
    }
    return true;
  });
  if (!s.ok()) {
    return s;
  }
  std::sort(bad_.begin(), bad_.end(),
            [](const BadRecord& a, const BadRecord& b) { return a.key < b.key; });

  // Two opens claiming one create GUID: a replay or reconnect finds only
  // the one the GUID index names; the other is a second claimant.
  std::map<Guid, std::vector<uint64_t>> by_guid;
  std::set<uint32_t> known(nodes.begin(), nodes.end());
  for (const auto& [id, r] : opens_) {
    by_guid[r.create_guid].push_back(id);
    if (!known.empty() && known.count(r.owner.vnn) == 0) {
      problems_.push_back("open " + Hex64(id) + " names node " +
                          std::to_string(r.owner.vnn) +
                          ", which is not in the cluster");
    }
  }
  for (const auto& [guid, ids] : by_guid) {
    if (ids.size() < 2) {
      continue;
    }
    std::string line = "create GUID " + GuidString(guid) + " claimed by opens";
    for (uint64_t id : ids) {
      line += " " + Hex64(id);
    }
    auto it = guid_index.find(HandleTable::GuidKey(guid));
    if (it != guid_index.end() && it->second.size() == 8) {
      uint64_t indexed = 0;
      memcpy(&indexed, it->second.data(), 8);  // u64 LE, as the table writes
      line += " (the index names " + Hex64(indexed) + ")";
    }
    problems_.push_back(line);
  }
  return Status();
}

std::string HandlesView::List() const {
  std::string out =
      "ID               STATE        NODE PID        TIMEOUT_MS LOCKS "
      "SHARE PATH\n";
  char buf[128];
  for (const auto& [id, r] : opens_) {
    snprintf(buf, sizeof(buf), "%s %-12s %4" PRIu32 " %-10" PRIu64
             " %10" PRIu32 " %5zu ",
             Hex64(id).c_str(), StateName(r.state), r.owner.vnn, r.owner.pid,
             r.timeout_ms, r.locks.size());
    out += buf;
    out += Printable(r.share_name) + " " + Printable(r.path);
    if (!r.file.stream_name.empty()) {
      out += Printable(r.file.stream_name);
    }
    out += "\n";
  }
  for (const BadRecord& b : bad_) {
    out += "bad: " + Printable(b.key) + ": " + Printable(b.reason) + "\n";
  }
  for (const std::string& p : problems_) {
    out += "problem: " + p + "\n";
  }
  return out;
}

Status HandlesView::Show(uint64_t id, std::string* out) const {
  std::string key = HandleTable::RecordKey(id);
  for (const BadRecord& b : bad_) {
    if (b.key == key) {
      *out = "bad: " + Printable(b.key) + ": " + Printable(b.reason) + "\n";
      return Status(PCORE_CORRUPT_RECORD, b.reason);
    }
  }
  auto it = opens_.find(id);
  if (it == opens_.end()) {
    return Status(PCORE_NOT_FOUND, "no open " + Hex64(id));
  }
  const OpenRecord& r = it->second;
  char buf[160];
  std::string s;
  auto line = [&](const char* name, const std::string& value) {
    s += name;
    s += ": ";
    s += value;
    s += "\n";
  };
  line("id", Hex64(r.persistent_id));
  line("state", StateName(r.state));
  snprintf(buf, sizeof(buf), "node %" PRIu32 " pid %" PRIu64 " unique %" PRIu64,
           r.owner.vnn, r.owner.pid, r.owner.unique_id);
  line("owner", buf);
  line("share", Printable(r.share_name));
  line("path", Printable(r.path));
  if (!r.file.stream_name.empty()) {
    line("stream", Printable(r.file.stream_name));
  }
  line("user", Printable(r.owner_sid));
  line("create guid", GuidString(r.create_guid));
  line("client guid", GuidString(r.client_guid));
  snprintf(buf, sizeof(buf), "0x%08" PRIx32 " share 0x%" PRIx32
           " disposition %" PRIu32 " options 0x%08" PRIx32,
           r.access_mask, r.share_access, r.create_disposition,
           r.create_options);
  line("access", buf);
  if (r.lease_version != 0) {
    snprintf(buf, sizeof(buf), "v%u state 0x%" PRIx32 " epoch %u key ",
             r.lease_version, r.lease_state, r.lease_epoch);
    line("lease", buf + GuidString(r.lease_key));
  } else {
    snprintf(buf, sizeof(buf), "oplock 0x%02x", r.oplock_level);
    line("lease", buf);
  }
  line("timeout ms", std::to_string(r.timeout_ms));
  if (r.state == OpenState::kDisconnected) {
    line("disconnected at us", std::to_string(r.disconnect_time_us));
  }
  line("delete on close", r.delete_on_close ? "yes" : "no");
  for (const auto& l : r.locks) {
    snprintf(buf, sizeof(buf), "%s offset %" PRIu64 " length %" PRIu64
             " sequence 0x%" PRIx32,
             l.exclusive ? "exclusive" : "shared", l.offset, l.length,
             l.lock_sequence);
    line("lock", buf);
  }
  line("sequence", std::to_string(r.sequence));
  *out = s;
  return Status();
}

std::string HandlesView::Counts() const {
  std::map<uint32_t, std::pair<size_t, size_t>> per_node;
  size_t connected = 0;
  for (const auto& [id, r] : opens_) {
    auto& c = per_node[r.owner.vnn];
    if (r.state == OpenState::kConnected) {
      c.first++;
      connected++;
    } else {
      c.second++;
    }
  }
  std::string out;
  char buf[128];
  for (const auto& [node, c] : per_node) {
    snprintf(buf, sizeof(buf), "node %" PRIu32 ": %zu connected, %zu "
             "disconnected\n", node, c.first, c.second);
    out += buf;
  }
  snprintf(buf, sizeof(buf), "total: %zu opens (%zu connected, %zu "
           "disconnected), %zu bad records, %zu problems\n",
           opens_.size(), connected, opens_.size() - connected, bad_.size(),
           problems_.size());
  out += buf;
  return out;
}

}  // namespace handles
}  // namespace samba_ca

// ---- The C face ----

struct sca_handles {
  samba_ca::handles::HandlesView view;
};

namespace {

char* CopyOut(const std::string& s) {
  char* p = static_cast<char*>(malloc(s.size() + 1));
  if (p != nullptr) {
    memcpy(p, s.c_str(), s.size() + 1);
  }
  return p;
}

}  // namespace

extern "C" {

pcore_status sca_handles_load(const struct pcore_store_ops* ops,
                              const uint32_t* nodes, size_t num_nodes,
                              struct sca_handles** out, char** error) {
  *out = nullptr;
  if (error != nullptr) {
    *error = nullptr;
  }
  if (!samba_ca::persistent::CallbackStore::OpsComplete(*ops)) {
    return PCORE_INVALID_PARAMETER;
  }
  samba_ca::persistent::CallbackStore store(*ops);
  auto* h = new (std::nothrow) sca_handles;
  if (h == nullptr) {
    return PCORE_NO_MEMORY;
  }
  std::vector<uint32_t> node_list(nodes, nodes + num_nodes);
  samba_ca::persistent::Status s = h->view.Load(&store, node_list);
  if (!s.ok()) {
    if (error != nullptr) {
      *error = CopyOut(s.ToString());
    }
    delete h;
    return s.code();
  }
  *out = h;
  return PCORE_OK;
}

char* sca_handles_list(const struct sca_handles* h) {
  return CopyOut(h->view.List());
}

char* sca_handles_counts(const struct sca_handles* h) {
  return CopyOut(h->view.Counts());
}

pcore_status sca_handles_show(const struct sca_handles* h, uint64_t id,
                              char** out) {
  std::string s;
  samba_ca::persistent::Status st = h->view.Show(id, &s);
  if (st.code() == PCORE_NOT_FOUND) {
    s = st.message() + "\n";
  }
  *out = CopyOut(s);
  return st.code();
}

int sca_handles_is_bad(const struct sca_handles* h, uint64_t id) {
  return h->view.IsBad(id) ? 1 : 0;
}

size_t sca_handles_num_problems(const struct sca_handles* h) {
  return h->view.problems().size() + h->view.bad().size();
}

void sca_handles_free(struct sca_handles* h) { delete h; }

}  // extern "C"
