"""A certificate's issuer, read from its DER bytes: the isolation probe's one parser."""

from __future__ import annotations

from agent.facts.context import ParseError

# The attributes of an issuer worth naming: country, organisation, unit, common name.
_NAMES = {b"\x55\x04\x06": "C", b"\x55\x04\x0a": "O", b"\x55\x04\x0b": "OU", b"\x55\x04\x03": "CN"}
_STRINGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


def _element(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `pos`."""
    if pos + 2 > len(der):
        raise ParseError("certificate ends inside an element")
    tag, length, pos = der[pos], der[pos + 1], pos + 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > 4 or pos + size > len(der):
            raise ParseError("certificate has an unreadable length")
        length, pos = int.from_bytes(der[pos : pos + size], "big"), pos + size
    if pos + length > len(der):
        raise ParseError("certificate element runs past its end")
    return tag, pos, pos + length


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    found = []
    while start < end:
        element = _element(der, start)
        found.append(element)
        start = element[2]
    return found


def parse_issuer(der: bytes) -> str:
    """The issuer of a DER X.509 certificate as "C=GB, O=University of Example, CN=Example
    Internal CA". A real one (openssl req -x509 -subj "/C=GB/O=University of Example/CN=Example
    Internal CA"), hex, up to the issuer: 308201eb 30820191 a0030201 02 0214 38550f...f3d5
    300a 0608 2a8648ce3d040302 304b 310b 3009 0603 550406 1302 4742 311e 301c 0603 55040a
    0c15 556e6976657273697479206f66204578616d706c65 311c 301a 0603 550403 0c13 4578616d706c652049
    6e7465726e616c204341 ..."""
    tag, start, end = _element(der, 0)
    if tag != 0x30:
        raise ParseError("not a DER certificate")
    tag, start, end = _element(der, start)  # tbsCertificate
    fields = _children(der, start, end)
    if fields and fields[0][0] == 0xA0:  # [0] version, present from v2 on
        fields = fields[1:]
    if len(fields) < 3 or fields[2][0] != 0x30:
        raise ParseError("certificate has no issuer where one belongs")
    parts = []
    for _set_tag, set_start, set_end in _children(der, fields[2][1], fields[2][2]):
        for _seq, seq_start, seq_end in _children(der, set_start, set_end):
            pair = _children(der, seq_start, seq_end)
            if len(pair) != 2 or pair[0][0] != 0x06:
                raise ParseError("certificate issuer has an unreadable attribute")
            name = _NAMES.get(der[pair[0][1] : pair[0][2]])
            encoding = _STRINGS.get(pair[1][0])
            if name and encoding:
                parts.append(f"{name}={der[pair[1][1] : pair[1][2]].decode(encoding, 'replace')}")
    return ", ".join(parts)
