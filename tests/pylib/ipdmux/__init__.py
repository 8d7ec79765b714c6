"""IPdmux's one Python test library: an independent implementation of docs/protocol.md (wire codec
and cryptography), real processes, network namespaces, the control socket and statistics.

Tests and benchmarks import it as `from ipdmux import wire, crypto, ...` after putting
`tests/pylib` on sys.path (tests/integration/conftest-free: each script does it in one line)."""
