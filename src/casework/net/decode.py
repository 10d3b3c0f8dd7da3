"""A lean decoder from link-layer frames to IP and transport headers, for the hot path.

dpkt builds an object per header and decodes about 40k packets per CPU-second;
this reads only the fields the analysis needs with ``struct`` and returns one
tuple per frame. Encapsulations: Ethernet with VLAN/QinQ/MPLS, Linux cooked
(v1, v2), BSD loopback, raw IP, GRE and ERSPAN I/II/III, IP-in-IP, and the
quoted datagram inside ICMP errors.
"""

from __future__ import annotations

import struct

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
VLAN_TYPES = frozenset((0x8100, 0x88A8, 0x9100))
IPV6_EXTENSIONS = frozenset((0, 43, 60, 51))
ICMP_ERRORS = frozenset((3, 4, 5, 11, 12))
ICMP6_ERRORS = frozenset((1, 2, 3, 4))

Decoded = tuple[int, bytes, bytes, int, int, int, bool, int, int]
"""``(ip version, src, dst, protocol, l4 offset, l4 reported end, in ICMP error, fragment, ip offset)``.

``l4 reported end`` comes from the IP length field, so it may lie beyond the
captured bytes of a cut frame: TCP segment lengths must use it, as Wireshark does.
``fragment`` is 0 for a whole datagram, 1 for a first fragment, 2 for a later one.
"""

_H = struct.Struct("!H").unpack_from


def decode(linktype: int, buf: bytes) -> Decoded | None:
    """The IP layer of one frame, or None when it carries no IP (ARP, LLC) or is too short."""
    if linktype == 1:
        return _ethernet(buf, 0, 0)
    if linktype in (101, 12, 14, 228, 229):
        return _ip(buf, 0, 0)
    if linktype == 113:
        return _ethertype(buf, 16, _H(buf, 14)[0], 0) if len(buf) >= 16 else None
    if linktype == 276:
        return _ethertype(buf, 20, _H(buf, 0)[0], 0) if len(buf) >= 20 else None
    if linktype in (0, 108):
        return _ip(buf, 4, 0) if len(buf) >= 4 else None
    return None


def _ethernet(buf: bytes, off: int, depth: int) -> Decoded | None:
    if len(buf) < off + 14:
        return None
    return _ethertype(buf, off + 14, _H(buf, off + 12)[0], depth)


def _ethertype(buf: bytes, off: int, etype: int, depth: int) -> Decoded | None:
    while etype in VLAN_TYPES:
        if len(buf) < off + 4:
            return None
        etype = _H(buf, off + 2)[0]
        off += 4
    if etype in (ETH_IPV4, ETH_IPV6):
        return _ip(buf, off, depth)
    if etype in (0x8847, 0x8848):  # MPLS: skip labels to the bottom of the stack
        while len(buf) >= off + 4:
            bottom = buf[off + 2] & 1
            off += 4
            if bottom:
                return _ip(buf, off, depth)
    return None


def _ip(buf: bytes, off: int, depth: int) -> Decoded | None:
    if len(buf) < off + 20:
        return None
    version = buf[off] >> 4
    if version == 4:
        ihl = (buf[off] & 15) * 4
        total = _H(buf, off + 2)[0]
        if ihl < 20 or total < ihl:
            return None
        frag_field = _H(buf, off + 6)[0]
        offset = frag_field & 0x1FFF
        fragment = 2 if offset else (1 if frag_field & 0x2000 else 0)
        proto = buf[off + 9]
        src, dst = buf[off + 12 : off + 16], buf[off + 16 : off + 20]
        l4 = off + ihl
        end = off + total
    elif version == 6:
        if len(buf) < off + 40:
            return None
        proto = buf[off + 6]
        src, dst = buf[off + 8 : off + 24], buf[off + 24 : off + 40]
        end = off + 40 + _H(buf, off + 4)[0]
        l4 = off + 40
        fragment = 0
        while proto in IPV6_EXTENSIONS or proto == 44:
            if len(buf) < l4 + 8:
                return None
            if proto == 44:
                fragment = 2 if _H(buf, l4 + 2)[0] & 0xFFF8 else 1
                proto, l4 = buf[l4], l4 + 8
                continue
            size = (buf[l4 + 1] + 2) * 4 if proto == 51 else (buf[l4 + 1] + 1) * 8
            proto, l4 = buf[l4], l4 + size
    else:
        return None
    if fragment == 0 and depth < 3:
        if proto == 47:
            return _gre(buf, l4, depth + 1)
        if proto == 4 or proto == 41:
            return _ip(buf, l4, depth + 1)
    return version, src, dst, proto, l4, end, False, fragment, off


def _gre(buf: bytes, off: int, depth: int) -> Decoded | None:
    if len(buf) < off + 4:
        return None
    flags = _H(buf, off)[0]
    ptype = _H(buf, off + 2)[0]
    size = 4 + 4 * (bool(flags & 0x8000) + bool(flags & 0x2000) + bool(flags & 0x1000))
    inner = off + size
    if ptype == 0x88BE:  # ERSPAN type II has a header only when the sequence bit is set
        return _ethernet(buf, inner + 8 if flags & 0x1000 else inner, depth)
    if ptype == 0x22EB:  # ERSPAN type III: 12 bytes, plus 8 with the platform sub-header
        if len(buf) < inner + 12:
            return None
        return _ethernet(buf, inner + (20 if buf[inner + 11] & 1 else 12), depth)
    if ptype == 0x6558:
        return _ethernet(buf, inner, depth)
    return _ethertype(buf, inner, ptype, depth)


def icmp_quote(version: int, buf: bytes, l4: int) -> Decoded | None:
    """The datagram quoted by an ICMP/ICMPv6 error message, marked as being inside an error."""
    if len(buf) < l4 + 8:
        return None
    kind = buf[l4]
    if (version == 4 and kind not in ICMP_ERRORS) or (version == 6 and kind not in ICMP6_ERRORS):
        return None
    inner = _ip(buf, l4 + 8, 3)
    if inner is None:
        return None
    return (*inner[:6], True, inner[7], inner[8])


def decode_ip(buf: bytes) -> Decoded | None:
    """Decode a buffer that starts with an IP header (a reassembled datagram)."""
    return _ip(buf, 0, 0)


def address(raw: bytes) -> str:
    """Text form of a 4- or 16-byte address."""
    if len(raw) == 4:
        return f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}"
    import ipaddress

    return str(ipaddress.IPv6Address(raw))
