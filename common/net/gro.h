// Software GRO for TUN writes: a batch of IP packets (the payloads of one burst of received
// tunnel datagrams) becomes as few writes to an IFF_VNET_HDR TUN device as possible. Consecutive
// TCP segments of one flow (same addresses, ports, ACK, window, TTL/hop limit, TOS/traffic class,
// IPv4 DF and IPv6 flow label, same options, sequence numbers continuing, equal sizes with a
// shorter last one, no SYN/FIN/RST/URG/CWR, PSH only on the last) are merged into one
// super-packet: a virtio_net_hdr with GSO_TCPV4/V6, gso_size = the first segment's payload, and
// the checksum left partial (NEEDS_CSUM, pseudo-header only), so the kernel segments it again
// wherever that is needed. The same with `coalesce_udp` for UDP (GSO_UDP_L4, the TUN's USO
// offload: equal-size datagrams of one flow). Everything else is written as it came, behind a zero
// virtio_net_hdr.
//
// The segments' own checksums are not verified: the tunnel's authentication is what protects
// them; a sender's bad checksum is replaced with a correct one for its own flow only.
//
// A write is a list of pieces for writev: the virtio_net_hdr and the head's (fixed-up) headers
// from the batch's own memory, then every segment's payload where add() found it, so no payload
// byte is copied in user space.
//
// Order: packets of one flow keep their order; writes follow the first arrival of each. Input is
// untrusted (parsed with l4_packet.h). Memory is allocated in the constructor only; add() and
// flush() never allocate or throw. Single-threaded.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/virtio_hdr.h"

namespace dmux::net {

struct GroConfig {
  std::size_t max_packets = 128;      // packets one batch holds
  std::size_t max_super_len = 65535;  // largest coalesced IP packet
  std::size_t max_segments = 64;      // segments in one super-packet
  bool coalesce_udp = false;          // the TUN accepted USO (TUN_F_USO4/6)
};

struct GroCounters {
  std::uint64_t packets = 0;    // add() calls accepted
  std::uint64_t writes = 0;     // views flush() returned
  std::uint64_t coalesced = 0;  // packets merged into an earlier one of their flow
};

// One write to the TUN device: kVirtioNetHdrLen bytes of header and one IP packet, in pieces.
struct GroWrite {
  std::span<const iovec> pieces;  // for writev, in order
  std::size_t size = 0;           // their bytes together: what the write must return
  std::uint32_t packets = 0;      // packets as they were added
  std::uint32_t bytes = 0;        // their bytes (a coalesced write carries the headers once)
};

class GroBatch {
 public:
  // Throws std::invalid_argument for an unusable config, std::bad_alloc.
  explicit GroBatch(const GroConfig& config);

  // Queues one IP packet. Its bytes are referenced, not copied: they must stay unchanged until the
  // writes flush() returns are written. False if the batch is full (flush first) or the packet
  // is empty or longer than kMaxIpPacket.
  bool add(std::span<const std::byte> packet) noexcept;

  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

  // The writes for everything added. They stay valid until the next add() or flush() (and the
  // packets added must stay unchanged until they are written); the batch is empty after.
  std::span<const GroWrite> flush() noexcept;

  [[nodiscard]] const GroCounters& counters() const noexcept { return counters_; }

 private:
  struct Item {
    std::uint32_t first = 0;     // packet index of the head (its headers are the item's)
    std::uint32_t last = 0;      // packet index of the tail of the chain
    std::uint32_t segments = 0;  // packets in the chain
    std::uint32_t flow_hash = 0;
    std::uint32_t next_seq = 0;  // TCP: the sequence number a following segment must have
    std::uint16_t gso_size = 0;  // payload bytes of the head (every segment but a shorter last)
    std::uint8_t ip_version = 0;
    std::uint8_t protocol = 0;  // 0: not coalescable, written alone
    std::uint16_t headers_len = 0;
    std::uint16_t l4_offset = 0;
    std::uint32_t total_len = 0;  // IP bytes of the coalesced packet
    bool closed = false;          // a shorter or PSH segment ended it
  };
  // Appends packet `index` (`payload` bytes; TCP: `seq`, `tcp_flags`) to `item` if it continues it.
  bool try_join(Item& item, std::uint32_t index, std::size_t payload, std::uint32_t seq,
                std::uint8_t tcp_flags) noexcept;
  // Builds the item's write: its header block at arena_[at] (returns the bytes used there), its
  // pieces at pieces_[piece].
  std::size_t emit(const Item& item, std::size_t at, std::size_t piece, GroWrite& out) noexcept;

  GroConfig config_;
  std::vector<std::span<const std::byte>> packets_;  // queued, max_packets
  std::vector<std::uint32_t> next_;                  // chain of packets within an item
  std::vector<Item> items_;                          // max_packets
  std::vector<std::byte> arena_;                     // virtio_net_hdrs and headers, by flush()
  std::vector<iovec> pieces_;                        // of all writes, 2 * max_packets
  std::vector<GroWrite> writes_;                     // what flush() returns
  std::size_t count_ = 0;
  std::size_t item_count_ = 0;
  GroCounters counters_;
};

}  // namespace dmux::net
