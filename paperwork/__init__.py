"""Court paperwork the hub prints for a case, as PDF: the notice with a
party's QR code (告知书), the proof of electronic service (电子送达凭证)
and the mediation agreement (调解协议). Built from the case's state alone;
no web framework is imported here."""
