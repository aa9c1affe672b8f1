// The admin view of the cluster store (ctdb_handles(8)): every persistent
// open in a store, decoded and checked, as the text the tool prints.  Pure
// functions of the store's contents and the cluster's node list, so that
// the same store gives byte-identical output on every node.  No Samba
// header; the glue (ctdb_handles.c) reads the node's copy of the CTDB
// database and the node list.
#ifndef SAMBA_CA_CTDB_HANDLES_VIEW_H
#define SAMBA_CA_CTDB_HANDLES_VIEW_H

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "persistent_record.h"
#include "status.h"
#include "store.h"

namespace samba_ca {
namespace handles {

// A record key ("PH/open/<id>") whose value is not an open we can use.
struct BadRecord {
  std::string key;
  std::string reason;
};

class HandlesView {
 public:
  // Reads every key of store.  nodes: the cluster's node numbers (pnn);
  // an open owned by another number is reported.  Empty: not checked.
  persistent::Status Load(persistent::Store* store,
                          const std::vector<uint32_t>& nodes);

  // One line per open, sorted by id, then one "bad:" or "problem:" line
  // per record that cannot be used or that disagrees with another.
  std::string List() const;
  // Every field of one open; PCORE_NOT_FOUND if there is no such record,
  // the record's decode status if it is bad.
  persistent::Status Show(uint64_t id, std::string* out) const;
  // Opens per owning node and state, then the totals.
  std::string Counts() const;

  size_t opens() const { return opens_.size(); }
  const std::vector<BadRecord>& bad() const { return bad_; }
  const std::vector<std::string>& problems() const { return problems_; }
  // True if id names a record key that holds no usable open.
  bool IsBad(uint64_t id) const { return bad_ids_.count(id) != 0; }

 private:
  std::map<uint64_t, persistent::OpenRecord> opens_;
  std::vector<BadRecord> bad_;
  std::set<uint64_t> bad_ids_;
  std::vector<std::string> problems_;
};

}  // namespace handles
}  // namespace samba_ca

#endif  // SAMBA_CA_CTDB_HANDLES_VIEW_H
