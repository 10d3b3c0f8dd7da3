"""Network evidence: pcap/pcapng and HAR reading, Wireshark-grade TCP/DNS/TLS/HTTP facts.

Entry points: :func:`casework.net.inspect.inspect_file` (facts of one file),
the formats ``casework.formats.pcap`` and ``casework.formats.har`` (records
for the case store), and :func:`casework.net.sink.flow` (how a FlowRecord
is stored).
"""
