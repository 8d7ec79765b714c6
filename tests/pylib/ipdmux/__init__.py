"""IPdmux's one Python test library: an independent implementation of docs/protocol.md (wire codec
and cryptography), real processes, network namespaces, the control socket and statistics.

Tests and benchmarks import it as `from ipdmux import wire, crypto, ...` after putting
`tests/pylib` on sys.path (each entry point does it in one line). No test imports another test.

  wire, crypto       every wire format and its cryptography, from the spec alone (checked against
                     the spec's vectors by tests/pylib/test_protocol_vectors.py)
  packets            generic IPv4/IPv6/UDP/ICMP/IGMP packets (what IPdmux carries, not its formats)
  probe              numbered payloads that tests and benchmarks send through IPdmux
  proc, stats        sh/wait_for/free ports/namespace cleanup/CPU seconds; percentile, nearest rank
  control            the control socket client of every daemon
  ca, registration   credentials from the real dmux-ca; the agent side of registration
  gateway_harness    real dmuxd processes (Dmuxd, Router, Client), main() for unittest modules
  gateway_router     a router as dmuxd's data plane sees it (static tunnel key)
  client_lab         namespaces + real dmux-client + an emulated gateway/provider
  agent_lab          namespaces + real dmux-provider/dmux-mcast, sniffers, spoofed sources
  provider_topology  the provider tests' client/gw/router/server topology
  meshpeer           a mesh gateway in Python (honest or misbehaving peer)
  reg_flood          spoofed registration floods
"""
